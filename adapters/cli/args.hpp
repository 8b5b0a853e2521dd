#pragma once
// Command-line options: each command declares its options as a table.

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace polyarch::cli {

struct OptionSpec {
  std::string_view name;   // "--platform"
  bool takes_value;        // "--platform P" vs "--raw"
  std::string_view help;   // one line for --help
};

// Parsed options: every value of each option in order, plus positionals.
class Args {
 public:
  // Parses argv against specs; "--x=v" and "--x v" both work, "--" ends
  // options. Throws bad_input for an unknown option (with "did you mean") or
  // a missing value.
  static Args parse(std::span<const std::string> argv, std::span<const OptionSpec> specs);

  bool has(std::string_view name) const { return m_values.count(std::string(name)) > 0; }
  // The last value given, or fallback.
  std::string value(std::string_view name, std::string_view fallback = "") const;
  // Every value given, in order.
  std::vector<std::string> values(std::string_view name) const;
  const std::vector<std::string>& positionals() const { return m_positionals; }

 private:
  std::map<std::string, std::vector<std::string>> m_values;
  std::vector<std::string> m_positionals;
};

}  // namespace polyarch::cli
