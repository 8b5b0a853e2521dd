#pragma once
// The docker backend's pure parts: its command line and its secrets, so
// tests can check them exactly without a Docker engine.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/build/options.hpp"
#include "engine/core/env.hpp"

namespace polyarch::build {

// The client polyarch runs: Debian's /usr/bin/docker when present (a newer
// client earlier on PATH may lack the classic builder), else "docker".
std::string docker_client();

// One `docker build` for one platform.
struct DockerBuild {
  const BuildOptions& options;
  image::Platform platform;
  std::vector<std::string> cache_args;  // from cache::cache_args(…, "docker", …)
  std::vector<std::string> secrets;     // "id=NAME,src=FILE", from secret_files()
  std::string tag;                      // the temporary name, "polyarch-tmp-…"
  std::string network;                  // "host", "none", or "" for docker's default
};

// The argv of `docker build` (run with DOCKER_BUILDKIT=1): client, build,
// --progress plain, --platform, -f, [--target], [--network], --build-arg…,
// --label…, cache args, --secret…, -t TAG, CONTEXT.
std::vector<std::string> docker_build_argv(const DockerBuild& build, const std::string& client = "docker");

// Turns "id=NAME,src=FILE" / "id=NAME,env=VAR" secrets into "id=NAME,src=FILE"
// values, writing each env secret into a 0600 file under dir (values never
// reach a command line). Throws bad_input `invalid secret "…": …` for a bad
// spec or an unset variable.
std::vector<std::string> secret_files(const std::vector<std::string>& secrets,
                                      const std::filesystem::path& dir, const core::Env& env);

// The Dockerfile a build reads: options.file, or CONTEXT/Dockerfile.
std::string dockerfile_path(const BuildOptions& options);

// The annotations for one platform's manifest among the "[TYPE:]key" options,
// keyed without the prefix: no prefix and "manifest:" apply to every
// platform, "manifest[linux/arm64]:" to that one (as in buildx); "index:"
// and "*-descriptor:" ones are left to the index.
std::map<std::string, std::string> manifest_annotations(const BuildOptions& options,
                                                        const image::Platform& platform);

}  // namespace polyarch::build
