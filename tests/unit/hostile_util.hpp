#pragma once
// Helpers for the hostile-input tests: the polyarch binary run in a clean
// environment, and a listing of a directory to prove nothing else was written.

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/core/process.hpp"

namespace polyarch::testing {

namespace fs = std::filesystem;

// Runs the polyarch binary with only PATH from our environment, HOME and
// DOCKER_CONFIG inside `home`, plus `env`; no CI system is detected.
inline core::ProcessResult run_polyarch(std::vector<std::string> args, const fs::path& home,
                                        const std::map<std::string, std::string>& env = {}) {
  args.insert(args.begin(), POLYARCH_BINARY);
  core::ProcessOptions options;
  options.env = std::map<std::string, std::string>{
      {"PATH", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"},
      {"HOME", home.string()},
      {"DOCKER_CONFIG", (home / ".docker").string()}};
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) (*options.env)[name] = value;
  }
  for (const auto& [name, value] : env) (*options.env)[name] = value;
  return core::run_process(args, options);
}

// Every path under dir, relative, directories with a trailing "/".
inline std::set<std::string> tree(const fs::path& dir) {
  std::set<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    paths.insert(fs::relative(entry.path(), dir).string() + (entry.is_directory() ? "/" : ""));
  }
  return paths;
}

// "polyarch: error: MESSAGE\n", as the binary prints an error.
inline std::string error_line(const std::string& message) {
  return "polyarch: error: " + message + "\n";
}

}  // namespace polyarch::testing
