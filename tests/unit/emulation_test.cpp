// Emulation facts: the arch table, the probes (run under real QEMU), and
// binfmt_misc line formats.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/emulation/arch_table.hpp"
#include "engine/emulation/binfmt.hpp"
#include "engine/emulation/probes.hpp"
#include "engine/emulation/prove.hpp"

namespace polyarch::emulation {
namespace {

namespace fs = std::filesystem;

const Arch& arch(const char* platform) { return arch_for(image::parse_platform(platform)); }

std::string qemu_binary(const Arch& a) { return "/usr/bin/qemu-" + std::string(a.qemu) + "-static"; }

// Every probe, run by the host's qemu-ARCH-static directly (no binfmt_misc),
// must exit with 42: a wrong byte in a probe fails here.
TEST(EmulationProbe, EveryProbeExits42UnderItsQemu) {
  for (const auto& a : arch_table()) {
    SCOPED_TRACE(std::string(a.platform));
    if (!fs::exists(qemu_binary(a))) GTEST_SKIP() << "qemu-user-static is not installed";
    std::vector<std::string> prefix = {qemu_binary(a)};
    // arm/v6 is proved on an ARMv6 CPU model, so a v7-only instruction fails.
    if (a.platform == "linux/arm/v6") prefix = {qemu_binary(a), "-cpu", "arm1176"};
    Proof proof = prove_with(a, prefix);
    EXPECT_TRUE(proof.works) << proof.detail;
    EXPECT_EQ(proof.exit_code, 42);
    EXPECT_EQ(proof.detail, "");
  }
}

TEST(EmulationProbe, HostProbesRunNatively) {
  Proof proof = prove(arch("linux/amd64"));
  if (image::host_platform().str() != "linux/amd64") GTEST_SKIP() << "not an amd64 host";
  EXPECT_TRUE(proof.works) << proof.detail;
  EXPECT_EQ(proof.exit_code, 42);
}

TEST(EmulationProbe, ProbesAreTinyStaticElfFiles) {
  for (const auto& a : arch_table()) {
    std::string elf = probe_elf(a);
    SCOPED_TRACE(std::string(a.platform));
    EXPECT_LE(elf.size(), 140u);
    EXPECT_EQ(elf.substr(0, 4), std::string("\x7f" "ELF"));
    EXPECT_EQ(static_cast<int>(elf[4]), a.elf_class);
    EXPECT_EQ(static_cast<int>(elf[5]), a.big_endian ? 2 : 1);
    EXPECT_TRUE(elf.ends_with(probe_code(a)));
  }
  // Spot-check exact bytes: the aarch64 header fields and code.
  std::string elf = probe_elf(arch("linux/arm64"));
  EXPECT_EQ(elf.size(), 132u);
  EXPECT_EQ(elf.substr(18, 2), std::string("\xb7\x00", 2));                   // EM_AARCH64
  EXPECT_EQ(elf.substr(24, 8), std::string("\x78\x00\x40\x00\x00\x00\x00\x00", 8));  // entry
  EXPECT_EQ(probe_code(arch("linux/arm64")),
            std::string("\x40\x05\x80\xd2\xa8\x0b\x80\xd2\x01\x00\x00\xd4", 12));
  // s390x is big-endian: e_machine 22 is written 00 16.
  EXPECT_EQ(probe_elf(arch("linux/s390x")).substr(18, 2), std::string("\x00\x16", 2));
}

// Each probe matches its own row's magic and mask, so binfmt_misc hands it to
// the right QEMU, and no other row's (arm/v6 and arm/v7 share qemu-arm).
TEST(EmulationProbe, ProbesMatchOnlyTheirOwnMagic) {
  for (const auto& a : arch_table()) {
    for (const auto& b : arch_table()) {
      Handler handler;
      handler.magic = decode_escaped(b.magic);
      handler.mask = decode_escaped(b.mask);
      EXPECT_EQ(handler.matches(probe_elf(a)), a.qemu == b.qemu)
          << a.platform << " against the magic of " << b.platform;
    }
  }
}

TEST(EmulationProbe, AFailingProbeSaysHowItExited) {
  Proof proof = prove_with(arch("linux/amd64"), {"sh", "-c", "exit 3", "sh"});
  EXPECT_FALSE(proof.works);
  EXPECT_EQ(proof.exit_code, 3);
  EXPECT_EQ(proof.detail, "probe exited with 3, expected 42");
  Proof missing = prove_with(arch("linux/amd64"), {"/nonexistent/qemu"});
  EXPECT_FALSE(missing.works);
  EXPECT_EQ(missing.exit_code, -1);
  EXPECT_EQ(missing.detail, "no such file or directory");
}

// Our table holds the same magic and mask as the qemu lines the distribution ships.
TEST(EmulationArchTable, MatchesTheDistributionBinfmtLines) {
  int compared = 0;
  for (const auto& a : arch_table()) {
    fs::path conf = "/usr/lib/binfmt.d/qemu-" + std::string(a.qemu) + ".conf";
    if (!fs::exists(conf)) continue;
    auto fields = parse_register_line(core::read_file(conf));
    ASSERT_TRUE(fields.has_value()) << conf;
    EXPECT_EQ((*fields)[0], "qemu-" + std::string(a.qemu));
    EXPECT_EQ((*fields)[1], "M");
    EXPECT_EQ((*fields)[3], a.magic) << conf;
    EXPECT_EQ((*fields)[4], a.mask) << conf;
    ++compared;
  }
  if (compared == 0) GTEST_SKIP() << "no /usr/lib/binfmt.d/qemu-*.conf here";
  EXPECT_GE(compared, 7);
}

TEST(EmulationArchTable, ParsesPlatformLists) {
  EXPECT_EQ(parse_arch_list("all").size(), 9u);
  auto list = parse_arch_list("linux/arm64,aarch64,arm,linux/arm/v6");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]->platform, "linux/arm64");
  EXPECT_EQ(list[1]->platform, "linux/arm/v7");
  EXPECT_EQ(list[2]->platform, "linux/arm/v6");
  try {
    parse_arch_list("linux/arm64,linux/mips");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::bad_input);
    EXPECT_EQ(std::string(error.what()),
              "cannot emulate platform \"linux/mips\": supported: linux/arm64, linux/arm/v7, "
              "linux/arm/v6, linux/386, linux/ppc64le, linux/s390x, linux/riscv64, "
              "linux/mips64le, linux/amd64");
  }
  EXPECT_THROW(parse_arch_list("linux/arm65"), Error);
}

