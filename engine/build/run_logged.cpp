#include "engine/build/run_logged.hpp"

namespace polyarch::build {

// Appends a line, dropping the oldest beyond k_kept_lines.
static void keep(std::deque<std::string>& lines, std::string_view line) {
  lines.emplace_back(line);
  if (lines.size() > k_kept_lines) lines.pop_front();
}

LoggedRun run_logged(const std::vector<std::string>& argv, const LogLine& log,
                     const core::ProcessOptions& options) {
  LoggedRun run;
  auto on_line = [&](core::Stream stream, std::string_view line) {
    keep(run.last_lines, line);
    if (stream == core::Stream::err) keep(run.last_error_lines, line);
    if (log) log(std::string(line));
  };
  run.exit_code = core::run_process_streaming(argv, on_line, options).exit_code;
  return run;
}

std::string error_summary(const LoggedRun& run, size_t max_lines) {
  const auto& lines = run.last_error_lines.empty() ? run.last_lines : run.last_error_lines;
  std::vector<std::string_view> picked;
  for (auto it = lines.rbegin(); it != lines.rend() && picked.size() < max_lines; ++it) {
    std::string_view line = *it;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    // Builders repeat lines ("subprocess exited with status 3" twice): say each once.
    if (!line.empty() && (picked.empty() || picked.back() != line)) picked.push_back(line);
  }
  if (picked.empty()) return "no output";
  std::string summary;
  for (auto it = picked.rbegin(); it != picked.rend(); ++it) {
    summary += (summary.empty() ? "" : " | ") + std::string(*it);
  }
  return summary;
}

}  // namespace polyarch::build
