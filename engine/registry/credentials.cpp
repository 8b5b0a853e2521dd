#include "engine/registry/credentials.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <nlohmann/json.hpp>

#include "engine/core/base64.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::registry {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr std::string_view k_hub_key = "https://index.docker.io/v1/";
constexpr std::array<std::string_view, 3> k_hub_hosts = {"docker.io", "index.docker.io",
                                                         "registry-1.docker.io"};
constexpr std::string_view k_token_user = "<token>";

bool is_hub(std::string_view host) {
  for (auto hub : k_hub_hosts) {
    if (host == hub) return true;
  }
  return false;
}

// "https://HOST/v1/", "http://HOST", "HOST/v2/" → "HOST"; Docker Hub's aliases → one name.
std::string normalized_host(std::string_view text) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (text.starts_with(scheme)) text.remove_prefix(scheme.size());
  }
  text = text.substr(0, text.find('/'));
  return is_hub(text) ? std::string(k_hub_hosts[1]) : std::string(text);
}

// The first non-empty line a helper printed (stdout, else stderr), for messages.
std::string first_line(const core::ProcessResult& result) {
  for (const std::string* text : {&result.out, &result.err}) {
    for (const auto& line : core::split(*text, '\n')) {
      std::string_view trimmed = core::trim(line);
      if (!trimmed.empty()) return std::string(trimmed);
    }
  }
  return "exit status " + std::to_string(result.exit_code);
}

// A string field of an object, or "".
std::string string_field(const Json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string helper_program(const std::string& name) { return "docker-credential-" + name; }

// Runs `docker-credential-NAME action` with input on stdin.
core::ProcessResult run_helper(const std::string& name, const std::string& action,
                               const std::string& input) {
  core::ProcessOptions options;
  options.input = input;
  try {
    return core::run_process({helper_program(name), action}, options);
  } catch (const Error&) {
    throw failure("credential helper " + quoted(helper_program(name)) + " is not installed");
  }
}

Error helper_failed(const std::string& name, const std::string& registry,
                    const std::string& reason) {
  return failure("credential helper " + quoted(helper_program(name)) + " failed for " + registry +
                 ": " + reason);
}

bool says_not_found(const core::ProcessResult& result) {
  return result.out.find("credentials not found") != std::string::npos ||
         result.err.find("credentials not found") != std::string::npos;
}

std::optional<Credential> helper_get(const std::string& name, const std::string& registry) {
  core::ProcessResult result = run_helper(name, "get", config_key(registry));
  if (result.exit_code != 0) {
    if (says_not_found(result)) return std::nullopt;
    throw helper_failed(name, registry, first_line(result));
  }
  Json json = Json::parse(result.out, nullptr, false);
  if (!json.is_object()) throw helper_failed(name, registry, "its output is not JSON");
  Credential credential;
  std::string username = string_field(json, "Username");
  std::string secret = string_field(json, "Secret");
  if (username == k_token_user) {
    credential.identity_token = secret;
  } else {
    credential.username = username;
    credential.password = secret;
  }
  if (credential.empty()) return std::nullopt;
  return credential;
}

// Reads config.json as an object; an absent file is an empty object.
Json read_config(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Json::object();
  Json json = Json::parse(core::read_file(path), nullptr, false);
  if (!json.is_object()) throw failure("invalid JSON in " + quoted(path.string()));
  return json;
}

// One auths entry: "auth" (base64 of user:password), username/password, identitytoken.
std::optional<Credential> credential_from_entry(const Json& entry, const std::string& key,
                                                const std::string& source) {
  if (!entry.is_object()) return std::nullopt;
  Credential credential;
  std::string auth = string_field(entry, "auth");
  if (!auth.empty()) {
    std::optional<std::string> decoded = core::base64_decode(auth);
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      throw failure("invalid \"auth\" for " + quoted(key) + " in " + source +
                    ": expected base64 of USER:PASSWORD");
    }
    credential.username = decoded->substr(0, colon);
    credential.password = decoded->substr(colon + 1);
  } else {
    credential.username = string_field(entry, "username");
    credential.password = string_field(entry, "password");
  }
  credential.identity_token = string_field(entry, "identitytoken");
  if (credential.empty()) return std::nullopt;
  return credential;
}

// Finds the registry in an "auths" object: the exact key first, then any key
// naming the same host ("https://HOST", "HOST/v2/", …).
std::optional<Credential> find_in_auths(const Json& config, const std::string& registry,
                                        const std::string& source) {
  auto auths = config.find("auths");
  if (auths == config.end() || !auths->is_object()) return std::nullopt;
  std::string key = config_key(registry);
  auto exact = auths->find(key);
  if (exact != auths->end()) return credential_from_entry(*exact, key, source);
  std::string host = normalized_host(registry);
  for (const auto& [name, entry] : auths->items()) {
    if (normalized_host(name) == host) return credential_from_entry(entry, name, source);
  }
  return std::nullopt;
}

