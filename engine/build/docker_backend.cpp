// The docker backend: Docker engine with BuildKit, one `docker build
// --platform P` per platform (engines without buildx build one platform at
// a time), then `docker save` converted into OCI blobs in the layout.

#include "engine/build/docker_backend.hpp"

#include <sys/stat.h>

#include <mutex>
#include <random>

#include "engine/build/backend.hpp"
#include "engine/build/docker_archive.hpp"
#include "engine/build/run_logged.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::build {

std::string docker_client() {
  return std::filesystem::exists("/usr/bin/docker") ? "/usr/bin/docker" : "docker";
}

std::string dockerfile_path(const BuildOptions& options) {
  if (!options.file.empty()) return options.file;
  return (std::filesystem::path(options.context) / "Dockerfile").string();
}

std::map<std::string, std::string> manifest_annotations(const BuildOptions& options,
                                                        const image::Platform& platform) {
  std::map<std::string, std::string> out;
  std::string for_platform = "manifest[" + platform.str() + "]:";
  for (const auto& [key, value] : options.annotations) {
    if (key.starts_with("manifest:")) {
      out[key.substr(9)] = value;
    } else if (key.starts_with(for_platform)) {
      out[key.substr(for_platform.size())] = value;
    } else if (!key.starts_with("index") && !key.starts_with("manifest")) {
      out[key] = value;
    }
  }
  return out;
}

std::vector<std::string> docker_build_argv(const DockerBuild& build, const std::string& client) {
  const BuildOptions& options = build.options;
  std::vector<std::string> argv = {client, "build", "--progress", "plain",
                                   "--platform", build.platform.str(), "-f", dockerfile_path(options)};
  if (!options.target.empty()) argv.insert(argv.end(), {"--target", options.target});
  if (!build.network.empty()) argv.insert(argv.end(), {"--network", build.network});
  for (const auto& [key, value] : options.build_args) argv.insert(argv.end(), {"--build-arg", key + "=" + value});
  for (const auto& [key, value] : options.labels) argv.insert(argv.end(), {"--label", key + "=" + value});
  argv.insert(argv.end(), build.cache_args.begin(), build.cache_args.end());
  for (const auto& secret : build.secrets) argv.insert(argv.end(), {"--secret", secret});
  argv.insert(argv.end(), {"-t", build.tag, options.context});
  return argv;
}

std::vector<std::string> secret_files(const std::vector<std::string>& secrets,
                                      const std::filesystem::path& dir, const core::Env& env) {
  std::vector<std::string> out;
  for (const std::string& secret : secrets) {
    std::string id, src, var;
    for (const std::string& piece : core::split(secret, ',')) {
      size_t equals = piece.find('=');
      std::string key = piece.substr(0, equals);
      std::string value = equals == std::string::npos ? "" : piece.substr(equals + 1);
      if (key == "id") id = value;
      else if (key == "src" || key == "source") src = value;
      else if (key == "env") var = value;
      else throw bad_input("invalid secret " + quoted(secret) + ": unknown key " + quoted(key) + " (id, src, env)");
    }
    if (id.empty() || src.empty() == var.empty()) {
      throw bad_input("invalid secret " + quoted(secret) + ": expected id=NAME,src=FILE or id=NAME,env=VAR");
    }
    if (!var.empty()) {
      auto value = env.find(var);
      if (value == env.end()) {
        throw bad_input("invalid secret " + quoted(secret) + ": environment variable " + var + " is not set");
      }
      std::filesystem::create_directories(dir);
      ::chmod(dir.c_str(), 0700);
      src = (dir / ("secret-" + std::to_string(out.size()))).string();
      core::write_file_atomic(src, value->second);
      ::chmod(src.c_str(), 0600);
    }
    out.push_back("id=" + id + ",src=" + src);
  }
  return out;
}

namespace {

std::string random_tag() {
  std::random_device random;
  std::string hex = "polyarch-tmp-";
  for (int i = 0; i < 16; ++i) hex += "0123456789abcdef"[random() % 16];
  return hex;
}

class DockerBackend : public Backend {
 public:
  std::string name() const override { return "docker"; }

  // One BuildKit in one engine; measured on 2 cores (see the report), two
  // emulated builds at once finish sooner than one after the other.
  bool parallel() const override { return true; }

