// GitHub Actions: facts from GITHUB_* and the event payload, the gha cache,
// a ghcr.io login from the job's token, outputs in $GITHUB_OUTPUT and
// $GITHUB_STEP_SUMMARY, ::group:: sections and ::add-mask::.
#include "adapters/ci/adapters.hpp"
#include "adapters/ci/outputs.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "nlohmann/json.hpp"

namespace polyarch::ci {

namespace {

using nlohmann::json;

// A string at a JSON pointer, or "".
std::string text_at(const json& document, const char* pointer) {
  json::json_pointer path(pointer);
  if (!document.contains(path)) return "";
  const json& value = document.at(path);
  return value.is_string() ? value.get<std::string>() : value.is_number() ? value.dump() : "";
}

class GithubAdapter final : public Adapter {
 public:
  using Adapter::Adapter;

  std::string_view name() const override { return "github"; }

  metadata::Facts facts() const override {
    metadata::Facts facts;
    json payload = event_payload();
    facts.ref = env("GITHUB_REF");
    std::string_view ref = facts.ref;
    if (ref.starts_with("refs/heads/")) {
      facts.branch = ref.substr(11);
    } else if (ref.starts_with("refs/tags/")) {
      facts.tag = ref.substr(10);
      std::string base = text_at(payload, "/base_ref");
      facts.base_ref = base.starts_with("refs/heads/") ? base.substr(11) : base;
    } else if (ref.starts_with("refs/pull/")) {
      std::string_view rest = ref.substr(10);
      facts.pr_number = std::string(rest.substr(0, rest.find('/')));
      facts.head_branch = env("GITHUB_HEAD_REF");
      facts.base_ref = env("GITHUB_BASE_REF");
    }
    std::string event = env("GITHUB_EVENT_NAME");
    if (event == "pull_request" || event == "pull_request_target") facts.event = metadata::Event::pull_request;
    else if (event == "schedule") facts.event = metadata::Event::schedule;
    else if (event == "workflow_dispatch") facts.event = metadata::Event::manual;
    else if (!facts.tag.empty()) facts.event = metadata::Event::tag;
    else if (!facts.branch.empty()) facts.event = metadata::Event::branch;
    facts.sha = env("GITHUB_SHA");
    facts.repository_name = env("GITHUB_REPOSITORY");
    std::string server = env("GITHUB_SERVER_URL").empty() ? "https://github.com" : env("GITHUB_SERVER_URL");
    facts.repository_url = text_at(payload, "/repository/html_url");
    if (facts.repository_url.empty() && !facts.repository_name.empty()) {
      facts.repository_url = server + "/" + facts.repository_name;
    }
    facts.title = text_at(payload, "/repository/name");
    if (facts.title.empty()) facts.title = last_component(facts.repository_name);
    facts.description = text_at(payload, "/repository/description");
    facts.licenses = text_at(payload, "/repository/license/spdx_id");
    facts.default_branch = text_at(payload, "/repository/default_branch");
    facts.commit_time = text_at(payload, "/head_commit/timestamp");
    facts.build_number = env("GITHUB_RUN_NUMBER").empty() ? env("GITHUB_RUN_ID") : env("GITHUB_RUN_NUMBER");
    facts.registry = "ghcr.io";
    if (!facts.repository_name.empty()) facts.registry_image = "ghcr.io/" + lowercase(facts.repository_name);
    facts.time_ms = build_time_ms();
    return facts;
  }

  // buildx talks to the Actions cache service itself; other builders keep
  // a registry cache next to the image on ghcr.io.
  std::string cache_convention(std::string_view backend, std::string_view) const override {
    if (backend == "buildx") return "type=gha";
    std::string repository = env("GITHUB_REPOSITORY");
    if (repository.empty()) return "none";
    return "type=registry,ref=ghcr.io/" + lowercase(repository) + ":buildcache,mode=max";
  }

  // The job's token logs in to ghcr.io; the user name is not checked.
  std::vector<Login> logins() const override {
    std::string token = env("INPUT_GITHUB-TOKEN");
    if (token.empty()) token = env("GITHUB_TOKEN");
    if (token.empty()) return {};
    std::string user = env("GITHUB_ACTOR").empty() ? "github-actions" : env("GITHUB_ACTOR");
    return {{"ghcr.io", {user, token, ""}}};
  }

  void write_outputs(const Outputs& outputs) const override {
    if (!env("GITHUB_OUTPUT").empty()) append_file(env("GITHUB_OUTPUT"), github_output_text(outputs));
    if (!env("GITHUB_STEP_SUMMARY").empty() && !outputs.summary.empty()) {
      append_file(env("GITHUB_STEP_SUMMARY"), outputs.summary);
    }
  }

  std::string section_start(std::string_view, std::string_view title) const override {
    return "::group::" + command_escape(title) + "\n";
  }

  std::string section_end(std::string_view) const override { return "::endgroup::\n"; }

  std::string mask(std::string_view secret) const override {
    return secret.empty() ? "" : "::add-mask::" + command_escape(secret) + "\n";
  }

 private:
  // The webhook payload GitHub writes for the job; {} when absent or unreadable.
  json event_payload() const {
    std::string path = env("GITHUB_EVENT_PATH");
    if (path.empty()) return json::object();
    try {
      json payload = json::parse(core::read_file(path), nullptr, false);
      return payload.is_object() ? payload : json::object();
    } catch (const Error&) {
      return json::object();
    }
  }
};

}  // namespace

bool detect_github(const core::Env& env) { return core::get(env, "GITHUB_ACTIONS") == "true"; }

std::unique_ptr<Adapter> make_github(core::Env env, Clock clock) {
  return std::make_unique<GithubAdapter>(std::move(env), std::move(clock));
}

}  // namespace polyarch::ci
