// Build backends: buildah/podman command lines word for word, importing a
// builder's OCI layout, choosing a backend, logged commands; and, where
// buildah or podman is installed and we are root, one real arm64 build.

#include "engine/build/backend.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/build/buildah_backend.hpp"
#include "engine/build/run_logged.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/image/config.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {
namespace {

namespace fs = std::filesystem;
using image::Descriptor;
using image::LayoutDir;
namespace mt = image::media_type;

using Argv = std::vector<std::string>;

// ---- command lines ---------------------------------------------------------

TEST(BuildahArgv, FullRequestWordForWord) {
  BuildOptions options;
  options.context = "app";
  options.file = "app/Containerfile.release";
  options.target = "runtime";
  options.build_args = {{"VERSION", "1.2"}, {"GREETING", "hello world"}};
  options.labels = {{"org.opencontainers.image.source", "https://example.com/app"}};
  options.secrets = {"id=npmrc,src=/run/ci/npmrc", "id=token,env=CI_TOKEN"};
  BuildRequest request{options, image::Platform{"linux", "aarch64", "", "", {}},
                       {"--cache-from", "127.0.0.1:5000/cache", "--cache-to", "127.0.0.1:5000/cache"},
                       "/tmp/w"};
  Argv expected = {"buildah", "build", "--platform", "linux/arm64", "--isolation", "chroot",
                   "--format", "oci", "--layers",
                   "--file", "app/Containerfile.release", "--target", "runtime",
                   "--build-arg", "GREETING=hello world", "--build-arg", "VERSION=1.2",
                   "--label", "org.opencontainers.image.source=https://example.com/app",
                   "--secret", "id=npmrc,src=/run/ci/npmrc", "--secret", "id=token,env=CI_TOKEN",
                   "--cache-from", "127.0.0.1:5000/cache", "--cache-to", "127.0.0.1:5000/cache",
                   "--iidfile", "/tmp/w/image-id", "app"};
  EXPECT_EQ(buildah_build_argv(k_buildah_tool, request, "/tmp/w/image-id"), expected);
}

TEST(BuildahArgv, MinimalRequestLeavesTheDockerfileToTheBuilder) {
  BuildOptions options;
  BuildRequest request{options, image::parse_platform("linux/arm/v7"), {}, "/tmp/w"};
  Argv expected = {"buildah", "build", "--platform", "linux/arm/v7", "--isolation", "chroot",
                   "--format", "oci", "--layers", "--iidfile", "/w/id", "."};
  EXPECT_EQ(buildah_build_argv(k_buildah_tool, request, "/w/id"), expected);
}

TEST(BuildahArgv, PodmanDiffersOnlyInTheProgram) {
  BuildOptions options;
  options.context = "/src";
  options.target = "final";
  BuildRequest request{options, image::parse_platform("armhf"), {"--no-cache"}, "/tmp/w"};
  Argv expected = {"podman", "build", "--platform", "linux/arm/v7", "--isolation", "chroot",
                   "--format", "oci", "--layers", "--target", "final", "--no-cache",
                   "--iidfile", "/w/id", "/src"};
  EXPECT_EQ(buildah_build_argv(k_podman_tool, request, "/w/id"), expected);
  EXPECT_EQ(buildah_push_argv(k_podman_tool, "sha256:" + std::string(64, 'c')),
            (Argv{"podman", "push", "--format", "oci", "--quiet", "sha256:" + std::string(64, 'c'),
                  "oci:image"}));
}

// ---- logged commands -------------------------------------------------------

TEST(RunLogged, StreamsLinesAndKeepsTheLastTwenty) {
  std::vector<std::string> logged;
  LoggedRun run = run_logged({"seq", "1", "30"}, [&](const std::string& l) { logged.push_back(l); });
  EXPECT_EQ(run.exit_code, 0);
  ASSERT_EQ(logged.size(), 30u);
  EXPECT_EQ(logged.front(), "1");
  EXPECT_EQ(logged.back(), "30");
  ASSERT_EQ(run.last_lines.size(), k_kept_lines);
  EXPECT_EQ(run.last_lines.front(), "11");
  EXPECT_TRUE(run.last_error_lines.empty());
  EXPECT_EQ(error_summary(run), "28 | 29 | 30");
}

TEST(RunLogged, SummaryPrefersStderrAndSkipsBlankLines) {
  LoggedRun run = run_logged(
      {"/bin/sh", "-c", "echo step 1; echo warn >&2; echo step 2; printf 'Error: boom\\r\\n\\n  \\n' >&2; exit 3"},
      nullptr);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(error_summary(run), "warn | Error: boom");
  EXPECT_EQ(error_summary(run, 1), "Error: boom");
  EXPECT_EQ(error_summary(LoggedRun{}), "no output");
}

TEST(RunLogged, SummarySaysARepeatedLineOnce) {
  LoggedRun run = run_logged({"/bin/sh", "-c", "echo disk on fire >&2; echo status 3 >&2; echo status 3 >&2; "
                                               "echo 'Error: at STEP' >&2; exit 3"},
                             nullptr);
  EXPECT_EQ(error_summary(run), "disk on fire | status 3 | Error: at STEP");
}

TEST(RunLogged, ProcessStreamingSplitsLinesPerStream) {
  std::vector<std::string> out, err;
  core::ProcessResult r = core::run_process_streaming(
      {"/bin/sh", "-c", "printf 'a\\r\\nb\\n'; printf 'x\\n' >&2; printf 'tail'"},
      [&](core::Stream s, std::string_view line) {
        (s == core::Stream::out ? out : err).emplace_back(line);
      });
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(out, (std::vector<std::string>{"a", "b", "tail"}));
  EXPECT_EQ(err, (std::vector<std::string>{"x"}));
  EXPECT_TRUE(r.out.empty());
  EXPECT_TRUE(r.err.empty());
}

TEST(RunLogged, CommandThatCannotStartIsAFailure) {
  try {
    run_logged({"polyarch-no-such-program"}, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot run \"polyarch-no-such-program\": No such file or directory");
  }
}

// ---- import_single_image ---------------------------------------------------

// A builder-like layout: one image (config + two layers) under `root`.
struct SourceImage {
  Descriptor config, layer1, layer2, manifest;
  std::string manifest_bytes;
};

SourceImage make_source_image(const fs::path& root, const std::string& tag = "a") {
  LayoutDir layout = LayoutDir::create(root);
  SourceImage s;
  s.config = layout.put_blob(mt::k_oci_config, R"({"architecture":"arm64","os":"linux",)"
                                               R"("rootfs":{"type":"layers","diff_ids":[]},"t":")" +
                                                   tag + "\"}");
  s.layer1 = layout.put_blob(mt::k_oci_layer_gzip, "layer one " + tag);
  s.layer2 = layout.put_blob(mt::k_oci_layer_gzip, "layer two " + tag);
  image::Manifest m;
  m.media_type = std::string(mt::k_oci_manifest);
  m.config = s.config;
  m.layers = {s.layer1, s.layer2};
  s.manifest_bytes = image::to_bytes(m);
  s.manifest = layout.put_blob(mt::k_oci_manifest, s.manifest_bytes);
  return s;
}

