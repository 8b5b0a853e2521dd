#pragma once
// The POLYARCH_* configuration variables by name, for checks that other
// POLYARCH_* names (the CI outputs) never collide with them.

#include <string_view>
#include <vector>

namespace polyarch::core {

// Every variable apply_env reads ("POLYARCH_IMAGE", "POLYARCH_TAGS" …), in
// the order it applies them.
std::vector<std::string_view> env_variable_names();

}  // namespace polyarch::core
