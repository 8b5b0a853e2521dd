// The emulation stage against a fake binfmt_misc directory: detection,
// repair, registration, the state file, --uninstall and the Docker path.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/build/plan.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/emulation/emulate.hpp"
#include "engine/emulation/probes.hpp"
#include "engine/emulation/proofs.hpp"
#include "engine/emulation/state.hpp"

namespace polyarch::emulation {
namespace {

namespace fs = std::filesystem;

const Arch& arch(const char* platform) { return arch_for(image::parse_platform(platform)); }

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += {digits[c >> 4], digits[c & 15]};
  return out;
}

class EmulationSetup : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(binfmt());
    write(binfmt() / "register", "");
    write(binfmt() / "status", "enabled\n");
    fs::create_directories(m_temp.path() / "bin");
    write(qemu("aarch64"), "");
    m_system.binfmt = BinfmtDir(binfmt());
    m_system.state_file = m_temp.path() / "run/binfmt-handlers";
    m_system.host = image::parse_platform("linux/amd64");
    m_system.is_root = true;
    m_system.conf_dirs = {};
    m_system.qemu_dirs = {m_temp.path() / "bin"};
    // The fake kernel: a probe "works" when an enabled entry with an
    // existing interpreter matches it, as binfmt_misc would decide.
    m_system.prove = [this](const Arch& a) {
      Proof proof;
      for (const auto& h : BinfmtDir(binfmt()).handlers()) {
        if (h.matches(probe_elf(a)) && h.enabled) {
          proof.works = h.interpreter_exists;
          proof.detail = proof.works ? "" : "no such file or directory";
          return proof;
        }
      }
      proof.detail = "exec format error";
      return proof;
    };
    m_system.run = [this](const std::vector<std::string>& argv) {
      m_commands.push_back(argv);
      return core::ProcessResult{m_docker_exit, "", ""};
    };
  }

  // Counts, in proofs, every proof m_system runs from now on.
  void count_proofs(int& proofs) {
    m_system.prove = [&proofs, kernel = m_system.prove](const Arch& a) {
      ++proofs;
      return kernel(a);
    };
  }

  fs::path binfmt() const { return m_temp.path() / "binfmt_misc"; }
  fs::path qemu(const std::string& name) const { return m_temp.path() / "bin" / ("qemu-" + name + "-static"); }
  static void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }
  void add_entry(const std::string& name, const Arch& a, bool enabled, const std::string& interpreter,
                 const std::string& flags) {
    write(binfmt() / name, std::string(enabled ? "enabled" : "disabled") + "\ninterpreter " +
                               interpreter + "\nflags: " + flags + "\noffset 0\nmagic " +
                               hex(decode_escaped(a.magic)) + "\nmask " +
                               hex(decode_escaped(a.mask)) + "\n");
  }

  core::TempDir m_temp;
  System m_system;
  std::vector<std::vector<std::string>> m_commands;
  int m_docker_exit = 1;
};

TEST_F(EmulationSetup, ReportsNotMounted) {
  fs::remove(binfmt() / "register");
  PlatformReport r = check(m_system, arch("linux/arm64"));
  EXPECT_EQ(r.state, State::missing);
  EXPECT_EQ(r.reason, "binfmt_misc is not mounted on " + binfmt().string());
}

