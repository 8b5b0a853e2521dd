#include "engine/emulation/probes.hpp"

#include <cstdint>

#include "engine/core/error.hpp"

namespace polyarch::emulation {

namespace {

// The instructions, per QEMU name. Each sets the exit status to 42, the
// syscall number to exit, and traps into the kernel. Words are written in
// the architecture's byte order.
struct ProbeCode {
  std::string_view qemu;
  std::uint32_t e_flags;   // ABI flags the loader expects
  std::string_view code;   // raw bytes
};

// clang-format off
constexpr ProbeCode k_codes[] = {
    // movz x0, #42 ; movz x8, #93 (exit) ; svc #0
    {"aarch64", 0, std::string_view("\x40\x05\x80\xd2" "\xa8\x0b\x80\xd2" "\x01\x00\x00\xd4", 12)},
    // mov r0, #42 ; mov r7, #1 (exit) ; svc #0   (ARMv5 encodings: fine on v6 and v7)
    {"arm", 0x05000000, std::string_view("\x2a\x00\xa0\xe3" "\x01\x70\xa0\xe3" "\x00\x00\x00\xef", 12)},
    // mov ebx, 42 ; mov eax, 1 (exit) ; int 0x80
    {"i386", 0, std::string_view("\xbb\x2a\x00\x00\x00" "\xb8\x01\x00\x00\x00" "\xcd\x80", 12)},
    // li r3, 42 ; li r0, 1 (exit) ; sc   (ELFv2 ABI: e_flags 2)
    {"ppc64le", 2, std::string_view("\x2a\x00\x60\x38" "\x01\x00\x00\x38" "\x02\x00\x00\x44", 12)},
    // lghi %r2, 42 ; svc 1 (exit)   (big-endian)
    {"s390x", 0, std::string_view("\xa7\x29\x00\x2a" "\x0a\x01", 6)},
    // li a0, 42 ; li a7, 93 (exit) ; ecall
    {"riscv64", 0, std::string_view("\x13\x05\xa0\x02" "\x93\x08\xd0\x05" "\x73\x00\x00\x00", 12)},
    // li a0, 42 ; li v0, 5058 (n64 exit) ; syscall
    {"mips64el", 0, std::string_view("\x2a\x00\x04\x24" "\xc2\x13\x02\x24" "\x0c\x00\x00\x00", 12)},
    // mov edi, 42 ; mov eax, 60 (exit) ; syscall
    {"x86_64", 0, std::string_view("\xbf\x2a\x00\x00\x00" "\xb8\x3c\x00\x00\x00" "\x0f\x05", 12)},
};
// clang-format on

const ProbeCode& code_for(const Arch& arch) {
  for (const auto& entry : k_codes) {
    if (entry.qemu == arch.qemu) return entry;
  }
  throw failure("no probe program for " + quoted(std::string(arch.platform)));
}

// Appends an unsigned integer of size bytes in the target's byte order.
class ElfWriter {
 public:
  explicit ElfWriter(bool big_endian) : m_big_endian(big_endian) {}
  void put(std::uint64_t value, int size) {
    for (int i = 0; i < size; ++i) {
      int shift = m_big_endian ? 8 * (size - 1 - i) : 8 * i;
      // Bytes past the eighth (padding) are zero; shifting by 64 is undefined.
      m_bytes.push_back(shift < 64 ? static_cast<char>((value >> shift) & 0xff) : '\0');
    }
  }
  void append(std::string_view bytes) { m_bytes.append(bytes); }
  std::string& bytes() { return m_bytes; }

 private:
  bool m_big_endian;
  std::string m_bytes;
};

}  // namespace

std::string probe_code(const Arch& arch) { return std::string(code_for(arch).code); }

std::string probe_elf(const Arch& arch) {
  const ProbeCode& code = code_for(arch);
  const bool is64 = arch.elf_class == 2;
  const int word = is64 ? 8 : 4;
  const std::uint64_t ehdr_size = is64 ? 64 : 52;
  const std::uint64_t phdr_size = is64 ? 56 : 32;
  const std::uint64_t base = is64 ? 0x400000 : 0x10000;
  const std::uint64_t total = ehdr_size + phdr_size + code.code.size();

  ElfWriter elf(arch.big_endian);
  // e_ident: magic, class, data, version, OS ABI (SYSV), ABI version, padding.
  elf.append(std::string_view("\x7f" "ELF", 4));
  elf.put(arch.elf_class, 1);
  elf.put(arch.big_endian ? 2 : 1, 1);
  elf.put(1, 1);
  elf.put(0, 9);
  elf.put(2, 2);                  // e_type: ET_EXEC
  elf.put(arch.elf_machine, 2);   // e_machine
  elf.put(1, 4);                  // e_version
  elf.put(base + ehdr_size + phdr_size, word);  // e_entry: the code
  elf.put(ehdr_size, word);       // e_phoff
  elf.put(0, word);               // e_shoff: no sections
  elf.put(code.e_flags, 4);       // e_flags
  elf.put(ehdr_size, 2);          // e_ehsize
  elf.put(phdr_size, 2);          // e_phentsize
  elf.put(1, 2);                  // e_phnum
  elf.put(0, 2);                  // e_shentsize
  elf.put(0, 2);                  // e_shnum
  elf.put(0, 2);                  // e_shstrndx
  // One PT_LOAD segment mapping the whole file read+execute at base.
  elf.put(1, 4);                  // p_type: PT_LOAD
  if (is64) elf.put(5, 4);        // p_flags (64-bit position): R|X
  elf.put(0, word);               // p_offset
  elf.put(base, word);            // p_vaddr
  elf.put(base, word);            // p_paddr
  elf.put(total, word);           // p_filesz
  elf.put(total, word);           // p_memsz
  if (!is64) elf.put(5, 4);       // p_flags (32-bit position): R|X
  elf.put(0x1000, word);          // p_align
  elf.append(code.code);
  return elf.bytes();
}

}  // namespace polyarch::emulation
