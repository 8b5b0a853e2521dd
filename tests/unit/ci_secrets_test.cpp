// No secret a CI hands the job reaches any output, file or log line (other
// than GitHub's ::add-mask:: command, which is how a secret gets hidden).
#include <gtest/gtest.h>

#include <sstream>

#include "adapters/ci/adapter.hpp"
#include "adapters/ci/apply.hpp"
#include "adapters/ci/outputs.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/strings.hpp"
#include "engine/metadata/metadata.hpp"

namespace polyarch::ci {
namespace {

const std::vector<std::string> k_secrets = {"ghp-SECRET-token-1", "glpat-SECRET-password-2", "job-SECRET-token-3",
                                            "aws-SECRET-key-4", "aws-SECRET-session-5", "url-SECRET-6"};

std::int64_t fixed_clock() { return 1700000000000; }

core::Env everything(const std::filesystem::path& dir) {
  return {{"GITHUB_ACTIONS", "true"}, {"GITLAB_CI", "true"}, {"CIRCLECI", "true"}, {"CODEBUILD_BUILD_ID", "p:1"},
          {"GITHUB_REF", "refs/tags/v1.2.3"}, {"GITHUB_EVENT_NAME", "push"}, {"GITHUB_REPOSITORY", "o/r"},
          {"GITHUB_SHA", "abcdef1234567"}, {"GITHUB_ACTOR", "me"},
          {"GITHUB_TOKEN", k_secrets[0]}, {"INPUT_GITHUB-TOKEN", k_secrets[0]},
          {"GITHUB_OUTPUT", (dir / "github_output").string()}, {"GITHUB_STEP_SUMMARY", (dir / "summary").string()},
          {"CI_COMMIT_TAG", "v1.2.3"}, {"CI_REGISTRY", "registry.example.com"},
          {"CI_REGISTRY_IMAGE", "registry.example.com/g/p"}, {"CI_REGISTRY_USER", "gitlab-ci-token"},
          {"CI_REGISTRY_PASSWORD", k_secrets[1]}, {"CI_JOB_TOKEN", k_secrets[2]},
          {"POLYARCH_DOTENV", (dir / "gitlab.env").string()},
          {"CIRCLE_TAG", "v1.2.3"}, {"BASH_ENV", (dir / "bash_env").string()},
          {"CIRCLE_REPOSITORY_URL", "https://x-access-token:" + k_secrets[5] + "@github.com/o/r.git"},
          {"CODEBUILD_WEBHOOK_TRIGGER", "tag/v1.2.3"}, {"CODEBUILD_SRC_DIR", dir.string()},
          {"CODEBUILD_SOURCE_REPO_URL", "https://user:" + k_secrets[5] + "@github.com/o/r.git"},
          {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", k_secrets[3]},
          {"AWS_SESSION_TOKEN", k_secrets[4]}};
}

std::string facts_text(const metadata::Facts& f) {
  return f.ref + f.branch + f.tag + f.pr_number + f.head_branch + f.base_ref + f.sha + f.default_branch +
         f.repository_url + f.repository_name + f.title + f.description + f.licenses + f.build_number +
         f.commit_time + f.registry + f.registry_image;
}

TEST(CiSecretsTest, NoSecretInAnyOutput) {
  for (std::string_view name : {"github", "gitlab", "circleci", "codebuild", "local"}) {
    core::TempDir dir("polyarch-ci-secrets");
    core::Env env = everything(dir.path());
    auto adapter = make_adapter(name, env, fixed_clock);
    std::ostringstream log;
    registry::CredentialStore store({{"DOCKER_CONFIG", dir.path().string()}});
    apply_logins(*adapter, store, log);
    metadata::Facts facts = adapter->facts();
    metadata::Metadata made = metadata::compute(facts, {{"app"}, {"type=semver,pattern={{version}}", "type=sha"}, {}});
    adapter->write_outputs(tags_outputs(made));
    adapter->write_outputs(build_outputs({"sha256:aa", made.tags, {{"linux/amd64", "sha256:bb", 1}}}));
    build::BuildOptions options;
    apply_facts(*adapter, options);
    std::string seen = facts_text(facts) + made.json().dump() + adapter->cache_convention("buildx") +
                       adapter->cache_convention("buildah") + adapter->section_start("a", "b") +
                       adapter->section_end("a");
    for (const auto& [key, value] : options.labels) seen += key + "=" + value + "\n";
    for (const auto& image : options.images) seen += image + "\n";
    for (const auto& line : core::split(log.str(), '\n')) {
      if (!line.starts_with("::add-mask::")) seen += line + "\n";
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) seen += core::read_file(entry.path());
    if (name != "local") {
      EXPECT_NE(seen.find("v1.2.3"), std::string::npos) << name << ": the check saw no output";
    }
    if (name == "github") {
      EXPECT_EQ(log.str(), "::add-mask::" + k_secrets[0] + "\n");
    }
    for (const auto& secret : k_secrets) {
      EXPECT_EQ(seen.find(secret), std::string::npos) << name << " leaked " << secret;
    }
  }
}

}  // namespace
}  // namespace polyarch::ci