TEST_F(EmulationSetup, ReportsMissingDisabledAndGoneInterpreters) {
  PlatformReport missing = check(m_system, arch("linux/riscv64"));
  EXPECT_EQ(missing.state, State::missing);
  EXPECT_EQ(missing.reason, "no binfmt_misc handler for linux/riscv64 (exec format error)");
  EXPECT_EQ(missing.fix,
            "install qemu-user-static, then run `polyarch emulate --platform linux/riscv64` as "
            "root, or run on a native linux/riscv64 runner");

  add_entry("qemu-aarch64", arch("linux/arm64"), false, qemu("aarch64").string(), "OCF");
  PlatformReport disabled = check(m_system, arch("linux/arm64"));
  EXPECT_EQ(disabled.state, State::broken);
  EXPECT_EQ(disabled.reason, "handler qemu-aarch64 is disabled");
  EXPECT_EQ(disabled.fix, "run `polyarch emulate --platform linux/arm64` as root, or run on a "
                          "native linux/arm64 runner");

  add_entry("polyarch-test", arch("linux/s390x"), true, "/nonexistent/qemu-s390x", "");
  PlatformReport gone = check(m_system, arch("linux/s390x"));
  EXPECT_EQ(gone.state, State::broken);
  EXPECT_EQ(gone.reason, "interpreter /nonexistent/qemu-s390x of handler polyarch-test does not exist");

  add_entry("qemu-ppc64le", arch("linux/ppc64le"), true, qemu("aarch64").string(), "OC");
  PlatformReport works = check(m_system, arch("linux/ppc64le"));
  EXPECT_EQ(works.state, State::emulated);
  EXPECT_EQ(works.flags, "OC");
  EXPECT_EQ(works.reason,
            "handler qemu-ppc64le lacks the F flag: containers need its interpreter inside them");
}

TEST_F(EmulationSetup, NativePlatformsNeedNoHandler) {
  m_system.prove = [](const Arch&) { return Proof{true, 42, ""}; };
  EXPECT_EQ(check(m_system, arch("linux/amd64")).state, State::native);
  EXPECT_EQ(check(m_system, arch("linux/386")).state, State::native);
}

TEST_F(EmulationSetup, RegistersTheHostQemuWithF) {
  SetupResult result = setup(m_system, {&arch("linux/arm64")}, false);
  // The fake register file holds what the kernel would have been told.
  EXPECT_EQ(core::read_file(binfmt() / "register"),
            register_line(arch("linux/arm64"), "qemu-aarch64", qemu("aarch64").string(), "OCF"));
  ASSERT_EQ(result.platforms.size(), 1u);
  EXPECT_EQ(result.platforms[0].actions,
            std::vector<std::string>{"registered handler qemu-aarch64: " + qemu("aarch64").string() +
                                     " (flags OCF)"});
  EXPECT_EQ(core::read_file(m_system.state_file), "qemu-aarch64 " + qemu("aarch64").string() + "\n");
}

TEST_F(EmulationSetup, PrefersTheDistributionLineAndAddsF) {
  fs::create_directories(m_temp.path() / "binfmt.d");
  write(m_temp.path() / "binfmt.d/qemu-aarch64.conf",
        "# comment\n:qemu-aarch64:M::x:y:" + qemu("aarch64").string() + ":OP\n");
  m_system.conf_dirs = {m_temp.path() / "binfmt.d"};
  auto choice = choose_interpreter(m_system, arch("linux/arm64"));
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->first, qemu("aarch64").string());
  EXPECT_EQ(choice->second, "OPF");
  EXPECT_FALSE(choose_interpreter(m_system, arch("linux/s390x")).has_value());
}

TEST_F(EmulationSetup, CheckOnlyChangesNothing) {
  add_entry("qemu-aarch64", arch("linux/arm64"), false, qemu("aarch64").string(), "OCF");
  SetupResult result = setup(m_system, {&arch("linux/arm64")}, true);
  EXPECT_EQ(result.platforms[0].state, State::broken);
  EXPECT_EQ(core::read_file(binfmt() / "qemu-aarch64").substr(0, 8), "disabled");
  EXPECT_EQ(core::read_file(binfmt() / "register"), "");
}

TEST_F(EmulationSetup, RepairsByEnablingAndDisablingButNeverClobbers) {
  add_entry("qemu-aarch64", arch("linux/arm64"), false, qemu("aarch64").string(), "OCF");
  add_entry("polyarch-test", arch("linux/arm64"), true, "/nonexistent/qemu", "");
  m_system.prove = [this](const Arch&) {
    // Works only once the broken handler is off and ours is on: the fake
    // entry files receive "0" and "1" as binfmt_misc's would.
    bool ours_on = core::read_file(binfmt() / "qemu-aarch64") == "1";
    bool broken_off = core::read_file(binfmt() / "polyarch-test") == "0";
    return Proof{ours_on && broken_off, 0, ""};
  };
  SetupResult result = setup(m_system, {&arch("linux/arm64")}, false);
  EXPECT_EQ(result.platforms[0].actions,
            (std::vector<std::string>{
                "disabled handler polyarch-test: its interpreter /nonexistent/qemu does not exist",
                "enabled handler qemu-aarch64"}));
  EXPECT_EQ(core::read_file(binfmt() / "register"), "");
  EXPECT_FALSE(fs::exists(m_system.state_file));
}

