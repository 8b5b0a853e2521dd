#pragma once
// `polyarch build`'s options from every source, and what they resolve to.

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "adapters/cli/registry_options.hpp"
#include "engine/build/pipeline.hpp"
#include "engine/image/reference.hpp"

namespace polyarch::cli {

// Where the built image goes.
struct ResolvedTargets {
  std::vector<image::Reference> images;  // repositories (push-by-digest legs)
  std::vector<image::Reference> tags;    // full references to push, or ref names for a layout
  std::string output;                    // "oci:PATH" when writing a layout
};

// The build's option table, for the command table.
std::span<const OptionSpec> build_option_specs();

// Defaults < polyarch.yml (or --config) < POLYARCH_* env < flags. Throws
// bad_input naming the source of a bad value.
build::BuildOptions resolve_build_options(const Context& context);

// Tags (bare tags apply to every image), the default output
// dist/<name>.oci.tar, and the combinations that make no sense.
ResolvedTargets resolve_targets(const build::BuildOptions& options);

// Per-platform cache flags for the backend; prints a note for each spec the
// backend cannot use.
std::function<std::vector<std::string>(std::span<const image::Platform>)> translate_caches(
    Context& context, const build::BuildOptions& options, const std::string& backend);

// One leg of a split build: pushes each platform manifest by digest to every
// image repository and writes {platform, digest, size, mediaType, image}
// JSON to path (an object for one platform, an array for more).
void write_digest_files(RegistrySession& session, publish::ImageStore& from,
                        const ResolvedTargets& targets, const build::StagedImage& staged,
                        const std::string& path);

}  // namespace polyarch::cli
