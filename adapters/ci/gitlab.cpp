// GitLab CI/CD: facts from CI_*, a registry cache under CI_REGISTRY_IMAGE,
// a login to CI_REGISTRY from the job's registry credentials, a dotenv
// report (POLYARCH_DOTENV, default polyarch.env) and collapsible sections.
#include <cctype>
#include <filesystem>

#include "adapters/ci/adapters.hpp"
#include "adapters/ci/outputs.hpp"
#include "engine/core/fs.hpp"

namespace polyarch::ci {

namespace {

class GitlabAdapter final : public Adapter {
 public:
  using Adapter::Adapter;

  std::string_view name() const override { return "gitlab"; }

  metadata::Facts facts() const override {
    metadata::Facts facts;
    std::string source = env("CI_PIPELINE_SOURCE");
    if (!env("CI_MERGE_REQUEST_IID").empty()) {
      facts.pr_number = env("CI_MERGE_REQUEST_IID");
      facts.ref = "refs/merge-requests/" + facts.pr_number + "/head";
      facts.head_branch = env("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME");
      if (facts.head_branch.empty()) facts.head_branch = env("CI_COMMIT_REF_NAME");
      facts.base_ref = env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME");
    } else if (!env("CI_COMMIT_TAG").empty()) {
      facts.tag = env("CI_COMMIT_TAG");
      facts.ref = "refs/tags/" + facts.tag;
    } else if (!env("CI_COMMIT_BRANCH").empty()) {
      facts.branch = env("CI_COMMIT_BRANCH");
      facts.ref = "refs/heads/" + facts.branch;
    }
    if (!facts.pr_number.empty()) facts.event = metadata::Event::pull_request;
    else if (source == "schedule") facts.event = metadata::Event::schedule;
    else if (source == "web" || source == "api" || source == "trigger") facts.event = metadata::Event::manual;
    else if (!facts.tag.empty()) facts.event = metadata::Event::tag;
    else if (!facts.branch.empty()) facts.event = metadata::Event::branch;
    facts.sha = env("CI_COMMIT_SHA");
    facts.default_branch = env("CI_DEFAULT_BRANCH");
    facts.repository_url = env("CI_PROJECT_URL");
    facts.repository_name = env("CI_PROJECT_PATH");
    facts.title = env("CI_PROJECT_NAME");
    if (facts.title.empty()) facts.title = last_component(facts.repository_name);
    facts.description = env("CI_PROJECT_DESCRIPTION");
    facts.build_number = env("CI_PIPELINE_IID");
    facts.commit_time = env("CI_COMMIT_TIMESTAMP");
    facts.registry = env("CI_REGISTRY");
    facts.registry_image = env("CI_REGISTRY_IMAGE");
    facts.time_ms = build_time_ms();
    return facts;
  }

  // A registry cache in the project's own container registry.
  std::string cache_convention(std::string_view, std::string_view) const override {
    std::string image = env("CI_REGISTRY_IMAGE");
    return image.empty() ? "none" : "type=registry,ref=" + image + ":buildcache,mode=max";
  }

  // The job's registry user and password (or its job token) for CI_REGISTRY.
  std::vector<Login> logins() const override {
    std::string registry = env("CI_REGISTRY");
    if (registry.empty()) return {};
    if (!env("CI_REGISTRY_USER").empty() && !env("CI_REGISTRY_PASSWORD").empty()) {
      return {{registry, {env("CI_REGISTRY_USER"), env("CI_REGISTRY_PASSWORD"), ""}}};
    }
    if (!env("CI_JOB_TOKEN").empty()) return {{registry, {"gitlab-ci-token", env("CI_JOB_TOKEN"), ""}}};
    return {};
  }

  // A dotenv report: KEY=VALUE lines, one line each (GitLab takes no quotes
  // and no multi-line values), earlier values of the same keys replaced.
  void write_outputs(const Outputs& outputs) const override {
    std::filesystem::path path = env("POLYARCH_DOTENV").empty() ? "polyarch.env" : env("POLYARCH_DOTENV");
    std::string existing = std::filesystem::exists(path) ? core::read_file(path) : "";
    core::write_file_atomic(path, merge_env_file(existing, outputs, "", false));
  }

  std::string section_start(std::string_view id, std::string_view title) const override {
    return "\x1b[0Ksection_start:" + seconds() + ":" + section_id(id) + "\r\x1b[0K" + std::string(title) + "\n";
  }

  std::string section_end(std::string_view id) const override {
    return "\x1b[0Ksection_end:" + seconds() + ":" + section_id(id) + "\r\x1b[0K\n";
  }

 private:
  std::string seconds() const { return std::to_string(now_ms() / 1000); }

  // Section names take letters, digits, "_", "." and "-".
  static std::string section_id(std::string_view id) {
    std::string out;
    for (char c : id) out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
    return out;
  }
};

}  // namespace

bool detect_gitlab(const core::Env& env) { return core::get(env, "GITLAB_CI") == "true"; }

std::unique_ptr<Adapter> make_gitlab(core::Env env, Clock clock) {
  return std::make_unique<GitlabAdapter>(std::move(env), std::move(clock));
}

}  // namespace polyarch::ci
