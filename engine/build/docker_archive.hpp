#pragma once
// `docker save` output (a docker-archive tar: manifest.json, <config>.json,
// <layer>/layer.tar) turned into an OCI image in a layout directory.

#include <filesystem>

#include "engine/image/layout.hpp"

namespace polyarch::build {

// What import_docker_archive wrote.
struct ArchiveImage {
  image::Descriptor manifest;       // the OCI manifest (no platform set)
  image::Platform config_platform;  // os/architecture/variant from the config
};

// Writes the one image of a docker-archive tar into `into`: the config bytes
// exactly as saved, each layer gzip'd deterministically (mtime 0, no name),
// and an OCI manifest carrying `annotations`. Checks the config's name and
// every layer against the config's diff_ids. Throws failure naming the
// archive when it holds no image or several, or is inconsistent.
ArchiveImage import_docker_archive(const std::filesystem::path& archive, image::LayoutDir& into,
                                   const image::Annotations& annotations = {});

}  // namespace polyarch::build
