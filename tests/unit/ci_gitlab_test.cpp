// The GitLab CI/CD adapter: facts from realistic pipelines, the registry
// cache and login it provides, the dotenv report and collapsible sections.
#include <gtest/gtest.h>

#include <sstream>

#include "adapters/ci/adapter.hpp"
#include "adapters/ci/apply.hpp"
#include "adapters/ci/outputs.hpp"
#include "engine/core/fs.hpp"

namespace polyarch::ci {
namespace {

constexpr const char* k_sha = "1ecfd275763eff1d6b4844ea3168962458c9f27a";

std::int64_t fixed_clock() { return 1700000000999; }

core::Env gitlab(core::Env extra) {
  core::Env env = {{"GITLAB_CI", "true"},
                   {"CI_COMMIT_SHA", k_sha},
                   {"CI_COMMIT_SHORT_SHA", "1ecfd275"},
                   {"CI_DEFAULT_BRANCH", "main"},
                   {"CI_PIPELINE_IID", "311"},
                   {"CI_PROJECT_URL", "https://gitlab.example.com/group/project"},
                   {"CI_PROJECT_PATH", "group/project"},
                   {"CI_PROJECT_NAME", "project"},
                   {"CI_COMMIT_TIMESTAMP", "2024-05-01T12:00:00+00:00"},
                   {"CI_REGISTRY", "registry.example.com"},
                   {"CI_REGISTRY_IMAGE", "registry.example.com/group/project"}};
  for (auto& [key, value] : extra) env[key] = value;
  return env;
}

metadata::Facts facts(const core::Env& env) { return make_adapter("auto", env, fixed_clock)->facts(); }

TEST(GitlabTest, BranchPush) {
  auto f = facts(gitlab({{"CI_PIPELINE_SOURCE", "push"}, {"CI_COMMIT_BRANCH", "main"}, {"CI_COMMIT_REF_NAME", "main"}}));
  EXPECT_EQ(f.event, metadata::Event::branch);
  EXPECT_EQ(f.ref, "refs/heads/main");
  EXPECT_EQ(f.branch, "main");
  EXPECT_EQ(f.sha, k_sha);
  EXPECT_EQ(f.default_branch, "main");
  EXPECT_EQ(f.repository_url, "https://gitlab.example.com/group/project");
  EXPECT_EQ(f.repository_name, "group/project");
  EXPECT_EQ(f.title, "project");
  EXPECT_EQ(f.build_number, "311");
  EXPECT_EQ(f.commit_time, "2024-05-01T12:00:00+00:00");
  EXPECT_EQ(f.registry, "registry.example.com");
  EXPECT_EQ(f.registry_image, "registry.example.com/group/project");
  EXPECT_EQ(f.time_ms, 1700000000999);
}

TEST(GitlabTest, TagPush) {
  auto f = facts(gitlab({{"CI_PIPELINE_SOURCE", "push"}, {"CI_COMMIT_TAG", "v2.0.0"}, {"CI_COMMIT_REF_NAME", "v2.0.0"}}));
  EXPECT_EQ(f.event, metadata::Event::tag);
  EXPECT_EQ(f.tag, "v2.0.0");
  EXPECT_EQ(f.ref, "refs/tags/v2.0.0");
  EXPECT_EQ(f.branch, "");
}

TEST(GitlabTest, MergeRequest) {
  auto f = facts(gitlab({{"CI_PIPELINE_SOURCE", "merge_request_event"},
                         {"CI_MERGE_REQUEST_IID", "17"},
                         {"CI_COMMIT_REF_NAME", "feature/login"},
                         {"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature/login"},
                         {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main"}}));
  EXPECT_EQ(f.event, metadata::Event::pull_request);
  EXPECT_EQ(f.pr_number, "17");
  EXPECT_EQ(f.ref, "refs/merge-requests/17/head");
  EXPECT_EQ(f.branch, "");
  EXPECT_EQ(f.head_branch, "feature/login");
  EXPECT_EQ(f.base_ref, "main");
}

TEST(GitlabTest, ScheduleAndManual) {
  auto scheduled = facts(gitlab({{"CI_PIPELINE_SOURCE", "schedule"}, {"CI_COMMIT_BRANCH", "main"}}));
  EXPECT_EQ(scheduled.event, metadata::Event::schedule);
  EXPECT_EQ(scheduled.branch, "main");
  auto manual = facts(gitlab({{"CI_PIPELINE_SOURCE", "web"}, {"CI_COMMIT_BRANCH", "dev"}}));
  EXPECT_EQ(manual.event, metadata::Event::manual);
  EXPECT_EQ(manual.branch, "dev");
}

TEST(GitlabTest, RegistryCacheAndLogin) {
  auto adapter = make_adapter("gitlab", gitlab({{"CI_REGISTRY_USER", "gitlab-ci-token"},
                                                {"CI_REGISTRY_PASSWORD", "glcbt-secret-pw"}}), fixed_clock);
  EXPECT_EQ(adapter->cache_convention("buildx"), "type=registry,ref=registry.example.com/group/project:buildcache,mode=max");
  core::TempDir dir("polyarch-ci-gitlab");
  registry::CredentialStore store({{"DOCKER_CONFIG", dir.path().string()}});
  std::ostringstream log;
  EXPECT_EQ(apply_logins(*adapter, store, log), 1);
  EXPECT_EQ(log.str(), "");  // GitLab masks its own variables
  auto found = store.find("registry.example.com");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->username, "gitlab-ci-token");
  EXPECT_EQ(found->password, "glcbt-secret-pw");
  auto job_token = make_adapter("gitlab", gitlab({{"CI_JOB_TOKEN", "job-token-1"}}), fixed_clock)->logins();
  ASSERT_EQ(job_token.size(), 1u);
  EXPECT_EQ(job_token[0].credential.username, "gitlab-ci-token");
  EXPECT_EQ(job_token[0].credential.password, "job-token-1");
}

TEST(GitlabTest, DotenvReportIsOneLinePerVariable) {
  core::TempDir dir("polyarch-ci-gitlab");
  std::string path = (dir.path() / "build.env").string();
  core::write_file_atomic(path, "OTHER=kept\nPOLYARCH_RESULT_DIGEST=sha256:old\n");
  auto adapter = make_adapter("gitlab", gitlab({{"POLYARCH_DOTENV", path}}), fixed_clock);
  adapter->write_outputs(build_outputs({"sha256:1111", {"r.example.com/g/p:main", "r.example.com/g/p:sha-1ecfd27"},
                                        {{"linux/amd64", "sha256:2222", 10}, {"linux/arm/v7", "sha256:3333", 20}}}));
  EXPECT_EQ(core::read_file(path),
            "OTHER=kept\n"
            "POLYARCH_RESULT_DIGEST=sha256:1111\n"
            "POLYARCH_RESULT_TAGS=r.example.com/g/p:main,r.example.com/g/p:sha-1ecfd27\n"
            "POLYARCH_RESULT_PLATFORMS=linux/amd64,linux/arm/v7\n");
}

TEST(GitlabTest, DotenvDefaultsToPolyarchEnvInTheWorkingDirectory) {
  core::TempDir dir("polyarch-ci-gitlab");
  auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  make_adapter("gitlab", gitlab({}), fixed_clock)->write_outputs({{{"version", {"1.2.3"}, false}}, ""});
  std::filesystem::current_path(previous);
  EXPECT_EQ(core::read_file(dir.path() / "polyarch.env"), "POLYARCH_RESULT_VERSION=1.2.3\n");
}

TEST(GitlabTest, CollapsibleSections) {
  auto adapter = make_adapter("gitlab", gitlab({}), fixed_clock);
  EXPECT_EQ(adapter->section_start("polyarch_build", "polyarch: build"),
            "\x1b[0Ksection_start:1700000000:polyarch_build\r\x1b[0Kpolyarch: build\n");
  EXPECT_EQ(adapter->section_end("polyarch build"), "\x1b[0Ksection_end:1700000000:polyarch_build\r\x1b[0K\n");
  EXPECT_EQ(adapter->mask("secret"), "");
}

}  // namespace
}  // namespace polyarch::ci
