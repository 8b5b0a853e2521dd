#pragma once
// User values as messages show them: quoted, cut when long, and with control
// characters written as \xNN so none reaches a terminal or splits a line.

#include <string>
#include <string_view>

namespace polyarch::image {

// Longer values are cut to k_shown_keep bytes (at a UTF-8 boundary) plus "…".
inline constexpr size_t k_shown_max = 64;
inline constexpr size_t k_shown_keep = 40;

// Returns `"text"`, cut (past max bytes, to keep) and escaped as above.
std::string shown(std::string_view text, size_t max = k_shown_max, size_t keep = k_shown_keep);

// Returns text with every control character written as \xNN, so a message
// built from foreign text stays on one line.
std::string escape_controls(std::string_view text);

// True for ASCII control characters (below 0x20, and 0x7f).
inline bool is_control(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

}  // namespace polyarch::image
