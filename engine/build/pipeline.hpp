#pragma once
// Building every platform with one backend, in parallel, into one staging
// layout, and the index that ties them together.

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "engine/build/backend.hpp"

namespace polyarch::build {

struct StagedImage {
  image::Descriptor index;                 // the index, written into the layout
  std::string index_bytes;
  std::vector<PlatformResult> platforms;   // in the order asked for, attestations left out
};

struct PipelineHooks {
  // Backend-specific cache flags for the platforms one build makes (one,
  // or all of them when the backend builds them in one run).
  std::function<std::vector<std::string>(std::span<const image::Platform>)> cache_args;
  // One log line, already prefixed with "[linux/arm64] ".
  std::function<void(const std::string&)> log;
  // One platform's build is over (called as each ends, from its thread;
  // attestations are not reported).
  std::function<void(const PlatformResult&)> built;
};

// Builds options.platforms with backend — in one run when the backend can
// (buildx), else options.jobs at once when it allows — then writes an OCI
// index over the results into layout; attestation manifests a backend hands
// back stay in the index after the platforms. The first failure stops the
// other builds and is rethrown.
StagedImage build_platforms(const BuildOptions& options, Backend& backend,
                            image::LayoutDir& layout, const std::filesystem::path& work_root,
                            const PipelineHooks& hooks);

}  // namespace polyarch::build