// Writes index.json of the layout at root with these entries.
void write_entries(const fs::path& root, std::vector<Descriptor> entries) {
  image::Index index;
  index.media_type = std::string(mt::k_oci_index);
  index.manifests = std::move(entries);
  LayoutDir(root).write_index(index);
}

// The message of the polyarch::Error fn throws, or "" when it throws none.
template <typename Fn>
std::string error_of(Fn fn, ErrorKind want = ErrorKind::failure) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), want) << e.what();
    return e.what();
  }
  return "";
}

TEST(ImportSingleImage, MovesEveryBlobAndReturnsTheManifest) {
  core::TempDir dir;
  SourceImage s = make_source_image(dir.path() / "from");
  Descriptor entry = s.manifest;
  entry.annotations[std::string(image::k_ref_name_annotation)] = "latest";
  write_entries(dir.path() / "from", {entry});
  LayoutDir into = LayoutDir::create(dir.path() / "into");

  Descriptor got = import_single_image(dir.path() / "from", into);
  EXPECT_EQ(got, s.manifest);  // the ref name of the builder's layout is dropped
  for (const Descriptor& d : {s.manifest, s.config, s.layer1, s.layer2}) {
    EXPECT_TRUE(into.has_blob(d.digest)) << d.digest.str();
    EXPECT_FALSE(fs::exists(LayoutDir(dir.path() / "from").blob_path(d.digest))) << "moved, not copied";
  }
  EXPECT_EQ(into.read_blob(s.manifest.digest), s.manifest_bytes);
  EXPECT_EQ(into.read_blob(s.layer2.digest), "layer two a");
  EXPECT_EQ(into.read_index().manifests.size(), 0u) << "index.json is the caller's";
}

