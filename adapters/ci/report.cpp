// The build report: what `build --summary FILE` writes and GitHub shows as
// the step summary. A slow emulated leg stands out in the Gantt chart.
#include <cmath>
#include <cstdio>

#include "adapters/ci/outputs.hpp"

namespace polyarch::ci {

namespace {

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

// "512 B", "1.5 KiB", "12.0 MiB".
std::string human_size(std::int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  for (; value >= 1024 && unit + 1 < std::size(units); ++unit) value /= 1024;
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  return text;
}

// "4.2 s", "2 min 05 s".
std::string human_seconds(double seconds) {
  char text[32];
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  } else {
    long whole = std::lround(seconds);
    std::snprintf(text, sizeof text, "%ld min %02ld s", whole / 60, whole % 60);
  }
  return text;
}

bool timed(const PlatformResult& platform) { return platform.started >= 0 && platform.finished >= platform.started; }

// Mermaid's Gantt with millisecond timestamps from 0: one section per platform.
std::string gantt(const BuildResult& result) {
  std::string out = "```mermaid\ngantt\n  title Build timeline (seconds)\n  dateFormat x\n  axisFormat %s\n";
  for (const auto& platform : result.platforms) {
    if (!timed(platform)) continue;
    // Mermaid reads ':' and '#' in task names as syntax.
    std::string name = platform.mode.empty() ? "build" : platform.mode;
    out += "  section " + platform.platform + "\n  " + name + " " + human_seconds(platform.finished - platform.started) +
           " : " + std::to_string(std::llround(platform.started * 1000)) + ", " +
           std::to_string(std::llround(platform.finished * 1000)) + "\n";
  }
  return out + "```\n";
}

}  // namespace

std::string build_report(const BuildResult& result) {
  std::string out = "### polyarch build\n\nIndex `" + result.digest + "`";
  if (!result.tags.empty()) {
    out += " tagged";
    for (size_t i = 0; i < result.tags.size(); ++i) out += std::string(i ? ", `" : " `") + markdown_cell(result.tags[i]) + "`";
  }
  out += ".\n\n| platform | digest | size | build time | built |\n| --- | --- | --: | --: | --- |\n";
  bool any_timed = false;
  for (const auto& platform : result.platforms) {
    any_timed = any_timed || timed(platform);
    out += "| " + markdown_cell(platform.platform) + " | `" + platform.digest + "` | " +
           (platform.image_size >= 0 ? human_size(platform.image_size) : "") + " | " +
           (timed(platform) ? human_seconds(platform.finished - platform.started) : "") + " | " + platform.mode + " |\n";
  }
  if (any_timed) out += "\n" + gantt(result);
  return out;
}

}  // namespace polyarch::ci
