#pragma once
// The emulation stage: report each platform (native | emulated | missing |
// broken), set up what is missing, prove it, and undo what polyarch did.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/process.hpp"
#include "engine/emulation/arch_table.hpp"
#include "engine/emulation/binfmt.hpp"
#include "engine/emulation/prove.hpp"
#include "engine/image/platform.hpp"

namespace polyarch::emulation {

enum class State { native, emulated, missing, broken };

// "native", "emulated", "missing", "broken".
std::string_view state_name(State state);

// What polyarch knows about one platform after checking (and maybe fixing) it.
struct PlatformReport {
  const Arch* arch = nullptr;
  State state = State::missing;
  std::string handler;      // the binfmt_misc handler used or at fault
  std::string interpreter;  // its interpreter path
  std::string flags;        // its flags, e.g. "POCF"
  std::string reason;       // missing/broken: why; emulated: a warning or ""
  std::string fix;          // missing/broken: what the user can do
  std::vector<std::string> actions;  // what polyarch changed, in order

  bool works() const { return state == State::native || state == State::emulated; }
};

// The machine, behind seams: tests replace any of these.
struct System {
  BinfmtDir binfmt;                                   // where binfmt_misc is
  fs::path state_file = "/run/polyarch/binfmt-handlers";  // handlers polyarch registered
  // Where proofs are remembered (see proofs.hpp); "" proves every time, as
  // `polyarch emulate` and `doctor` do. `polyarch build`'s plan uses
  // "proven" next to state_file.
  fs::path proofs_file;
  image::Platform host = image::host_platform();
  bool is_root = false;
  std::vector<fs::path> conf_dirs = {"/etc/binfmt.d", "/usr/lib/binfmt.d"};  // distro lines
  std::vector<fs::path> qemu_dirs = {"/usr/bin", "/usr/local/bin"};  // qemu-ARCH-static
  std::function<Proof(const Arch&)> prove = emulation::prove;
  std::function<core::ProcessResult(const std::vector<std::string>&)> run =
      [](const std::vector<std::string>& argv) { return core::run_process(argv); };
  std::string docker = "docker";                      // the docker client for the image path
  std::string binfmt_image = "docker.io/tonistiigi/binfmt:latest";

  // The real machine: /proc/sys/fs/binfmt_misc, euid 0 or not.
  static System real();
};

// The interpreter and flags polyarch registers for arch: the distribution's
// binfmt.d line (its interpreter, its flags plus F) when there is one and its
// interpreter exists, else qemu-ARCH-static from qemu_dirs with "OCF";
// nullopt when the host has no QEMU for arch.
std::optional<std::pair<std::string, std::string>> choose_interpreter(const System& system,
                                                                      const Arch& arch);

// Reports arch without changing anything.
PlatformReport check(const System& system, const Arch& arch);

// The outcome of setup: one report per platform, plus what stopped polyarch
// from fixing them ("" when nothing did) and machine-wide changes.
struct SetupResult {
  std::vector<PlatformReport> platforms;
  std::string problem;               // e.g. "registering QEMU handlers needs root …"
  std::vector<std::string> actions;  // e.g. "mounted binfmt_misc on /proc/sys/fs/binfmt_misc"

  bool all_work() const;
};

// Checks every arch, then (unless check_only) mounts binfmt_misc, repairs or
// registers handlers and proves them again. Never throws for a platform that
// can't be made to work: its report says why.
SetupResult setup(const System& system, const std::vector<const Arch*>& arches, bool check_only);

// Removes the handlers for arches that polyarch registered (all matching
// handlers with force). Returns the handlers removed. Throws failure without root.
std::vector<Handler> uninstall(const System& system, const std::vector<const Arch*>& arches,
                                   bool force);

// argv that installs arches with the tonistiigi/binfmt image through docker.
std::vector<std::string> binfmt_image_argv(const System& system,
                                           const std::vector<const Arch*>& arches);

}  // namespace polyarch::emulation
