#pragma once
// Small string helpers shared by parsers and messages.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace polyarch::core {

// Splits on a separator, keeping empty pieces.
std::vector<std::string> split(std::string_view text, char separator);

// Removes leading and trailing spaces and tabs.
std::string_view trim(std::string_view text);

// Levenshtein distance between two strings.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to word within max_distance, or "" when none is.
std::string closest(std::string_view word, std::span<const std::string_view> candidates,
                    size_t max_distance = 2);

// Splits "KEY=VALUE"; throws bad_input "invalid <what> "text": expected KEY=VALUE".
std::pair<std::string, std::string> split_key_value(std::string_view text, std::string_view what);

// Seconds since the epoch as UTC text in a strftime format ("%Y-%m-%dT%H:%M:%SZ").
std::string format_utc(std::int64_t epoch_seconds, const char* format);

}  // namespace polyarch::core
