#pragma once
// Proving emulation: run an architecture's probe and check its exit status.

#include <string>
#include <vector>

#include "engine/emulation/arch_table.hpp"

namespace polyarch::emulation {

// What happened when a probe ran.
struct Proof {
  bool works = false;   // exited with k_probe_exit_code
  int exit_code = -1;   // its exit status (128 + signal), or -1 when it did not start
  std::string detail;   // "" when it works, else why not: "exec format error", …
};

// Writes arch's probe to a temp file and executes it directly, as the
// kernel (and binfmt_misc) would run a container's binaries. Never throws for
// a probe that fails: that is the answer.
Proof prove(const Arch& arch);

// Runs arch's probe as argv_prefix + [probe path], e.g. {"qemu-aarch64-static"};
// for tests that check a probe without binfmt_misc.
Proof prove_with(const Arch& arch, const std::vector<std::string>& argv_prefix);

}  // namespace polyarch::emulation
