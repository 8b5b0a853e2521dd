#include "engine/core/config_values.hpp"

#include <algorithm>
#include <charconv>
#include <climits>

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"
#include "engine/image/reference.hpp"
#include "engine/metadata/rules.hpp"

namespace polyarch::core {

namespace {

constexpr size_t k_tag_max = 128;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_bare_tag(std::string_view text) {
  if (text.empty() || text.size() > k_tag_max || !is_word(text.front())) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

}  // namespace

std::optional<bool> parse_switch(std::string_view text, SwitchWords words) {
  std::string word = lower(text);
  if (word == "true") return true;
  if (word == "false") return false;
  if (words.on_off && word == "on") return true;
  if (words.on_off && word == "off") return false;
  if (words.digits && word == "1") return true;
  if (words.digits && word == "0") return false;
  return std::nullopt;
}

std::optional<int> parse_positive_int(std::string_view text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

std::string checked_backend(std::string_view text) {
  if (std::find(k_backends.begin(), k_backends.end(), text) != k_backends.end()) {
    return std::string(text);
  }
  std::string message = "unknown backend " + quoted(std::string(text));
  std::string guess = closest(lower(text), k_backends);
  if (!guess.empty()) throw bad_input(message + "; did you mean " + quoted(guess) + "?");
  throw bad_input(message + "; expected auto, buildx, docker, buildah or podman");
}

std::string checked_tag(std::string_view text) {
  if (text.find_first_of("/:") != std::string_view::npos) {
    image::parse_reference(text);
  } else if (!is_bare_tag(text)) {
    throw bad_input("invalid tag " + quoted(std::string(text)) +
                    ": a tag is up to 128 letters, digits, '_', '.' or '-', "
                    "and starts with a letter, digit or '_'");
  }
  return std::string(text);
}

bool is_tag_rule(std::string_view text) { return trim(text).starts_with("type="); }

std::vector<std::string> split_tags(std::string_view text) {
  bool rules = text.find("type=") != std::string_view::npos;
  return split_list(text, rules ? "\n" : ",\n");
}

std::string checked_tag_or_rule(std::string_view text) {
  if (!is_tag_rule(text)) return checked_tag(text);
  metadata::parse_rule(text);
  return std::string(text);
}

std::string checked_image(std::string_view text) {
  image::parse_name(text);
  return std::string(text);
}

void add_platform(std::string_view text, std::vector<image::Platform>& platforms) {
  image::Platform platform = image::parse_platform(text);
  if (std::find(platforms.begin(), platforms.end(), platform) == platforms.end()) {
    platforms.push_back(std::move(platform));
  }
}

std::vector<std::string> split_list(std::string_view text, std::string_view separators) {
  std::vector<std::string> pieces;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of(separators, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view piece = trim(text.substr(start, end - start));
    while (!piece.empty() && (piece.back() == '\r' || piece.back() == '\n')) piece.remove_suffix(1);
    piece = trim(piece);
    if (!piece.empty()) pieces.emplace_back(piece);
    start = end + 1;
  }
  return pieces;
}

}  // namespace polyarch::core
