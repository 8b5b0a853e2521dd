#pragma once
// Build options from polyarch.yml and from POLYARCH_* variables (DESIGN.md,
// "Engine stages" step 1). Precedence (defaults < file < CI < env < flags) is
// the caller's: each apply_* overwrites only the options its source sets.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "engine/build/options.hpp"
#include "engine/core/env.hpp"

namespace polyarch::core {

// The largest config file read; a bigger one is refused.
inline constexpr std::uintmax_t k_max_config_bytes = 1024 * 1024;

// Sets in options every key that file (polyarch.yml syntax) gives. Throws
// bad_input "FILE:LINE:COL: …" (FILE as the caller spelled it) for a YAML
// syntax error, an unknown or repeated key, or a bad value; and bad_input
// `cannot read "FILE": …` / "FILE: larger than 1 MiB; refusing it".
void apply_config_file(const std::filesystem::path& file, build::BuildOptions& options);

// The same for text already read; `name` starts each message ("polyarch.yml").
void apply_config_text(const std::string& name, std::string_view bytes,
                       build::BuildOptions& options);

// Sets in options each known POLYARCH_* variable that env gives a non-empty
// value. Throws bad_input "POLYARCH_X: …" for a bad value, or for an unknown
// POLYARCH_* name within edit distance 2 of a known one (with "did you mean").
void apply_env(const Env& env, build::BuildOptions& options);

// The config file to read: flag_value when given (throws bad_input
// `cannot read "X": No such file or directory` when it does not exist), else
// "polyarch.yml" when the current directory has one, else an empty path.
std::filesystem::path find_config_file(const std::string& flag_value);

}  // namespace polyarch::core
