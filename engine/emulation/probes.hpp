#pragma once
// Probe programs: one minimal static ELF per architecture, embedded as data,
// that does nothing but exit with k_probe_exit_code through the exit syscall.

#include <string>

#include "engine/emulation/arch_table.hpp"

namespace polyarch::emulation {

// The exit status every probe ends with.
constexpr int k_probe_exit_code = 42;

// The hand-assembled instructions of arch's probe (exit(42)), as bytes.
std::string probe_code(const Arch& arch);

// The whole probe executable for arch: ELF header, one PT_LOAD program
// header and the code; a few dozen to 150 bytes.
std::string probe_elf(const Arch& arch);

}  // namespace polyarch::emulation
