#pragma once
// What registry commands share: their options, one transport, one credential
// store, one client per registry, and turning SOURCE/DEST text into stores.

#include <map>
#include <memory>
#include <span>
#include <string>

#include "adapters/ci/adapter.hpp"
#include "adapters/cli/commands.hpp"
#include "engine/publish/copy.hpp"
#include "engine/publish/streamed_push.hpp"
#include "engine/registry/client.hpp"

namespace polyarch::cli {

// --insecure-registry HOST (repeat), --ca-cert FILE.
std::span<const OptionSpec> registry_options();

// Transport options from the command line and SSL_CERT_FILE.
registry::TransportOptions transport_options(const Context& context);

// A store and the tag or digest within it that a command-line word names.
struct Location {
  std::unique_ptr<publish::ImageStore> store;
  std::string reference;              // tag or digest; "" for a layout's only image
  std::optional<image::Reference> ref;  // set for registry locations
};

class RegistrySession {
 public:
  explicit RegistrySession(const Context& context);
  ~RegistrySession();

  // The client for a registry; the first time, under a CI with AWS
  // credentials (CodeBuild), an ECR registry is logged in to through AWS.
  registry::Client& client(const std::string& registry);
  // "oci:PATH[:NAME]", "oci-dir:PATH[:NAME]" or an image reference.
  Location open(const std::string& text, bool for_writing);

 private:
  std::unique_ptr<ci::Adapter> m_adapter;
  std::ostream& m_log;
  registry::TransportOptions m_options;
  std::unique_ptr<registry::Transport> m_transport;
  std::unique_ptr<registry::CredentialStore> m_credentials;
  std::map<std::string, std::unique_ptr<registry::Client>> m_clients;
};

// One push target per repository the tags name, with that repository's tags;
// the stores are kept in `stores`.
std::vector<publish::PushTarget> push_targets(RegistrySession& session,
                                              const std::vector<image::Reference>& tags,
                                              std::vector<std::unique_ptr<publish::ImageStore>>& stores);

// Copies top from `from` to every tag, once per repository; returns the last result.
publish::CopyResult push_to_tags(RegistrySession& session, publish::ImageStore& from,
                                 const registry::FetchedManifest& top,
                                 const std::vector<image::Reference>& tags,
                                 const publish::CopyOptions& options);

}  // namespace polyarch::cli
