// AWS CodeBuild: facts from CODEBUILD_* (webhook builds name their trigger,
// other builds may be a detached commit with no branch), a build cache, ECR
// logins through the build's own AWS credentials, and an env file of
// `export` lines in $CODEBUILD_SRC_DIR/polyarch.env for later commands (and
// the buildspec's exported-variables).
//
// The cache: a registry cache next to an image that goes to ECR, in the form
// ECR stores (image-manifest=true,oci-mediatypes=true); else a directory
// that the buildspec keeps with `cache: paths:` (LOCAL_CUSTOM_CACHE).
#include <algorithm>
#include <filesystem>

#include "adapters/ci/adapters.hpp"
#include "adapters/ci/outputs.hpp"
#include "engine/cache/cache.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/strings.hpp"
#include "engine/registry/aws_credentials.hpp"
#include "engine/registry/ecr.hpp"

namespace polyarch::ci {

namespace {

std::string strip(std::string_view text, std::string_view prefix) {
  return std::string(text.starts_with(prefix) ? text.substr(prefix.size()) : text);
}

class CodebuildAdapter final : public Adapter {
 public:
  using Adapter::Adapter;

  std::string_view name() const override { return "codebuild"; }

  metadata::Facts facts() const override {
    metadata::Facts facts;
    std::string trigger = env("CODEBUILD_WEBHOOK_TRIGGER");  // branch/x, tag/x, pr/12
    std::string version = env("CODEBUILD_SOURCE_VERSION");   // refs/heads/x, pr/12, a commit
    std::string head = env("CODEBUILD_WEBHOOK_HEAD_REF");
    if (trigger.starts_with("pr/") || (trigger.empty() && version.starts_with("pr/"))) {
      facts.pr_number = strip(trigger.empty() ? version : trigger, "pr/");
      facts.ref = "refs/pull/" + facts.pr_number + "/head";
      facts.head_branch = strip(head, "refs/heads/");
      facts.base_ref = strip(env("CODEBUILD_WEBHOOK_BASE_REF"), "refs/heads/");
    } else if (trigger.starts_with("tag/")) {
      facts.tag = trigger.substr(4);
    } else if (trigger.starts_with("branch/")) {
      facts.branch = trigger.substr(7);
    } else if (version.starts_with("refs/tags/")) {
      facts.tag = version.substr(10);
    } else if (version.starts_with("refs/heads/")) {
      facts.branch = version.substr(11);
    }
    if (!facts.tag.empty()) facts.ref = "refs/tags/" + facts.tag;
    if (!facts.branch.empty()) facts.ref = "refs/heads/" + facts.branch;
    if (env("POLYARCH_TRIGGER_SOURCE") == "schedule") facts.event = metadata::Event::schedule;
    else if (!facts.pr_number.empty()) facts.event = metadata::Event::pull_request;
    else if (trigger.empty() && !env("CODEBUILD_INITIATOR").starts_with("codepipeline/")) facts.event = metadata::Event::manual;
    else if (!facts.tag.empty()) facts.event = metadata::Event::tag;
    else if (!facts.branch.empty()) facts.event = metadata::Event::branch;
    facts.sha = env("CODEBUILD_RESOLVED_SOURCE_VERSION");
    facts.repository_url = web_url(env("CODEBUILD_SOURCE_REPO_URL"));
    std::string_view url = facts.repository_url;
    if (size_t scheme = url.find("://"); scheme != std::string_view::npos) {
      size_t path = url.find('/', scheme + 3);
      if (path != std::string_view::npos) facts.repository_name = std::string(url.substr(path + 1));
    }
    facts.title = last_component(facts.repository_name);
    facts.build_number = env("CODEBUILD_BUILD_NUMBER");
    facts.registry = ecr_registry();
    facts.time_ms = build_time_ms();
    return facts;
  }

  std::string cache_convention(std::string_view, std::string_view image) const override {
    if (!image.empty() && registry::parse_ecr_host(cache::registry_host(image))) {
      return "type=registry,ref=" + std::string(image) +
             ":buildcache,mode=max,image-manifest=true,oci-mediatypes=true";
    }
    return "type=local,dest=.polyarch-cache";
  }

  // The ECR hosts among registries, when the build has AWS credentials
  // (its service role's, through the container credentials endpoint).
  std::vector<std::string> aws_logins(const std::vector<std::string>& registries) const override {
    std::vector<std::string> hosts;
    if (!registry::has_aws_credentials(environment())) return hosts;
    for (const auto& name : registries) {
      if (registry::parse_ecr_host(name) && std::find(hosts.begin(), hosts.end(), name) == hosts.end()) {
        hosts.push_back(name);
      }
    }
    return hosts;
  }

  void write_outputs(const Outputs& outputs) const override {
    std::filesystem::path dir = env("CODEBUILD_SRC_DIR").empty() ? "." : env("CODEBUILD_SRC_DIR");
    std::filesystem::path path = dir / "polyarch.env";
    std::string existing = std::filesystem::exists(path) ? core::read_file(path) : "";
    core::write_file_atomic(path, merge_env_file(existing, outputs, "export ", true));
  }

 private:
  // ACCOUNT.dkr.ecr.REGION.amazonaws.com from the build's ARN
  // (arn:aws:codebuild:REGION:ACCOUNT:build/NAME:ID), or "".
  std::string ecr_registry() const {
    auto parts = core::split(env("CODEBUILD_BUILD_ARN"), ':');
    if (parts.size() < 6 || parts[0] != "arn" || parts[3].empty() || parts[4].empty()) return "";
    std::string suffix = parts[1] == "aws-cn" ? ".amazonaws.com.cn" : ".amazonaws.com";
    return parts[4] + ".dkr.ecr." + parts[3] + suffix;
  }
};

}  // namespace

bool detect_codebuild(const core::Env& env) { return !core::get(env, "CODEBUILD_BUILD_ID").empty(); }

std::unique_ptr<Adapter> make_codebuild(core::Env env, Clock clock) {
  return std::make_unique<CodebuildAdapter>(std::move(env), std::move(clock));
}

}  // namespace polyarch::ci
