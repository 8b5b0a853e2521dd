#include "engine/registry/auth.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "engine/core/base64.hpp"
#include "engine/core/error.hpp"
#include "engine/image/shown.hpp"

namespace polyarch::registry {

namespace {

Error invalid_header(const std::string& reason) {
  return failure("invalid WWW-Authenticate header: " + reason);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token68_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-._~+/").find(c) != std::string_view::npos;
}

// A recursive-descent reader for RFC 7235 challenges.
class ChallengeParser {
 public:
  explicit ChallengeParser(std::string_view text) : m_text(text) {}

  std::vector<Challenge> parse() {
    std::vector<Challenge> challenges;
    skip_separators();
    if (at_end()) throw invalid_header("no challenge");
    while (!at_end()) {
      challenges.push_back(parse_challenge());
      skip_separators();
    }
    return challenges;
  }

 private:
  bool at_end() const { return m_pos >= m_text.size(); }
  char peek() const { return at_end() ? '\0' : m_text[m_pos]; }
  void skip_spaces() {
    while (peek() == ' ' || peek() == '\t') ++m_pos;
  }
  void skip_separators() {
    while (peek() == ' ' || peek() == '\t' || peek() == ',') ++m_pos;
  }
  std::string_view read_token() {
    size_t start = m_pos;
    while (!at_end() && is_tchar(peek())) ++m_pos;
    return m_text.substr(start, m_pos - start);
  }

  Challenge parse_challenge() {
    std::string_view scheme = read_token();
    if (scheme.empty() || peek() == '=') throw invalid_header("missing auth scheme");
    Challenge challenge{lowercase(scheme), {}};
    skip_spaces();
    if (at_end() || peek() == ',') return challenge;
    if (token68_ahead()) {
      size_t start = m_pos;
      while (is_token68_char(peek()) || peek() == '=') ++m_pos;
      challenge.params["token68"] = std::string(m_text.substr(start, m_pos - start));
      return challenge;
    }
    while (true) {
      parse_param(challenge);
      skip_spaces();
      if (at_end()) return challenge;
      if (peek() != ',') throw invalid_header("expected \",\" after a parameter of " + scheme_name(challenge));
      skip_separators();
      if (at_end() || !param_ahead()) return challenge;
    }
  }

  // True when the rest of this challenge is token68 ("abc==") rather than
  // parameters; a lone `name=` reads as a parameter that lacks its value.
  bool token68_ahead() const {
    size_t end = m_pos;
    bool all_tchar = true;
    while (end < m_text.size() && is_token68_char(m_text[end])) {
      all_tchar = all_tchar && is_tchar(m_text[end]);
      ++end;
    }
    if (end == m_pos) return false;
    size_t equals = 0;
    while (end < m_text.size() && m_text[end] == '=') ++end, ++equals;
    while (end < m_text.size() && (m_text[end] == ' ' || m_text[end] == '\t')) ++end;
    if (end < m_text.size() && m_text[end] != ',') return false;
    return !(equals == 1 && all_tchar);
  }

  // True when a parameter (`name =`) starts here rather than a new challenge.
  bool param_ahead() const {
    size_t end = m_pos;
    while (end < m_text.size() && is_tchar(m_text[end])) ++end;
    if (end == m_pos) return false;
    while (end < m_text.size() && (m_text[end] == ' ' || m_text[end] == '\t')) ++end;
    return end < m_text.size() && m_text[end] == '=';
  }

  void parse_param(Challenge& challenge) {
    std::string_view name = read_token();
    if (name.empty()) {
      throw invalid_header("unexpected " + quoted(std::string(1, peek())) + " in " +
                           scheme_name(challenge));
    }
    skip_spaces();
    if (peek() != '=') throw invalid_header("expected \"=\" after " + quoted(std::string(name)));
    ++m_pos;
    skip_spaces();
    std::string value;
    if (peek() == '"') {
      value = read_quoted();
    } else {
      value = std::string(read_token());
      if (value.empty()) throw invalid_header("missing value for " + quoted(std::string(name)));
    }
    challenge.params.emplace(lowercase(name), std::move(value));
  }

