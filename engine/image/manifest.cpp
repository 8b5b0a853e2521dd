#include "engine/image/manifest.hpp"

#include "engine/core/error.hpp"
#include "engine/image/json_fields.hpp"
#include "engine/image/media_types.hpp"
#include "engine/image/shown.hpp"

namespace polyarch::image {

namespace {

using namespace json_fields;

int get_schema_version(const Json& json, std::string_view what) {
  auto it = json.find("schemaVersion");
  if (it == json.end() || !it->is_number_integer() || it->get<int64_t>() != 2) {
    throw failure("invalid " + std::string(what) + ": \"schemaVersion\" must be 2");
  }
  return 2;
}

Annotations get_annotations(const Json& json, std::string_view what) {
  return get_string_map(json, "annotations", what);
}

}  // namespace

// Deeper JSON than any manifest, index or config needs; more is refused
// before parsing, as serializing or copying it would recurse that deep.
constexpr size_t k_max_json_depth = 64;

// True when arrays and objects in bytes nest deeper than k_max_json_depth
// (brackets inside strings do not count).
static bool nests_too_deep(std::string_view bytes) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > k_max_json_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

Json parse_json(std::string_view bytes, std::string_view what) {
  if (nests_too_deep(bytes)) {
    throw failure("invalid JSON in " + std::string(what) + ": nested deeper than " +
                  std::to_string(k_max_json_depth) + " levels");
  }
  try {
    return Json::parse(bytes);
  } catch (const Json::exception& e) {  // a parse_error, or out_of_range for a huge number
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    std::string detail = e.what();
    if (auto end = detail.find("] "); end != std::string::npos) detail.erase(0, end + 2);
    throw failure("invalid JSON in " + std::string(what) + ": " + detail);
  }
}

std::string to_bytes(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::strict);
}

Json to_json(const Platform& platform) {
  Json json = Json::object();
  json["architecture"] = platform.architecture;
  json["os"] = platform.os;
  if (!platform.os_version.empty()) json["os.version"] = platform.os_version;
  if (!platform.os_features.empty()) json["os.features"] = platform.os_features;
  if (!platform.variant.empty()) json["variant"] = platform.variant;
  return json;
}

Platform platform_from_json(const Json& json, std::string_view what) {
  require_object(json, what);
  Platform platform;
  platform.architecture = get_string(json, "architecture", what);
  platform.os = get_string(json, "os", what);
  platform.os_version = get_string(json, "os.version", what);
  platform.os_features = get_strings(json, "os.features", what);
  platform.variant = get_string(json, "variant", what);
  return platform;
}

Json to_json(const Descriptor& descriptor) {
  Json json = Json::object();
  json["mediaType"] = descriptor.media_type;
  json["digest"] = descriptor.digest.str();
  json["size"] = descriptor.size;
  if (!descriptor.urls.empty()) json["urls"] = descriptor.urls;
  if (!descriptor.annotations.empty()) json["annotations"] = descriptor.annotations;
  if (descriptor.platform) json["platform"] = to_json(*descriptor.platform);
  if (!descriptor.artifact_type.empty()) json["artifactType"] = descriptor.artifact_type;
  put_extras(json, descriptor.extra);
  return json;
}

Descriptor descriptor_from_json(const Json& json, std::string_view what) {
  require_object(json, what);
  Descriptor d;
  d.media_type = get_string(json, "mediaType", what);
  std::string digest = get_string(json, "digest", what);
  try {
    d.digest = Digest::parse(digest);
  } catch (const Error& e) {
    throw failure("invalid " + std::string(what) + ": " + e.what());
  }
  auto size = json.find("size");
  if (size == json.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    throw failure("invalid " + std::string(what) + ": \"size\" must be a non-negative integer");
  }
  d.size = size->get<int64_t>();
  d.urls = get_strings(json, "urls", what);
  d.annotations = get_annotations(json, what);
  if (auto p = json.find("platform"); p != json.end() && !p->is_null()) {
    d.platform = platform_from_json(*p, what);
  }
  d.artifact_type = get_string(json, "artifactType", what);
  d.extra = extras(json, {"mediaType", "digest", "size", "urls", "annotations", "platform",
                          "artifactType"});
  return d;
}

