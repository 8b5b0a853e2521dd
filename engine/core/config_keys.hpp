#pragma once
// The keys of polyarch.yml (the same names as the build flags), one setter
// each. Internal to engine/core/config*.cpp.

#include <yaml-cpp/yaml.h>

#include <string>

#include "engine/build/options.hpp"
#include "engine/core/error.hpp"

namespace polyarch::core {

// One `key: value` of the file, and how to point at its parts in messages.
struct ConfigField {
  std::string file;  // as the user spelled it
  std::string key;
  YAML::Node key_node;
  YAML::Node value;

  // "FILE:LINE:COL: " for node; a null node (whose mark yaml-cpp puts on the
  // next token) points at the key instead.
  std::string at(const YAML::Node& node) const {
    const YAML::Mark mark = node.IsNull() ? key_node.Mark() : node.Mark();
    return location(file, mark);
  }
  // bad_input "FILE:LINE:COL: message" pointing at node.
  Error error(const YAML::Node& node, const std::string& message) const {
    return bad_input(at(node) + message);
  }
  // The name in messages: "push".
  std::string name() const { return quoted(key); }

  // "FILE:LINE:COL: " for mark (1-based; a null mark is 1:1).
  static std::string location(const std::string& file, const YAML::Mark& mark) {
    int line = mark.is_null() ? 1 : mark.line + 1;
    int column = mark.is_null() ? 1 : mark.column + 1;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
};

// A node as a message shows it: `"text"`, "a list", "a mapping" or "empty".
std::string shown(const YAML::Node& node);

// Sets the option that field names; throws bad_input "FILE:LINE:COL: …" for
// an unknown key (with "did you mean") or a bad value.
void apply_key(const ConfigField& field, build::BuildOptions& options);

}  // namespace polyarch::core
