#include "engine/build/buildah_backend.hpp"

#include <regex>
#include <system_error>

#include "engine/build/run_logged.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"

namespace polyarch::build {

std::vector<std::string> buildah_build_argv(const BuildahTool& tool, const BuildRequest& request,
                                            const std::string& id_file) {
  const BuildOptions& options = request.options;
  std::vector<std::string> argv = {std::string(tool.program), "build",
                                   "--platform", image::normalize(request.platform).str(),
                                   "--isolation", "chroot",
                                   "--format", "oci",
                                   "--layers"};
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
  argv.insert(argv.end(), {"--iidfile", id_file, options.context});
  return argv;
}

std::vector<std::string> buildah_push_argv(const BuildahTool& tool, const std::string& image_id) {
  return {std::string(tool.program), "push", "--format", "oci", "--quiet", image_id,
          "oci:" + std::string(k_pushed_layout)};
}

namespace {

class BuildahBackend : public Backend {
 public:
  explicit BuildahBackend(const BuildahTool& tool) : m_tool(tool) {}

  std::string name() const override { return std::string(m_tool.name); }

  // The image is left in the builder's storage untagged, as --layers leaves
  // every step: the cache of the next build. Nothing is removed, so nothing
  // can vanish under another build's cache lookup.
  PlatformResult build(const BuildRequest& request, image::LayoutDir& into,
                       const LogLine& log) override {
    image::Platform platform = image::normalize(request.platform);
    std::filesystem::path id_file = request.work_dir / "image-id";
    std::filesystem::path layout = request.work_dir / k_pushed_layout;
    std::error_code ec;
    std::filesystem::remove(id_file, ec);
    std::filesystem::remove_all(layout, ec);

    LoggedRun built = run_logged(buildah_build_argv(m_tool, request, id_file.string()), log);
    if (built.exit_code != 0) throw step_failed(platform, "", built);
    std::string image_id = read_image_id(id_file, platform);
    if (request.builder_done) request.builder_done();  // the export below needs no build slot

    core::ProcessOptions in_work_dir;
    in_work_dir.cwd = request.work_dir.string();
    LoggedRun pushed = run_logged(buildah_push_argv(m_tool, image_id), log, in_work_dir);
    if (pushed.exit_code != 0) throw step_failed(platform, " push", pushed);

    PlatformResult result{platform, import_single_image(layout, into)};
    result.manifest.platform = platform;
    std::filesystem::remove_all(layout, ec);
    return result;
  }

 private:
  // "sha256:<64 hex>", as --iidfile writes it.
  std::string read_image_id(const std::filesystem::path& id_file, const image::Platform& platform) const {
    std::error_code ec;
    std::string id = std::filesystem::exists(id_file, ec) ? core::read_file(id_file) : "";
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    static const std::regex k_id("sha256:[0-9a-f]{64}");
    if (!std::regex_match(id, k_id)) {
      throw failure("build for " + platform.str() + " failed: " + std::string(m_tool.name) +
                    " exited 0 but wrote no image ID to " + id_file.string());
    }
    return id;
  }

  // "build for linux/arm64 failed (buildah exit 1): <last error lines>".
  Error step_failed(const image::Platform& platform, std::string_view step,
                    const LoggedRun& run) const {
    return failure("build for " + platform.str() + " failed (" + std::string(m_tool.name) +
                   std::string(step) + " exit " + std::to_string(run.exit_code) +
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
