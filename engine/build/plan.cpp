#include "engine/build/plan.hpp"

#include <fstream>
#include <regex>

#include "engine/core/error.hpp"

namespace polyarch::build {

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::native: return "native";
    case Mode::emulated: return "emulated";
    case Mode::unsupported: return "unsupported";
  }
  return "unsupported";
}

DockerfileFacts scan_dockerfile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw bad_input("cannot read " + quoted(path.string()) + ": No such file or directory");
  static const std::regex from_line(R"(^\s*FROM\s+(--platform=(\S+)\s+)?(\S+)(\s+AS\s+(\S+))?)",
                                    std::regex::icase);
  static const std::regex compile_line(
      R"(^\s*RUN\s.*\b(gcc|g\+\+|clang|cc|make|cmake|go build|cargo build|rustc|javac|mvn|gradle)\b)",
      std::regex::icase);
  DockerfileFacts facts;
  std::string line, stage;
  bool stage_cross = false;
  for (int number = 1; std::getline(in, line); ++number) {
    std::smatch match;
    if (std::regex_search(line, match, from_line)) {
      stage_cross = match[2].str().find("BUILDPLATFORM") != std::string::npos;
      facts.cross_compiles = facts.cross_compiles || stage_cross;
      stage = match[5].matched ? match[5].str() : match[3].str();
    } else if (!stage_cross && facts.compile_hint.empty() &&
               std::regex_search(line, compile_line)) {
      facts.compile_hint = "stage " + quoted(stage) + " (" + path.filename().string() + ":" +
                           std::to_string(number) +
                           ") compiles under emulation; `FROM --platform=$BUILDPLATFORM` with "
                           "a cross compiler is usually much faster";
    }
  }
  return facts;
}

std::vector<PlatformPlan> make_plan(const std::vector<image::Platform>& platforms,
                                    const emulation::System& system, bool setup) {
  std::vector<PlatformPlan> plans;
  std::vector<const emulation::Arch*> to_emulate;
  for (const auto& platform : platforms) {
    PlatformPlan plan{platform, Mode::unsupported, ""};
    const emulation::Arch* arch = emulation::find_arch(platform);
    if (arch == nullptr) {
      plan.detail = "polyarch cannot emulate " + platform.str() + "; build it on a native runner";
    } else if (emulation::runs_natively(*arch, system.host)) {
      plan.mode = Mode::native;
    } else {
      to_emulate.push_back(arch);
    }
    plans.push_back(plan);
  }
  if (to_emulate.empty()) return plans;
  emulation::System remembering = system;  // a build trusts a proof its handlers still back
  if (remembering.proofs_file.empty()) remembering.proofs_file = system.state_file.parent_path() / "proven";
  emulation::SetupResult result = emulation::setup(remembering, to_emulate, !setup);
  for (const auto& report : result.platforms) {
    for (auto& plan : plans) {
      if (emulation::find_arch(plan.platform) != report.arch) continue;
      if (report.works()) {
        plan.mode = report.state == emulation::State::native ? Mode::native : Mode::emulated;
        plan.detail = report.handler;
      } else {
        plan.detail = report.reason + (report.fix.empty() ? "" : " (" + report.fix + ")");
        if (!result.problem.empty()) plan.detail += "; " + result.problem;
      }
    }
  }
  return plans;
}

}  // namespace polyarch::build