  PlatformResult build(const BuildRequest& request, image::LayoutDir& into,
                       const LogLine& log) override {
    const BuildOptions& options = request.options;
    const image::Platform& platform = request.platform;
    std::string client = docker_client();
    if (options.provenance) log("the docker backend makes no provenance (that needs buildx); building without it");

    DockerBuild build{options, platform, request.cache_args,
                      secret_files(options.secrets, request.work_dir / "secrets", core::process_env()),
                      random_tag(), network(client, log)};
    core::ProcessOptions process;
    process.env = core::process_env();
    (*process.env)["DOCKER_BUILDKIT"] = "1";
    LoggedRun run = run_logged(docker_build_argv(build, client), log, process);
    std::filesystem::remove_all(request.work_dir / "secrets");
    if (run.exit_code != 0) {
      tidy_buildkit_error(run.last_error_lines);
      tidy_buildkit_error(run.last_lines);
      throw failure("build for " + platform.str() + " failed (docker exit " + std::to_string(run.exit_code) +
                    "): " + error_summary(run));
    }
    if (request.builder_done) request.builder_done();  // `docker save` below needs no build slot
    struct RemoveImage {
      const std::string& client;
      const std::string& tag;
      ~RemoveImage() {
        try {
          core::run_process({client, "rmi", "-f", tag});
        } catch (const Error&) {  // the image stays behind; the build result does not depend on it
        }
      }
    } remove_image{client, build.tag};

    std::filesystem::path saved = request.work_dir / "image.docker.tar";
    core::ProcessResult save = core::run_process({client, "save", "-o", saved.string(), build.tag});
    if (save.exit_code != 0) {
      throw failure("build for " + platform.str() + " failed (docker save exit " +
                    std::to_string(save.exit_code) + "): " + std::string(core::trim(save.err)));
    }
    ArchiveImage image = import_docker_archive(saved, into, manifest_annotations(options, platform));
    std::filesystem::remove(saved);
    check_platform(image.config_platform, platform, log);
    image.manifest.platform = platform;
    return PlatformResult{platform, image.manifest};
  }

 private:
  // BuildKit frames its error in "------" lines and says it twice ("#3
  // ERROR: X" then "X"); keeps the step, its last output and the error.
  static void tidy_buildkit_error(std::deque<std::string>& lines) {
    for (std::string& line : lines) line = std::string(core::trim(line));
    std::erase_if(lines, [](const std::string& line) {
      size_t digits = line.find_first_not_of("0123456789", 1);
      bool step_error = line.starts_with("#") && digits > 1 && line.compare(digits, 8, " ERROR: ") == 0;
      return step_error || line.find_first_not_of('-') == std::string::npos;
    });
  }

  // Builds need a network: docker's default ("bridge") when the engine has
  // one, else the host's (an engine started with --bridge=none has none).
  std::string network(const std::string& client, const LogLine& log) {
    std::lock_guard lock(m_mutex);
    if (!m_network) {
      core::ProcessResult list = core::run_process({client, "network", "ls", "--format", "{{.Name}}"});
      bool bridge = list.exit_code != 0;  // unknown: leave docker's default
      for (const std::string& line : core::split(list.out, '\n')) bridge = bridge || line == "bridge";
      m_network = bridge ? "" : "host";
    }
    if (!m_network->empty()) log("the Docker engine has no bridge network; building with --network " + *m_network);
    return *m_network;
  }

  // The image config must say what was asked for (engine 20.10 writes
  // "arm" + "v7" for linux/arm/v7). Should an engine leave the variant out,
  // the index entry carries the requested one; the config bytes stay as built.
  static void check_platform(const image::Platform& built, const image::Platform& wanted, const LogLine& log) {
    if (built.os != wanted.os || built.architecture != wanted.architecture ||
        (!built.variant.empty() && built.variant != wanted.variant)) {
      throw failure("docker built " + built.str() + " when " + wanted.str() +
                    " was asked for (its image config says so)");
    }
    if (built.variant != wanted.variant) {
      log("the image config names no variant; the index entry says " + wanted.str());
    }
  }

  std::mutex m_mutex;
  std::optional<std::string> m_network;
};

}  // namespace

std::unique_ptr<Backend> make_docker_backend() { return std::make_unique<DockerBackend>(); }

}  // namespace polyarch::build
