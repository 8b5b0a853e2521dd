#pragma once
// Descriptors, image manifests and indexes as typed structs.
//
// Serialization is deterministic (fixed key order, compact), so to_bytes() of
// a parsed object we wrote reproduces the exact bytes, and the digest of what
// we write is the digest of the bytes we write. Unknown fields are kept in
// `extra` and written back after the known ones.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/image/digest.hpp"
#include "engine/image/platform.hpp"

namespace polyarch::image {

using Json = nlohmann::ordered_json;
using Annotations = std::map<std::string, std::string>;

inline constexpr std::string_view k_ref_name_annotation = "org.opencontainers.image.ref.name";

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  Annotations annotations;
  std::optional<Platform> platform;
  std::string artifact_type;
  Json extra = Json::object();

  bool operator==(const Descriptor&) const = default;
};

// An OCI image manifest or a Docker v2 schema 2 manifest.
struct Manifest {
  int schema_version = 2;
  std::string media_type;
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  Annotations annotations;
  Json extra = Json::object();

  bool operator==(const Manifest&) const = default;
};

// An OCI image index or a Docker manifest list.
struct Index {
  int schema_version = 2;
  std::string media_type;
  std::string artifact_type;
  std::vector<Descriptor> manifests;
  std::optional<Descriptor> subject;
  Annotations annotations;
  Json extra = Json::object();

  bool operator==(const Index&) const = default;
};

Json to_json(const Platform& platform);
Json to_json(const Descriptor& descriptor);
Json to_json(const Manifest& manifest);
Json to_json(const Index& index);

// Each parser throws failure with `what` in the message when the JSON is not
// a valid object of that kind (what = e.g. "manifest sha256:…").
Platform platform_from_json(const Json& json, std::string_view what);
Descriptor descriptor_from_json(const Json& json, std::string_view what);
Manifest parse_manifest(std::string_view bytes, std::string_view what = "manifest");
Index parse_index(std::string_view bytes, std::string_view what = "index");

// The exact bytes we write for an object (compact JSON, fixed key order).
std::string to_bytes(const Json& json);
inline std::string to_bytes(const Manifest& m) { return to_bytes(to_json(m)); }
inline std::string to_bytes(const Index& i) { return to_bytes(to_json(i)); }

// A descriptor for bytes we are about to write.
Descriptor describe(std::string_view media_type, std::string_view bytes);

// Parses JSON text; throws failure "invalid JSON in <what>: …" on bad input.
Json parse_json(std::string_view bytes, std::string_view what);

}  // namespace polyarch::image
