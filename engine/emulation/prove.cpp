#include "engine/emulation/prove.hpp"

#include <algorithm>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/emulation/probes.hpp"

namespace polyarch::emulation {

namespace fs = std::filesystem;

namespace {

// "cannot run "/tmp/x/probe": Exec format error" -> "exec format error".
std::string spawn_reason(const std::string& message) {
  std::string reason = message.substr(message.rfind(": ") == std::string::npos
                                          ? 0
                                          : message.rfind(": ") + 2);
  std::transform(reason.begin(), reason.end(), reason.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return reason;
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.size() > 200 ? line.substr(0, 200) : line;
}

}  // namespace

Proof prove_with(const Arch& arch, const std::vector<std::string>& argv_prefix) {
  core::TempDir dir("polyarch-probe");
  fs::path probe = dir.path() / ("probe-" + std::string(arch.qemu));
  core::write_file_atomic(probe, probe_elf(arch));
  fs::permissions(probe, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  std::vector<std::string> argv = argv_prefix;
  argv.push_back(probe.string());

  Proof proof;
  core::ProcessResult result;
  try {
    result = core::run_process(argv);
  } catch (const Error& error) {
    proof.detail = spawn_reason(error.what());
    return proof;
  }
  proof.exit_code = result.exit_code;
  proof.works = result.exit_code == k_probe_exit_code;
  if (!proof.works) {
    proof.detail = "probe exited with " + std::to_string(result.exit_code) + ", expected " +
                   std::to_string(k_probe_exit_code);
    if (!result.err.empty()) proof.detail += ": " + first_line(result.err);
  }
  return proof;
}

Proof prove(const Arch& arch) { return prove_with(arch, {}); }

}  // namespace polyarch::emulation
