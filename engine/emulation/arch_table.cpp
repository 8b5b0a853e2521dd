#include "engine/emulation/arch_table.hpp"

#include <algorithm>

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::emulation {

namespace {

// Magic and mask are the values of qemu's scripts/qemu-binfmt-conf.sh as
// Debian ships them in /usr/lib/binfmt.d/qemu-*.conf (i386 and x86_64 are
// left out there on amd64 hosts, so theirs come from the qemu script).
constexpr Arch k_arches[] = {
    {"linux/arm64", "aarch64", 183, 2, false,
     R"(\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00)",
     R"(\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)",
     "linux/arm64"},
    {"linux/arm/v7", "arm", 40, 1, false,
     R"(\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00)",
     R"(\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)",
     "linux/arm/v7,linux/arm64"},
    {"linux/arm/v6", "arm", 40, 1, false,
     R"(\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00)",
     R"(\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)",
     "linux/arm/v6,linux/arm/v7,linux/arm64"},
    {"linux/386", "i386", 3, 1, false,
     R"(\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00)",
     R"(\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)",
     "linux/386,linux/amd64"},
    {"linux/ppc64le", "ppc64le", 21, 2, false,
     R"(\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x15\x00)",
     R"(\xff\xff\xff\xff\xff\xff\xff\xfc\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\x00)",
     "linux/ppc64le"},
    {"linux/s390x", "s390x", 22, 2, true,
     R"(\x7f\x45\x4c\x46\x02\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x16)",
     R"(\xff\xff\xff\xff\xff\xff\xff\xfc\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff)",
     "linux/s390x"},
    {"linux/riscv64", "riscv64", 243, 2, false,
     R"(\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xf3\x00)",
     R"(\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)",
     "linux/riscv64"},
    {"linux/mips64le", "mips64el", 8, 2, false,
     R"(\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x08\x00)",
     R"(\xff\xff\xff\xff\xff\xff\xff\x00\xfe\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)",
     "linux/mips64le"},
    {"linux/amd64", "x86_64", 62, 2, false,
     R"(\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00)",
     R"(\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)",
     "linux/amd64"},
};

std::string supported_list() {
  std::string list;
  for (const auto& arch : k_arches) list += (list.empty() ? "" : ", ") + std::string(arch.platform);
  return list;
}

}  // namespace

std::span<const Arch> arch_table() { return k_arches; }

const Arch* find_arch(const image::Platform& platform) {
  std::string name = platform.str();
  for (const auto& arch : k_arches) {
    if (arch.platform == name) return &arch;
  }
  return nullptr;
}

const Arch& arch_for(const image::Platform& platform) {
  const Arch* arch = find_arch(platform);
  if (arch == nullptr) {
    throw bad_input("cannot emulate platform " + quoted(platform.str()) +
                    ": supported: " + supported_list());
  }
  return *arch;
}

bool runs_natively(const Arch& arch, const image::Platform& host) {
  auto hosts = core::split(arch.native_on, ',');
  return std::find(hosts.begin(), hosts.end(), host.str()) != hosts.end();
}

std::string handler_name(const Arch& arch) { return "qemu-" + std::string(arch.qemu); }

std::vector<const Arch*> parse_arch_list(std::string_view text) {
  std::vector<const Arch*> arches;
  if (core::trim(text) == "all") {
    for (const auto& arch : k_arches) arches.push_back(&arch);
    return arches;
  }
  if (core::trim(text).empty()) throw bad_input("--platform needs at least one platform");
  for (const auto& platform : image::parse_platforms(text)) {
    const Arch* arch = &arch_for(platform);
    if (std::find(arches.begin(), arches.end(), arch) == arches.end()) arches.push_back(arch);
  }
  return arches;
}

}  // namespace polyarch::emulation