  std::string read_quoted() {
    ++m_pos;  // the opening quote
    std::string value;
    while (!at_end()) {
      char c = m_text[m_pos++];
      if (c == '"') return value;
      if (c == '\\') {
        if (at_end()) break;
        c = m_text[m_pos++];
      }
      value.push_back(c);
    }
    throw invalid_header("unterminated quoted string");
  }

  static std::string scheme_name(const Challenge& challenge) {
    return quoted(challenge.scheme) + " challenge";
  }

  std::string_view m_text;
  size_t m_pos = 0;
};

}  // namespace

std::vector<Challenge> parse_www_authenticate(std::string_view header) {
  try {
    return ChallengeParser(header).parse();
  } catch (const Error& e) {
    throw failure(image::escape_controls(e.what()));  // it may quote any byte
  }
}

std::string repository_scope(const std::string& repository, bool push) {
  return "repository:" + repository + (push ? ":pull,push" : ":pull");
}

namespace {

// Tokens live at least this long (as Docker assumes) and are dropped this early;
// a longer life than a day is cut to a day.
constexpr std::chrono::seconds k_min_token_life{60};
constexpr std::chrono::seconds k_max_token_life{24 * 60 * 60};
constexpr std::chrono::seconds k_expiry_margin{5};
// Limits on what a token server may send: its answer and the token in it.
constexpr size_t k_max_token_answer = 1 << 20;
constexpr size_t k_max_token_size = 64 << 10;
// The m_tokens key holding the Basic header; scope keys never start with a space.
const std::string k_basic_key = " basic";

Error wrong_credentials(const std::string& registry) {
  return failure("authentication to " + registry +
                 " failed: wrong username or password (run 'polyarch login " + registry + "')");
}

Error no_credentials(const std::string& registry) {
  return failure("authentication to " + registry +
                 " required: no credentials found (run 'polyarch login " + registry + "')");
}

Error token_failed(const std::string& registry, const std::string& reason) {
  return failure("token server for " + registry + " failed: " + reason);
}

std::string scope_key(const std::set<std::string>& scopes) {
  std::string key;
  for (const auto& scope : scopes) key += (key.empty() ? "" : " ") + scope;
  return key;
}

Error access_denied(const std::string& registry, const std::set<std::string>& scopes) {
  return failure("access denied by " + registry + " for " + quoted(scope_key(scopes)) +
                 ": the credentials lack that permission");
}

std::string url_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += {'%', k_hex[byte >> 4], k_hex[byte & 15]};
    }
  }
  return out;
}

std::string basic_header(const Credential& credential) {
  if (credential.username.empty() && !credential.identity_token.empty()) {
    return "Basic " + core::base64_encode("<token>:" + credential.identity_token);
  }
  return "Basic " + core::base64_encode(credential.username + ":" + credential.password);
}

// The request with its Authorization replaced (or removed when value is empty).
HttpRequest with_authorization(const HttpRequest& request, const std::string& value) {
  HttpRequest copy = request;
  copy.headers.erase("Authorization");
  if (!value.empty()) copy.headers.emplace("Authorization", value);
  return copy;
}

// The challenge to answer: Bearer first, then Basic, from every WWW-Authenticate header.
Challenge pick_challenge(const HttpResponse& response, const std::string& registry) {
  std::vector<Challenge> challenges;
  auto [first, last] = response.headers.equal_range("WWW-Authenticate");
  for (auto it = first; it != last; ++it) {
    try {
      auto parsed = parse_www_authenticate(it->second);
      challenges.insert(challenges.end(), parsed.begin(), parsed.end());
    } catch (const Error& e) {
      throw failure("registry " + registry + " sent an " + e.what());
    }
  }
  if (challenges.empty()) {
    throw failure("registry " + registry + " answered 401 without a WWW-Authenticate challenge");
  }
  for (const char* scheme : {"bearer", "basic"}) {
    for (const auto& challenge : challenges) {
      if (challenge.scheme == scheme) return challenge;
    }
  }
  throw failure("registry " + registry + " asks for unsupported authentication " +
                quoted(challenges.front().scheme));
}

