#pragma once
// Where polyarch keeps what it remembers between runs (platforms, layers).

#include <filesystem>

#include "engine/core/env.hpp"

namespace polyarch::image {

// $XDG_CACHE_HOME/polyarch, else $HOME/.cache/polyarch; empty when neither
// variable is set (then nothing is cached).
std::filesystem::path cache_root(const core::Env& env);

// Creates dir and its missing parents with mode 0700, as the XDG base
// directory spec asks of cache dirs; returns false when it cannot (never throws).
bool make_private_dirs(const std::filesystem::path& dir);

}  // namespace polyarch::image
