// Env-style outputs (GitLab's dotenv report, CircleCI's $BASH_ENV, CodeBuild's
// polyarch.env) never collide with the POLYARCH_* configuration variables: a
// later `polyarch build` in the same job, or a GitLab job that gets the
// dotenv report, must not read the results of an earlier step as settings.
#include <gtest/gtest.h>

#include <algorithm>

#include "adapters/ci/adapter.hpp"
#include "adapters/ci/outputs.hpp"
#include "engine/build/options.hpp"
#include "engine/core/config.hpp"
#include "engine/core/config_env.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/core/strings.hpp"
#include "engine/image/platform.hpp"

namespace polyarch::ci {
namespace {

std::int64_t fixed_clock() { return 1700000000000; }

// Outputs of every command that writes them (build and merge, tags), with
// values a build would read as settings if the names collided.
std::vector<Outputs> every_output() {
  BuildResult built{"sha256:1111", {"r.example.com/g/p:main", "r.example.com/g/p:v1"},
                    {{"linux/amd64", "sha256:2222", 10}, {"linux/arm64", "sha256:3333", 20}}};
  metadata::Metadata made;
  made.version = "1.2.3";
  made.tags = {"r.example.com/g/p:1.2.3", "r.example.com/g/p:latest"};
  made.labels = {{"org.opencontainers.image.version", "1.2.3"}};
  return {build_outputs(built), tags_outputs(made)};
}

std::vector<std::string> config_names() {
  std::vector<std::string> names;
  for (std::string_view name : core::env_variable_names()) names.emplace_back(name);
  return names;
}

TEST(CiOutputsTest, EnvNamesCarryTheResultPrefix) {
  EXPECT_EQ(std::string(k_env_prefix), "POLYARCH_RESULT_");
  EXPECT_EQ(env_name("digest"), "POLYARCH_RESULT_DIGEST");
  EXPECT_EQ(env_name("tags"), "POLYARCH_RESULT_TAGS");
  EXPECT_EQ(env_name("platforms"), "POLYARCH_RESULT_PLATFORMS");
  EXPECT_EQ(env_name("version"), "POLYARCH_RESULT_VERSION");
  EXPECT_EQ(env_name("metadata"), "POLYARCH_RESULT_METADATA");
  EXPECT_EQ(env_name("build-report.v2"), "POLYARCH_RESULT_BUILD_REPORT_V2");
}

// No configuration variable starts with the prefix, so no output name, now or
// later, can equal one; and none of today's outputs does.
TEST(CiOutputsTest, NoOutputNameIsAConfigurationVariable) {
  std::vector<std::string> names = config_names();
  ASSERT_NE(std::find(names.begin(), names.end(), "POLYARCH_TAGS"), names.end());
  ASSERT_NE(std::find(names.begin(), names.end(), "POLYARCH_PLATFORMS"), names.end());
  for (const std::string& name : names) {
    EXPECT_FALSE(name.starts_with(k_env_prefix)) << name << " would collide with the outputs";
  }
  size_t checked = 0;
  for (const Outputs& outputs : every_output()) {
    for (const OutputValue& value : outputs.values) {
      for (const std::string& name : names) EXPECT_NE(env_name(value.name), name);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 8u);  // digest, tags, platforms, metadata; tags, labels, version, json
}

// The variables a job gets from an env file: dotenv lines as GitLab reads
// them, `export` lines as bash sources them (with nothing else in the env).
core::Env read_back(const std::filesystem::path& path, bool shell) {
  std::string text = core::read_file(path);
  if (shell) {
    auto result = core::run_process({"env", "-i", "bash", "-c", ". \"$0\" && env", path.string()});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    text = result.out;
  }
  core::Env env;
  for (const std::string& line : core::split(text, '\n')) {
    size_t equals = line.find('=');
    if (line.starts_with("POLYARCH_") && equals != std::string::npos) {
      env[line.substr(0, equals)] = line.substr(equals + 1);
    }
  }
  return env;
}

// What the outputs of build, merge and tags leave for a later `polyarch
// build` changes none of its options and trips no "did you mean" check.
TEST(CiOutputsTest, ALaterBuildIgnoresTheResultsItFindsInTheEnvironment) {
  struct Case {
    std::string ci;
    std::string file;
    bool shell;
  };
  for (const Case& c : {Case{"gitlab", "polyarch.env", false}, Case{"circleci", "bash_env", true},
                        Case{"codebuild", "polyarch.env", true}}) {
    SCOPED_TRACE(c.ci);
    core::TempDir dir("polyarch-ci-outputs");
    std::filesystem::path path = dir.path() / c.file;
    core::Env env = {{"GITLAB_CI", "true"}, {"POLYARCH_DOTENV", path.string()},
                     {"CIRCLECI", "true"}, {"BASH_ENV", path.string()},
                     {"CODEBUILD_BUILD_ID", "p:1"}, {"CODEBUILD_SRC_DIR", dir.path().string()}};
    auto adapter = make_adapter(c.ci, env, fixed_clock);
    for (const Outputs& outputs : every_output()) adapter->write_outputs(outputs);
    core::Env results = read_back(path, c.shell);
    ASSERT_EQ(results.size(), 4u) << core::read_file(path);
    EXPECT_EQ(results["POLYARCH_RESULT_DIGEST"], "sha256:1111");
    EXPECT_EQ(results["POLYARCH_RESULT_TAGS"], "r.example.com/g/p:1.2.3,r.example.com/g/p:latest");
    EXPECT_EQ(results["POLYARCH_RESULT_PLATFORMS"], "linux/amd64,linux/arm64");
    EXPECT_EQ(results["POLYARCH_RESULT_VERSION"], "1.2.3");

    build::BuildOptions options;
    options.tags = {"v9"};
    options.platforms = {image::parse_platform("linux/s390x")};
    try {
      core::apply_env(results, options);
    } catch (const Error& error) {
      FAIL() << "a later build rejects its environment: " << error.what();
    }
    EXPECT_EQ(options.tags, std::vector<std::string>{"v9"});
    ASSERT_EQ(options.platforms.size(), 1u);
    EXPECT_EQ(options.platforms[0].str(), "linux/s390x");
    EXPECT_TRUE(options.images.empty());
  }
}

}  // namespace
}  // namespace polyarch::ci