std::string param(const Challenge& challenge, const std::string& name) {
  auto it = challenge.params.find(name);
  return it == challenge.params.end() ? std::string() : it->second;
}

// True when every byte may stand in an Authorization header value.
bool is_header_safe(std::string_view token) {
  return std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 127; });
}

// The token's life from "expires_in" (seconds, any JSON number), within limits.
std::chrono::seconds token_life(const nlohmann::json& json) {
  auto expires_in = json.find("expires_in");
  if (expires_in == json.end() || !expires_in->is_number()) return k_min_token_life;
  double seconds = expires_in->get<double>();
  if (!(seconds > static_cast<double>(k_min_token_life.count()))) return k_min_token_life;
  if (seconds > static_cast<double>(k_max_token_life.count())) return k_max_token_life;
  return std::chrono::seconds(static_cast<int64_t>(seconds));
}

// The registry's reason for refusing a token it should accept, for a message:
// `invalid_token "token expired"` (printable ASCII only, cut at 100 bytes).
std::string token_refusal(const Challenge& challenge) {
  std::string reason = param(challenge, "error");
  std::string description = param(challenge, "error_description");
  std::erase_if(description, [](char c) {
    return static_cast<unsigned char>(c) < ' ' || static_cast<unsigned char>(c) >= 127;
  });
  if (description.size() > 100) description = description.substr(0, 100) + "\u2026";
  return description.empty() ? reason : reason + " " + quoted(description);
}

}  // namespace

Authenticator::Authenticator(Transport& transport, const CredentialStore& credentials,
                             std::string registry,
                             std::function<std::chrono::steady_clock::time_point()> clock)
    : m_transport(transport),
      m_credentials(credentials),
      m_registry(std::move(registry)),
      m_clock(clock ? std::move(clock) : [] { return std::chrono::steady_clock::now(); }) {}

// A cached Bearer token for exactly these scopes, else Basic when the
// registry last asked for Basic, else nothing (anonymous).
std::optional<std::string> Authenticator::authorization(const std::set<std::string>& scopes) {
  {
    std::lock_guard lock(m_mutex);
    auto token = m_tokens.find(scope_key(scopes));
    if (token != m_tokens.end() && m_clock() < token->second.expires) return token->second.value;
    if (!m_challenge || m_challenge->scheme != "basic") return std::nullopt;
    auto basic = m_tokens.find(k_basic_key);
    if (basic != m_tokens.end()) return basic->second.value;
  }
  std::optional<Credential> credential = m_credentials.find(m_registry);
  if (!credential) return std::nullopt;
  return basic_header(*credential);
}

HttpResponse Authenticator::send(HttpRequest request, const std::set<std::string>& scopes) {
  std::optional<std::string> sent = authorization(scopes);
  HttpResponse response = m_transport.send(with_authorization(request, sent.value_or("")));
  bool sent_bearer = sent && sent->starts_with("Bearer ");
  if (response.status == 403 && sent_bearer) throw access_denied(m_registry, scopes);
  if (response.status != 401) return response;

  Challenge challenge = pick_challenge(response, m_registry);
  {
    std::lock_guard lock(m_mutex);
    m_challenge = challenge;
  }
  if (challenge.scheme == "basic") {
    std::optional<Credential> credential = m_credentials.find(m_registry);
    if (!credential) throw no_credentials(m_registry);
    if (sent && sent->starts_with("Basic ")) throw wrong_credentials(m_registry);
    std::string header = basic_header(*credential);
    response = m_transport.send(with_authorization(request, header));
    if (response.status == 401) throw wrong_credentials(m_registry);
    std::lock_guard lock(m_mutex);
    m_tokens[k_basic_key] = {header, std::chrono::steady_clock::time_point::max()};
    return response;
  }

  std::set<std::string> wanted = scopes;
  for (int fetches = 1;; ++fetches) {
    std::string token = fetch_token(challenge, wanted);
    response = m_transport.send(with_authorization(request, "Bearer " + token));
    if (response.status != 401 && response.status != 403) {
      std::lock_guard lock(m_mutex);
      if (wanted != scopes) m_tokens[scope_key(scopes)] = m_tokens[scope_key(wanted)];
      return response;
    }
    {
      std::lock_guard lock(m_mutex);
      m_tokens.erase(scope_key(wanted));
    }
    bool insufficient = false;
    if (response.status == 401 && response.headers.count("WWW-Authenticate") > 0) {
      Challenge again = pick_challenge(response, m_registry);
      insufficient = again.scheme == "bearer" && param(again, "error") == "insufficient_scope";
      if (again.scheme == "bearer" && param(again, "error") == "invalid_token") {
        throw failure("registry " + m_registry + " refused the token its token server issued (" +
                      token_refusal(again) + "); check this machine's clock");
      }
      if (insufficient && fetches == 1) {
        std::string needed = param(again, "scope");
        if (!needed.empty()) wanted.insert(needed);
        challenge = again;
        continue;
      }
    }
    if (!m_credentials.find(m_registry)) throw no_credentials(m_registry);
    if (insufficient || response.status == 403) throw access_denied(m_registry, scopes);
    throw wrong_credentials(m_registry);
  }
}

