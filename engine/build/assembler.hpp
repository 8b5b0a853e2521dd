#pragma once
// The assembler: a multi-platform image from files, with no builder at all.

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/image/config.hpp"
#include "engine/image/layer_cache.hpp"
#include "engine/image/layout.hpp"

namespace polyarch::build {

namespace fs = std::filesystem;

// One platform's input: a file (placed at `dest`) or a root filesystem dir.
struct AssembleInput {
  image::Platform platform;
  fs::path source;
};

// A base image's manifest and config for one platform; its layers must
// already be in the layout.
struct BaseImage {
  image::Manifest manifest;
  image::ImageConfig config;
};

struct AssembleOptions {
  std::vector<AssembleInput> inputs;
  std::string dest;                     // where a FILE goes; "" means /<basename>
  image::RuntimeConfig config;          // entrypoint, cmd, env, workdir, labels
  image::Annotations index_annotations;
  image::Annotations manifest_annotations;
  int64_t epoch = 0;                    // mtime of every file and `created`
  std::map<std::string, BaseImage> bases;  // by platform ("linux/arm64"); empty: scratch
  // Where compressed layers are remembered between runs; null: every layer
  // is packed and nothing is remembered.
  image::LayerCache* layer_cache = nullptr;
  // Called with each platform's manifest descriptor as soon as its layer,
  // config and manifest are in the layout (before the next platform starts),
  // so they can be published while the next one is made.
  std::function<void(const image::Descriptor&)> on_platform;
};

struct AssembledImage {
  image::Descriptor index;                   // the image index, in the layout
  std::vector<image::Descriptor> manifests;  // one per platform, with platform set
};

// Writes one layer, config and manifest per platform and an index over all
// of them into layout. Throws bad_input for a missing source and failure
// for I/O errors. Same inputs and options give the same index digest.
AssembledImage assemble(image::LayoutDir& layout, const AssembleOptions& options);

// Formats seconds since the epoch as RFC 3339 UTC ("1970-01-01T00:00:00Z").
std::string rfc3339(int64_t epoch);

}  // namespace polyarch::build
