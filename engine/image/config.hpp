#pragma once
// The OCI image configuration (what a container runtime reads to run it).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/image/manifest.hpp"

namespace polyarch::image {

struct RuntimeConfig {
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  Json extra = Json::object();  // ExposedPorts, Volumes, Healthcheck, …

  bool operator==(const RuntimeConfig&) const = default;
};

struct HistoryEntry {
  std::string created;
  std::string created_by;
  std::string comment;
  bool empty_layer = false;

  bool operator==(const HistoryEntry&) const = default;
};

struct ImageConfig {
  std::string created;  // RFC 3339, e.g. "1970-01-01T00:00:00Z"
  std::string author;
  Platform platform;    // architecture, os, os.version, os.features, variant
  RuntimeConfig config;
  std::vector<std::string> diff_ids;  // rootfs.diff_ids, "sha256:…"
  std::vector<HistoryEntry> history;
  Json extra = Json::object();

  bool operator==(const ImageConfig&) const = default;
};

Json to_json(const ImageConfig& config);
inline std::string to_bytes(const ImageConfig& c) { return to_bytes(to_json(c)); }

// Throws failure naming `what` when the bytes are not an image config.
ImageConfig parse_image_config(std::string_view bytes, std::string_view what = "image config");

}  // namespace polyarch::image