TEST(ImportSingleImage, FollowsAOneImageIndexAndKeepsItsPlatform) {
  core::TempDir dir;
  fs::path from = dir.path() / "from";
  SourceImage s = make_source_image(from);
  Descriptor child = s.manifest;
  child.platform = image::parse_platform("linux/arm64");
  image::Index nested;
  nested.media_type = std::string(mt::k_oci_index);
  nested.manifests = {child};
  Descriptor nested_descriptor = LayoutDir(from).put_blob(mt::k_oci_index, image::to_bytes(nested));
  write_entries(from, {nested_descriptor});
  LayoutDir into = LayoutDir::create(dir.path() / "into");

  EXPECT_EQ(import_single_image(from, into), child);
  EXPECT_TRUE(into.has_blob(s.layer1.digest));
  EXPECT_FALSE(into.has_blob(nested_descriptor.digest)) << "the wrapping index is not imported";
}

TEST(ImportSingleImage, SkipsBlobsAlreadyPresent) {
  core::TempDir dir;
  fs::path from = dir.path() / "from";
  SourceImage s = make_source_image(from);
  write_entries(from, {s.manifest});
  LayoutDir into = LayoutDir::create(dir.path() / "into");
  into.put_blob(mt::k_oci_layer_gzip, "layer one a");  // shared with another platform

  EXPECT_EQ(import_single_image(from, into), s.manifest);
  EXPECT_EQ(into.read_blob(s.layer1.digest), "layer one a");
  EXPECT_TRUE(fs::exists(LayoutDir(from).blob_path(s.layer1.digest))) << "a present blob is left";
  EXPECT_FALSE(fs::exists(LayoutDir(from).blob_path(s.layer2.digest)));
}

TEST(ImportSingleImage, CopiesAcrossDevices) {
  core::TempDir shm(fs::path("/dev/shm"), "polyarch-import");
  core::TempDir disk;
  struct stat a {}, b {};
  if (::stat(shm.path().c_str(), &a) != 0 || ::stat(disk.path().c_str(), &b) != 0 ||
      a.st_dev == b.st_dev) {
    GTEST_SKIP() << "/dev/shm and the temp dir are on one device here";
  }
  SourceImage s = make_source_image(shm.path() / "from");
  write_entries(shm.path() / "from", {s.manifest});
  LayoutDir into = LayoutDir::create(disk.path() / "into");

  EXPECT_EQ(import_single_image(shm.path() / "from", into), s.manifest);
  EXPECT_EQ(into.read_blob(s.layer2.digest), "layer two a");
  for (const Descriptor& d : {s.manifest, s.config, s.layer1}) {
    EXPECT_EQ(into.read_blob(d.digest).size(), static_cast<size_t>(d.size));  // digest verified
  }
  EXPECT_FALSE(fs::exists(LayoutDir(shm.path() / "from").blob_path(s.layer2.digest)));
  for (const auto& entry : fs::directory_iterator(into.root() / "blobs" / "sha256")) {
    EXPECT_EQ(entry.path().filename().string().find(".partial"), std::string::npos);
  }
}

