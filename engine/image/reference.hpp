#pragma once
// Image references ("ghcr.io/org/app:1.0@sha256:…") in the distribution/reference
// grammar, normalized the way docker does (docker.io and library/ implied).

#include <string>
#include <string_view>

namespace polyarch::image {

// The registry every reference without a registry host points at.
inline constexpr std::string_view k_default_registry = "docker.io";

struct Reference {
  std::string registry;    // "docker.io", "localhost:5000", "[::1]:5000"
  std::string repository;  // "library/alpine"
  std::string tag;         // "3.19"; empty only when a digest was given, or from parse_name
  std::string digest;      // "sha256:…", or empty

  // Returns "registry/repository".
  std::string name() const;
  // Returns the fully qualified form: name[:tag][@digest].
  std::string str() const;
  // Returns what docker prints: "alpine:3.19", "user/app", "ghcr.io/x/y:1".
  std::string familiar() const;
  // Returns the digest if set, else the tag: what the registry's manifests/<ref> takes.
  std::string ref_or_digest() const;

  bool operator==(const Reference&) const = default;
};

// Parses and normalizes a reference: no registry -> docker.io, a single
// docker.io component gets "library/", index.docker.io -> docker.io, and the
// tag defaults to "latest" when neither tag nor digest is given. Throws
// bad_input `invalid reference "…": <what is wrong>`.
Reference parse_reference(std::string_view text);

// Parses a repository name without tag or digest (for --image options), with
// the same normalization; throws bad_input `invalid image name "…": …`,
// including when a tag or digest is given.
Reference parse_name(std::string_view text);

}  // namespace polyarch::image
