#pragma once
// The build plan: for each platform, how it will be built here (natively,
// under QEMU emulation, or not at all), and what the Dockerfile says about
// cross-compiling.

#include <filesystem>
#include <string>
#include <vector>

#include "engine/emulation/emulate.hpp"

namespace polyarch::build {

enum class Mode { native, emulated, unsupported };

struct PlatformPlan {
  image::Platform platform;
  Mode mode = Mode::unsupported;
  std::string detail;  // "qemu-aarch64", or why it is unsupported and how to fix it
};

// What a Dockerfile tells us: does it cross-compile (FROM --platform=$BUILDPLATFORM),
// and where does it compile under emulation without doing so.
struct DockerfileFacts {
  bool cross_compiles = false;
  std::string compile_hint;  // "" or "stage \"build\" (Dockerfile:3) compiles …"
};

// Reads the Dockerfile at path; throws bad_input when it cannot be read.
DockerfileFacts scan_dockerfile(const std::filesystem::path& path);

// Plans every platform; with `setup`, registers missing QEMU handlers first
// (through the emulation engine) so that emulated platforms really run.
// A platform proven before is not proven again while its handlers and their
// interpreters are unchanged (remembered in "proven" next to system.state_file,
// unless system.proofs_file names another file).
std::vector<PlatformPlan> make_plan(const std::vector<image::Platform>& platforms,
                                    const emulation::System& system, bool setup);

// "native", "emulated", "unsupported".
std::string_view mode_name(Mode mode);

}  // namespace polyarch::build
