#pragma once
// Registry credentials: where they come from and where `login` puts them.
// Sources, first match wins: explicit (--username/--password-stdin),
// DOCKER_AUTH_CONFIG (a config.json document in the environment), then
// $DOCKER_CONFIG/config.json (default ~/.docker/config.json):
// credHelpers[host] > credsStore > auths[host].

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "engine/core/env.hpp"

namespace polyarch::registry {

struct Credential {
  std::string username;
  std::string password;        // or
  std::string identity_token;  // an OAuth2 refresh token (username "<token>")

  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

// The key config.json uses for a registry host: "https://index.docker.io/v1/"
// for docker.io / index.docker.io / registry-1.docker.io, else the host.
std::string config_key(const std::string& host);

// The host to contact for a registry name: "registry-1.docker.io" for docker.io.
std::string api_host(const std::string& registry);

// The config.json path: $DOCKER_CONFIG/config.json or $HOME/.docker/config.json.
std::filesystem::path config_path(const core::Env& env);

class CredentialStore {
 public:
  explicit CredentialStore(core::Env env) : m_env(std::move(env)) {}

  // Explicit credentials, used for every host (from flags).
  void set_explicit(Credential credential) { m_explicit = std::move(credential); }

  // Credentials for one registry kept in memory (a CI's own registry login);
  // they win over config files, explicit ones win over them.
  void add(const std::string& registry, Credential credential) {
    m_added[config_key(registry)] = std::move(credential);
  }

  // Finds the credential for a registry host, or nullopt for anonymous.
  // Throws failure when config.json or DOCKER_AUTH_CONFIG is not valid JSON,
  // or a credential helper fails for another reason than "not found".
  std::optional<Credential> find(const std::string& registry) const;

 private:
  core::Env m_env;
  std::optional<Credential> m_explicit;
  std::map<std::string, Credential> m_added;  // by config_key(registry)
};

// Writes auths[config_key(registry)] = base64(user:password) into
// config.json (0600, atomically, other keys kept), or stores it with
// credsStore/credHelpers when the file names one. Throws failure.
void save_login(const core::Env& env, const std::string& registry, const Credential& credential);

// Removes the registry's entry (and from the helper, when one is named).
// Returns false when there was none.
bool remove_login(const core::Env& env, const std::string& registry);

}  // namespace polyarch::registry
