// polyarch emulate: set up QEMU handlers and prove each platform runs.
//
// --format json prints one object:
//   {"host": "linux/amd64",                        the platform of this machine
//    "binfmtMisc": {"path": "/proc/sys/fs/binfmt_misc", "mounted": true},
//    "platforms": [{"platform": "linux/arm64",
//                   "state": "native|emulated|missing|broken",
//                   "works": true,                  the probe exited with 42
//                   "handler": "qemu-aarch64",      "" when none is involved
//                   "interpreter": "/usr/…", "flags": "OPF",
//                   "reason": "",                   why not (or a warning when it works)
//                   "fix": "",                      what to do when it does not work
//                   "actions": ["registered handler …"]}],
//    "problem": "",                                 what stopped polyarch fixing things
//    "actions": ["mounted binfmt_misc on …"]}
// With --uninstall: {"removed": ["qemu-aarch64", …]}.
// Exit status: 0 every platform works; 1 some can't (reason + fix on stderr);
// 2 bad input.
#include <iomanip>
#include <ostream>

#include "adapters/cli/commands.hpp"
#include "engine/core/error.hpp"
#include "engine/emulation/emulate.hpp"
#include "nlohmann/json.hpp"

namespace polyarch::cli {

using namespace emulation;

namespace {

std::string detail_of(const PlatformReport& report) {
  if (report.state == State::emulated) {
    std::string detail = report.handler + " " + report.interpreter + " (flags " +
                         (report.flags.empty() ? "none" : report.flags) + ")";
    if (!report.reason.empty()) detail += "; warning: " + report.reason;
    return detail;
  }
  return report.reason;
}

nlohmann::json report_json(const PlatformReport& report) {
  return {{"platform", report.arch->platform},
          {"state", state_name(report.state)},
          {"works", report.works()},
          {"handler", report.handler},
          {"interpreter", report.interpreter},
          {"flags", report.flags},
          {"reason", report.reason},
          {"fix", report.fix},
          {"actions", report.actions}};
}

void print_table(std::ostream& out, const std::vector<PlatformReport>& reports) {
  out << std::left << std::setw(16) << "PLATFORM" << std::setw(10) << "STATE" << "DETAIL\n";
  for (const auto& report : reports) {
    out << std::left << std::setw(16) << std::string(report.arch->platform) << std::setw(10)
        << std::string(state_name(report.state)) << detail_of(report) << "\n";
  }
}

int run_uninstall(Context& context, const System& system, const std::vector<const Arch*>& arches) {
  std::vector<emulation::Handler> removed = uninstall(system, arches, context.args.has("--force"));
  if (context.format == Format::json) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& handler : removed) names.push_back(handler.name);
    context.out << nlohmann::json{{"removed", names}}.dump(2) << "\n";
  } else {
    for (const auto& handler : removed) {
      context.out << "removed handler " << handler.name << " (" << handler.interpreter << ")\n";
    }
    if (removed.empty() && context.verbosity >= 0) {
      context.err << "polyarch: no handler registered by polyarch to remove"
                  << (context.args.has("--force") ? "" : " (--force removes any)") << "\n";
    }
  }
  return 0;
}

}  // namespace

int run_emulate(Context& context) {
  const Args& args = context.args;
  if (!args.positionals().empty()) {
    throw bad_input("emulate takes no arguments, got " + quoted(args.positionals().front()));
  }
  if (args.has("--check") && args.has("--uninstall")) {
    throw bad_input("--check and --uninstall cannot be used together");
  }
  if (args.has("--force") && !args.has("--uninstall")) {
    throw bad_input("--force only applies to --uninstall");
  }
  std::vector<const Arch*> arches = parse_arch_list(args.value("--platform", "all"));
  System system = System::real();
  if (args.has("--binfmt-image")) system.binfmt_image = args.value("--binfmt-image");
  if (args.has("--uninstall")) return run_uninstall(context, system, arches);

  SetupResult result = setup(system, arches, args.has("--check"));
  if (context.verbosity >= 0) {
    for (const auto& action : result.actions) context.err << "polyarch: " << action << "\n";
    for (const auto& report : result.platforms) {
      for (const auto& action : report.actions) {
        context.err << "polyarch: " << report.arch->platform << ": " << action << "\n";
      }
    }
  }
  if (context.format == Format::json) {
    nlohmann::json json = {
        {"host", system.host.str()},
        {"binfmtMisc",
         {{"path", system.binfmt.dir().string()}, {"mounted", system.binfmt.mounted()}}},
        {"platforms", nlohmann::json::array()},
        {"problem", result.problem},
        {"actions", result.actions}};
    for (const auto& report : result.platforms) json["platforms"].push_back(report_json(report));
    context.out << json.dump(2) << "\n";
  } else {
    print_table(context.out, result.platforms);
  }
  if (result.all_work()) return 0;
  if (!result.problem.empty()) context.err << "polyarch: error: " << result.problem << "\n";
  for (const auto& report : result.platforms) {
    if (report.works()) continue;
    context.err << "polyarch: error: " << report.arch->platform << " is "
                << state_name(report.state) << ": " << report.reason << "; fix: " << report.fix
                << "\n";
  }
  return 1;
}

}  // namespace polyarch::cli
