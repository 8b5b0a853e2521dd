#include "adapters/cli/registry_options.hpp"

#include <iostream>

#include "adapters/ci/apply.hpp"
#include "engine/core/env.hpp"
#include "engine/core/error.hpp"
#include "engine/image/reference.hpp"

namespace polyarch::cli {

namespace {

constexpr OptionSpec k_registry_options[] = {
    {"--insecure-registry", true, "HOST[:PORT] to reach over plain HTTP or unverified TLS (repeat)"},
    {"--ca-cert", true, "FILE with CA certificates to trust for registries"},
};

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
  return options;
}

RegistrySession::RegistrySession(const Context& context)
    : m_transport(std::make_unique<registry::Transport>(transport_options(context))),
      m_credentials(std::make_unique<registry::CredentialStore>(core::process_env())) {
  // The CI's own logins (GitLab's CI_REGISTRY_*, GitHub's token for ghcr.io).
  auto adapter = ci::make_adapter(context.args.value("--ci", "auto"), core::process_env());
  ci::apply_logins(*adapter, *m_credentials, context.err);
}

RegistrySession::~RegistrySession() = default;

registry::Client& RegistrySession::client(const std::string& registry) {
  auto& slot = m_clients[registry];
  if (!slot) {
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
