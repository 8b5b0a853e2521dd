#pragma once
// Counting the bytes of each blob a copy reads from its source, for progress
// displays: a decorator over the source store and the tally it feeds.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/publish/store.hpp"

namespace polyarch::publish {

// Bytes read so far per blob digest, summed over every read of it (a blob
// read again for a second destination counts twice); thread-safe.
class BlobTally {
 public:
  // Adds bytes to digest's count.
  void add(const image::Digest& digest, int64_t bytes);
  // The bytes counted for digest; 0 for one never read.
  int64_t bytes(const image::Digest& digest) const;

 private:
  mutable std::mutex m_mutex;
  std::map<std::string, int64_t> m_bytes;
};

// Wraps `inner`, passing everything through, on either side of a copy. As
// the source: the bytes of each read_blob and blob_reader go to `tally` as
// they are read (a reader asked for the same offsets again, as a resumed
// upload does, counts them once). As the destination: a blob it already has
// (skipped) or mounts counts whole. A destination cannot mount from the
// wrapper: use it over layouts, not over a registry store others mount from.
std::unique_ptr<ImageStore> counting_store(std::unique_ptr<ImageStore> inner, BlobTally& tally);

}  // namespace polyarch::publish
