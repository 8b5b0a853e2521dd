// The adapter table and the detect chain.
#include "adapters/ci/adapter.hpp"

#include <cctype>
#include <chrono>

#include "adapters/ci/adapters.hpp"
#include "engine/core/error.hpp"

namespace polyarch::ci {

namespace {

struct AdapterRow {
  std::string_view name;
  bool (*detect)(const core::Env& env);
  std::unique_ptr<Adapter> (*make)(core::Env env, Clock clock);
};

// Probed in this order. GitHub and GitLab come before CodeBuild, which can
// host their runners (see adapter.hpp); local matches everything.
constexpr AdapterRow k_adapters[] = {
    {"github", detect_github, make_github},
    {"gitlab", detect_gitlab, make_gitlab},
    {"circleci", detect_circleci, make_circleci},
    {"codebuild", detect_codebuild, make_codebuild},
    {"local", detect_local, make_local},
};

}  // namespace

std::int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string Adapter::section_start(std::string_view, std::string_view) const { return ""; }

std::string Adapter::section_end(std::string_view) const { return ""; }

std::string Adapter::mask(std::string_view) const { return ""; }

std::int64_t Adapter::build_time_ms() const {
  std::string epoch = env("SOURCE_DATE_EPOCH");
  if (epoch.empty()) return now_ms();
  if (epoch.size() > 12 || epoch.find_first_not_of("0123456789") != std::string::npos) {
    throw bad_input("invalid SOURCE_DATE_EPOCH " + quoted(epoch) + ": expected whole seconds since 1970");
  }
  return std::stoll(epoch) * 1000;
}

std::string web_url(std::string_view clone_url) {
  std::string url(clone_url);
  if (url.ends_with(".git")) url.resize(url.size() - 4);
  if (url.ends_with("/")) url.pop_back();
  if (url.starts_with("git@")) {
    size_t colon = url.find(':');
    if (colon != std::string::npos) url = "https://" + url.substr(4, colon - 4) + "/" + url.substr(colon + 1);
  }
  if (url.starts_with("ssh://git@")) url = "https://" + url.substr(10);
  size_t at = url.find('@');
  size_t scheme = url.find("://");
  if (scheme != std::string::npos && at != std::string::npos && at < url.find('/', scheme + 3)) {
    url = url.substr(0, scheme + 3) + url.substr(at + 1);  // never keep user:token@ in a label
  }
  return url;
}

std::string last_component(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string_view detect(const core::Env& env) {
  for (const auto& row : k_adapters) {
    if (row.detect(env)) return row.name;
  }
  return "local";
}

std::unique_ptr<Adapter> make_adapter(std::string_view name, const core::Env& env, Clock clock) {
  std::string_view wanted = name == "auto" || name.empty() ? detect(env) : name;
  for (const auto& row : k_adapters) {
    if (row.name == wanted) return row.make(env, std::move(clock));
  }
  throw bad_input("invalid --ci " + quoted(std::string(name)) +
                  ": expected auto, github, gitlab, circleci, codebuild or local");
}

}  // namespace polyarch::ci
