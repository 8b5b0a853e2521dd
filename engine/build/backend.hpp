#pragma once
// Build backends: buildah, podman, docker (BuildKit, one platform per build)
// and buildx, behind one small interface. A backend builds one platform and
// leaves the image in an OCI layout directory; polyarch publishes from there.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/build/options.hpp"
#include "engine/image/layout.hpp"

namespace polyarch::build {

// One line of a builder's output, for the "[linux/arm64] …" prefixed log.
using LogLine = std::function<void(const std::string& line)>;

// One platform's build, with the cache arguments already translated.
struct BuildRequest {
  const BuildOptions& options;
  image::Platform platform;
  std::vector<std::string> cache_args;  // backend-specific flags from engine/cache
  std::filesystem::path work_dir;       // a private scratch directory for this build
  // Called by a backend when its builder has ended and only handing the
  // image over (an export, an import) is left: the next platform's builder
  // may start. Called from the thread running build(), at most once counts;
  // a backend that never calls it holds its slot until build() returns.
  std::function<void()> builder_done = {};
};

// What a backend hands back for one platform.
struct PlatformResult {
  image::Platform platform;
  image::Descriptor manifest;  // media type, digest, size, platform set
  double started = 0;          // seconds since the builds began (set by the pipeline)
  double finished = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // "buildah", "podman", "docker", "buildx".
  virtual std::string name() const = 0;
  // Builds one platform and writes its image (manifest, config, layers) into
  // `into`, returning its descriptor. Throws failure naming the platform and
  // the builder's last error lines.
  virtual PlatformResult build(const BuildRequest& request, image::LayoutDir& into,
                               const LogLine& log) = 0;
  // True when several platforms may build at once.
  virtual bool parallel() const { return true; }
  // Builds every platform of request.options.platforms in one run, for a
  // builder that can (buildx); request.platform is unused and
  // request.cache_args must be translated for all the platforms at once.
  // Returns one result per platform, in order, then any attestation
  // manifests as results whose platform is unknown/unknown. An empty vector
  // means "not supported here": call build() per platform instead.
  virtual std::vector<PlatformResult> build_all(const BuildRequest& /*request*/,
                                                image::LayoutDir& /*into*/, const LogLine& /*log*/) {
    return {};
  }
};

// The backend for a name ("auto" picks the first installed of buildx,
// buildah, podman, docker). Throws bad_input for an unknown name and failure
// when the named builder is not installed (saying how to install it).
std::unique_ptr<Backend> make_backend(const std::string& name);

// One constructor per backend, each in its own file; make_backend's table lists them.
std::unique_ptr<Backend> make_buildah_backend();
std::unique_ptr<Backend> make_podman_backend();
std::unique_ptr<Backend> make_docker_backend();
std::unique_ptr<Backend> make_buildx_backend();

// Moves the blobs of the one image in the OCI layout directory `from` into
// `into` and returns its manifest descriptor (following a one-entry index).
// Throws failure when `from` holds no image or several.
image::Descriptor import_single_image(const std::filesystem::path& from, image::LayoutDir& into);

}  // namespace polyarch::build
