// URLs, header names, loopback hosts and redaction: the text handling of the
// HTTP transport (declared in http.hpp), kept apart from the sending.
#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/registry/http.hpp"
#include "engine/registry/url_internal.hpp"

namespace polyarch::registry {

namespace detail {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool equals_nocase(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isdigit(c) != 0;
  });
}

std::pair<std::string, int> split_host(const std::string& host, bool https) {
  std::string name = host;
  std::string port;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    name = host.substr(1, close - 1);
    if (close + 1 < host.size()) port = host.substr(close + 2);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
  }
  return {name, port.empty() ? (https ? 443 : 80) : std::stoi(port)};
}

std::string encode_target(const std::string& target) {
  static const char* const k_hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : target) {
    if (c <= 0x20 || c >= 0x7f) {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace detail

namespace {

using detail::all_digits;
using detail::equals_nocase;
using detail::lower;

// Removes "." and ".." segments from a path (RFC 3986 section 5.2.4).
std::string remove_dot_segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  std::string segment;
  while (std::getline(in, segment, '/')) {
    if (segment == "..") {
      if (out.size() > 1) out.pop_back();
    } else if (segment != ".") {
      out.push_back(segment);
    }
  }
  std::string result;
  for (size_t i = 0; i < out.size(); ++i) result += (i ? "/" : "") + out[i];
  bool trailing = path.ends_with("/") || path.ends_with("/.") || path.ends_with("/..");
  if (trailing && !result.ends_with("/")) result += "/";
  return result.starts_with("/") ? result : "/" + result;
}

}  // namespace

Url Url::parse(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return failure("invalid URL " + quoted(redact(text)) + ": " + why);
  };
  size_t sep = text.find("://");
  std::string scheme = lower(text.substr(0, sep == std::string_view::npos ? 0 : sep));
  if (scheme != "http" && scheme != "https") throw invalid("expected http:// or https://");
  std::string_view rest = text.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string target(rest.substr(authority.size()));
  target = target.substr(0, target.find('#'));
  if (target.empty() || target[0] == '?') target = "/" + target;
  std::string host = lower(authority);
  if (host.find('@') != std::string::npos) throw invalid("credentials in a URL are not supported");
  std::string port;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos || close == 1 ||
        host.find_first_not_of("0123456789abcdef:.", 1) != close) {
      throw invalid("bad IPv6 address");
    }
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') throw invalid("bad IPv6 address");
      port = host.substr(close + 2);
      if (port.empty()) throw invalid("bad port \"\"");
    }
  } else {
    size_t colon = host.find(':');
    std::string name = host.substr(0, colon);
    if (name.empty()) throw invalid("no host");
    if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-._") != std::string::npos) {
      throw invalid("bad host " + quoted(name));
    }
    if (colon != std::string::npos) {
      port = host.substr(colon + 1);
      if (port.empty()) throw invalid("bad port \"\"");
    }
  }
  if (!port.empty() && (!all_digits(port) || port.size() > 5 || std::stoi(port) > 65535 ||
                        std::stoi(port) == 0)) {
    throw invalid("bad port " + quoted(port));
  }
  return Url{scheme, host, target};
}

Url Url::resolve(std::string_view location) const {
  if (location.empty()) return *this;
  if (location.starts_with("//")) return parse(scheme + ":" + std::string(location));
  size_t colon = location.find(':');
  if (colon != std::string_view::npos && colon < location.find_first_of("/?#") &&
      std::isalpha(static_cast<unsigned char>(location[0]))) {
    return parse(location);
  }
  std::string loc(location.substr(0, location.find('#')));
  std::string path = target.substr(0, target.find('?'));
  if (loc.empty()) return Url{scheme, host, target};
  if (loc[0] == '?') return Url{scheme, host, path + loc};
  if (loc[0] != '/') loc = path.substr(0, path.rfind('/') + 1) + loc;
  size_t query = loc.find('?');
  std::string resolved = remove_dot_segments(loc.substr(0, query));
  if (query != std::string::npos) resolved += loc.substr(query);
  return Url{scheme, host, resolved};
}

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](unsigned char x, unsigned char y) {
                                        return std::tolower(x) < std::tolower(y);
                                      });
}

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.lower_bound(name);
  return it != headers.end() && equals_nocase(it->first, name) ? it->second : "";
}

