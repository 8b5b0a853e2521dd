// make_backend: the table of build backends, and "auto".

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <unistd.h>

#include "engine/build/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/core/process.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::build {

namespace {

struct BackendRow {
  std::string_view name;
  std::unique_ptr<Backend> (*make)();
  std::string_view program;     // looked up in PATH
  std::string_view probe_args;  // when not empty, `program probe_args` must also succeed
  std::string_view install;     // how to get it, for the "not installed" message
};

// In "auto" order: the first one installed wins.
constexpr std::array k_backends = {
    BackendRow{"buildx", make_buildx_backend, "docker", "buildx version",
               "install the Docker buildx plugin: apt-get install docker-buildx-plugin"},
    BackendRow{"buildah", make_buildah_backend, "buildah", "", "apt-get install buildah"},
    BackendRow{"podman", make_podman_backend, "podman", "", "apt-get install podman"},
    BackendRow{"docker", make_docker_backend, "docker", "", "apt-get install docker.io"},
};

// True when an executable named program is in PATH.
bool in_path(std::string_view program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  for (const auto& dir : core::split(path, ':')) {
    std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) {
      return true;
    }
  }
  return false;
}

// True when the row's program is installed (and its probe command succeeds).
bool installed(const BackendRow& row) {
  if (!in_path(row.program)) return false;
  if (row.probe_args.empty()) return true;
  std::vector<std::string> argv = {std::string(row.program)};
  for (const auto& arg : core::split(row.probe_args, ' ')) argv.push_back(arg);
  try {
    return core::run_process(argv).exit_code == 0;
  } catch (const Error&) {
    return false;
  }
}

// "buildx, buildah, podman, docker" for messages.
std::string backend_names() {
  std::string names;
  for (const auto& row : k_backends) names += (names.empty() ? "" : ", ") + std::string(row.name);
  return names;
}

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "auto") {
    for (const auto& row : k_backends) {
      if (installed(row)) return row.make();
    }
    throw failure("no build backend is installed (looked for " + backend_names() +
                  "); install one, e.g. apt-get install buildah");
  }
  for (const auto& row : k_backends) {
    if (row.name != name) continue;
    if (!installed(row)) {
      throw failure("backend " + quoted(name) + " is not installed (" + std::string(row.install) +
                    ")");
    }
    return row.make();
  }
  std::array<std::string_view, k_backends.size() + 1> candidates{"auto"};
  for (size_t i = 0; i < k_backends.size(); ++i) candidates[i + 1] = k_backends[i].name;
  std::string guess = core::closest(name, candidates);
  if (!guess.empty()) {
    throw bad_input("unknown backend " + quoted(name) + "; did you mean " + quoted(guess) + "?");
  }
  throw bad_input("unknown backend " + quoted(name) + "; choose one of auto, " + backend_names());
}

}  // namespace polyarch::build
