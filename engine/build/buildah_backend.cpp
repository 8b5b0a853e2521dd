#include "engine/build/buildah_backend.hpp"

#include <random>
#include <system_error>

#include "engine/build/run_logged.hpp"
#include "engine/core/error.hpp"

namespace polyarch::build {

std::vector<std::string> buildah_build_argv(const BuildahTool& tool, const BuildRequest& request,
                                            const std::string& image) {
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
  argv.insert(argv.end(), {"--tag", image, options.context});
  return argv;
}

std::vector<std::string> buildah_push_argv(const BuildahTool& tool, const std::string& image) {
  return {std::string(tool.program), "push", "--format", "oci", "--quiet", image,
          "oci:" + std::string(k_pushed_layout)};
}

std::vector<std::string> buildah_remove_argv(const BuildahTool& tool, const std::string& image) {
  return {std::string(tool.program), "rmi", image};
}

std::string temporary_image_name() {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::random_device random;
  std::uniform_int_distribution<int> digit(0, 15);
  std::string name = "localhost/polyarch-tmp-";
  for (int i = 0; i < 16; ++i) name += k_hex[digit(random)];
  return name;
}

namespace {

// Removes the temporary image when the build step that made it is over,
// whether it succeeded or not; a failure to remove is only logged.
class TemporaryImage {
 public:
  TemporaryImage(const BuildahTool& tool, std::string name, const LogLine& log)
      : m_tool(tool), m_name(std::move(name)), m_log(log) {}
  ~TemporaryImage() {
    if (!m_built) return;
    try {
      core::ProcessResult removed = core::run_process(buildah_remove_argv(m_tool, m_name));
      if (removed.exit_code != 0 && m_log) {
        std::string why = removed.err.substr(0, removed.err.find('\n'));
        m_log("warning: cannot remove the temporary image " + m_name + ": " + why);
      }
    } catch (const std::exception&) {
      // Cleanup only: the build result stands.
    }
  }
  TemporaryImage(const TemporaryImage&) = delete;
  TemporaryImage& operator=(const TemporaryImage&) = delete;

  const std::string& name() const { return m_name; }
  // Called once the builder has stored the image.
  void mark_built() { m_built = true; }

 private:
  const BuildahTool& m_tool;
  std::string m_name;
  const LogLine& m_log;
  bool m_built = false;
};

class BuildahBackend : public Backend {
 public:
  explicit BuildahBackend(const BuildahTool& tool) : m_tool(tool) {}

  std::string name() const override { return std::string(m_tool.name); }

  PlatformResult build(const BuildRequest& request, image::LayoutDir& into,
                       const LogLine& log) override {
    image::Platform platform = image::normalize(request.platform);
    TemporaryImage image(m_tool, temporary_image_name(), log);

    LoggedRun built = run_logged(buildah_build_argv(m_tool, request, image.name()), log);
    if (built.exit_code != 0) throw step_failed(platform, "", built);
    image.mark_built();

    std::filesystem::path layout = request.work_dir / k_pushed_layout;
    std::error_code ec;
    std::filesystem::remove_all(layout, ec);
    core::ProcessOptions in_work_dir;
    in_work_dir.cwd = request.work_dir.string();
    LoggedRun pushed = run_logged(buildah_push_argv(m_tool, image.name()), log, in_work_dir);
    if (pushed.exit_code != 0) throw step_failed(platform, " push", pushed);

    PlatformResult result{platform, import_single_image(layout, into)};
    result.manifest.platform = platform;
    std::filesystem::remove_all(layout, ec);
    return result;
  }

 private:
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
