// polyarch doctor: what this machine can build, without changing anything.
//
// --format json prints one object:
//   {"host": "linux/amd64",
//    "ci": "local|github|gitlab|circleci|codebuild",
//    "backends": [{"name": "buildah|podman|docker|docker buildx|docker engine",
//                  "found": true, "path": "/usr/bin/buildah", "version": "…"}],
//    "emulation": [{"platform", "state", "works", "handler", "interpreter",
//                   "flags", "reason", "fix"}],   as `polyarch emulate --check`
//    "credentials": {"file": "/root/.docker/config.json", "exists": true,
//                    "hosts": ["ghcr.io", …], "credsStore": "",
//                    "dockerAuthConfig": false}}   hosts only, never secrets
// Exit status 0 (it only reports).
#include <unistd.h>

#include <filesystem>
#include <iomanip>
#include <set>
#include <ostream>

#include "adapters/ci/adapter.hpp"
#include "adapters/cli/commands.hpp"
#include "engine/core/env.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/core/strings.hpp"
#include "engine/emulation/emulate.hpp"
#include "nlohmann/json.hpp"

namespace polyarch::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The first executable called name in PATH, or "".
std::string find_on_path(const core::Env& env, const std::string& name) {
  for (const auto& dir : core::split(core::get(env, "PATH"), ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

// The first line of a command's stdout when it exits 0, else nullopt.
std::optional<std::string> first_line_of(const std::vector<std::string>& argv) {
  try {
    core::ProcessResult result = core::run_process(argv);
    if (result.exit_code != 0) return std::nullopt;
    return std::string(core::trim(result.out.substr(0, result.out.find('\n'))));
  } catch (const Error&) {
    return std::nullopt;
  }
}

json backend(const std::string& name, const std::string& path,
             const std::optional<std::string>& version) {
  return {{"name", name}, {"found", version.has_value()}, {"path", path},
          {"version", version.value_or("")}};
}

json backends(const core::Env& env) {
  json list = json::array();
  for (const char* tool : {"buildah", "podman"}) {
    std::string path = find_on_path(env, tool);
    list.push_back(backend(tool, path, path.empty() ? std::nullopt
                                                    : first_line_of({path, "--version"})));
  }
  // A newer docker client earlier on PATH may lack buildx; Debian's is /usr/bin/docker.
  std::string docker = find_on_path(env, "docker");
  if (fs::exists("/usr/bin/docker")) docker = "/usr/bin/docker";
  bool have = !docker.empty();
  list.push_back(backend("docker", docker, have ? first_line_of({docker, "--version"}) : std::nullopt));
  list.push_back(backend("docker engine", docker,
                         have ? first_line_of({docker, "version", "--format", "{{.Server.Version}}"})
                              : std::nullopt));
  list.push_back(backend("docker buildx", docker,
                         have ? first_line_of({docker, "buildx", "version"}) : std::nullopt));
  return list;
}

json credentials(const core::Env& env) {
  std::string dir = core::get(env, "DOCKER_CONFIG");
  fs::path file = dir.empty() ? fs::path(core::get(env, "HOME", "/root")) / ".docker/config.json"
                              : fs::path(dir) / "config.json";
  json result = {{"file", file.string()}, {"exists", fs::exists(file)},
                 {"hosts", json::array()}, {"credsStore", ""},
                 {"dockerAuthConfig", !core::get(env, "DOCKER_AUTH_CONFIG").empty()}};
  if (!fs::exists(file)) return result;
  json config = json::parse(core::read_file(file), nullptr, false);
  if (!config.is_object()) return result;
  std::set<std::string> hosts;
  for (const char* section : {"auths", "credHelpers"}) {
    if (config.contains(section) && config[section].is_object()) {
      for (const auto& item : config[section].items()) hosts.insert(item.key());
    }
  }
  result["hosts"] = hosts;
  if (config.contains("credsStore") && config["credsStore"].is_string()) {
    result["credsStore"] = config["credsStore"];
  }
  return result;
}

std::string not_found_text(const std::string& name) {
  if (name == "docker engine") return "not reachable";
  if (name == "docker buildx") return "not available";
  return "not found";
}

void print_text(std::ostream& out, const json& report) {
  out << "host:        " << report["host"].get<std::string>() << "\n"
      << "ci:          " << report["ci"].get<std::string>() << "\n\nbackends:\n";
  for (const auto& b : report["backends"]) {
    out << "  " << std::left << std::setw(15) << b["name"].get<std::string>()
        << (b["found"].get<bool>() ? b["version"].get<std::string>() + " (" +
                                         b["path"].get<std::string>() + ")"
                                   : not_found_text(b["name"].get<std::string>())) << "\n";
  }
  out << "\nemulation:\n";
  for (const auto& e : report["emulation"]) {
    std::string detail = e["state"] == "emulated" ? e["handler"].get<std::string>() + " " +
                                                        e["interpreter"].get<std::string>()
                                                  : e["reason"].get<std::string>();
    out << "  " << std::left << std::setw(15) << e["platform"].get<std::string>() << std::setw(10)
        << e["state"].get<std::string>() << detail << "\n";
  }
  const json& c = report["credentials"];
  out << "\ncredentials: " << c["file"].get<std::string>()
      << (c["exists"].get<bool>() ? "" : " (not found)") << "\n";
  for (const auto& host : c["hosts"]) out << "  " << host.get<std::string>() << "\n";
  if (!c["credsStore"].get<std::string>().empty()) {
    out << "  credsStore: " << c["credsStore"].get<std::string>() << "\n";
  }
  if (c["dockerAuthConfig"].get<bool>()) out << "  DOCKER_AUTH_CONFIG is set\n";
}

}  // namespace

int run_doctor(Context& context) {
  if (!context.args.positionals().empty()) {
    throw bad_input("doctor takes no arguments, got " + quoted(context.args.positionals().front()));
  }
  core::Env env = core::process_env();
  emulation::System system = emulation::System::real();
  std::vector<const emulation::Arch*> arches;
  for (const auto& arch : emulation::arch_table()) arches.push_back(&arch);
  json emulation_list = json::array();
  for (const auto& r : emulation::setup(system, arches, true).platforms) {
    emulation_list.push_back({{"platform", r.arch->platform}, {"state", emulation::state_name(r.state)},
                              {"works", r.works()}, {"handler", r.handler},
                              {"interpreter", r.interpreter}, {"flags", r.flags},
                              {"reason", r.reason}, {"fix", r.fix}});
  }
  // The adapter the other commands would use: --ci, else the detect chain.
  std::string ci(ci::make_adapter(context.args.value("--ci", "auto"), env)->name());
  json report = {{"host", system.host.str()},
                 {"ci", ci},
                 {"backends", backends(env)},
                 {"emulation", emulation_list},
                 {"credentials", credentials(env)}};
  if (context.format == Format::json) {
    context.out << report.dump(2) << "\n";
  } else {
    print_text(context.out, report);
  }
  return 0;
}

}  // namespace polyarch::cli
