#pragma once
// Value checks shared by polyarch.yml and POLYARCH_* variables. Messages carry
// no source prefix; the caller adds "polyarch.yml:3:7: " or "POLYARCH_X: ".

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/image/platform.hpp"

namespace polyarch::core {

// The backends `backend` / POLYARCH_BACKEND accept.
inline constexpr std::array<std::string_view, 5> k_backends = {"auto", "buildx", "docker",
                                                               "buildah", "podman"};

// Which spellings parse_switch accepts besides true/false (any case).
struct SwitchWords {
  bool on_off = false;  // "on" / "off"
  bool digits = false;  // "1" / "0"
};

// The boolean text names, or nullopt when it is not one of the allowed words.
std::optional<bool> parse_switch(std::string_view text, SwitchWords words);

// A whole number from 1 to INT_MAX written in digits only, else nullopt.
std::optional<int> parse_positive_int(std::string_view text);

// Returns text when it is a known backend; throws bad_input
// `unknown backend "x"; did you mean "docker"?` (or listing the backends).
std::string checked_backend(std::string_view text);

// Returns text when it is a tag ("v1.2") or, when it has '/' or ':', an image
// reference; throws bad_input `invalid tag "…": …` / `invalid reference "…": …`.
std::string checked_tag(std::string_view text);

// True for a tags entry in docker/metadata-action's rule syntax ("type=…").
bool is_tag_rule(std::string_view text);

// The tags entries in text: one a line when any is a rule (a rule holds
// commas: "type=semver,pattern={{version}}"), else split at commas and
// line breaks; trimmed, empty ones dropped.
std::vector<std::string> split_tags(std::string_view text);

// Returns text when it is a valid metadata-action rule ("type=…"), else
// as checked_tag does; throws bad_input `invalid tag rule "…": …` or
// checked_tag's errors.
std::string checked_tag_or_rule(std::string_view text);

// Returns text when it is an image name without tag; throws bad_input
// `invalid image name "…": …`.
std::string checked_image(std::string_view text);

// Parses text as a platform and appends it unless already present (after
// normalization); throws image::parse_platform's bad_input.
void add_platform(std::string_view text, std::vector<image::Platform>& platforms);

// Splits text at any of separators, trimming each piece and dropping empty ones.
std::vector<std::string> split_list(std::string_view text, std::string_view separators);

}  // namespace polyarch::core