// GETs a token from the challenge's realm (POSTs a refresh token for an
// identity token) and caches it under the scope set.
std::string Authenticator::fetch_token(const Challenge& challenge,
                                       const std::set<std::string>& scopes) {
  std::string realm = param(challenge, "realm");
  if (realm.empty()) throw token_failed(m_registry, "the Bearer challenge names no realm");
  HttpRequest request;
  try {
    request.url = Url::parse(realm);
  } catch (const Error&) {
    throw token_failed(m_registry, "invalid realm " + quoted(realm));
  }
  std::string service = param(challenge, "service");
  std::optional<Credential> credential = m_credentials.find(m_registry);
  if (credential && !credential->identity_token.empty()) {
    request.method = "POST";
    request.headers.emplace("Content-Type", "application/x-www-form-urlencoded");
    request.body = "grant_type=refresh_token&client_id=polyarch&service=" + url_encode(service) +
                   "&scope=" + url_encode(scope_key(scopes)) +
                   "&refresh_token=" + url_encode(credential->identity_token);
  } else {
    std::string query;
    if (!service.empty()) query += "&service=" + url_encode(service);
    for (const auto& scope : scopes) query += "&scope=" + url_encode(scope);
    if (!query.empty()) {
      bool has_query = request.url.target.find('?') != std::string::npos;
      request.url.target += (has_query ? "" : "?") + query.substr(has_query ? 0 : 1);
    }
    if (credential) request.headers.emplace("Authorization", basic_header(*credential));
  }

  HttpResponse response;
  try {
    response = m_transport.send(request);
  } catch (const Error& e) {
    throw token_failed(m_registry, e.what());
  }
  if (response.status == 401 || response.status == 403) {
    throw credential ? wrong_credentials(m_registry) : no_credentials(m_registry);
  }
  if (response.status != 200) {
    throw token_failed(m_registry, quoted(realm) + " answered HTTP " + std::to_string(response.status));
  }
  if (response.body.size() > k_max_token_answer) {
    throw token_failed(m_registry, "the answer from " + quoted(realm) + " is larger than 1 MiB");
  }
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (!json.is_object()) throw token_failed(m_registry, "invalid JSON from " + quoted(realm));
  std::string token;
  for (const char* field : {"token", "access_token"}) {
    auto it = json.find(field);
    if (token.empty() && it != json.end() && it->is_string()) token = it->get<std::string>();
  }
  if (token.empty()) throw token_failed(m_registry, "no token in the answer from " + quoted(realm));
  if (token.size() > k_max_token_size) {
    throw token_failed(m_registry, "the token from " + quoted(realm) + " is larger than 64 KiB");
  }
  if (!is_header_safe(token)) {
    throw token_failed(m_registry, "the token from " + quoted(realm) +
                                       " has characters not allowed in a header");
  }
  std::chrono::seconds life = token_life(json);
  std::lock_guard lock(m_mutex);
  m_tokens[scope_key(scopes)] = {"Bearer " + token, m_clock() + life - k_expiry_margin};
  return token;
}

}  // namespace polyarch::registry
