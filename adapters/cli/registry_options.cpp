#include "adapters/cli/registry_options.hpp"

#include <algorithm>
#include <iostream>
#include <thread>

#include "adapters/ci/apply.hpp"
#include "engine/core/config_values.hpp"
#include "engine/core/env.hpp"
#include "engine/core/error.hpp"
#include "engine/image/reference.hpp"

namespace polyarch::cli {

namespace {

constexpr OptionSpec k_registry_options[] = {
    {"--insecure-registry", true, "HOST[:PORT] to reach over plain HTTP or unverified TLS (repeat)"},
    {"--ca-cert", true, "FILE with CA certificates to trust for registries"},
};

// A POLYARCH_HTTP_* whole number, or fallback when unset.
int env_number(const core::Env& env, const std::string& name, int fallback) {
  std::string text = core::get(env, name);
  if (text.empty()) return fallback;
  std::optional<int> value = core::parse_positive_int(text);
  if (!value) throw bad_input(name + ": must be a positive whole number, not " + quoted(text));
  return *value;
}

}  // namespace

std::span<const OptionSpec> registry_options() { return k_registry_options; }

registry::TransportOptions transport_options(const Context& context) {
  registry::TransportOptions options;
  options.insecure_hosts = context.args.values("--insecure-registry");
  core::Env env = core::process_env();
  options.ca_file = context.args.value("--ca-cert", core::get(env, "SSL_CERT_FILE"));
  if (!options.ca_file.empty() && !std::filesystem::exists(options.ca_file)) {
    throw bad_input("cannot read CA certificates " + quoted(options.ca_file) +
                    ": No such file or directory");
  }
  if (context.verbosity > 0) {
    options.debug = [](const std::string& line) { std::cerr << "polyarch: " << line << "\n"; };
  }
  // For slow networks, and for tests that must stay quick: seconds to wait
  // for a response, and the longest wait before a retry (Retry-After too).
  options.read_timeout = std::chrono::seconds(
      env_number(env, "POLYARCH_HTTP_TIMEOUT", static_cast<int>(options.read_timeout.count())));
  if (int most_ms = env_number(env, "POLYARCH_HTTP_RETRY_DELAY_MS", 0); most_ms > 0) {
    std::chrono::milliseconds most(most_ms);
    options.backoff = std::min(options.backoff, most);
    options.sleep = [most](std::chrono::milliseconds delay) {
      std::this_thread::sleep_for(std::min(delay, most));
    };
  }
  return options;
}

RegistrySession::RegistrySession(const Context& context)
    : m_adapter(ci::make_adapter(context.args.value("--ci", "auto"), core::process_env())),
      m_log(context.err),
      m_options(transport_options(context)),
      m_transport(std::make_unique<registry::Transport>(m_options)),
      m_credentials(std::make_unique<registry::CredentialStore>(core::process_env())) {
  // The CI's own logins (GitLab's CI_REGISTRY_*, GitHub's token for ghcr.io).
  ci::apply_logins(*m_adapter, *m_credentials, context.err);
}

RegistrySession::~RegistrySession() = default;

registry::Client& RegistrySession::client(const std::string& registry) {
  auto& slot = m_clients[registry];
  if (!slot) {
    ci::apply_aws_logins(*m_adapter, {registry}, *m_credentials, m_log, m_options);
    slot = std::make_unique<registry::Client>(
        registry::RegistryContext{*m_transport, *m_credentials}, registry);
  }
  return *slot;
}

Location RegistrySession::open(const std::string& text, bool for_writing) {
  Location location;
  if (image::LayoutRef::matches(text)) {
    image::LayoutRef ref = image::LayoutRef::parse(text);
    location.reference = ref.ref_name;
    location.store = publish::open_layout_store(ref, for_writing);
    return location;
  }
  image::Reference ref = image::parse_reference(text);
  location.reference = ref.ref_or_digest();
  location.store = publish::registry_store(client(ref.registry), ref.repository);
  location.ref = ref;
  return location;
}

}  // namespace polyarch::cli
