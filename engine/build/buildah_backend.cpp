#include "engine/build/buildah_backend.hpp"

#include <system_error>

#include "engine/build/run_logged.hpp"
#include "engine/core/error.hpp"

namespace polyarch::build {

std::vector<std::string> buildah_build_argv(const BuildahTool& tool, const BuildRequest& request,
                                            const std::string& destination) {
  const BuildOptions& options = request.options;
  std::vector<std::string> argv = {std::string(tool.program), "build",
                                   "--platform", image::normalize(request.platform).str(),
                                   "--isolation", "chroot",
                                   "--format", "oci",
                                   "--layers", "--disable-compression=false"};
  if (!options.file.empty()) argv.insert(argv.end(), {"--file", options.file});
  if (!options.target.empty()) argv.insert(argv.end(), {"--target", options.target});
  for (const auto& [key, value] : options.build_args) {
    argv.insert(argv.end(), {"--build-arg", key + "=" + value});
  }
  for (const auto& [key, value] : options.labels) {
    argv.insert(argv.end(), {"--label", key + "=" + value});
  }
  // A secret spec names a file or a variable, never the value itself.
  for (const auto& secret : options.secrets) argv.insert(argv.end(), {"--secret", secret});
  argv.insert(argv.end(), request.cache_args.begin(), request.cache_args.end());
  argv.insert(argv.end(), {"--tag", destination, options.context});
  return argv;
}

std::string oci_destination(const std::filesystem::path& work_dir) {
  std::string path = (work_dir / k_built_layout).string();
  // The oci: transport ends the path at its first ':'.
  if (path.find(':') != std::string::npos) {
    throw failure("the work directory " + work_dir.string() +
                  " contains ':', which a buildah oci: destination cannot name; "
                  "set TMPDIR to a directory without ':'");
  }
  return "oci:" + path;
}

namespace {

class BuildahBackend : public Backend {
 public:
  explicit BuildahBackend(const BuildahTool& tool) : m_tool(tool) {}

  std::string name() const override { return std::string(m_tool.name); }

  PlatformResult build(const BuildRequest& request, image::LayoutDir& into,
                       const LogLine& log) override {
    image::Platform platform = image::normalize(request.platform);
    std::filesystem::path layout = request.work_dir / k_built_layout;
    std::error_code ec;
    std::filesystem::remove_all(layout, ec);
    // The builder writes the image straight into a layout: no temporary
    // image in its storage, so nothing to remove that another build may be
    // reading, and --layers cache entries survive.
    LoggedRun built = run_logged(buildah_build_argv(m_tool, request, oci_destination(request.work_dir)), log);
    if (built.exit_code != 0) throw step_failed(platform, built);

    PlatformResult result{platform, import_single_image(layout, into)};
    result.manifest.platform = platform;
    std::filesystem::remove_all(layout, ec);
    return result;
  }

 private:
  // "build for linux/arm64 failed (buildah exit 1): <last error lines>".
  Error step_failed(const image::Platform& platform, const LoggedRun& run) const {
    return failure("build for " + platform.str() + " failed (" + std::string(m_tool.name) +
                   " exit " + std::to_string(run.exit_code) +
                   "): " + error_summary(run));
  }

  const BuildahTool& m_tool;
};

}  // namespace

std::unique_ptr<Backend> make_buildah_backend() {
  return std::make_unique<BuildahBackend>(k_buildah_tool);
}

std::unique_ptr<Backend> make_podman_backend() {
  return std::make_unique<BuildahBackend>(k_podman_tool);
}

}  // namespace polyarch::build
