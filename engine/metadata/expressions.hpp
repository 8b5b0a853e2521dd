#pragma once
// The pieces metadata-action's patterns are made of: {{…}} expressions,
// moment-style dates, semver and PEP 440 versions, and tag sanitizing.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace polyarch::metadata {

// Answers one expression: name ("version", "date") and its quoted argument
// ("YYYYMMDD" for {{date 'YYYYMMDD'}}), or nullopt for an unknown name.
using Lookup = std::function<std::optional<std::string>(const std::string& name, const std::string& arg)>;

// Replaces each {{name 'arg'}} in pattern. Throws bad_input
// `unknown expression "{{x}}" in "PATTERN"` or `unclosed "{{" in "PATTERN"`.
std::string render(std::string_view pattern, const Lookup& lookup);

// Formats a time (ms since 1970, UTC) with moment.js tokens: YYYY YY MM M DD D
// HH H hh h mm m ss s SSS X x and [literal text]; other characters as is.
std::string format_date(std::int64_t time_ms, std::string_view format);

// "2020-01-10T00:30:00.000Z", as JavaScript's toISOString.
std::string iso_time(std::int64_t time_ms);

// A parsed version: the parts a pattern can use.
struct Version {
  std::string raw;      // as written: "v1.2.3"
  std::string version;  // normalized: "1.2.3", "2.0.8-beta.67", "1.1rc2"
  std::string major, minor, patch;
  bool prerelease = false;  // semver: a pre-release; PEP 440: pre, post or dev
};

// Semantic Versioning 2.0 (a leading "v" or "=" allowed), or nullopt.
std::optional<Version> parse_semver(std::string_view text);

// PEP 440 (normalized as pip does), or nullopt.
std::optional<Version> parse_pep440(std::string_view text);

// A tag Docker accepts: each run of characters other than [A-Za-z0-9_.-]
// becomes "-", cut to 128 characters.
std::string sanitize_tag(std::string_view text);

}  // namespace polyarch::metadata
