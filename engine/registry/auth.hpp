#pragma once
// Registry authentication: WWW-Authenticate challenges, Basic, and Bearer
// tokens fetched from the realm and cached per scope set until expiry.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/registry/credentials.hpp"
#include "engine/registry/http.hpp"

namespace polyarch::registry {

struct Challenge {
  std::string scheme;                         // lowercase: "bearer" or "basic"
  std::map<std::string, std::string> params;  // realm, service, scope, error, …
};

// Parses a WWW-Authenticate value (one or more challenges, quoted or token
// params). Throws failure `invalid WWW-Authenticate header: …` on a
// malformed value.
std::vector<Challenge> parse_www_authenticate(std::string_view header);

// A repository scope: "repository:NAME:pull,push".
std::string repository_scope(const std::string& repository, bool push);

// Adds credentials to requests for one registry host and answers its
// challenges. Thread-safe.
class Authenticator {
 public:
  Authenticator(Transport& transport, const CredentialStore& credentials, std::string registry,
                std::function<std::chrono::steady_clock::time_point()> clock = {});

  // Sends request with authorization for scopes; on 401, reads the
  // challenge, gets a token (or uses Basic) and sends once more; on a 401
  // with error="insufficient_scope", refetches the token once. Returns the
  // last response; throws failure (naming the registry and what to do) on
  // bad credentials or a token server error.
  HttpResponse send(HttpRequest request, const std::set<std::string>& scopes);

 private:
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  std::optional<std::string> authorization(const std::set<std::string>& scopes);
  std::string fetch_token(const Challenge& challenge, const std::set<std::string>& scopes);

  Transport& m_transport;
  const CredentialStore& m_credentials;
  std::string m_registry;
  std::function<std::chrono::steady_clock::time_point()> m_clock;
  std::mutex m_mutex;
  std::optional<Challenge> m_challenge;         // the registry's last challenge
  std::map<std::string, Token> m_tokens;        // key: scopes joined by " "
};

}  // namespace polyarch::registry
