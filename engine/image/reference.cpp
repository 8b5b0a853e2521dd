#include "engine/image/reference.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/image/digest.hpp"
#include "engine/image/shown.hpp"

namespace polyarch::image {

namespace {

constexpr size_t k_name_max = 255;   // NameTotalLengthMax in distribution/reference
constexpr size_t k_tag_max = 128;    // [\w][\w.-]{0,127}
constexpr std::string_view k_legacy_registry = "index.docker.io";

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

bool has_space_or_non_ascii(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte >= 0x80 || std::isspace(byte);
  });
}

// A path component: [a-z0-9]+ joined by one '.', one or two '_', or any '-'s.
bool valid_component(std::string_view text) {
  size_t i = 0;
  for (;;) {
    size_t start = i;
    while (i < text.size() && is_lower_alnum(text[i])) ++i;
    if (i == start) return false;
    if (i == text.size()) return true;
    if (text[i] == '.') {
      ++i;
    } else if (text[i] == '_') {
      i += (i + 1 < text.size() && text[i + 1] == '_') ? 2 : 1;
    } else if (text[i] == '-') {
      while (i < text.size() && text[i] == '-') ++i;
    } else {
      return false;
    }
  }
}

// A DNS label: [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9].
bool valid_label(std::string_view text) {
  if (text.empty() || !is_alnum(text.front()) || !is_alnum(text.back())) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

bool valid_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  int port = std::stoi(std::string(text));
  return port >= 1 && port <= 65535;
}

// A registry: a domain name or a bracketed IPv6 address, with an optional port.
bool valid_registry(std::string_view text) {
  std::string_view port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    std::string_view address = text.substr(1, close - 1);
    if (!std::all_of(address.begin(), address.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':';
        })) {
      return false;
    }
    std::string_view after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      has_port = true;
      port = after.substr(1);
    }
  } else {
    size_t colon = text.find(':');
    std::string_view host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = text.substr(colon + 1);
    }
    for (size_t start = 0;;) {
      size_t dot = host.find('.', start);
      if (!valid_label(host.substr(start, dot - start))) return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  return !has_port || valid_port(port);
}

bool valid_tag(std::string_view text) {
  if (text.empty() || text.size() > k_tag_max || !is_word(text.front())) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

bool is_registry_host(std::string_view component) {
  return component.find_first_of(".:") != std::string_view::npos || component == "localhost";
}

// Parses `text`; `label` starts every message; `whole` allows a tag and digest.
Reference parse(std::string_view text, const std::string& label, bool whole) {
  auto fail = [&](const std::string& what) {
    return bad_input(label + " " + shown(text) + ": " + what);
  };
  if (text.empty()) throw fail(whole ? "empty reference" : "empty name");
  if (std::any_of(text.begin(), text.end(), [](char c) {
        return is_control(c) && !std::isspace(static_cast<unsigned char>(c));
      })) {
    throw fail("contains control characters");
  }
  if (has_space_or_non_ascii(text)) throw fail("contains whitespace or non-ASCII characters");

  // Split name[:tag][@digest]; a tag's ':' comes after the last '/'.
  std::string_view name = text;
  std::string_view digest;
  std::string_view tag;
  bool has_digest = false;
  bool has_tag = false;
  if (size_t at = name.find('@'); at != std::string_view::npos) {
    digest = name.substr(at + 1);
    name = name.substr(0, at);
    has_digest = true;
  }
  size_t colon = name.rfind(':');
  size_t slash = name.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = name.substr(colon + 1);
    name = name.substr(0, colon);
    has_tag = true;
  }
  if (!whole && has_tag) throw fail("a tag is not allowed here");
  if (!whole && has_digest) throw fail("a digest is not allowed here");
  if (name.empty()) throw fail("missing repository name");

  // Split registry/path: only a host-like first component is a registry.
  Reference ref;
  std::string_view path = name;
  if (size_t first = name.find('/');
      first != std::string_view::npos && is_registry_host(name.substr(0, first))) {
    ref.registry = std::string(name.substr(0, first));
    path = name.substr(first + 1);
    if (!valid_registry(ref.registry)) throw fail("invalid registry " + shown(ref.registry));
  }
  if (std::any_of(path.begin(), path.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    throw fail("repository name must be lowercase");
  }
  for (size_t start = 0;;) {
    size_t next = path.find('/', start);
    std::string_view component = path.substr(start, next - start);
    if (component.empty()) throw fail("invalid repository name " + shown(path));
    if (!valid_component(component)) throw fail("invalid path component " + shown(component));
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  if (has_tag && !valid_tag(tag)) throw fail("invalid tag " + shown(tag));
  if (has_digest) {
    try {
      ref.digest = Digest::parse(digest).str();
    } catch (const Error&) {
      throw fail("invalid digest " + shown(digest));
    }
  }

  // Normalize the way docker does.
  if (ref.registry.empty() || ref.registry == k_legacy_registry) {
    ref.registry = std::string(k_default_registry);
  }
  ref.repository = std::string(path);
  if (ref.registry == k_default_registry && path.find('/') == std::string_view::npos) {
    ref.repository = "library/" + ref.repository;
  }
  // As docker does, the limit applies to the normalized name ("docker.io/library/x").
  if (ref.name().size() > k_name_max) {
    throw fail("repository name must not exceed " + std::to_string(k_name_max) + " characters");
  }
  ref.tag = std::string(tag);
  if (whole && !has_tag && !has_digest) ref.tag = "latest";
  return ref;
}

}  // namespace

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::str() const {
  std::string out = name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::familiar() const {
  std::string out = name();
  // "docker.io/localhost/app" stays whole: "localhost/app" would name another registry.
  std::string_view first = std::string_view(repository).substr(0, repository.find('/'));
  bool looks_like_host = repository.find('/') != std::string::npos && is_registry_host(first);
  if (registry == k_default_registry && !looks_like_host) {
    out = repository;
    constexpr std::string_view k_library = "library/";
    std::string_view rest =
        std::string_view(repository).substr(std::min(repository.size(), k_library.size()));
    if (repository.starts_with(k_library) && rest.find('/') == std::string_view::npos) {
      out = std::string(rest);
    }
  }
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::ref_or_digest() const { return digest.empty() ? tag : digest; }

Reference parse_reference(std::string_view text) { return parse(text, "invalid reference", true); }

Reference parse_name(std::string_view text) { return parse(text, "invalid image name", false); }

}  // namespace polyarch::image
