#pragma once
// Build cache specs in buildx's syntax ("type=registry,ref=R,mode=max",
// "type=local,dest=DIR", "type=gha,scope=S", "type=inline", "none", "auto"),
// made per platform so that two platforms never share one cache scope, and
// translated into each backend's flags. A registry cache may carry buildx's
// image-manifest=true,oci-mediatypes=true (the form ECR stores), and one on
// a loopback registry may be plain HTTP, as for the registry engine.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/image/platform.hpp"

namespace polyarch::cache {

enum class CacheType { registry, local, gha, inline_cache };

// One parsed cache spec. A spec both imports and exports the cache.
struct CacheSpec {
  CacheType type = CacheType::registry;
  std::string ref;    // registry: the cache image; inline: an image to read the cache from
  std::string mode;   // "min", "max" or "" (the builder's default)
  std::string src;    // local: the directory read ("" = dest)
  std::string dest;   // local: the directory written ("" = src)
  std::string scope;  // gha: the cache scope, "buildkit" by default
  std::string image_manifest;  // registry: "true", "false" or "" (buildx only)
  std::string oci_mediatypes;  // registry: "true", "false" or "" (buildx only)
  std::string text;   // the spec as the user wrote it, for notes

  bool operator==(const CacheSpec&) const = default;
};

// What "auto" means when no CI convention applies (a run on a laptop).
inline constexpr std::string_view k_local_auto = "none";

// Parses one spec (not "none" or "auto"); a text without "=" is a registry
// ref, as in buildx. Throws bad_input `invalid cache spec "TEXT": …`.
CacheSpec parse_cache_spec(std::string_view text);

// Parses the --cache values: "none" alone means no cache, "auto" becomes
// auto_spec (what the CI adapter says its convention is, e.g. "type=gha";
// "none" or "" for no cache), duplicates are dropped. Throws bad_input.
std::vector<CacheSpec> resolve_cache_specs(const std::vector<std::string>& texts,
                                           std::string_view auto_spec = k_local_auto);

// The registry host of a cache ref: "ghcr.io" for "ghcr.io/me/app:cache",
// "docker.io" for "me/app".
std::string registry_host(std::string_view ref);

// "linux-arm64", "linux-arm-v7"; several platforms joined with "_".
std::string platform_suffix(std::span<const image::Platform> platforms);

// A copy of spec made private to the platforms: registry refs get a tag
// suffix (":buildcache-linux-arm64", or ":TAG-linux-arm64"), gha scopes
// "-linux-arm64", local directories "/linux-arm64"; inline is unchanged.
CacheSpec for_platforms(const CacheSpec& spec, std::span<const image::Platform> platforms);

// Flags for one backend, and one line per spec it cannot honour.
struct CacheArgs {
  std::vector<std::string> args;
  std::vector<std::string> notes;  // `cache "type=gha" is not supported by buildah; building without it`

  bool operator==(const CacheArgs&) const = default;
};

// Translates specs for backend "buildx", "docker", "buildah" or "podman" and
// the platforms one build makes (one, except for a multi-platform buildx
// build). Throws bad_input for another backend name.
CacheArgs cache_args(const std::vector<CacheSpec>& specs, std::string_view backend,
                     std::span<const image::Platform> platforms);

// The same for one platform.
inline CacheArgs cache_args(const std::vector<CacheSpec>& specs, std::string_view backend,
                            const image::Platform& platform) {
  return cache_args(specs, backend, std::span<const image::Platform>(&platform, 1));
}

}  // namespace polyarch::cache
