// Split builds as a user drives them: `polyarch plan` prints the job matrix;
// `polyarch merge` refuses bad digest files word for word before it talks
// to any registry. (Pushing is covered by tests/integration/verify_merge_test.sh.)
#include <gtest/gtest.h>

#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/core/strings.hpp"

namespace polyarch {
namespace {

namespace fs = std::filesystem;

core::ProcessResult polyarch(std::vector<std::string> args) {
  args.insert(args.begin(), POLYARCH_BINARY);
  return core::run_process(args);
}

TEST(Plan, JsonIsOneCompactLineForACiMatrix) {
  core::ProcessResult r =
      polyarch({"--ci", "github", "plan", "--platform", "linux/amd64,aarch64,linux/arm/v7,linux/386,linux/riscv64",
                "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "[{\"platform\":\"linux/amd64\",\"slug\":\"linux-amd64\",\"runner\":\"amd64\",\"emulated\":false,"
            "\"label\":\"ubuntu-24.04\"},"
            "{\"platform\":\"linux/arm64\",\"slug\":\"linux-arm64\",\"runner\":\"arm64\",\"emulated\":false,"
            "\"label\":\"ubuntu-24.04-arm\"},"
            "{\"platform\":\"linux/arm/v7\",\"slug\":\"linux-arm-v7\",\"runner\":\"arm64\",\"emulated\":false,"
            "\"label\":\"ubuntu-24.04-arm\"},"
            "{\"platform\":\"linux/386\",\"slug\":\"linux-386\",\"runner\":\"amd64\",\"emulated\":false,"
            "\"label\":\"ubuntu-24.04\"},"
            "{\"platform\":\"linux/riscv64\",\"slug\":\"linux-riscv64\",\"runner\":\"any\",\"emulated\":true,"
            "\"label\":\"ubuntu-24.04\"}]\n");
  EXPECT_EQ(r.err, "");
}

TEST(Plan, TextIsOneLinePerPlatform) {
  core::ProcessResult r =
      polyarch({"--ci", "local", "plan", "--platform", "linux/arm/v6", "--platform", "linux/s390x,linux/amd64"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "linux/arm/v6  linux-arm-v6  arm64  native    arm64\n"
            "linux/s390x   linux-s390x   any    emulated  amd64\n"
            "linux/amd64   linux-amd64   amd64  native    amd64\n");
}

TEST(Plan, LabelsAreEachCisRunnerNames) {
  for (auto [ci, labels] : std::vector<std::pair<std::string, std::string>>{
           {"gitlab", "saas-linux-small-amd64 saas-linux-small-arm64 saas-linux-small-amd64"},
           {"circleci", "medium arm.medium medium"},
           {"codebuild", "LINUX_CONTAINER ARM_CONTAINER LINUX_CONTAINER"}}) {
    core::ProcessResult r = polyarch({"--ci", ci, "plan", "--platform", "linux/amd64,linux/arm64,linux/s390x"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string got;
    for (const auto& line : core::split(r.out, '\n')) {
      if (!line.empty()) got += (got.empty() ? "" : " ") + line.substr(line.rfind(' ') + 1);
    }
    EXPECT_EQ(got, labels) << ci;
  }
}

TEST(Plan, NeedsPlatforms) {
  core::ProcessResult r = polyarch({"plan"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "polyarch: error: plan needs --platform P,… (e.g. linux/amd64,linux/arm64)\n");
  r = polyarch({"plan", "--platform", "linux/arm65"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "polyarch: error: unknown platform \"linux/arm65\": unknown architecture \"arm65\"; "
                   "did you mean \"arm64\"?\n");
}

constexpr const char* k_digest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class Merge : public ::testing::Test {
 protected:
  std::string file(const std::string& name, const std::string& content) {
    fs::path path = m_temp.path() / name;
    fs::create_directories(path.parent_path());
    core::write_file_atomic(path, content);
    return path.string();
  }
  static std::string leg(const std::string& platform, const std::string& digest = k_digest) {
    return R"({"platform":")" + platform + R"(","digest":")" + digest +
           R"(","size":512,"mediaType":"application/vnd.oci.image.manifest.v1+json","image":"localhost:5000/app"})";
  }
  // Runs merge with one tag and expects exit 2 with exactly this message.
  void expect_error(const std::vector<std::string>& files, const std::string& message) {
    std::vector<std::string> args = {"merge", "--tag", "localhost:5000/app:1.0"};
    args.insert(args.end(), files.begin(), files.end());
    core::ProcessResult r = polyarch(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "polyarch: error: " + message + "\n");
  }
  core::TempDir m_temp;
};

TEST_F(Merge, MissingAndInvalidFilesAreNamed) {
  std::string missing = (m_temp.path() / "nope.json").string();
  expect_error({missing}, "invalid digest file \"" + missing + "\": no such file or directory");
  std::string bad = file("bad.json", "{\"platform\": ");
  expect_error({bad}, "invalid digest file \"" + bad + "\": not valid JSON (at byte 14)");
  std::string number = file("number.json", "42");
  expect_error({number}, "invalid digest file \"" + number + "\": expected an object or an array of objects");
  std::string empty = file("empty.json", "[]");
  expect_error({empty}, "invalid digest file \"" + empty + "\": the array is empty");
}

TEST_F(Merge, BadFieldsAreNamedWithTheirEntry) {
  std::string f = file("a.json", "[" + leg("linux/amd64") + R"(,{"platform":"linux/arm64"}])");
  expect_error({f}, "invalid digest file \"" + f + "\": entry 2: missing \"digest\"");
  f = file("b.json", leg("linux/arm65"));
  expect_error({f}, "invalid digest file \"" + f +
                        "\": unknown platform \"linux/arm65\": unknown architecture \"arm65\"; did you mean \"arm64\"?");
  f = file("c.json", R"({"platform":"linux/amd64","digest":")" + std::string(k_digest) + R"(","size":"512"})");
  expect_error({f}, "invalid digest file \"" + f + "\": \"size\" must be a positive integer");
  f = file("d.json", R"({"platform":"linux/amd64","digest":")" + std::string(k_digest) +
                         R"(","size":5,"mediaType":"text/plain","image":"x"})");
  expect_error({f}, "invalid digest file \"" + f + "\": \"mediaType\" \"text/plain\" is not a manifest media type");
  f = file("e.json", R"({"platform":"linux/amd64","digest":7})");
  expect_error({f}, "invalid digest file \"" + f + "\": \"digest\" must be a string");
  f = file("f.json", R"([7])");
  expect_error({f}, "invalid digest file \"" + f + "\": entry 1: expected an object");
}

TEST_F(Merge, APlatformFromTwoLegsIsRefusedNamingBothFiles) {
  std::string other = "sha256:" + std::string(64, 'f');
  std::string a = file("legs/a.json", leg("linux/arm64"));
  std::string b = file("legs/b.json", leg("aarch64", other));
  file("legs/notes.txt", "not a digest file");
  expect_error({(m_temp.path() / "legs").string()},
               "platform linux/arm64 is given twice: by \"" + a + "\" and \"" + b + "\"");
}

TEST_F(Merge, UsageErrors) {
  fs::create_directories(m_temp.path() / "none");
  expect_error({(m_temp.path() / "none").string()},
               "no digest files (*.json) in directory \"" + (m_temp.path() / "none").string() + "\"");
  expect_error({}, "merge needs at least one DIGEST_FILE or directory");
  core::ProcessResult r = polyarch({"merge", file("a.json", leg("linux/amd64"))});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "polyarch: error: merge needs at least one --tag REF\n");
}

}  // namespace
}  // namespace polyarch