Json to_json(const Manifest& manifest) {
  Json json = Json::object();
  json["schemaVersion"] = manifest.schema_version;
  if (!manifest.media_type.empty()) json["mediaType"] = manifest.media_type;
  if (!manifest.artifact_type.empty()) json["artifactType"] = manifest.artifact_type;
  json["config"] = to_json(manifest.config);
  json["layers"] = Json::array();
  for (const auto& layer : manifest.layers) json["layers"].push_back(to_json(layer));
  if (manifest.subject) json["subject"] = to_json(*manifest.subject);
  if (!manifest.annotations.empty()) json["annotations"] = manifest.annotations;
  put_extras(json, manifest.extra);
  return json;
}

Manifest parse_manifest(std::string_view bytes, std::string_view what) {
  Json json = parse_json(bytes, what);
  require_object(json, what);
  Manifest m;
  m.schema_version = get_schema_version(json, what);
  m.media_type = get_string(json, "mediaType", what);
  if (!m.media_type.empty() && !media_type::is_manifest(m.media_type)) {
    throw failure("invalid " + std::string(what) + ": media type " + shown(m.media_type) +
                  " is not an image manifest");
  }
  m.artifact_type = get_string(json, "artifactType", what);
  auto config = json.find("config");
  if (config == json.end()) throw failure("invalid " + std::string(what) + ": no \"config\"");
  m.config = descriptor_from_json(*config, what);
  auto layers = json.find("layers");
  if (layers != json.end() && !layers->is_null()) {
    if (!layers->is_array()) {
      throw failure("invalid " + std::string(what) + ": \"layers\" must be an array");
    }
    for (const auto& layer : *layers) m.layers.push_back(descriptor_from_json(layer, what));
  }
  if (auto s = json.find("subject"); s != json.end() && !s->is_null()) {
    m.subject = descriptor_from_json(*s, what);
  }
  m.annotations = get_annotations(json, what);
  m.extra = extras(json, {"schemaVersion", "mediaType", "artifactType", "config", "layers",
                          "subject", "annotations"});
  return m;
}

Json to_json(const Index& index) {
  Json json = Json::object();
  json["schemaVersion"] = index.schema_version;
  if (!index.media_type.empty()) json["mediaType"] = index.media_type;
  if (!index.artifact_type.empty()) json["artifactType"] = index.artifact_type;
  json["manifests"] = Json::array();
  for (const auto& child : index.manifests) json["manifests"].push_back(to_json(child));
  if (index.subject) json["subject"] = to_json(*index.subject);
  if (!index.annotations.empty()) json["annotations"] = index.annotations;
  put_extras(json, index.extra);
  return json;
}

Index parse_index(std::string_view bytes, std::string_view what) {
  Json json = parse_json(bytes, what);
  require_object(json, what);
  Index index;
  index.schema_version = get_schema_version(json, what);
  index.media_type = get_string(json, "mediaType", what);
  if (!index.media_type.empty() && !media_type::is_index(index.media_type)) {
    throw failure("invalid " + std::string(what) + ": media type " + shown(index.media_type) +
                  " is not an image index");
  }
  index.artifact_type = get_string(json, "artifactType", what);
  auto manifests = json.find("manifests");
  if (manifests == json.end() || !manifests->is_array()) {
    throw failure("invalid " + std::string(what) + ": \"manifests\" must be an array");
  }
  for (const auto& child : *manifests) index.manifests.push_back(descriptor_from_json(child, what));
  if (auto s = json.find("subject"); s != json.end() && !s->is_null()) {
    index.subject = descriptor_from_json(*s, what);
  }
  index.annotations = get_annotations(json, what);
  index.extra = extras(json, {"schemaVersion", "mediaType", "artifactType", "manifests",
                              "subject", "annotations"});
  return index;
}

Descriptor describe(std::string_view media_type, std::string_view bytes) {
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = sha256(bytes);
  d.size = static_cast<int64_t>(bytes.size());
  return d;
}

}  // namespace polyarch::image