// The helper config.json names for the registry: credHelpers[key], else credsStore.
std::string helper_for(const Json& config, const std::string& registry) {
  auto helpers = config.find("credHelpers");
  if (helpers != config.end() && helpers->is_object()) {
    for (const std::string& key : {config_key(registry), registry}) {
      auto it = helpers->find(key);
      if (it != helpers->end() && it->is_string() && !it->get<std::string>().empty()) {
        return it->get<std::string>();
      }
    }
  }
  return string_field(config, "credsStore");
}

// Writes config.json through a 0600 temporary file renamed over it.
void write_config(const fs::path& path, const Json& config) {
  fs::path dir = path.parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) throw failure("cannot create " + quoted(dir.string()) + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  std::string tmp = (dir / (path.filename().string() + ".tmp.XXXXXX")).string();
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw failure("cannot write " + quoted(path.string()) + ": " + std::strerror(errno));
  std::string text = config.dump(1, '\t') + "\n";
  size_t written = 0;
  bool ok = ::fchmod(fd, 0600) == 0;
  while (ok && written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (ok && ::rename(tmp.c_str(), path.c_str()) == 0) {
    // The rename itself survives a crash only once the directory is synced.
    int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
    return;
  }
  saved = saved != 0 ? saved : errno;
  ::unlink(tmp.c_str());
  throw failure("cannot write " + quoted(path.string()) + ": " + std::strerror(saved));
}

}  // namespace

std::string config_key(const std::string& host) {
  return is_hub(host) ? std::string(k_hub_key) : host;
}

std::string api_host(const std::string& registry) {
  return registry == "docker.io" || registry == "index.docker.io" ? "registry-1.docker.io"
                                                                   : registry;
}

std::filesystem::path config_path(const core::Env& env) {
  std::string dir = core::get(env, "DOCKER_CONFIG");
  if (!dir.empty()) return fs::path(dir) / "config.json";
  std::string home = core::get(env, "HOME");
  if (home.empty()) {
    const passwd* entry = ::getpwuid(::getuid());
    if (entry != nullptr && entry->pw_dir != nullptr) home = entry->pw_dir;
  }
  return fs::path(home) / ".docker" / "config.json";
}

std::optional<Credential> CredentialStore::find(const std::string& registry) const {
  if (m_explicit) return m_explicit;
  if (auto added = m_added.find(config_key(registry)); added != m_added.end()) return added->second;
  std::string inline_config = core::get(m_env, "DOCKER_AUTH_CONFIG");
  if (!inline_config.empty()) {
    Json config = Json::parse(inline_config, nullptr, false);
    if (!config.is_object()) throw failure("invalid JSON in DOCKER_AUTH_CONFIG");
    if (auto found = find_in_auths(config, registry, "DOCKER_AUTH_CONFIG")) return found;
  }
  fs::path path = config_path(m_env);
  Json config = read_config(path);
  std::string helper = helper_for(config, registry);
  if (!helper.empty()) {
    if (auto found = helper_get(helper, registry)) return found;
  }
  return find_in_auths(config, registry, quoted(path.string()));
}

void save_login(const core::Env& env, const std::string& registry, const Credential& credential) {
  fs::path path = config_path(env);
  Json config = read_config(path);
  std::string key = config_key(registry);
  std::string helper = helper_for(config, registry);
  if (!helper.empty()) {
    Json input = {{"ServerURL", key}};
    bool token = !credential.identity_token.empty();
    input["Username"] = token ? std::string(k_token_user) : credential.username;
    input["Secret"] = token ? credential.identity_token : credential.password;
    core::ProcessResult result = run_helper(helper, "store", input.dump());
    if (result.exit_code != 0) throw helper_failed(helper, registry, first_line(result));
    return;
  }
  Json entry = Json::object();
  if (!credential.username.empty() || !credential.password.empty()) {
    entry["auth"] = core::base64_encode(credential.username + ":" + credential.password);
  }
  if (!credential.identity_token.empty()) entry["identitytoken"] = credential.identity_token;
  if (!config["auths"].is_object()) config["auths"] = Json::object();
  config["auths"][key] = entry;
  write_config(path, config);
}

bool remove_login(const core::Env& env, const std::string& registry) {
  fs::path path = config_path(env);
  Json config = read_config(path);
  bool removed = false;
  std::string helper = helper_for(config, registry);
  if (!helper.empty()) {
    core::ProcessResult result = run_helper(helper, "erase", config_key(registry));
    if (result.exit_code == 0) {
      removed = true;
    } else if (!says_not_found(result)) {
      throw helper_failed(helper, registry, first_line(result));
    }
  }
  auto auths = config.find("auths");
  if (auths != config.end() && auths->is_object()) {
    std::string host = normalized_host(registry);
    std::vector<std::string> keys;
    for (const auto& [name, entry] : auths->items()) {
      if (normalized_host(name) == host) keys.push_back(name);
    }
    for (const auto& name : keys) auths->erase(name);
    if (!keys.empty()) {
      write_config(path, config);
      removed = true;
    }
  }
  return removed;
}

}  // namespace polyarch::registry
