#pragma once
// Copying an image between stores: blobs first (in parallel, skipped when
// present, mounted when possible), then child manifests by digest, then the
// top manifest or index under each tag, so no tag points at anything missing.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "engine/publish/store.hpp"

namespace polyarch::publish {

struct CopyOptions {
  std::vector<image::Platform> platforms;  // empty: every platform
  int jobs = 4;                            // blobs transferred at once
  std::function<void(const std::string&)> log;  // progress lines for people
};

struct CopyResult {
  Descriptor top;                        // what the tags now point at
  std::string bytes;                     // its exact bytes
  std::vector<Descriptor> children;      // the index entries copied
  int blobs_copied = 0;
  int blobs_skipped = 0;
  int blobs_mounted = 0;
};

// Copies `top` (read from `from`) into `to` under each tag ("" = by digest
// only). With platforms set, an index is narrowed to those platforms (and
// the attestations of those platforms) and written anew. Throws failure when
// a platform is absent or a transfer fails; what was copied stays copied.
CopyResult copy_image(ImageStore& from, const FetchedManifest& top, ImageStore& to,
                      const std::vector<std::string>& tags, const CopyOptions& options);

// The entries of index that match one of platforms, plus their attestations;
// throws failure naming a requested platform the index lacks.
std::vector<Descriptor> select_platforms(const image::Index& index,
                                         const std::vector<image::Platform>& platforms,
                                         const std::string& source_name);

// True for attestation entries (unknown/unknown or vnd.docker.reference.type).
bool is_attestation(const Descriptor& descriptor);

}  // namespace polyarch::publish
