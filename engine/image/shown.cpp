#include "engine/image/shown.hpp"

#include "engine/core/error.hpp"

namespace polyarch::image {

std::string escape_controls(std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (!is_control(c)) {
      out.push_back(c);
      continue;
    }
    auto byte = static_cast<unsigned char>(c);
    out += {'\\', 'x', k_hex[byte >> 4], k_hex[byte & 15]};
  }
  return out;
}

std::string shown(std::string_view text, size_t max, size_t keep) {
  std::string_view kept = text;
  bool cut = text.size() > max;
  if (cut) {
    size_t end = keep;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    kept = text.substr(0, end);
  }
  std::string out = escape_controls(kept);
  if (cut) out += "\u2026";
  return quoted(out);
}

}  // namespace polyarch::image
