#pragma once
// Spawning child processes: argv only (no shell), stdin from a string,
// stdout and stderr captured. Secrets go through stdin, never argv.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

// Which stream a line came from.
enum class Stream { out, err };

// Receives one line of a child's output, without its newline.
using LineHandler = std::function<void(Stream stream, std::string_view line)>;

// Like run_process, but hands every line of stdout and stderr to on_line as
// it arrives (a last line without a newline is handed over at the end)
// instead of collecting them: the result's out and err stay empty. A "\r"
// before the newline is dropped. Throws failure as run_process does, and
// whatever on_line throws (after the child has been waited for).
ProcessResult run_process_streaming(const std::vector<std::string>& argv,
                                    const LineHandler& on_line,
                                    const ProcessOptions& options = {});

}  // namespace polyarch::core