TEST(EmulationArchTable, KnowsWhatRunsNatively) {
  image::Platform amd64 = image::parse_platform("linux/amd64");
  image::Platform arm64 = image::parse_platform("linux/arm64");
  EXPECT_TRUE(runs_natively(arch("linux/386"), amd64));
  EXPECT_TRUE(runs_natively(arch("linux/amd64"), amd64));
  EXPECT_FALSE(runs_natively(arch("linux/arm64"), amd64));
  EXPECT_TRUE(runs_natively(arch("linux/arm/v7"), arm64));
  EXPECT_FALSE(runs_natively(arch("linux/amd64"), arm64));
  EXPECT_EQ(handler_name(arch("linux/arm/v6")), "qemu-arm");
}

TEST(EmulationBinfmt, FormatsTheRegisterLine) {
  EXPECT_EQ(register_line(arch("linux/arm64"), "qemu-aarch64",
                          "/usr/libexec/qemu-binfmt/aarch64-binfmt-P", "OPF"),
            R"(:qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00)"
            R"(\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff)"
            R"(\xfe\xff\xff\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF)");
  auto fields = parse_register_line(":x:M::ab:cd:/bin/q:F\n");
  ASSERT_TRUE(fields.has_value());
  EXPECT_EQ(*fields, (std::vector<std::string>{"x", "M", "", "ab", "cd", "/bin/q", "F"}));
  EXPECT_FALSE(parse_register_line("# a comment").has_value());
  EXPECT_EQ(decode_escaped(R"(\x7fELF\x00)"), std::string("\x7f" "ELF\0", 5));
  EXPECT_THROW(decode_escaped(R"(\x7g)"), Error);
}

TEST(EmulationBinfmt, ParsesEntryFiles) {
  Handler h = parse_handler("qemu-arm",
                            "disabled\ninterpreter /usr/bin/qemu-arm-static\nflags: POCF\n"
                            "offset 0\nmagic 7f454c46\nmask ffffff00\n");
  EXPECT_FALSE(h.enabled);
  EXPECT_EQ(h.interpreter, "/usr/bin/qemu-arm-static");
  EXPECT_EQ(h.flags, "POCF");
  EXPECT_TRUE(h.fix_binary());
  EXPECT_EQ(h.magic, std::string("\x7f" "ELF", 4));
  EXPECT_EQ(h.mask, std::string("\xff\xff\xff\x00", 4));
  EXPECT_TRUE(h.matches(std::string("\x7f" "ELx", 4)));
  EXPECT_FALSE(h.matches(std::string("\x7f" "EL", 3)));
  Handler bare = parse_handler("x", "enabled\ninterpreter /q\nflags: \nextension .exe\n");
  EXPECT_TRUE(bare.enabled);
  EXPECT_EQ(bare.flags, "");
  EXPECT_FALSE(bare.matches("anything"));
  EXPECT_THROW(parse_handler("register", ""), Error);
}

}  // namespace
}  // namespace polyarch::emulation