TEST(ImportSingleImage, RefusesLayoutsWithoutExactlyOneImage) {
  core::TempDir dir;
  fs::path from = dir.path() / "from";
  SourceImage a = make_source_image(from, "a");
  SourceImage b = make_source_image(from, "b");
  LayoutDir into = LayoutDir::create(dir.path() / "into");
  std::string where = quoted(from.string());

  write_entries(from, {});
  EXPECT_EQ(error_of([&] { import_single_image(from, into); }), where + " holds no image");
  write_entries(from, {a.manifest, b.manifest});
  EXPECT_EQ(error_of([&] { import_single_image(from, into); }),
            where + " holds 2 images; expected one");
  write_entries(from, {a.manifest, a.manifest});  // the same image twice is one image
  EXPECT_EQ(import_single_image(from, into), a.manifest);

  write_entries(from, {b.config});
  EXPECT_EQ(error_of([&] { import_single_image(from, into); }),
            where + " holds \"application/vnd.oci.image.config.v1+json\", not an image manifest");
  EXPECT_EQ(error_of([&] { import_single_image(dir.path() / "nowhere", into); }),
            quoted((dir.path() / "nowhere").string()) +
                " is not an OCI image layout: no such directory");
}

TEST(ImportSingleImage, RefusesMissingOrTruncatedBlobs) {
  core::TempDir dir;
  fs::path from = dir.path() / "from";
  SourceImage s = make_source_image(from);
  write_entries(from, {s.manifest});
  LayoutDir into = LayoutDir::create(dir.path() / "into");
  LayoutDir source(from);

  core::write_file_atomic(source.blob_path(s.layer2.digest), "layer two");
  EXPECT_EQ(error_of([&] { import_single_image(from, into); }),
            "blob " + s.layer2.digest.str() + " in " + quoted(from.string()) +
                " has 9 bytes; its descriptor says 11");
  fs::remove(source.blob_path(s.layer2.digest));
  EXPECT_EQ(error_of([&] { import_single_image(from, into); }),
            "blob " + s.layer2.digest.str() + " is missing from " + quoted(from.string()));
  EXPECT_FALSE(into.has_blob(s.manifest.digest)) << "no manifest without its blobs";
}

// ---- make_backend ----------------------------------------------------------

// Points PATH at a directory of fake programs for one test, restoring it after.
class FakePath {
 public:
  FakePath() : m_saved(std::getenv("PATH") ? std::optional<std::string>(std::getenv("PATH")) : std::nullopt) {
    ::setenv("PATH", m_dir.path().c_str(), 1);
  }
  ~FakePath() {
    if (m_saved) ::setenv("PATH", m_saved->c_str(), 1);
    else ::unsetenv("PATH");
  }
  // Adds an executable `name` that exits with `status`.
  void add(const std::string& name, int status = 0) {
    fs::path file = m_dir.path() / name;
    core::write_file_atomic(file, "#!/bin/sh\nexit " + std::to_string(status) + "\n");
    fs::permissions(file, fs::perms::owner_all);
  }

 private:
  core::TempDir m_dir;
  std::optional<std::string> m_saved;
};

TEST(MakeBackend, UnknownNamesAreBadInput) {
  EXPECT_EQ(error_of([] { make_backend("podmn"); }, ErrorKind::bad_input),
            "unknown backend \"podmn\"; did you mean \"podman\"?");
  EXPECT_EQ(error_of([] { make_backend("buildkit"); }, ErrorKind::bad_input),
            "unknown backend \"buildkit\"; choose one of auto, buildx, buildah, podman, docker");
  EXPECT_EQ(error_of([] { make_backend("Buildah"); }, ErrorKind::bad_input),
            "unknown backend \"Buildah\"; did you mean \"buildah\"?");
}

TEST(MakeBackend, NamedBackendMustBeInstalled) {
  FakePath path;
  EXPECT_EQ(error_of([] { make_backend("podman"); }),
            "backend \"podman\" is not installed (apt-get install podman)");
  EXPECT_EQ(error_of([] { make_backend("buildah"); }),
            "backend \"buildah\" is not installed (apt-get install buildah)");
  EXPECT_EQ(error_of([] { make_backend("docker"); }),
            "backend \"docker\" is not installed (apt-get install docker.io)");
  path.add("docker", 1);  // a Docker client without the buildx plugin
  EXPECT_EQ(error_of([] { make_backend("buildx"); }),
            "backend \"buildx\" is not installed (install the Docker buildx plugin: "
            "apt-get install docker-buildx-plugin)");
  path.add("podman");
  EXPECT_EQ(make_backend("podman")->name(), "podman");
}

