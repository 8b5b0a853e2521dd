#include "engine/emulation/emulate.hpp"

#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/emulation/probes.hpp"
#include "engine/emulation/proofs.hpp"
#include "engine/emulation/state.hpp"

namespace polyarch::emulation {

namespace {

std::vector<Handler> matching_handlers(const System& system, const Arch& arch) {
  std::vector<Handler> matching;
  if (!system.binfmt.mounted()) return matching;
  std::string header = probe_elf(arch);
  for (auto& handler : system.binfmt.handlers()) {
    if (handler.matches(header)) matching.push_back(std::move(handler));
  }
  return matching;
}

// A handler that can never run: enabled, no F flag, interpreter gone.
bool interpreter_gone(const Handler& handler) {
  return handler.enabled && !handler.interpreter_exists && !handler.fix_binary();
}

// The handler the report names: our name first, then any enabled one.
const Handler* pick(const std::vector<Handler>& matching, const Arch& arch) {
  for (const auto& h : matching) {
    if (interpreter_gone(h)) return &h;
  }
  for (const auto& h : matching) {
    if (h.enabled && h.name == handler_name(arch)) return &h;
  }
  for (const auto& h : matching) {
    if (h.enabled) return &h;
  }
  return matching.empty() ? nullptr : &matching.front();
}

// system.prove(arch), unless the same handlers and interpreters proved it
// before (with system.proofs_file set); a new success is remembered.
Proof prove_remembered(const System& system, const Arch& arch, const std::vector<Handler>& matching) {
  if (system.proofs_file.empty()) return system.prove(arch);
  std::string fingerprint = proof_fingerprint(matching);
  if (proven_before(system.proofs_file, arch, fingerprint)) return Proof{true, k_probe_exit_code, ""};
  Proof proof = system.prove(arch);
  if (proof.works) remember_proof(system.proofs_file, arch, fingerprint);
  return proof;
}

std::string fix_for(const System& system, const Arch& arch) {
  std::string platform(arch.platform);
  std::string native = "run on a native " + platform + " runner";
  std::string command = "run `polyarch emulate --platform " + platform + "` as root";
  if (!choose_interpreter(system, arch)) {
    return "install qemu-user-static, then " + command + ", or " + native;
  }
  return command + ", or " + native;
}

bool docker_reachable(const System& system) {
  try {
    return system.run({system.docker, "version", "--format", "{{.Server.Version}}"}).exit_code == 0;
  } catch (const Error&) {
    return false;
  }
}

// Installs arch with the tonistiigi/binfmt image and records what appeared.
void install_with_image(const System& system, const Arch& arch, PlatformReport& report) {
  if (!docker_reachable(system)) return;
  std::set<std::string> before;
  for (const auto& h : system.binfmt.handlers()) before.insert(h.name);
  core::ProcessResult result = system.run(binfmt_image_argv(system, {&arch}));
  report.actions.push_back("ran " + system.binfmt_image + " --install (exit " +
                           std::to_string(result.exit_code) + ")");
  for (const auto& h : system.binfmt.handlers()) {
    if (before.count(h.name) == 0) add_registered(system.state_file, {h.name, h.interpreter});
  }
}

// Makes arch work if polyarch can: disable handlers whose interpreter is
// gone, enable a disabled one that works, else register our own.
void repair(const System& system, const Arch& arch, PlatformReport& report) {
  for (const auto& h : matching_handlers(system, arch)) {
    if (!interpreter_gone(h)) continue;
    system.binfmt.disable(h.name);
    report.actions.push_back("disabled handler " + h.name + ": its interpreter " + h.interpreter +
                             " does not exist");
  }
  if (system.prove(arch).works) return;
  for (const auto& h : matching_handlers(system, arch)) {
    if (h.enabled || (!h.interpreter_exists && !h.fix_binary())) continue;
    system.binfmt.enable(h.name);
    if (system.prove(arch).works) {
      report.actions.push_back("enabled handler " + h.name);
      return;
    }
    system.binfmt.disable(h.name);
  }
  auto choice = choose_interpreter(system, arch);
  if (!choice) {
    install_with_image(system, arch, report);
    return;
  }
  std::string name = handler_name(arch);
  if (system.binfmt.handler(name)) {
    system.binfmt.remove(name);
    report.actions.push_back("removed handler " + name + ", which did not work");
  }
  system.binfmt.register_handler(name, register_line(arch, name, choice->first, choice->second));
  add_registered(system.state_file, {name, choice->first});
  report.actions.push_back("registered handler " + name + ": " + choice->first + " (flags " +
                           choice->second + ")");
}

}  // namespace

std::string_view state_name(State state) {
  switch (state) {
    case State::native: return "native";
    case State::emulated: return "emulated";
    case State::missing: return "missing";
    case State::broken: return "broken";
  }
  return "broken";
}

bool SetupResult::all_work() const {
  return std::all_of(platforms.begin(), platforms.end(),
                     [](const PlatformReport& r) { return r.works(); });
}

System System::real() {
  System system;
  system.is_root = ::geteuid() == 0;
  return system;
}

std::optional<std::pair<std::string, std::string>> choose_interpreter(const System& system,
                                                                      const Arch& arch) {
  std::error_code ec;
  for (const auto& dir : system.conf_dirs) {
    fs::path conf = dir / ("qemu-" + std::string(arch.qemu) + ".conf");
    if (!fs::exists(conf, ec)) continue;
    std::optional<std::vector<std::string>> fields;
    std::istringstream lines(core::read_file(conf));
    for (std::string line; !fields && std::getline(lines, line);) fields = parse_register_line(line);
    if (!fields || !fs::exists((*fields)[5], ec)) continue;
    std::string flags = (*fields)[6];
    if (flags.find('F') == std::string::npos) flags += "F";
    return std::make_pair((*fields)[5], flags);
  }
  for (const auto& dir : system.qemu_dirs) {
    fs::path qemu = dir / ("qemu-" + std::string(arch.qemu) + "-static");
    if (fs::exists(qemu, ec)) return std::make_pair(qemu.string(), std::string("OCF"));
  }
  return std::nullopt;
}

PlatformReport check(const System& system, const Arch& arch) {
  PlatformReport report;
  report.arch = &arch;
  std::string platform(arch.platform);
  if (platform == system.host.str()) {
    Proof proof = system.prove(arch);
    report.state = proof.works ? State::native : State::broken;
    if (!proof.works) {
      report.reason = "the probe does not run even on its own host: " + proof.detail;
      report.fix = "make the temp directory executable (not mounted noexec), e.g. set TMPDIR";
    }
    return report;
  }
  std::vector<Handler> matching = matching_handlers(system, arch);
  bool any_enabled = std::any_of(matching.begin(), matching.end(),
                                 [](const Handler& h) { return h.enabled; });
  if (runs_natively(arch, system.host) && !any_enabled && system.prove(arch).works) {
    report.state = State::native;
    return report;
  }
  report.fix = fix_for(system, arch);
  if (!system.binfmt.mounted()) {
    report.reason = "binfmt_misc is not mounted on " + system.binfmt.dir().string();
    return report;
  }
  if (!system.binfmt.globally_enabled()) {
    report.state = State::broken;
    report.reason = "binfmt_misc is disabled (" + (system.binfmt.dir() / "status").string() +
                    " says disabled)";
    return report;
  }
  if (const Handler* used = pick(matching, arch)) {
    report.handler = used->name;
    report.interpreter = used->interpreter;
    report.flags = used->flags;
  }
  Proof proof = prove_remembered(system, arch, matching);
  if (proof.works) {
    report.state = State::emulated;
    report.fix.clear();
    if (!report.flags.empty() && report.flags.find('F') == std::string::npos) {
      report.reason = "handler " + report.handler +
                      " lacks the F flag: containers need its interpreter inside them";
    } else if (report.flags.empty() && !report.handler.empty()) {
      report.reason = "handler " + report.handler +
                      " has no F flag: containers need its interpreter inside them";
    }
    return report;
  }
  if (matching.empty()) {
    report.reason = "no binfmt_misc handler for " + platform + " (" + proof.detail + ")";
    return report;
  }
  report.state = State::broken;
  if (!any_enabled) {
    report.reason = "handler " + report.handler + " is disabled";
  } else if (std::any_of(matching.begin(), matching.end(), interpreter_gone)) {
    report.reason = "interpreter " + report.interpreter + " of handler " + report.handler +
                    " does not exist";
  } else {
    report.reason = "handler " + report.handler + " (" + report.interpreter +
                    ") failed the probe: " + proof.detail;
  }
  return report;
}

SetupResult setup(const System& system, const std::vector<const Arch*>& arches, bool check_only) {
  SetupResult result;
  for (const Arch* arch : arches) result.platforms.push_back(check(system, *arch));
  if (check_only || result.all_work()) return result;
  if (!system.is_root) {
    result.problem = "setting up emulation needs root: run `polyarch emulate` as root (sudo), "
                     "or run on native runners";
    return result;
  }
  try {
    if (!system.binfmt.mounted()) {
      system.binfmt.mount();
      result.actions.push_back("mounted binfmt_misc on " + system.binfmt.dir().string());
    }
    if (!system.binfmt.globally_enabled()) {
      core::write_file_atomic(system.binfmt.dir() / "status", "1");
      result.actions.push_back("enabled binfmt_misc");
    }
  } catch (const Error& error) {
    result.problem = error.what();
    return result;
  }
  for (auto& report : result.platforms) {
    if (report.works()) continue;
    std::vector<std::string> actions;
    try {
      PlatformReport scratch;
      repair(system, *report.arch, scratch);
      actions = scratch.actions;
    } catch (const Error& error) {
      actions.push_back(std::string("failed: ") + error.what());
    }
    report = check(system, *report.arch);
    report.actions = actions;
  }
  return result;
}

std::vector<Handler> uninstall(const System& system, const std::vector<const Arch*>& arches,
                                   bool force) {
  if (!system.is_root) {
    throw failure("removing binfmt_misc handlers needs root: run `polyarch emulate --uninstall` "
                  "as root (sudo)");
  }
  std::vector<Handler> removed;
  if (!system.binfmt.mounted()) return removed;
  auto records = read_registered(system.state_file);
  std::set<std::string> names;
  for (const Arch* arch : arches) {
    for (const auto& h : matching_handlers(system, *arch)) {
      if (names.count(h.name) != 0) continue;
      auto mine = std::find_if(records.begin(), records.end(), [&](const Registered& r) {
        return r.name == h.name && (r.interpreter.empty() || r.interpreter == h.interpreter);
      });
      if (!force && mine == records.end()) continue;
      system.binfmt.remove(h.name);
      names.insert(h.name);
      removed.push_back(h);
    }
  }
  // Drop what was removed, and records of handlers that are gone or that
  // someone else has registered again since.
  auto current = system.binfmt.handlers();
  std::erase_if(records, [&](const Registered& r) {
    return names.count(r.name) != 0 ||
           std::none_of(current.begin(), current.end(), [&](const Handler& h) {
             return h.name == r.name && (r.interpreter.empty() || h.interpreter == r.interpreter);
           });
  });
  write_registered(system.state_file, records);
  return removed;
}

std::vector<std::string> binfmt_image_argv(const System& system,
                                           const std::vector<const Arch*>& arches) {
  std::string list;
  for (const Arch* arch : arches) {
    image::Platform platform = image::parse_platform(arch->platform);
    if (list.find(platform.architecture) != std::string::npos) continue;
    list += (list.empty() ? "" : ",") + platform.architecture;
  }
  return {system.docker, "run", "--privileged", "--rm", system.binfmt_image, "--install", list};
}

}  // namespace polyarch::emulation
