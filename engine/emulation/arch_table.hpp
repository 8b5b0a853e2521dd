#pragma once
// The architectures polyarch can emulate, as rows of one table: platform,
// QEMU name, ELF identity and the binfmt_misc magic and mask that qemu ships.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/image/platform.hpp"

namespace polyarch::emulation {

struct Arch {
  std::string_view platform;     // "linux/arm64"
  std::string_view qemu;         // "aarch64": qemu-aarch64-static, handler "qemu-aarch64"
  std::uint16_t elf_machine;     // e_machine, e.g. 183 (EM_AARCH64)
  std::uint8_t elf_class;        // 1 = ELFCLASS32, 2 = ELFCLASS64
  bool big_endian;               // ELFDATA2MSB
  std::string_view magic;        // binfmt magic as qemu writes it: "\x7f\x45…" (text)
  std::string_view mask;         // binfmt mask, same form
  std::string_view native_on;    // comma-separated host platforms that run it natively
};

// Every architecture, in the order `--platform all` lists them.
std::span<const Arch> arch_table();

// The row for a platform, or nullptr when polyarch has no facts for it.
const Arch* find_arch(const image::Platform& platform);

// The row for a platform; throws bad_input
// `cannot emulate platform "linux/mips": supported: linux/arm64, …`.
const Arch& arch_for(const image::Platform& platform);

// True when a host of platform host runs arch's binaries without emulation
// (the same platform, amd64 → 386, arm64 → arm/v7 where the CPU allows, …).
bool runs_natively(const Arch& arch, const image::Platform& host);

// The binfmt_misc handler name polyarch registers: "qemu-aarch64".
std::string handler_name(const Arch& arch);

// Parses "all" or "P,…" into rows; throws bad_input for a platform with no row.
std::vector<const Arch*> parse_arch_list(std::string_view text);

}  // namespace polyarch::emulation