TEST(MakeBackend, AutoPicksTheFirstInstalled) {
  FakePath path;
  EXPECT_EQ(error_of([] { make_backend("auto"); }),
            "no build backend is installed (looked for buildx, buildah, podman, docker); "
            "install one, e.g. apt-get install buildah");
  path.add("docker", 1);
  EXPECT_EQ(make_backend("auto")->name(), "docker");
  path.add("podman");
  EXPECT_EQ(make_backend("auto")->name(), "podman");
  path.add("buildah");
  EXPECT_EQ(make_backend("auto")->name(), "buildah");
  path.add("docker", 0);  // `docker buildx version` now succeeds
  EXPECT_EQ(make_backend("auto")->name(), "buildx");
}

// ---- a real build (root, buildah or podman installed) ----------------------

// The content of the file `name` in a gzip'd layer tar, or nullopt.
std::optional<std::string> file_in_layer(const std::string& layer, const std::string& name) {
  struct archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  std::optional<std::string> found;
  if (archive_read_open_memory(a, layer.data(), layer.size()) == ARCHIVE_OK) {
    struct archive_entry* entry = nullptr;
    while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
      if (std::string(archive_entry_pathname(entry)) != name) continue;
      std::string content(static_cast<size_t>(archive_entry_size(entry)), '\0');
      archive_read_data(a, content.data(), content.size());
      found = content;
      break;
    }
  }
  archive_read_free(a);
  return found;
}

class RealBuild : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "not root";
    if (core::run_process({"/bin/sh", "-c", "command -v " + GetParam()}).exit_code != 0) {
      GTEST_SKIP() << GetParam() << " is not installed";
    }
  }
};

TEST_P(RealBuild, BuildsArm64IntoALayout) {
  core::TempDir dir;
  fs::create_directories(dir.path() / "ctx" / "work");
  core::write_file_atomic(dir.path() / "ctx" / "greeting.txt", "hello from the context\n");
  core::write_file_atomic(dir.path() / "ctx" / "Dockerfile",
                          "FROM scratch AS base\nCOPY greeting.txt /greeting.txt\n"
                          "ARG FLAVOR\nLABEL flavor=$FLAVOR\nFROM base AS final\n");
  BuildOptions options;
  options.context = (dir.path() / "ctx").string();
  options.build_args = {{"FLAVOR", "sour"}};
  options.labels = {{"org.example.by", "polyarch"}};
  options.target = "final";
  BuildRequest request{options, image::parse_platform("linux/aarch64"), {}, dir.path() / "work"};
  fs::create_directories(request.work_dir);
  LayoutDir into = LayoutDir::create(dir.path() / "into");
  std::vector<std::string> log;
  std::vector<std::string> builder_done;  // when the pipeline's build slot is freed
  request.builder_done = [&] {
    bool built = fs::exists(request.work_dir / "image-id"), exported = fs::exists(request.work_dir / "image");
    builder_done.push_back(built && !exported ? "built, not yet exported" : "built " + std::to_string(built) +
                                                                                ", exported " + std::to_string(exported));
  };

  std::unique_ptr<Backend> backend = make_backend(GetParam());
  PlatformResult result = backend->build(request, into, [&](const std::string& l) { log.push_back(l); });
  EXPECT_EQ(builder_done, std::vector<std::string>{"built, not yet exported"});

  EXPECT_EQ(result.platform.str(), "linux/arm64");
  EXPECT_EQ(result.manifest.media_type, mt::k_oci_manifest);
  ASSERT_TRUE(result.manifest.platform.has_value());
  EXPECT_EQ(result.manifest.platform->str(), "linux/arm64");
  image::Manifest manifest = image::parse_manifest(into.read_blob(result.manifest.digest));
  EXPECT_EQ(manifest.config.media_type, mt::k_oci_config);
  image::Json config = image::parse_json(into.read_blob(manifest.config.digest), "config");
  EXPECT_EQ(config["architecture"], "arm64");
  EXPECT_EQ(config["os"], "linux");
  EXPECT_EQ(config["config"]["Labels"]["flavor"], "sour");
  EXPECT_EQ(config["config"]["Labels"]["org.example.by"], "polyarch");
  ASSERT_EQ(manifest.layers.size(), 1u);
  EXPECT_EQ(manifest.layers[0].media_type, mt::k_oci_layer_gzip);
  EXPECT_EQ(file_in_layer(into.read_blob(manifest.layers[0].digest), "greeting.txt"),
            "hello from the context\n");
  ASSERT_FALSE(log.empty());
  EXPECT_NE(std::find(log.begin(), log.end(), "[1/2] STEP 2/4: COPY greeting.txt /greeting.txt"), log.end());
  EXPECT_FALSE(fs::exists(request.work_dir / "image")) << "the builder's layout is cleaned up";

  // The image stays in the builder's storage untagged, as a cache entry:
  // no name of ours is left there.
  core::ProcessResult images = core::run_process({GetParam(), "images", "--format", "{{.Name}}"});
  EXPECT_EQ(images.out.find("polyarch"), std::string::npos) << images.out;
}

