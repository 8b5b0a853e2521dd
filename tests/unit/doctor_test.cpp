// polyarch doctor names the CI the way every other command picks it: --ci,
// else the adapters' detect chain (ci::detect), so a hosted GitHub runner on
// CodeBuild is GitHub and GITHUB_ACTIONS=1 (not "true") is no GitHub.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/core/env.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"

namespace polyarch {
namespace {

// `polyarch [extra…] --format json doctor` in a bare environment plus env.
core::ProcessResult doctor(const core::Env& env, std::vector<std::string> extra = {}) {
  static core::TempDir home("polyarch-doctor");
  core::Env all = {{"PATH", "/usr/bin:/bin"}, {"HOME", home.path().string()},
                   {"DOCKER_CONFIG", home.path().string()}};
  for (const auto& [key, value] : env) all[key] = value;
  std::vector<std::string> argv = {POLYARCH_BINARY};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"--format", "json", "doctor"});
  core::ProcessOptions options;
  options.env = all;
  return core::run_process(argv, options);
}

std::string ci_of(const core::Env& env, std::vector<std::string> extra = {}) {
  core::ProcessResult result = doctor(env, std::move(extra));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return nlohmann::json::parse(result.out).at("ci").get<std::string>();
}

TEST(DoctorTest, NamesTheCiTheDetectChainPicks) {
  EXPECT_EQ(ci_of({}), "local");
  EXPECT_EQ(ci_of({{"GITLAB_CI", "true"}}), "gitlab");
  EXPECT_EQ(ci_of({{"CIRCLECI", "true"}}), "circleci");
  EXPECT_EQ(ci_of({{"CODEBUILD_BUILD_ID", "p:1"}}), "codebuild");
  EXPECT_EQ(ci_of({{"CODEBUILD_BUILD_ID", "p:1"}, {"GITHUB_ACTIONS", "true"}}), "github");
  EXPECT_EQ(ci_of({{"GITHUB_ACTIONS", "1"}}), "local");
  EXPECT_EQ(ci_of({{"GITLAB_CI", "true"}}, {"--ci", "circleci"}), "circleci");
}

TEST(DoctorTest, RefusesAnUnknownCi) {
  core::ProcessResult result = doctor({}, {"--ci", "jenkins"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "polyarch: error: invalid --ci \"jenkins\": expected auto, github, gitlab, circleci, codebuild or local\n");
}

}  // namespace
}  // namespace polyarch
