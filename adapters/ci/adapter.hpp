#pragma once
// One CI system behind one small interface: its facts (for tags, labels and
// options), its cache convention, the registry logins it hands the job, and
// how results go back to it. One class per CI, each in its own file; one
// table (adapter.cpp) registers them and probes each one's detect(env) in
// turn: github, gitlab, circleci, codebuild, then local.
//
// CodeBuild can host GitHub Actions and GitLab runners: such a job has both
// CODEBUILD_BUILD_ID and GITHUB_ACTIONS (or GITLAB_CI). The hosted CI wins,
// because the workflow, its refs, its outputs and its log format are that
// CI's; CodeBuild is only the machine it runs on.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/env.hpp"
#include "engine/metadata/facts.hpp"
#include "engine/registry/credentials.hpp"

namespace polyarch::ci {

// Milliseconds since 1970; injectable so tests control "now".
using Clock = std::function<std::int64_t()>;

// The system clock.
std::int64_t system_now_ms();

// A registry credential the CI gives the job (CI_REGISTRY_PASSWORD, GITHUB_TOKEN).
struct Login {
  std::string registry;
  registry::Credential credential;
};

// One result handed back to the CI: a name ("digest") and its value, a list
// of lines for list values ("tags"). Structured (JSON) values only go where
// the CI can carry them (GitHub outputs), not into env files.
struct OutputValue {
  std::string name;
  std::vector<std::string> lines;
  bool structured = false;
};

struct Outputs {
  std::vector<OutputValue> values;
  std::string summary;  // markdown for a job summary; "" for none
};

class Adapter {
 public:
  Adapter(core::Env env, Clock clock) : m_env(std::move(env)), m_clock(std::move(clock)) {}
  virtual ~Adapter() = default;

  // "github", "gitlab", "circleci", "codebuild" or "local".
  virtual std::string_view name() const = 0;

  // The facts of this run. Throws bad_input for a bad SOURCE_DATE_EPOCH.
  virtual metadata::Facts facts() const = 0;

  // What `--cache auto` means here for a backend ("buildx", "docker", …)
  // and the repository the build pushes to ("" when none): a cache spec, or
  // "none". The engine makes it one scope per platform.
  virtual std::string cache_convention(std::string_view backend, std::string_view image) const = 0;
  std::string cache_convention(std::string_view backend) const { return cache_convention(backend, ""); }

  // Credentials the CI provides, per registry; the secret is never logged.
  virtual std::vector<Login> logins() const { return {}; }

  // The registries among `registries` to log in to through AWS (ECR's
  // GetAuthorizationToken): none, but ECR hosts under CodeBuild when AWS
  // credentials are at hand.
  virtual std::vector<std::string> aws_logins(const std::vector<std::string>& registries) const {
    (void)registries;
    return {};
  }

  // Writes outputs where this CI reads them. Throws failure on I/O errors.
  virtual void write_outputs(const Outputs& outputs) const { (void)outputs; }

  // The log lines that open and close a collapsible section ("" for none).
  virtual std::string section_start(std::string_view id, std::string_view title) const;
  virtual std::string section_end(std::string_view id) const;

  // A log line that makes the CI hide secret from its logs, or "".
  virtual std::string mask(std::string_view secret) const;

  // The environment the adapter reads (AWS_* included, for ECR logins).
  const core::Env& environment() const { return m_env; }

 protected:
  // The value of an environment variable, or "".
  std::string env(const std::string& key) const { return core::get(m_env, key); }
  // SOURCE_DATE_EPOCH in ms when set, else the clock. Throws bad_input.
  std::int64_t build_time_ms() const;
  std::int64_t now_ms() const { return m_clock(); }

 private:
  core::Env m_env;
  Clock m_clock;
};

// The CI that env belongs to: the first probe that says yes, else "local".
std::string_view detect(const core::Env& env);

// The adapter named by --ci ("auto" detects). Throws bad_input
// `invalid --ci "X": expected auto, github, gitlab, circleci, codebuild or local`.
std::unique_ptr<Adapter> make_adapter(std::string_view name, const core::Env& env,
                                      Clock clock = system_now_ms);

}  // namespace polyarch::ci
