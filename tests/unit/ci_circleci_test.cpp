// The CircleCI adapter: facts from realistic jobs, the orb's cache directory,
// and `export` lines in $BASH_ENV that bash reads back exactly.
#include <gtest/gtest.h>

#include "adapters/ci/adapter.hpp"
#include "adapters/ci/outputs.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"

namespace polyarch::ci {
namespace {

std::int64_t fixed_clock() { return 1700000000000; }

core::Env circle(core::Env extra) {
  core::Env env = {{"CIRCLECI", "true"},
                   {"CIRCLE_SHA1", "4d3c2b1a00000000000000000000000000000000"},
                   {"CIRCLE_BUILD_NUM", "1234"},
                   {"CIRCLE_PROJECT_USERNAME", "acme"},
                   {"CIRCLE_PROJECT_REPONAME", "rocket"},
                   {"CIRCLE_REPOSITORY_URL", "git@github.com:acme/rocket.git"}};
  for (auto& [key, value] : extra) env[key] = value;
  return env;
}

metadata::Facts facts(const core::Env& env) { return make_adapter("auto", env, fixed_clock)->facts(); }

TEST(CircleciTest, BranchPush) {
  auto f = facts(circle({{"CIRCLE_BRANCH", "main"}}));
  EXPECT_EQ(f.event, metadata::Event::branch);
  EXPECT_EQ(f.ref, "refs/heads/main");
  EXPECT_EQ(f.branch, "main");
  EXPECT_EQ(f.sha, "4d3c2b1a00000000000000000000000000000000");
  EXPECT_EQ(f.repository_url, "https://github.com/acme/rocket");
  EXPECT_EQ(f.repository_name, "acme/rocket");
  EXPECT_EQ(f.title, "rocket");
  EXPECT_EQ(f.build_number, "1234");
  EXPECT_EQ(f.default_branch, "");  // CircleCI does not say
}

TEST(CircleciTest, TagPush) {
  auto f = facts(circle({{"CIRCLE_TAG", "v3.1.0"}}));
  EXPECT_EQ(f.event, metadata::Event::tag);
  EXPECT_EQ(f.tag, "v3.1.0");
  EXPECT_EQ(f.ref, "refs/tags/v3.1.0");
}

TEST(CircleciTest, PullRequest) {
  auto f = facts(circle({{"CIRCLE_BRANCH", "fix/typo"}, {"CIRCLE_PULL_REQUEST", "https://github.com/acme/rocket/pull/88"}}));
  EXPECT_EQ(f.event, metadata::Event::pull_request);
  EXPECT_EQ(f.pr_number, "88");
  EXPECT_EQ(f.head_branch, "fix/typo");
  EXPECT_EQ(f.branch, "");
  auto fork = facts(circle({{"CIRCLE_BRANCH", "pull/91"}}));
  EXPECT_EQ(fork.event, metadata::Event::pull_request);
  EXPECT_EQ(fork.pr_number, "91");
}

TEST(CircleciTest, ScheduleAndManualFromTheTriggerSource) {
  auto scheduled = facts(circle({{"CIRCLE_BRANCH", "main"}, {"POLYARCH_TRIGGER_SOURCE", "scheduled_pipeline"}}));
  EXPECT_EQ(scheduled.event, metadata::Event::schedule);
  EXPECT_EQ(scheduled.branch, "main");
  auto manual = facts(circle({{"CIRCLE_BRANCH", "main"}, {"POLYARCH_TRIGGER_SOURCE", "api"}}));
  EXPECT_EQ(manual.event, metadata::Event::manual);
}

TEST(CircleciTest, LocalCacheDirectory) {
  auto adapter = make_adapter("circleci", circle({}), fixed_clock);
  EXPECT_EQ(adapter->cache_convention("buildx"), "type=local,dest=.polyarch-cache");
  EXPECT_TRUE(adapter->logins().empty());
  EXPECT_EQ(adapter->section_start("a", "b"), "");
}

TEST(CircleciTest, BashEnvExportsReadBackByBash) {
  core::TempDir dir("polyarch-ci-circle");
  std::string bash_env = (dir.path() / "bash_env").string();
  core::write_file_atomic(bash_env, "export EARLIER=1\n");
  auto adapter = make_adapter("circleci", circle({{"BASH_ENV", bash_env}}), fixed_clock);
  std::string tricky = "it's $HOME `x` \"q\"";
  adapter->write_outputs({{{"digest", {"sha256:9999"}, false},
                           {"tags", {"acme/rocket:main", "acme/rocket:sha-4d3c2b1"}, false},
                           {"note", {tricky}, false},
                           {"metadata", {"{\"a\":1}"}, true}},
                          ""});
  EXPECT_EQ(core::read_file(bash_env),
            "export EARLIER=1\n"
            "export POLYARCH_RESULT_DIGEST='sha256:9999'\n"
            "export POLYARCH_RESULT_TAGS='acme/rocket:main,acme/rocket:sha-4d3c2b1'\n"
            "export POLYARCH_RESULT_NOTE='it'\\''s $HOME `x` \"q\"'\n");
  auto result = core::run_process(
      {"bash", "-c", ". \"$0\"; printf '%s|%s' \"$POLYARCH_RESULT_NOTE\" \"$POLYARCH_RESULT_TAGS\"", bash_env});
  EXPECT_EQ(result.out, tricky + "|acme/rocket:main,acme/rocket:sha-4d3c2b1");
}

}  // namespace
}  // namespace polyarch::ci
