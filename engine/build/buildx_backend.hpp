#pragma once
// The buildx backend's pure parts: the `docker buildx build` command line
// and reading what it wrote, so tests check them without buildx.

#include <filesystem>
#include <string>
#include <vector>

#include "engine/build/backend.hpp"

namespace polyarch::build {

// One `docker buildx build` over one or more platforms.
struct BuildxBuild {
  const BuildOptions& options;
  std::vector<image::Platform> platforms;
  std::vector<std::string> cache_args;  // from cache::cache_args(…, "buildx", platforms)
  std::string metadata_file;            // --metadata-file
  std::string oci_dest;                 // --output type=oci,dest=…; "" = push by digest
};

// The argv: docker buildx build --progress plain --platform a,b -f FILE
// [--target] --build-arg… --label… --annotation… cache args
// --provenance=false|--provenance=mode=min --sbom=false --secret…
// --metadata-file F --output OUTPUT CONTEXT. Without oci_dest the output is
// type=image,name=IMAGES,push-by-digest=true,name-canonical=true,push=true
// (several names CSV-quoted); throws bad_input when there is no image name.
std::vector<std::string> buildx_argv(const BuildxBuild& build);

// Moves every blob of buildx's OCI archive into `into` and returns the
// platform manifests in the order of `platforms`, then the attestation
// manifests (platform unknown/unknown, annotations kept). Checks
// containerimage.digest in the metadata file when present. Throws failure
// when a platform is missing or the digest differs.
std::vector<PlatformResult> import_buildx_output(const std::filesystem::path& oci_archive,
                                                 const std::filesystem::path& metadata_file,
                                                 const std::vector<image::Platform>& platforms,
                                                 image::LayoutDir& into,
                                                 const std::filesystem::path& scratch);

}  // namespace polyarch::build
