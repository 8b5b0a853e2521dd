#include "engine/verify/elf.hpp"

namespace polyarch::verify {

namespace {

constexpr std::string_view k_magic = "\x7f" "ELF";
constexpr size_t k_class_offset = 4;
constexpr size_t k_data_offset = 5;
constexpr size_t k_type_offset = 16;
constexpr size_t k_machine_offset = 18;

std::uint16_t read_u16(std::string_view bytes, size_t offset, bool big_endian) {
  auto hi = static_cast<std::uint8_t>(bytes[offset + (big_endian ? 0 : 1)]);
  auto lo = static_cast<std::uint8_t>(bytes[offset + (big_endian ? 1 : 0)]);
  return static_cast<std::uint16_t>(hi << 8 | lo);
}

// The arch row's QEMU name, as people write it: x86_64 -> x86-64.
std::string machine_name(const emulation::Arch& arch) {
  std::string name(arch.qemu);
  for (char& c : name) {
    if (c == '_') c = '-';
  }
  return name;
}

// "an" before names read with a vowel sound (aarch64, i386, x86-64, s390x).
std::string with_article(const std::string& name) {
  bool vowel = !name.empty() && std::string_view("aeiosx").find(name[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + name;
}

}  // namespace

bool has_elf_magic(std::string_view head) { return head.starts_with(k_magic); }

std::optional<ElfIdentity> read_elf_identity(std::string_view head) {
  if (!has_elf_magic(head) || head.size() < k_machine_offset + 2) return std::nullopt;
  auto elf_class = static_cast<std::uint8_t>(head[k_class_offset]);
  auto data = static_cast<std::uint8_t>(head[k_data_offset]);
  if ((elf_class != 1 && elf_class != 2) || (data != 1 && data != 2)) return std::nullopt;
  ElfIdentity identity;
  identity.elf_class = elf_class;
  identity.big_endian = data == 2;
  identity.type = read_u16(head, k_type_offset, identity.big_endian);
  identity.machine = read_u16(head, k_machine_offset, identity.big_endian);
  return identity;
}

bool is_program(const ElfIdentity& identity) { return identity.type == 2 || identity.type == 3; }

bool matches(const ElfIdentity& identity, const emulation::Arch& arch) {
  return identity.elf_class == arch.elf_class && identity.big_endian == arch.big_endian &&
         identity.machine == arch.elf_machine;
}

std::vector<const emulation::Arch*> arches_of(const ElfIdentity& identity) {
  std::vector<const emulation::Arch*> arches;
  for (const auto& arch : emulation::arch_table()) {
    if (matches(identity, arch)) arches.push_back(&arch);
  }
  return arches;
}

std::string describe(const ElfIdentity& identity) {
  std::vector<const emulation::Arch*> arches = arches_of(identity);
  if (arches.empty()) {
    return std::string("a ") + (identity.elf_class == 2 ? "64-bit " : "32-bit ") +
           (identity.big_endian ? "big-endian" : "little-endian") + " ELF for machine " +
           std::to_string(identity.machine) + " (no known platform)";
  }
  std::string platforms;
  for (const auto* arch : arches) {
    platforms += (platforms.empty() ? "" : " or ") + std::string(arch->platform);
  }
  return with_article(machine_name(*arches.front())) + " ELF (" + platforms + ")";
}

}  // namespace polyarch::verify