bool is_loopback(std::string_view host) {
  std::string h = lower(host);
  auto strip_port = [](std::string_view text, size_t colon) {
    return colon == std::string_view::npos || all_digits(text.substr(colon + 1))
               ? text.substr(0, colon)
               : std::string_view("-");
  };
  if (h == "::1" || h == "[::1]") return true;
  if (h.starts_with("[::1]:")) return all_digits(h.substr(6));
  std::string_view name = strip_port(h, h.find(':'));
  if (name == "localhost") return true;
  std::stringstream in{std::string(name)};
  std::string octet;
  int count = 0;
  while (std::getline(in, octet, '.')) {
    if (!all_digits(octet) || octet.size() > 3 || std::stoi(octet) > 255) return false;
    if (count++ == 0 && octet != "127") return false;
  }
  return count == 4 && !name.ends_with(".");
}

std::string user_agent() { return "polyarch/" POLYARCH_VERSION; }

std::string redact(std::string_view text) {
  std::string out(text);
  // Passwords in scheme://user:pass@host.
  for (size_t at = out.find("://"); at != std::string::npos; at = out.find("://", at + 3)) {
    size_t start = at + 3;
    size_t end = std::min(out.find_first_of("/?# \t\r\n\"'", start), out.size());
    std::string_view authority(out.data() + start, end - start);
    size_t user_end = authority.rfind('@');
    size_t colon = authority.substr(0, user_end).find(':');
    if (user_end != std::string_view::npos && colon != std::string_view::npos) {
      out.replace(start + colon + 1, user_end - colon - 1, "REDACTED");
    }
  }
  // Secret query or form parameters.
  static const std::vector<std::string> k_secret_params = {
      "token", "access_token", "refresh_token", "id_token", "password", "secret",
      "client_secret", "x-amz-signature", "x-amz-credential", "x-amz-security-token"};
  for (size_t i = 0; i < out.size(); ++i) {
    if (i != 0 && out[i - 1] != '?' && out[i - 1] != '&' && out[i - 1] != ';') continue;
    size_t eq = out.find_first_of("=&# \t\r\n", i);
    if (eq == std::string::npos || out[eq] != '=') continue;
    std::string name = lower(std::string_view(out).substr(i, eq - i));
    if (std::find(k_secret_params.begin(), k_secret_params.end(), name) == k_secret_params.end()) {
      continue;
    }
    size_t end = out.find_first_of("&#; \t\r\n\"'", eq + 1);
    if (end == std::string::npos) end = out.size();
    out.replace(eq + 1, end - eq - 1, "REDACTED");
  }
  // Header lines carrying credentials: keep the scheme word, hide the rest.
  static const std::vector<std::string> k_secret_headers = {
      "authorization: ", "proxy-authorization: ", "x-amz-security-token: "};
  std::string folded = lower(out);
  for (const auto& name : k_secret_headers) {
    for (size_t at = folded.find(name); at != std::string::npos; at = folded.find(name, at + 1)) {
      if (at != 0 && std::isalnum(static_cast<unsigned char>(folded[at - 1]))) continue;
      if (name[0] == 'a' && at != 0 && folded[at - 1] == '-') continue;
      size_t start = at + name.size();
      size_t end = out.find_first_of("\r\n", start);
      if (end == std::string::npos) end = out.size();
      size_t space = out.find(' ', start);
      if (name != "x-amz-security-token: " && space != std::string::npos && space < end) {
        start = space + 1;
      }
      out.replace(start, end - start, "REDACTED");
      folded = lower(out);
    }
  }
  return out;
}

}  // namespace polyarch::registry
