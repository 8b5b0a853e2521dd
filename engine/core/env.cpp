#include "engine/core/env.hpp"

extern char** environ;

namespace polyarch::core {

Env process_env() {
  Env env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text(*entry);
    auto equals = text.find('=');
    if (equals != std::string::npos) env[text.substr(0, equals)] = text.substr(equals + 1);
  }
  return env;
}

}  // namespace polyarch::core
