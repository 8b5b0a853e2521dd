// Which adapter runs: --ci, or the detect(env) chain; and the local adapter.
#include <gtest/gtest.h>

#include "adapters/ci/adapter.hpp"
#include "engine/core/error.hpp"

namespace polyarch::ci {
namespace {

TEST(CiDetectTest, ProbesInOrder) {
  struct Row {
    core::Env env;
    std::string_view expected;
  };
  const Row rows[] = {
      {{}, "local"},
      {{{"GITHUB_ACTIONS", "true"}}, "github"},
      {{{"GITLAB_CI", "true"}}, "gitlab"},
      {{{"CIRCLECI", "true"}}, "circleci"},
      {{{"CODEBUILD_BUILD_ID", "p:1"}}, "codebuild"},
      // CodeBuild-hosted runners: the hosted CI wins.
      {{{"CODEBUILD_BUILD_ID", "p:1"}, {"GITHUB_ACTIONS", "true"}}, "github"},
      {{{"CODEBUILD_BUILD_ID", "p:1"}, {"GITLAB_CI", "true"}}, "gitlab"},
      {{{"GITHUB_ACTIONS", "false"}}, "local"},
      {{{"CODEBUILD_BUILD_ID", ""}}, "local"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(detect(row.env), row.expected);
    EXPECT_EQ(make_adapter("auto", row.env)->name(), row.expected);
  }
}

TEST(CiDetectTest, FlagWinsOverDetection) {
  core::Env github = {{"GITHUB_ACTIONS", "true"}};
  EXPECT_EQ(make_adapter("local", github)->name(), "local");
  EXPECT_EQ(make_adapter("codebuild", github)->name(), "codebuild");
  try {
    make_adapter("jenkins", github);
    FAIL() << "accepted --ci jenkins";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    EXPECT_STREQ(e.what(), "invalid --ci \"jenkins\": expected auto, github, gitlab, circleci, codebuild or local");
  }
}

TEST(CiDetectTest, LocalHasOnlyTheTime) {
  auto adapter = make_adapter("local", {{"GITHUB_REF", "refs/heads/main"}, {"SOURCE_DATE_EPOCH", "10"}});
  metadata::Facts facts = adapter->facts();
  EXPECT_EQ(facts.event, metadata::Event::other);
  EXPECT_EQ(facts.branch, "");
  EXPECT_EQ(facts.time_ms, 10000);
  EXPECT_EQ(adapter->cache_convention("buildx"), "none");
  EXPECT_TRUE(adapter->logins().empty());
  EXPECT_EQ(adapter->section_start("x", "y") + adapter->section_end("x") + adapter->mask("s"), "");
}

}  // namespace
}  // namespace polyarch::ci
