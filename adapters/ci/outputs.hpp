#pragma once
// Results in each CI's own text forms, and the outputs `build` and `tags`
// hand back. Pure functions over strings, so each form is tested byte for
// byte; the adapters only choose the file and call these.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/ci/adapter.hpp"
#include "engine/metadata/metadata.hpp"

namespace polyarch::ci {

// What `polyarch build` made.
struct PlatformResult {
  std::string platform;  // "linux/arm64"
  std::string digest;
  std::int64_t size = 0;         // of the manifest (its descriptor's size)
  std::int64_t image_size = -1;  // config + layers as pushed; -1 when unknown
  std::string mode{};            // "native", "emulated", "cross" or "" when unknown
  double started = -1;           // seconds since the builds began; -1 when unknown
  double finished = -1;
};

struct BuildResult {
  std::string digest;  // the index
  std::vector<std::string> tags;
  std::vector<PlatformResult> platforms;
};

// digest, tags, platforms and metadata (JSON), plus the build report as summary.
Outputs build_outputs(const BuildResult& result);

// The build report in Markdown: the index and its tags, a table per platform
// (digest, size, build time, native / emulated / cross) and, when the build
// times are known, a Mermaid Gantt chart of the platforms' timeline.
std::string build_report(const BuildResult& result);

// tags, labels, version and json, as metadata-action's outputs.
Outputs tags_outputs(const metadata::Metadata& metadata);

// GITHUB_OUTPUT text: "name=value\n", or for a value with several lines
// "name<<ghadelimiter_HASH\nvalue\nghadelimiter_HASH\n" (a delimiter that
// does not occur in the value).
std::string github_output_text(const Outputs& outputs);

// What every env-style output name starts with. No configuration variable
// (POLYARCH_TAGS, POLYARCH_PLATFORMS …) does, so a later `polyarch build` in
// the same job never reads a result as a setting.
inline constexpr std::string_view k_env_prefix = "POLYARCH_RESULT_";

// k_env_prefix + the name in upper case, other characters as "_"
// ("tags" -> "POLYARCH_RESULT_TAGS").
std::string env_name(std::string_view name);

// The value on one line for env files: lists joined with ",", newlines as spaces.
std::string env_value(const OutputValue& value);

// Quotes for POSIX shells: 'it'\''s'.
std::string shell_quote(std::string_view text);

// existing (an env file's text) with every line that sets one of the new
// keys removed, then the new lines; line_prefix is "" (dotenv) or "export ".
std::string merge_env_file(std::string_view existing, const Outputs& outputs, std::string_view line_prefix,
                           bool quote_values);

// Appends text to a file (created when missing). Throws failure
// `cannot write "PATH": REASON`.
void append_file(const std::filesystem::path& path, std::string_view text);

// Escapes data for a GitHub workflow command (%, \r, \n).
std::string command_escape(std::string_view text);

}  // namespace polyarch::ci
