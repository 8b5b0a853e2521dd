#pragma once
// Platforms: "os/arch[/variant]", normalized the way container tools do.

#include <string>
#include <string_view>
#include <vector>

namespace polyarch::image {

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // "arm64"
  std::string variant;       // "v7", or empty
  std::string os_version;    // "os.version", Windows only; usually empty
  std::vector<std::string> os_features;

  // Returns "os/arch" or "os/arch/variant".
  std::string str() const;
  bool operator==(const Platform&) const = default;
  bool operator<(const Platform& other) const { return str() < other.str(); }
};

// Parses and normalizes "os/arch[/variant]" (aarch64 -> arm64, x86_64 ->
// amd64, armhf -> arm/v7, armel -> arm/v6, i386 -> 386, arm64/v8 -> arm64,
// arm -> arm/v7, ...); a bare "arch" means linux. Throws bad_input naming the
// part that is wrong, e.g. `unknown platform "linux/arm65"`.
Platform parse_platform(std::string_view text);

// Parses a comma-separated list, dropping duplicates after normalization.
std::vector<Platform> parse_platforms(std::string_view text);

// Returns the normalized form of an architecture/variant pair as found in an
// image config or index (no validation beyond normalization).
Platform normalize(Platform platform);

// Returns the platform this binary runs on (from uname).
Platform host_platform();

// True for the "unknown/unknown" platform of attestation manifests.
inline bool is_unknown(const Platform& p) {
  return p.os == "unknown" && p.architecture == "unknown";
}

}  // namespace polyarch::image
