// The AWS CodeBuild adapter: webhook builds, a detached checkout with no
// branch, the ECR registry from the build ARN, and the polyarch.env file of
// exports that later buildspec commands source.
#include <gtest/gtest.h>

#include "adapters/ci/adapter.hpp"
#include "adapters/ci/outputs.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/metadata/metadata.hpp"

namespace polyarch::ci {
namespace {

constexpr const char* k_sha = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";

std::int64_t fixed_clock() { return 1700000000000; }

core::Env codebuild(core::Env extra) {
  core::Env env = {{"CODEBUILD_BUILD_ID", "rocket:6f1f3b2e-0000-4000-8000-000000000001"},
                   {"CODEBUILD_BUILD_ARN", "arn:aws:codebuild:eu-west-1:123456789012:build/rocket:6f1f3b2e"},
                   {"CODEBUILD_BUILD_NUMBER", "57"},
                   {"CODEBUILD_RESOLVED_SOURCE_VERSION", k_sha},
                   {"CODEBUILD_SOURCE_REPO_URL", "https://github.com/acme/rocket.git"},
                   {"CODEBUILD_INITIATOR", "GitHub-Hookshot/abc123"},
                   {"AWS_REGION", "eu-west-1"}};
  for (auto& [key, value] : extra) env[key] = value;
  return env;
}

metadata::Facts facts(const core::Env& env) { return make_adapter("auto", env, fixed_clock)->facts(); }

TEST(CodebuildTest, WebhookBranchPush) {
  auto f = facts(codebuild({{"CODEBUILD_WEBHOOK_TRIGGER", "branch/main"},
                            {"CODEBUILD_WEBHOOK_HEAD_REF", "refs/heads/main"},
                            {"CODEBUILD_SOURCE_VERSION", k_sha}}));
  EXPECT_EQ(f.event, metadata::Event::branch);
  EXPECT_EQ(f.ref, "refs/heads/main");
  EXPECT_EQ(f.branch, "main");
  EXPECT_EQ(f.sha, k_sha);
  EXPECT_EQ(f.repository_url, "https://github.com/acme/rocket");
  EXPECT_EQ(f.repository_name, "acme/rocket");
  EXPECT_EQ(f.title, "rocket");
  EXPECT_EQ(f.build_number, "57");
  EXPECT_EQ(f.registry, "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
}

TEST(CodebuildTest, WebhookTagPush) {
  auto f = facts(codebuild({{"CODEBUILD_WEBHOOK_TRIGGER", "tag/v1.0.0"}, {"CODEBUILD_WEBHOOK_HEAD_REF", "refs/tags/v1.0.0"}}));
  EXPECT_EQ(f.event, metadata::Event::tag);
  EXPECT_EQ(f.tag, "v1.0.0");
  EXPECT_EQ(f.ref, "refs/tags/v1.0.0");
}

TEST(CodebuildTest, WebhookPullRequest) {
  auto f = facts(codebuild({{"CODEBUILD_WEBHOOK_TRIGGER", "pr/12"},
                            {"CODEBUILD_WEBHOOK_HEAD_REF", "refs/heads/feature"},
                            {"CODEBUILD_WEBHOOK_BASE_REF", "refs/heads/main"},
                            {"CODEBUILD_SOURCE_VERSION", "pr/12"}}));
  EXPECT_EQ(f.event, metadata::Event::pull_request);
  EXPECT_EQ(f.pr_number, "12");
  EXPECT_EQ(f.head_branch, "feature");
  EXPECT_EQ(f.base_ref, "main");
  EXPECT_EQ(f.branch, "");
}

TEST(CodebuildTest, ScheduledBuild) {
  auto f = facts(codebuild({{"CODEBUILD_SOURCE_VERSION", "refs/heads/main"},
                            {"CODEBUILD_INITIATOR", "rule/nightly"},
                            {"POLYARCH_TRIGGER_SOURCE", "schedule"}}));
  EXPECT_EQ(f.event, metadata::Event::schedule);
  EXPECT_EQ(f.branch, "main");
}

TEST(CodebuildTest, DetachedCheckoutHasNoBranch) {
  auto f = facts(codebuild({{"CODEBUILD_SOURCE_VERSION", k_sha}, {"CODEBUILD_INITIATOR", "alice"}}));
  EXPECT_EQ(f.event, metadata::Event::manual);
  EXPECT_EQ(f.ref, "");
  EXPECT_EQ(f.branch, "");
  EXPECT_EQ(f.tag, "");
  EXPECT_EQ(f.sha, k_sha);
  // Default rules give nothing to tag; a sha rule still does.
  EXPECT_TRUE(metadata::compute(f, {{"app"}, {}, {}}).tags.empty());
  EXPECT_EQ(metadata::compute(f, {{"app"}, {"type=sha"}, {}}).tags, std::vector<std::string>{"app:sha-0f1e2d3"});
}

TEST(CodebuildTest, CacheAndNoLoginYet) {
  auto adapter = make_adapter("codebuild", codebuild({{"AWS_SECRET_ACCESS_KEY", "aws-secret"}}), fixed_clock);
  EXPECT_EQ(adapter->cache_convention("buildx"), "type=local,dest=.polyarch-cache");
  EXPECT_TRUE(adapter->logins().empty());  // ECR needs SigV4, not there yet
}

TEST(CodebuildTest, EnvFileOfExports) {
  core::TempDir dir("polyarch-ci-codebuild");
  auto adapter = make_adapter("codebuild", codebuild({{"CODEBUILD_SRC_DIR", dir.path().string()}}), fixed_clock);
  adapter->write_outputs({{{"digest", {"sha256:old"}, false}}, ""});
  adapter->write_outputs(build_outputs({"sha256:abcd", {"r/app:main"}, {{"linux/arm64", "sha256:ef01", 99}}}));
  std::string path = (dir.path() / "polyarch.env").string();
  EXPECT_EQ(core::read_file(path),
            "export POLYARCH_RESULT_DIGEST='sha256:abcd'\n"
            "export POLYARCH_RESULT_TAGS='r/app:main'\n"
            "export POLYARCH_RESULT_PLATFORMS='linux/arm64'\n");
  auto result = core::run_process({"bash", "-c", ". \"$0\"; printf '%s' \"$POLYARCH_RESULT_DIGEST\"", path});
  EXPECT_EQ(result.out, "sha256:abcd");
}

}  // namespace
}  // namespace polyarch::ci
