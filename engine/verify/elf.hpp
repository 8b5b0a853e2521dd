#pragma once
// ELF identity from a file's first bytes: class, byte order, type and
// machine, matched against the rows of the emulation arch table.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/emulation/arch_table.hpp"

namespace polyarch::verify {

// How many leading bytes of a file read_elf_identity needs at most.
inline constexpr size_t k_elf_head_size = 64;

// What an ELF header says about the machine a file is built for.
struct ElfIdentity {
  std::uint8_t elf_class = 0;    // 1 = 32-bit, 2 = 64-bit
  bool big_endian = false;       // ELFDATA2MSB
  std::uint16_t type = 0;        // e_type: 1 rel, 2 exec, 3 dyn, 4 core
  std::uint16_t machine = 0;     // e_machine

  bool operator==(const ElfIdentity&) const = default;
};

// True when head starts with the ELF magic "\x7fELF".
bool has_elf_magic(std::string_view head);

// The identity in an ELF header, or nullopt when head is not an ELF header
// (no magic, too short, or an unknown class or byte order).
std::optional<ElfIdentity> read_elf_identity(std::string_view head);

// True for executables and shared objects: the files a container runs.
bool is_program(const ElfIdentity& identity);

// True when identity is a binary of arch's row (class, byte order, machine).
bool matches(const ElfIdentity& identity, const emulation::Arch& arch);

// The arch rows a binary of this identity runs on (arm/v7 and arm/v6 share one).
std::vector<const emulation::Arch*> arches_of(const ElfIdentity& identity);

// For messages: "an x86-64 ELF (linux/amd64)", "an arm ELF (linux/arm/v7 or
// linux/arm/v6)", "a 32-bit big-endian ELF for machine 8 (no known platform)".
std::string describe(const ElfIdentity& identity);

}  // namespace polyarch::verify