TEST_F(EmulationSetup, AProofIsTrustedWhileItsHandlerAndInterpreterStayTheSame) {
  int proofs = 0;
  count_proofs(proofs);
  m_system.proofs_file = m_temp.path() / "run/proven";
  write(qemu("aarch64"), "qemu");
  add_entry("qemu-aarch64", arch("linux/arm64"), true, qemu("aarch64").string(), "OCF");

  EXPECT_EQ(check(m_system, arch("linux/arm64")).state, State::emulated);
  EXPECT_EQ(check(m_system, arch("linux/arm64")).state, State::emulated);
  EXPECT_EQ(proofs, 1);
  std::string line = core::read_file(m_system.proofs_file);
  EXPECT_EQ(line.substr(0, 12), "linux/arm64 ");
  EXPECT_EQ(line.size(), 12u + 64u + 1u);

  write(qemu("aarch64"), "a newer qemu");  // another interpreter: prove again
  EXPECT_EQ(check(m_system, arch("linux/arm64")).state, State::emulated);
  EXPECT_EQ(proofs, 2);
  EXPECT_NE(core::read_file(m_system.proofs_file), line);

  add_entry("qemu-aarch64", arch("linux/arm64"), false, qemu("aarch64").string(), "OCF");
  PlatformReport disabled = check(m_system, arch("linux/arm64"));
  EXPECT_EQ(proofs, 3);
  EXPECT_EQ(disabled.state, State::broken);
  EXPECT_EQ(disabled.reason, "handler qemu-aarch64 is disabled");
  add_entry("qemu-aarch64", arch("linux/arm64"), true, qemu("aarch64").string(), "OCF");
  EXPECT_EQ(check(m_system, arch("linux/arm64")).state, State::emulated);
  EXPECT_EQ(proofs, 3) << "enabled again as it was proven: no new proof";
}

TEST_F(EmulationSetup, AFailedProofIsNotRememberedAndEmulateAlwaysProves) {
  int proofs = 0;
  m_system.prove = [&](const Arch&) {
    ++proofs;
    return Proof{false, 1, "probe exited with 1, expected 42"};
  };
  m_system.proofs_file = m_temp.path() / "run/proven";
  add_entry("qemu-aarch64", arch("linux/arm64"), true, qemu("aarch64").string(), "OCF");
  EXPECT_EQ(check(m_system, arch("linux/arm64")).state, State::broken);
  EXPECT_EQ(check(m_system, arch("linux/arm64")).state, State::broken);
  EXPECT_EQ(proofs, 2);
  EXPECT_FALSE(fs::exists(m_system.proofs_file));

  m_system.prove = [&](const Arch&) {
    ++proofs;
    return Proof{true, 42, ""};
  };
  m_system.proofs_file.clear();  // `polyarch emulate` and `doctor`
  check(m_system, arch("linux/arm64"));
  check(m_system, arch("linux/arm64"));
  EXPECT_EQ(proofs, 4);
}

TEST_F(EmulationSetup, ABuildPlanRemembersProofsNextToTheStateFile) {
  int proofs = 0;
  count_proofs(proofs);
  add_entry("qemu-aarch64", arch("linux/arm64"), true, qemu("aarch64").string(), "OCF");
  add_entry("qemu-arm", arch("linux/arm/v7"), true, qemu("aarch64").string(), "OCF");
  auto platforms = image::parse_platforms("linux/amd64,linux/arm64,linux/arm/v7");
  for (int run = 0; run < 2; ++run) {
    auto plans = build::make_plan(platforms, m_system, true);
    ASSERT_EQ(plans.size(), 3u);
    EXPECT_EQ(plans[0].mode, build::Mode::native);
    EXPECT_EQ(plans[1].mode, build::Mode::emulated);
    EXPECT_EQ(plans[1].detail, "qemu-aarch64");
    EXPECT_EQ(plans[2].mode, build::Mode::emulated);
    EXPECT_EQ(plans[2].detail, "qemu-arm");
  }
  EXPECT_EQ(proofs, 2) << "the second build proved nothing again";
  std::string remembered = core::read_file(m_system.state_file.parent_path() / "proven");
  EXPECT_EQ(std::count(remembered.begin(), remembered.end(), '\n'), 2);
  EXPECT_NE(remembered.find("linux/arm64 "), std::string::npos);
  EXPECT_NE(remembered.find("linux/arm/v7 "), std::string::npos);
}

