#pragma once
// The process environment as a value, so the engine can be tested without it.

#include <map>
#include <string>

namespace polyarch::core {

using Env = std::map<std::string, std::string>;

// A snapshot of this process's environment.
Env process_env();

// The value of key in env, or fallback.
inline std::string get(const Env& env, const std::string& key, const std::string& fallback = "") {
  auto it = env.find(key);
  return it == env.end() ? fallback : it->second;
}

}  // namespace polyarch::core
