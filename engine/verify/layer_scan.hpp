#pragma once
// Streams a layer (tar, gzip'd tar or zstd'd tar) entry by entry without
// holding it in memory, handing over the first bytes of each regular file.

#include <functional>
#include <string>

#include "engine/publish/store.hpp"

namespace polyarch::verify {

// One entry of a layer, as the image's file system sees it.
struct LayerEntry {
  enum class Kind {
    file,      // a regular file; head holds its first bytes
    directory, // a directory (merges with a lower layer's)
    whiteout,  // ".wh.NAME": path (the NAME) is deleted from lower layers
    opaque,    // ".wh..wh..opq": path (a directory) hides lower layers' contents
    other,     // a symlink, hard link, device, … (replaces what was there)
  };
  Kind kind = Kind::other;
  std::string path;  // absolute and clean: "/usr/bin/app"
  std::string head;  // up to head_size leading bytes of a regular file
};

using EntryVisitor = std::function<void(const LayerEntry& entry)>;
// Produces a blob's bytes by calling sink with each chunk (as ImageStore::read_blob).
using BlobProducer = std::function<void(const registry::BodySink& sink)>;

// Reads the tar stream that produce yields (compression detected from the
// bytes), calling visit for every entry in order. The producer runs on a
// second thread behind a bounded pipe. Throws failure naming `what` when the
// stream is not a readable tar, or the producer's own error.
void scan_tar_stream(const BlobProducer& produce, const std::string& what, size_t head_size,
                     const EntryVisitor& visit);

// scan_tar_stream over one layer blob of store.
void scan_layer(publish::ImageStore& store, const image::Descriptor& layer, size_t head_size,
                const EntryVisitor& visit);

}  // namespace polyarch::verify
