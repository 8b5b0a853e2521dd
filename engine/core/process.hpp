#pragma once
// Spawning child processes: argv only (no shell), stdin from a string,
// stdout and stderr captured. Secrets go through stdin, never argv.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace polyarch::core {

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal number
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::string input;                                   // written to stdin, then closed
  std::optional<std::map<std::string, std::string>> env;  // replaces the environment
  std::string cwd;                                     // "" keeps ours
};

// Runs argv[0] (looked up in PATH) and waits for it. Throws failure when it
// cannot be started ("cannot run "x": No such file or directory").
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace polyarch::core
