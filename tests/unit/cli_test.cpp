// The polyarch binary as a user runs it: exit status, stdout, stderr word for word.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/image/digest.hpp"
#include "engine/image/manifest.hpp"

namespace polyarch {
namespace {

using core::ProcessResult;
namespace fs = std::filesystem;

ProcessResult polyarch(std::vector<std::string> args) {
  args.insert(args.begin(), POLYARCH_BINARY);
  return core::run_process(args);
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* arch : {"amd64", "arm64"}) {
      std::ofstream(dir() / arch) << "binary for " << arch << "\n";
    }
  }
  fs::path dir() const { return m_temp.path(); }
  std::string file(const char* name) const { return (dir() / name).string(); }
  std::vector<std::string> assemble_args(const std::string& output) const {
    return {"assemble", "--platform", "linux/amd64=" + file("amd64"), "--platform",
            "linux/arm64=" + file("arm64"), "--tag", "hello:1.0", "--output", output};
  }

 private:
  core::TempDir m_temp;
};

TEST_F(Cli, VersionPrintsTheVersion) {
  ProcessResult r = polyarch({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "polyarch " POLYARCH_VERSION "\n");
}

TEST_F(Cli, NoCommandPrintsUsageToStderrAndExits2) {
  ProcessResult r = polyarch({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.err.starts_with("usage: polyarch")) << r.err;
}

TEST_F(Cli, HelpListsEveryCommand) {
  ProcessResult r = polyarch({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("  assemble "), std::string::npos);
  EXPECT_NE(r.out.find("  manifest inspect "), std::string::npos);
}

TEST_F(Cli, TyposGetDidYouMean) {
  ProcessResult r = polyarch({"assembel"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "polyarch: error: unknown command \"assembel\"; did you mean \"assemble\"?\n");
  r = polyarch({"manifest", "inspekt", "oci:x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "polyarch: error: unknown command \"manifest inspekt\"; did you mean \"manifest inspect\"?\n");
  r = polyarch({"assemble", "--platfrom", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "polyarch: error: unknown option \"--platfrom\"; did you mean \"--platform\"?\n");
}

TEST_F(Cli, BadPlatformExits2) {
  ProcessResult r = polyarch({"assemble", "--platform", "linux/arm65=" + file("arm64"), "--tag",
                              "hello", "--output", "oci:" + file("out.tar")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "polyarch: error: unknown platform \"linux/arm65\": unknown architecture \"arm65\"; "
            "did you mean \"arm64\"?\n");
  EXPECT_FALSE(fs::exists(dir() / "out.tar"));
}

TEST_F(Cli, MissingFileExits2) {
  ProcessResult r = polyarch({"assemble", "--platform", "linux/arm64=" + file("nope"), "--tag",
                              "hello", "--output", "oci:" + file("out.tar")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "polyarch: error: cannot read \"" + file("nope") +
                       "\" for linux/arm64: No such file or directory\n");
  EXPECT_FALSE(fs::exists(dir() / "out.tar"));
}

TEST_F(Cli, BadReferenceExits2) {
  auto args = assemble_args("oci:" + file("out.tar"));
  args[6] = "Hello:1.0";
  ProcessResult r = polyarch(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "polyarch: error: invalid reference \"Hello:1.0\": repository name must be lowercase\n");
}

TEST_F(Cli, UnwritableOutputExits2AndLeavesNothing) {
  ProcessResult r = polyarch(assemble_args("oci:" + file("amd64") + "/out.tar"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "polyarch: error: cannot write \"" + file("amd64") +
                       "/out.tar\": Not a directory\n");
  r = polyarch(assemble_args("oci:/proc/polyarch-test.tar"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "polyarch: error: cannot write \"/proc/polyarch-test.tar\": No such file or directory\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir()), fs::directory_iterator()), 2);
}

TEST_F(Cli, AssembleIsDeterministicAndInspectRawIsTheIndex) {
  ProcessResult first = polyarch(assemble_args("oci:" + file("a.tar")));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ProcessResult second = polyarch(assemble_args("oci:" + file("b.tar")));
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(first.out, second.out);
  EXPECT_EQ(core::read_file(dir() / "a.tar"), core::read_file(dir() / "b.tar"));

  ProcessResult raw = polyarch({"manifest", "inspect", "oci:" + file("a.tar"), "--raw"});
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_EQ(image::sha256(raw.out).str() + "\n", first.out);
  image::Index index = image::parse_index(raw.out);
  ASSERT_EQ(index.manifests.size(), 2u);
  EXPECT_EQ(index.manifests[0].platform->str(), "linux/amd64");
  EXPECT_EQ(index.manifests[1].platform->str(), "linux/arm64");
}

TEST_F(Cli, InspectPrintsATableAndJson) {
  ASSERT_EQ(polyarch(assemble_args("oci-dir:" + file("layout"))).exit_code, 0);
  ProcessResult text = polyarch({"manifest", "inspect", "oci-dir:" + file("layout")});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("MediaType: application/vnd.oci.image.index.v1+json\n"), std::string::npos);
  EXPECT_NE(text.out.find("\nlinux/arm64  sha256:"), std::string::npos) << text.out;

  ProcessResult json = polyarch({"--format", "json", "manifest", "inspect", "oci-dir:" + file("layout")});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto parsed = image::Json::parse(json.out);
  EXPECT_EQ(parsed["manifests"].size(), 2u);
  EXPECT_EQ(parsed["manifests"][1]["platform"], "linux/arm64");
  EXPECT_EQ(parsed["mediaType"], "application/vnd.oci.image.index.v1+json");
}

TEST_F(Cli, InspectOfAMissingArchiveExits1) {
  ProcessResult r = polyarch({"manifest", "inspect", "oci:" + file("missing.tar")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "polyarch: error: cannot read \"" + file("missing.tar") +
                       "\": No such file or directory\n");
}

TEST_F(Cli, BadFormatExits2) {
  ProcessResult r = polyarch({"--format", "yaml", "manifest", "inspect", "oci:x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "polyarch: error: invalid --format \"yaml\": expected text or json\n");
}

}  // namespace
}  // namespace polyarch