TEST_P(RealBuild, AFullyCachedBuildGivesTheSameImage) {
  core::TempDir dir;
  fs::create_directories(dir.path() / "ctx");
  core::write_file_atomic(dir.path() / "ctx" / "note.txt", "cached " + dir.path().filename().string());
  core::write_file_atomic(dir.path() / "ctx" / "Dockerfile", "FROM scratch\nCOPY note.txt /note.txt\n");
  BuildOptions options;
  options.context = (dir.path() / "ctx").string();
  std::unique_ptr<Backend> backend = make_backend(GetParam());
  std::vector<std::string> digests, second_log;
  for (int run = 0; run < 2; ++run) {
    fs::path work = dir.path() / ("work" + std::to_string(run));
    fs::create_directories(work);
    BuildRequest request{options, image::parse_platform("linux/arm64"), {}, work};
    LayoutDir into = LayoutDir::create(dir.path() / ("into" + std::to_string(run)));
    PlatformResult result = backend->build(request, into, [&](const std::string& l) {
      if (run == 1) second_log.push_back(l);
    });
    digests.push_back(result.manifest.digest.str());
  }
  EXPECT_EQ(digests[0], digests[1]);
  EXPECT_TRUE(std::any_of(second_log.begin(), second_log.end(), [](const std::string& l) {
    return l.starts_with("--> Using cache ");
  })) << "the second build did not use the cache";
}

TEST_P(RealBuild, FailureNamesPlatformBuilderAndLastErrorLines) {
  core::TempDir dir;
  fs::create_directories(dir.path() / "ctx");
  core::write_file_atomic(dir.path() / "ctx" / "Dockerfile", "FROM scratch\nRUN [\"/nope\"]\n");
  BuildOptions options;
  options.context = (dir.path() / "ctx").string();
  BuildRequest request{options, image::parse_platform("linux/arm64"), {}, dir.path()};
  LayoutDir into = LayoutDir::create(dir.path() / "into");
  std::unique_ptr<Backend> backend = make_backend(GetParam());
  bool builder_done = false;
  request.builder_done = [&] { builder_done = true; };

  std::string message = error_of([&] { backend->build(request, into, nullptr); });
  EXPECT_FALSE(builder_done) << "a failed build frees its slot by throwing, not as a success";
  std::string prefix = "build for linux/arm64 failed (" + GetParam() + " exit ";
  EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
  std::string last = " | Error: building at STEP \"RUN /nope\": exit status 1";
  ASSERT_GE(message.size(), last.size()) << message;
  EXPECT_EQ(message.substr(message.size() - last.size()), last) << message;
  EXPECT_TRUE(into.read_index().manifests.empty());
}

INSTANTIATE_TEST_SUITE_P(Builders, RealBuild, ::testing::Values("buildah", "podman"));

}  // namespace
}  // namespace polyarch::build
