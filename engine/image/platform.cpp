#include "engine/image/platform.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"
#include "engine/image/shown.hpp"

namespace polyarch::image {

namespace {

constexpr std::string_view k_usage = "expected OS/ARCH[/VARIANT], e.g. linux/arm64";

constexpr std::array<std::string_view, 4> k_known_os = {"linux", "windows", "darwin", "freebsd"};

constexpr std::array<std::string_view, 14> k_known_arch = {
    "amd64",    "arm64",  "arm",    "386",  "ppc64le", "s390x", "riscv64",
    "mips64le", "mips64", "mipsle", "mips", "loong64", "ppc64", "wasm"};

// One spelling of an architecture as tools and kernels write it, and what it
// normalizes to. A non-empty variant applies only when none was given.
struct ArchAlias {
  std::string_view spelling;
  std::string_view architecture;
  std::string_view variant;
};

constexpr std::array<ArchAlias, 13> k_arch_aliases = {{
    {"x86_64", "amd64", ""},
    {"x86-64", "amd64", ""},
    {"aarch64", "arm64", ""},
    {"arm64", "arm64", ""},
    {"i386", "386", ""},
    {"i686", "386", ""},
    {"armhf", "arm", "v7"},
    {"armel", "arm", "v6"},
    {"arm", "arm", "v7"},
    {"armv7l", "arm", "v7"},
    {"armv6l", "arm", "v6"},
    {"armv5tel", "arm", "v5"},
    {"loongarch64", "loong64", ""},
}};

// Variants accepted per architecture, after normalization (empty is always ok).
struct ArchVariants {
  std::string_view architecture;
  std::array<std::string_view, 4> variants;
};

constexpr std::array<ArchVariants, 2> k_arch_variants = {{
    {"arm", {"v5", "v6", "v7", "v8"}},
    {"amd64", {"v2", "v3", "v4", ""}},
}};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Returns `; did you mean "x"?` for the closest candidate within distance 2.
template <size_t N>
std::string suggestion(std::string_view value, const std::array<std::string_view, N>& list) {
  std::string best = core::closest(value, std::span<const std::string_view>(list));
  return best.empty() ? "" : "; did you mean " + quoted(best) + "?";
}

bool variant_allowed(std::string_view architecture, std::string_view variant) {
  if (variant.empty()) return true;
  for (const auto& entry : k_arch_variants) {
    if (entry.architecture == architecture) return contains(entry.variants, variant);
  }
  return false;
}

}  // namespace

std::string Platform::str() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

Platform normalize(Platform platform) {
  platform.os = lower(platform.os);
  std::string arch = lower(platform.architecture);
  std::string variant = lower(platform.variant);
  for (const auto& alias : k_arch_aliases) {
    if (alias.spelling == arch) {
      arch = alias.architecture;
      if (variant.empty() || alias.spelling == "armhf" || alias.spelling == "armel") {
        variant = alias.variant;
      }
      break;
    }
  }
  if (arch == "arm" && variant.size() == 1 && variant[0] >= '5' && variant[0] <= '8') {
    variant = "v" + variant;
  }
  if (arch == "arm64" && (variant == "v8" || variant == "8")) variant.clear();
  if (arch == "amd64" && variant == "v1") variant.clear();
  platform.architecture = arch;
  platform.variant = variant;
  return platform;
}

Platform parse_platform(std::string_view text) {
  std::string_view input = trim(text);
  if (input.empty()) throw bad_input("empty platform: " + std::string(k_usage));
  std::string whole = shown(input);

  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t slash = input.find('/', start);
    parts.push_back(input.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  bool empty_part = std::any_of(parts.begin(), parts.end(), [](auto p) { return p.empty(); });
  if (parts.size() > 3 || empty_part) {
    throw bad_input("invalid platform " + whole + ": " + std::string(k_usage));
  }

  Platform platform;
  std::string_view os_part;
  std::string_view arch_part;
  std::string_view variant_part;
  if (parts.size() == 1) {
    // A bare OS means this machine's architecture; a bare architecture, linux.
    if (contains(k_known_os, lower(parts[0]))) {
      os_part = parts[0];
      platform.architecture = host_platform().architecture;
      platform.variant = host_platform().variant;
    } else {
      os_part = "linux";
      arch_part = parts[0];
    }
  } else {
    os_part = parts[0];
    arch_part = parts[1];
    if (parts.size() == 3) variant_part = parts[2];
  }

  platform.os = lower(os_part);
  if (!contains(k_known_os, platform.os)) {
    throw bad_input("unknown platform " + whole + ": unknown operating system " +
                    shown(os_part) + suggestion(platform.os, k_known_os));
  }
  if (parts.size() == 1 && arch_part.empty()) return platform;

  platform.architecture = std::string(arch_part);
  platform.variant = std::string(variant_part);
  platform = normalize(platform);
  if (!contains(k_known_arch, platform.architecture)) {
    throw bad_input("unknown platform " + whole + ": unknown architecture " + shown(arch_part) +
                    suggestion(platform.architecture, k_known_arch));
  }
  if (!variant_allowed(platform.architecture, platform.variant)) {
    throw bad_input("unknown platform " + whole + ": unknown variant " + shown(variant_part) +
                    " for " + platform.architecture);
  }
  return platform;
}

std::vector<Platform> parse_platforms(std::string_view text) {
  std::vector<Platform> platforms;
  for (size_t start = 0;;) {
    size_t comma = text.find(',', start);
    std::string_view item = trim(text.substr(start, comma - start));
    if (!item.empty()) {
      Platform platform = parse_platform(item);
      if (std::find(platforms.begin(), platforms.end(), platform) == platforms.end()) {
        platforms.push_back(std::move(platform));
      }
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (platforms.empty()) throw bad_input("empty platform: " + std::string(k_usage));
  return platforms;
}

Platform host_platform() {
  struct utsname names {};
  if (uname(&names) != 0) return Platform{"linux", "amd64", "", "", {}};
  Platform platform;
  platform.os = lower(names.sysname);
  std::string machine = lower(names.machine);
  if (machine == "armv8l") machine = "armv7l";  // a 32-bit userland on an arm64 kernel
  platform.architecture = machine;              // normalize() maps kernel spellings
  return normalize(platform);
}

}  // namespace polyarch::image
