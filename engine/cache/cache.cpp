#include "engine/cache/cache.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::cache {

namespace {

constexpr std::string_view k_types = "(registry, local, gha, inline, none)";

Error invalid(std::string_view text, const std::string& why) {
  return bad_input("invalid cache spec " + quoted(std::string(text)) + ": " + why);
}

// The keys each type takes, as listed in messages.
const std::map<std::string, std::vector<std::string>, std::less<>>& keys_by_type() {
  static const std::map<std::string, std::vector<std::string>, std::less<>> table = {
      {"registry", {"ref", "mode", "image-manifest", "oci-mediatypes"}},
      {"local", {"src", "dest", "mode"}},
      {"gha", {"scope", "mode"}},
      {"inline", {"ref"}},
  };
  return table;
}

std::string join(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (const auto& word : words) {
    if (!out.empty()) out += separator;
    out += word;
  }
  return out;
}

void check_ref(std::string_view text, const std::string& ref) {
  if (ref.find('@') != std::string::npos) {
    throw invalid(text, "ref " + quoted(ref) + " must not have a digest");
  }
}

}  // namespace

CacheSpec parse_cache_spec(std::string_view text) {
  CacheSpec spec;
  spec.text = std::string(text);
  if (text.find('=') == std::string_view::npos) {
    if (text.empty()) throw invalid(text, "empty spec");
    spec.ref = std::string(text);
    check_ref(text, spec.ref);
    return spec;
  }
  std::map<std::string, std::string> values;
  for (const std::string& piece : core::split(text, ',')) {
    size_t equals = piece.find('=');
    if (equals == std::string::npos) {
      throw invalid(text, "expected KEY=VALUE, got " + quoted(piece));
    }
    std::string key = piece.substr(0, equals);
    std::string value = piece.substr(equals + 1);
    if (value.empty()) throw invalid(text, "empty value for " + quoted(key));
    if (!values.emplace(key, value).second) throw invalid(text, "duplicate key " + quoted(key));
  }
  auto type = values.find("type");
  if (type == values.end()) throw invalid(text, "missing type " + std::string(k_types));
  if (type->second == "none") throw invalid(text, "\"none\" takes no other keys");
  auto known = keys_by_type().find(type->second);
  if (known == keys_by_type().end()) {
    throw invalid(text, "unknown type " + quoted(type->second) + " " + std::string(k_types));
  }
  for (const auto& [key, value] : values) {
    if (key == "type") continue;
    if (std::find(known->second.begin(), known->second.end(), key) == known->second.end()) {
      throw invalid(text, "unknown key " + quoted(key) + " for type " + type->second + " (" +
                              join(known->second, ", ") + ")");
    }
  }
  auto get = [&values](const std::string& key) {
    auto it = values.find(key);
    return it == values.end() ? std::string() : it->second;
  };
  spec.ref = get("ref");
  spec.mode = get("mode");
  spec.src = get("src");
  spec.dest = get("dest");
  spec.scope = get("scope");
  spec.image_manifest = get("image-manifest");
  spec.oci_mediatypes = get("oci-mediatypes");
  if (!spec.mode.empty() && spec.mode != "min" && spec.mode != "max") {
    throw invalid(text, "mode " + quoted(spec.mode) + " must be min or max");
  }
  for (const char* key : {"image-manifest", "oci-mediatypes"}) {
    std::string value = get(key);
    if (!value.empty() && value != "true" && value != "false") {
      throw invalid(text, std::string(key) + " " + quoted(value) + " must be true or false");
    }
  }
  if (type->second == "registry") {
    if (spec.ref.empty()) throw invalid(text, "type registry needs ref=REF");
    check_ref(text, spec.ref);
  } else if (type->second == "local") {
    spec.type = CacheType::local;
    if (spec.src.empty() && spec.dest.empty()) throw invalid(text, "type local needs src=DIR or dest=DIR");
  } else if (type->second == "gha") {
    spec.type = CacheType::gha;
    if (spec.scope.empty()) spec.scope = "buildkit";
  } else {
    spec.type = CacheType::inline_cache;
    if (!spec.ref.empty()) check_ref(text, spec.ref);
  }
  return spec;
}

std::vector<CacheSpec> resolve_cache_specs(const std::vector<std::string>& texts,
                                           std::string_view auto_spec) {
  std::vector<CacheSpec> specs;
  bool none = false;
  for (const std::string& text : texts) {
    std::string_view resolved = text;
    if (text == "auto") resolved = auto_spec;
    if (resolved.empty() || resolved == "none") {
      none = none || text == "none";
      continue;
    }
    CacheSpec spec = parse_cache_spec(resolved);
    spec.text = std::string(resolved);
    bool seen = std::any_of(specs.begin(), specs.end(), [&spec](const CacheSpec& s) {
      return s.text == spec.text;
    });
    if (!seen) specs.push_back(std::move(spec));
  }
  if (none && !specs.empty()) {
    throw bad_input("invalid cache \"none\": it cannot be combined with " + quoted(specs.front().text));
  }
  return specs;
}

std::string registry_host(std::string_view ref) {
  size_t slash = ref.find('/');
  std::string_view first = ref.substr(0, slash);
  if (slash == std::string_view::npos ||
      (first.find_first_of(".:") == std::string_view::npos && first != "localhost")) {
    return "docker.io";
  }
  return std::string(first);
}

std::string platform_suffix(std::span<const image::Platform> platforms) {
  std::string out;
  for (const auto& platform : platforms) {
    if (!out.empty()) out += "_";
    out += platform.os + "-" + platform.architecture;
    if (!platform.variant.empty()) out += "-" + platform.variant;
  }
  return out;
}

CacheSpec for_platforms(const CacheSpec& spec, std::span<const image::Platform> platforms) {
  CacheSpec out = spec;
  std::string suffix = platform_suffix(platforms);
  switch (spec.type) {
    case CacheType::registry: {
      size_t slash = spec.ref.rfind('/');
      size_t colon = spec.ref.find(':', slash == std::string::npos ? 0 : slash);
      out.ref = colon == std::string::npos ? spec.ref + ":buildcache-" + suffix
                                           : spec.ref + "-" + suffix;
      break;
    }
    case CacheType::local:
      if (!out.src.empty()) out.src = (std::filesystem::path(spec.src) / suffix).string();
      if (!out.dest.empty()) out.dest = (std::filesystem::path(spec.dest) / suffix).string();
      break;
    case CacheType::gha:
      out.scope = spec.scope + "-" + suffix;
      break;
    case CacheType::inline_cache:
      break;  // the cache travels inside each platform's own image
  }
  return out;
}

}  // namespace polyarch::cache
