// The build's progress display (adapters/cli/progress.cpp): frames byte for
// byte, with a fake clock and a string stream for the terminal.
#include "adapters/cli/progress.hpp"

#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "engine/core/fs.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::cli {
namespace {

using image::parse_platform;
namespace media_type = image::media_type;

const std::string k_erase = "\x1b[K\n";  // each line ends erasing the rest

// A display over amd64 and arm/v7 on an 80-column terminal, with a clock the test moves.
struct Fixture {
  explicit Fixture(int width = 80, std::vector<std::string> names = {"linux/amd64", "linux/arm/v7"}) {
    std::vector<image::Platform> platforms;
    for (const auto& name : names) platforms.push_back(parse_platform(name));
    display = std::make_unique<ProgressDisplay>(platforms, out, width, [this] { return now; });
  }
  // What the display wrote since the last call.
  std::string drawn() {
    display->draw();
    std::string text = out.str();
    out.str("");
    return text;
  }
  std::ostringstream out;
  double now = 0;
  std::unique_ptr<ProgressDisplay> display;
};

// One platform's image in a layout: a 500-byte config and a 2500-byte layer.
struct BuiltImage {
  BuiltImage() : layout(image::LayoutDir::create(dir.path() / "layout")) {
    config = layout.put_blob(media_type::k_oci_config, std::string(500, 'c'));
    layer = layout.put_blob(media_type::k_oci_layer_gzip, std::string(2500, 'l'));
    image::Manifest manifest;
    manifest.media_type = std::string(media_type::k_oci_manifest);
    manifest.config = config;
    manifest.layers = {layer};
    build::PlatformResult result;
    result.platform = parse_platform("linux/amd64");
    result.manifest = layout.put_blob(media_type::k_oci_manifest, image::to_bytes(manifest));
    result.started = 1;
    result.finished = 13.5;
    staged.platforms = {result};
  }
  core::TempDir dir{"progress-test"};
  image::LayoutDir layout;
  image::Descriptor config, layer;
  build::StagedImage staged;
};

TEST(ProgressTest, FirstFrameShowsEveryPlatformWaitingAndAnUnchangedFrameIsNotRedrawn) {
  Fixture f;
  EXPECT_EQ(f.drawn(), "linux/amd64   waiting" + k_erase + "linux/arm/v7  waiting" + k_erase);
  EXPECT_EQ(f.drawn(), "");
}

TEST(ProgressTest, BuildingShowsWholeSecondsAndTheLastBuilderLineRedrawnInPlace) {
  Fixture f;
  f.drawn();
  f.now = 5;
  f.display->building(std::vector{parse_platform("linux/amd64")});
  f.display->log("[linux/amd64] STEP 1/2: FROM scratch");
  f.display->log("[linux/amd64] STEP 2/2: COPY hello /hello");
  f.now = 17.9;
  EXPECT_EQ(f.drawn(), "\r\x1b[2A"
                       "linux/amd64   building 12s    STEP 2/2: COPY hello /hello" + k_erase +
                       "linux/arm/v7  waiting" + k_erase);
  // A line from a platform that was waiting starts its clock.
  f.display->log("[linux/arm/v7] STEP 1/2: FROM scratch");
  f.now = 18;
  EXPECT_EQ(f.drawn(), "\r\x1b[2A"
                       "linux/amd64   building 13s    STEP 2/2: COPY hello /hello" + k_erase +
                       "linux/arm/v7  building 0s     STEP 1/2: FROM scratch" + k_erase);
}

TEST(ProgressTest, OneRunBuildLinesGoToThePlatformTheyNameElseToAll) {
  Fixture f(80, {"linux/amd64", "linux/arm64"});
  // Asked for both at once: nothing is building until the run's first line.
  f.display->building(std::vector{parse_platform("linux/amd64"), parse_platform("linux/arm64")});
  EXPECT_EQ(f.drawn(), "linux/amd64  waiting" + k_erase + "linux/arm64  waiting" + k_erase);
  f.now = 2;
  f.display->log("#5 [linux/arm64 2/2] COPY hello /hello");
  EXPECT_EQ(f.drawn(), "\r\x1b[2A"
                       "linux/amd64  waiting" + k_erase +
                       "linux/arm64  building 0s     #5 [linux/arm64 2/2] COPY hello /hello" + k_erase);
  f.display->log("#6 exporting to oci image format");  // names none: both (amd64 starts at 2)
  f.now = 3;
  EXPECT_EQ(f.drawn(), "\r\x1b[2A"
                       "linux/amd64  building 1s     #6 exporting to oci image format" + k_erase +
                       "linux/arm64  building 1s     #6 exporting to oci image format" + k_erase);
}

TEST(ProgressTest, PushingCountsTheBytesOfConfigAndLayersOncePerPass) {
  BuiltImage built;
  Fixture f(80, {"linux/amd64"});
  f.display->building(std::vector{parse_platform("linux/amd64")});
  f.drawn();
  f.display->pushing(built.staged, built.layout, 1);
  EXPECT_EQ(f.drawn(), "\r\x1b[1Alinux/amd64  pushing 0 B of 3.0 kB" + k_erase);
  f.display->tally().add(built.layer.digest, 1500);
  EXPECT_EQ(f.drawn(), "\r\x1b[1Alinux/amd64  pushing 1.5 kB of 3.0 kB" + k_erase);
  // Bytes past a blob's size (a retried read) do not count.
  f.display->tally().add(built.config.digest, 900);
  EXPECT_EQ(f.drawn(), "\r\x1b[1Alinux/amd64  pushing 2.0 kB of 3.0 kB" + k_erase);
}

TEST(ProgressTest, PushingToTwoRepositoriesReadsEveryBlobTwice) {
  BuiltImage built;
  Fixture f(80, {"linux/amd64"});
  f.display->pushing(built.staged, built.layout, 2);
  f.display->tally().add(built.layer.digest, 2500);
  EXPECT_EQ(f.drawn(), "linux/amd64  pushing 2.5 kB of 6.0 kB" + k_erase);
}

TEST(ProgressTest, DoneIsTheFinalFrameWithEachPlatformsOwnBuildTimeAndSize) {
  BuiltImage built;
  Fixture f(80, {"linux/amd64"});
  f.display->pushing(built.staged, built.layout, 2);
  f.drawn();
  f.display->done();
  EXPECT_EQ(f.out.str(), "\r\x1b[1Alinux/amd64  done            built in 12s, 3.0 kB" + k_erase);
}

TEST(ProgressTest, AFailedBuildMarksThePlatformTheErrorNamesAndStopsTheOthers) {
  Fixture f(80, {"linux/amd64", "linux/arm64", "linux/arm/v7"});
  f.display->building(std::vector{parse_platform("linux/arm64")});
  f.display->building(std::vector{parse_platform("linux/arm/v7")});
  f.display->log("[linux/arm64] Error: building at STEP \"RUN /x\": exit status 1");
  f.display->failed("build for linux/arm64 failed (buildah exit 1): Error: building at STEP \"RUN /x\"");
  EXPECT_EQ(f.out.str(),
            "linux/amd64   stopped" + k_erase +
            "linux/arm64   failed          Error: building at STEP \"RUN /x\": exit status 1" + k_erase +
            "linux/arm/v7  stopped" + k_erase);
}

TEST(ProgressTest, ABuiltPlatformWaitsForTheOthersWithItsOwnTimeAndIsNotStopped) {
  BuiltImage built;
  Fixture f(80, {"linux/amd64", "linux/arm64"});
  f.display->building(std::vector{parse_platform("linux/amd64")});
  f.display->building(std::vector{parse_platform("linux/arm64")});
  f.display->log("[linux/amd64] STEP 2/2: COPY hello /hello");
  f.display->built(built.staged.platforms[0]);
  f.now = 20;
  EXPECT_EQ(f.drawn(), "linux/amd64  built           in 12s, waiting for the others" + k_erase +
                       "linux/arm64  building 20s" + k_erase);
  f.display->failed("build for linux/arm64 failed (buildah exit 1): disk on fire");
  EXPECT_EQ(f.out.str().substr(f.out.str().rfind("\x1b[2A") + 4),
            "linux/amd64  built           in 12s, waiting for the others" + k_erase +
            "linux/arm64  failed" + k_erase);
}

TEST(ProgressTest, AnErrorNamingNoPlatformFailsEveryUnfinishedOne) {
  BuiltImage built;
  Fixture f(80, {"linux/amd64"});
  f.display->pushing(built.staged, built.layout, 1);
  f.display->failed("cannot connect to 127.0.0.1:5000: connection refused");
  EXPECT_EQ(f.out.str(), "linux/amd64  failed" + k_erase);
}

TEST(ProgressTest, LinesAreTrimmedOneColumnShortOfTheWidthCountingCodePoints) {
  // 31 columns: 30 drawn, the name (13), the state (14), two spaces, one letter.
  Fixture f(31, {"linux/amd64"});
  f.display->building(std::vector{parse_platform("linux/amd64")});
  f.display->log("[linux/amd64] STEP 2/2: COPY hello /hello");
  EXPECT_EQ(f.drawn(), "linux/amd64  building 0s     S" + k_erase);
  // Narrower than the state: it is cut too.
  Fixture narrow(20, {"linux/amd64"});
  narrow.display->building(std::vector{parse_platform("linux/amd64")});
  EXPECT_EQ(narrow.drawn(), "linux/amd64  buildi" + k_erase);
  // 43 columns: the two-byte é counts as one, and is never cut in half.
  Fixture wide(44, {"linux/amd64"});
  wide.display->building(std::vector{parse_platform("linux/amd64")});
  wide.display->log("[linux/amd64] COPY h\xc3\xa9llo /h\xc3\xa9llo and more");
  EXPECT_EQ(wide.drawn(), "linux/amd64  building 0s     COPY h\xc3\xa9llo /h\xc3\xa9" + k_erase);
  // Wide enough: the whole line, no padding after it.
  Fixture whole(80, {"linux/amd64"});
  whole.display->building(std::vector{parse_platform("linux/amd64")});
  whole.display->log("[linux/amd64] COPY h\xc3\xa9llo /h\xc3\xa9llo and more");
  EXPECT_EQ(whole.drawn(), "linux/amd64  building 0s     COPY h\xc3\xa9llo /h\xc3\xa9llo and more" + k_erase);
}

TEST(ProgressTest, BuilderLinesLoseEscapesControlCharactersAndOverwrittenText) {
  EXPECT_EQ(progress_text::clean("\x1b[31mred\x1b[0m\tand\x07 plain  "), "red and plain");
  EXPECT_EQ(progress_text::clean("10%\r20%\r30%\r\n"), "30%");
  EXPECT_EQ(progress_text::clean("\x1b" "7saved"), "saved");
  EXPECT_EQ(progress_text::trim_columns("h\xc3\xa9llo", 2), "h\xc3\xa9");
  EXPECT_EQ(progress_text::trim_columns("hello", 9), "hello");
}

TEST(ProgressTest, BytesForPeopleInPowersOfAThousand) {
  EXPECT_EQ(progress_text::bytes(0), "0 B");
  EXPECT_EQ(progress_text::bytes(999), "999 B");
  EXPECT_EQ(progress_text::bytes(1000), "1.0 kB");
  EXPECT_EQ(progress_text::bytes(999949), "999.9 kB");
  EXPECT_EQ(progress_text::bytes(999950), "1.0 MB");
  EXPECT_EQ(progress_text::bytes(3400000), "3.4 MB");
  EXPECT_EQ(progress_text::bytes(1200000000), "1.2 GB");
}

TEST(ProgressTest, ShownOnlyOnALocalTerminalAtNormalVerbosityElsePlainLines) {
  EXPECT_TRUE(progress_wanted(true, "local", 0, "xterm-256color"));
  EXPECT_FALSE(progress_wanted(false, "local", 0, "xterm"));  // stderr is a file or pipe
  EXPECT_FALSE(progress_wanted(true, "github", 0, "xterm"));
  EXPECT_FALSE(progress_wanted(true, "gitlab", 0, "xterm"));
  EXPECT_FALSE(progress_wanted(true, "local", -1, "xterm"));  // --quiet
  EXPECT_FALSE(progress_wanted(true, "local", 1, "xterm"));   // --verbose
  EXPECT_FALSE(progress_wanted(true, "local", 0, "dumb"));
  EXPECT_FALSE(progress_wanted(true, "local", 0, ""));
}

TEST(ProgressTest, WatchedHooksFeedTheDisplayAndKeepTheCacheFlags) {
  Fixture f(80, {"linux/amd64"});
  int printed = 0;
  build::PipelineHooks hooks;
  hooks.cache_args = [](std::span<const image::Platform>) { return std::vector<std::string>{"--x"}; };
  hooks.log = [&printed](const std::string&) { ++printed; };
  int reported = 0;
  hooks.built = [&reported](const build::PlatformResult&) { ++reported; };
  build::PipelineHooks watched = watch_build(*f.display, hooks);
  f.now = 1;
  EXPECT_EQ(watched.cache_args(std::vector{parse_platform("linux/amd64")}), std::vector<std::string>{"--x"});
  watched.log("[linux/amd64] STEP 1/1: COPY a /a");
  EXPECT_EQ(printed, 0);  // the display replaces the plain lines
  f.now = 3.5;
  EXPECT_EQ(f.drawn(), "linux/amd64  building 2s     STEP 1/1: COPY a /a" + k_erase);
  build::PlatformResult result;
  result.platform = parse_platform("linux/amd64");
  result.started = 1;
  result.finished = 4;
  watched.built(result);
  EXPECT_EQ(reported, 1);  // the pipeline's own hook still runs
  EXPECT_EQ(f.drawn(), "\r\x1b[1Alinux/amd64  built           in 3s, waiting for the others" + k_erase);
}

TEST(ProgressTest, TheRedrawThreadStopsBeforeTheFinalFrame) {
  std::ostringstream out;
  ProgressDisplay display({parse_platform("linux/amd64")}, out, 80, [] { return 0.0; });
  display.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  display.building(std::vector{parse_platform("linux/amd64")});
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(out.str(), "linux/amd64  waiting" + k_erase + "\r\x1b[1Alinux/amd64  building 0s" + k_erase);
  display.done();
  EXPECT_EQ(out.str(), "linux/amd64  waiting" + k_erase + "\r\x1b[1Alinux/amd64  building 0s" + k_erase +
                       "\r\x1b[1Alinux/amd64  done" + k_erase);
}

}  // namespace
}  // namespace polyarch::cli
