// Text helpers of the progress display: builder lines made safe to draw,
// trimming to a width, byte counts for people.
#include <cstdio>

#include "adapters/cli/progress.hpp"

namespace polyarch::cli::progress_text {

std::string clean(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (auto cr = line.rfind('\r'); cr != std::string_view::npos) line.remove_prefix(cr + 1);
  std::string text;
  for (size_t i = 0; i < line.size(); ++i) {
    auto c = static_cast<unsigned char>(line[i]);
    if (c == 0x1b) {  // CSI "ESC [ params final" or a two-byte escape
      if (i + 1 < line.size() && line[i + 1] == '[') {
        for (i += 2; i < line.size() && (line[i] < 0x40 || line[i] > 0x7e); ++i) {}
      } else {
        ++i;
      }
    } else if (c == '\t') {
      text += ' ';
    } else if (c >= 0x20 && c != 0x7f) {
      text += static_cast<char>(c);
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::string trim_columns(std::string_view text, size_t columns) {
  size_t used = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    bool starts_code_point = (static_cast<unsigned char>(text[i]) & 0xc0) != 0x80;
    if (starts_code_point && used++ == columns) return std::string(text.substr(0, i));
  }
  return std::string(text);
}

std::string bytes(int64_t count) {
  if (count < 1000) return std::to_string(count) + " B";
  static constexpr const char* k_units[] = {"kB", "MB", "GB", "TB"};
  double value = static_cast<double>(count) / 1000;
  size_t unit = 0;
  // Rounded to one decimal, a value must stay below 1000 in its unit.
  while (value >= 999.95 && unit + 1 < std::size(k_units)) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, k_units[unit]);
  return text;
}

}  // namespace polyarch::cli::progress_text
