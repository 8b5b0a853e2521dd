// CircleCI: facts from CIRCLE_*, a local cache directory the orb keeps with
// save_cache/restore_cache, and `export` lines appended to $BASH_ENV so
// later steps see the results. A pipeline's trigger (pipeline.trigger_source)
// is not in the job's environment: the orb passes it as
// POLYARCH_TRIGGER_SOURCE (scheduled_pipeline, api, webhook).
#include "adapters/ci/adapters.hpp"
#include "adapters/ci/outputs.hpp"

namespace polyarch::ci {

namespace {

// The directory the orb saves and restores (relative to the working directory).
constexpr std::string_view k_cache_dir = ".polyarch-cache";

class CircleciAdapter final : public Adapter {
 public:
  using Adapter::Adapter;

  std::string_view name() const override { return "circleci"; }

  metadata::Facts facts() const override {
    metadata::Facts facts;
    std::string branch = env("CIRCLE_BRANCH");
    std::string pull_request = env("CIRCLE_PULL_REQUEST");  // https://github.com/o/r/pull/12
    if (!env("CIRCLE_TAG").empty()) {
      facts.tag = env("CIRCLE_TAG");
      facts.ref = "refs/tags/" + facts.tag;
    } else if (!pull_request.empty() || !env("CIRCLE_PR_NUMBER").empty() || branch.starts_with("pull/")) {
      facts.pr_number = env("CIRCLE_PR_NUMBER");
      if (facts.pr_number.empty()) facts.pr_number = last_component(pull_request.empty() ? branch : pull_request);
      facts.ref = "refs/pull/" + facts.pr_number + "/head";
      facts.head_branch = branch;
    } else if (!branch.empty()) {
      facts.branch = branch;
      facts.ref = "refs/heads/" + branch;
    }
    std::string trigger = env("POLYARCH_TRIGGER_SOURCE");
    if (!facts.pr_number.empty()) facts.event = metadata::Event::pull_request;
    else if (trigger == "scheduled_pipeline") facts.event = metadata::Event::schedule;
    else if (trigger == "api") facts.event = metadata::Event::manual;
    else if (!facts.tag.empty()) facts.event = metadata::Event::tag;
    else if (!facts.branch.empty()) facts.event = metadata::Event::branch;
    facts.sha = env("CIRCLE_SHA1");
    facts.repository_url = web_url(env("CIRCLE_REPOSITORY_URL"));
    if (!env("CIRCLE_PROJECT_USERNAME").empty()) {
      facts.repository_name = env("CIRCLE_PROJECT_USERNAME") + "/" + env("CIRCLE_PROJECT_REPONAME");
    }
    facts.title = env("CIRCLE_PROJECT_REPONAME");
    facts.build_number = env("CIRCLE_BUILD_NUM");
    facts.time_ms = build_time_ms();
    return facts;
  }

  std::string cache_convention(std::string_view, std::string_view) const override {
    return "type=local,dest=" + std::string(k_cache_dir);
  }

  // Appends `export POLYARCH_RESULT_X='…'` lines; CircleCI sources $BASH_ENV
  // before each later step.
  void write_outputs(const Outputs& outputs) const override {
    std::string path = env("BASH_ENV");
    if (path.empty()) return;
    append_file(path, merge_env_file("", outputs, "export ", true));
  }
};

}  // namespace

bool detect_circleci(const core::Env& env) { return core::get(env, "CIRCLECI") == "true"; }

std::unique_ptr<Adapter> make_circleci(core::Env env, Clock clock) {
  return std::make_unique<CircleciAdapter>(std::move(env), std::move(clock));
}

}  // namespace polyarch::ci
