#pragma once
// Running a builder command whose output streams into a build log, keeping
// its last lines for the error message when it fails.

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "engine/build/backend.hpp"
#include "engine/core/process.hpp"

namespace polyarch::build {

// How many of a command's last output lines are kept.
inline constexpr size_t k_kept_lines = 20;

// What a logged command left behind.
struct LoggedRun {
  int exit_code = -1;
  std::deque<std::string> last_lines;        // the last k_kept_lines lines of both streams
  std::deque<std::string> last_error_lines;  // the last k_kept_lines lines of stderr
};

// Runs argv (no shell) and hands each line of its stdout and stderr to log as
// it arrives. Throws failure only when the command cannot be started.
LoggedRun run_logged(const std::vector<std::string>& argv, const LogLine& log,
                     const core::ProcessOptions& options = {});

// The last few non-empty lines of what a failed command said (stderr when it
// wrote any, else all output), a line repeated in a row said once, joined
// with " | "; "no output" when silent.
std::string error_summary(const LoggedRun& run, size_t max_lines = 3);

}  // namespace polyarch::build
