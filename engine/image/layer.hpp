#pragma once
// Layers from files: deterministic gzip'd tar streams written into a layout.

#include <filesystem>
#include <string>
#include <vector>

#include "engine/image/layout.hpp"

namespace polyarch::image {

// One file or directory tree to put into a layer.
struct LayerSource {
  fs::path source;       // a file, or a directory whose contents are copied
  std::string dest;      // absolute path in the image: "/hello", or "/" for a root tree
};

struct LayerOptions {
  int64_t mtime = 0;      // every entry's mtime (SOURCE_DATE_EPOCH, default 0)
  int gzip_level = 6;
  int threads = 0;        // gzip threads (0: one per core); the bytes are the same for any
};

struct Layer {
  Descriptor descriptor;  // media type k_oci_layer_gzip, digest of the gzip bytes
  Digest diff_id;         // digest of the uncompressed tar
};

// Writes one layer holding every source into layout's blobs and returns its
// descriptor and diff_id, both computed in the same pass. Entries are sorted
// by path, owned by 0:0 with empty user/group names, mtime fixed, modes and
// symlinks kept as found; parent directories of dest are added as 0755.
// Throws failure when a source is missing or unreadable (naming it).
Layer write_layer(LayoutDir& layout, const std::vector<LayerSource>& sources,
                  const LayerOptions& options = {});

// The diff_id write_layer gives for these sources: the sha256 of the same
// tar, streamed through the hash only (nothing compressed or written).
// Throws like write_layer.
Digest layer_diff_id(const std::vector<LayerSource>& sources, const LayerOptions& options = {});

}  // namespace polyarch::image
