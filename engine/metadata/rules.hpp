#pragma once
// docker/metadata-action's inputs: tag rules ("type=semver,pattern={{version}}"),
// flavor lines ("latest=auto", "prefix=v,onlatest=true") and image lines
// ("ghcr.io/me/app", "name=me/app,enable=false", "a/b,c/d").

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace polyarch::metadata {

enum class RuleType { schedule, semver, pep440, match, edge, ref, raw, sha };

// One line of the tags input, with each type's defaults filled in.
struct TagRule {
  RuleType type = RuleType::raw;
  std::map<std::string, std::string> attrs;  // every key given, plus defaults
  int priority = 0;
  std::string text;                          // the line as written, for messages

  bool has(const std::string& key) const { return attrs.count(key) > 0; }
  std::string attr(const std::string& key) const;
};

// The flavor input: how "latest" is handled and a global prefix and suffix.
struct Flavor {
  std::string latest = "auto";  // auto, true or false
  std::string prefix;
  std::string suffix;
  bool prefix_latest = false;   // prefix=…,onlatest=true
  bool suffix_latest = false;
};

// One image of the images input.
struct ImageName {
  std::string name;             // lowercased
  std::string enable = "true";  // may hold {{…}} expressions
};

// Parses one rule; a line with no KEY=VALUE is "type=raw,value=LINE". Throws
// bad_input `invalid tag rule "LINE": …`.
TagRule parse_rule(std::string_view line);

// Parses every rule (blank lines skipped); no rules gives the defaults
// (schedule, ref branch, ref tag, ref pr). Sorted by priority, highest first,
// keeping the written order among equals. Throws bad_input.
std::vector<TagRule> parse_rules(const std::vector<std::string>& lines);

// Parses flavor lines. Throws bad_input `invalid flavor "LINE": …`.
Flavor parse_flavor(const std::vector<std::string>& lines);

// Parses image lines. Throws bad_input `invalid image "LINE": …`.
std::vector<ImageName> parse_images(const std::vector<std::string>& lines);

// Splits one CSV line into fields; double quotes group commas ("" is a quote).
std::vector<std::string> csv_fields(std::string_view line);

}  // namespace polyarch::metadata