TEST_F(EmulationSetup, WithoutRootSaysSo) {
  m_system.is_root = false;
  SetupResult result = setup(m_system, {&arch("linux/arm64")}, false);
  EXPECT_EQ(result.problem, "setting up emulation needs root: run `polyarch emulate` as root "
                            "(sudo), or run on native runners");
  EXPECT_FALSE(result.all_work());
  EXPECT_EQ(core::read_file(binfmt() / "register"), "");
  try {
    uninstall(m_system, {&arch("linux/arm64")}, false);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()), "removing binfmt_misc handlers needs root: run "
                                         "`polyarch emulate --uninstall` as root (sudo)");
  }
}

TEST_F(EmulationSetup, UninstallRemovesOnlyWhatPolyarchRegistered) {
  add_entry("qemu-aarch64", arch("linux/arm64"), true, qemu("aarch64").string(), "OCF");
  add_entry("qemu-arm", arch("linux/arm/v7"), true, "/usr/bin/qemu-arm-static", "F");
  write_registered(m_system.state_file, {{"qemu-aarch64", qemu("aarch64").string()}});
  auto removed = uninstall(m_system, {&arch("linux/arm64"), &arch("linux/arm/v7")}, false);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].name, "qemu-aarch64");
  EXPECT_EQ(core::read_file(binfmt() / "qemu-aarch64"), "-1");
  EXPECT_EQ(core::read_file(binfmt() / "qemu-arm").substr(0, 7), "enabled");
  EXPECT_FALSE(fs::exists(m_system.state_file));

  auto forced = uninstall(m_system, {&arch("linux/arm/v7")}, true);
  ASSERT_EQ(forced.size(), 1u);
  EXPECT_EQ(forced[0].name, "qemu-arm");
  EXPECT_EQ(core::read_file(binfmt() / "qemu-arm"), "-1");
}

TEST_F(EmulationSetup, UsesTheBinfmtImageWhenThereIsNoHostQemu) {
  m_system.binfmt_image = "docker.io/tonistiigi/binfmt:qemu-v7.0.0";
  EXPECT_EQ(binfmt_image_argv(m_system, {&arch("linux/arm/v7"), &arch("linux/arm/v6"),
                                         &arch("linux/riscv64")}),
            (std::vector<std::string>{"docker", "run", "--privileged", "--rm",
                                      "docker.io/tonistiigi/binfmt:qemu-v7.0.0", "--install",
                                      "arm,riscv64"}));
  m_docker_exit = 0;
  SetupResult result = setup(m_system, {&arch("linux/s390x")}, false);
  ASSERT_EQ(m_commands.size(), 2u);
  EXPECT_EQ(m_commands[0], (std::vector<std::string>{"docker", "version", "--format",
                                                     "{{.Server.Version}}"}));
  EXPECT_EQ(m_commands[1].back(), "s390x");
  // The image "succeeded" but nothing appeared: polyarch does not trust it.
  EXPECT_EQ(result.platforms[0].state, State::missing);
}

TEST(EmulationState, RoundTripsRecords) {
  core::TempDir temp;
  fs::path file = temp.path() / "a/b/handlers";
  EXPECT_TRUE(read_registered(file).empty());
  add_registered(file, {"qemu-arm", "/usr/bin/qemu-arm-static"});
  add_registered(file, {"qemu-s390x", "/x"});
  add_registered(file, {"qemu-arm", "/y"});
  EXPECT_EQ(core::read_file(file), "qemu-s390x /x\nqemu-arm /y\n");
  write_registered(file, {});
  EXPECT_FALSE(fs::exists(file));
}

}  // namespace
}  // namespace polyarch::emulation
