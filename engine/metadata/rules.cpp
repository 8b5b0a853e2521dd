#include "engine/metadata/rules.hpp"

#include <algorithm>
#include <cctype>

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::metadata {

namespace {

// One row per type: its name, default priority, the keys it takes besides the
// global ones, and its defaults (metadata-action's README).
struct TypeRow {
  RuleType type;
  std::string_view name;
  int priority;
  std::vector<std::string_view> keys;
  std::vector<std::pair<std::string_view, std::string_view>> defaults;
};

const std::vector<TypeRow>& type_table() {
  static const std::vector<TypeRow> table = {
      {RuleType::schedule, "schedule", 1000, {"pattern"}, {{"pattern", "nightly"}}},
      {RuleType::semver, "semver", 900, {"pattern", "value"}, {}},
      {RuleType::pep440, "pep440", 900, {"pattern", "value"}, {}},
      {RuleType::match, "match", 800, {"pattern", "group", "value"}, {{"group", "0"}}},
      {RuleType::edge, "edge", 700, {"branch"}, {}},
      {RuleType::ref, "ref", 600, {"event"}, {}},
      {RuleType::raw, "raw", 200, {"value"}, {}},
      {RuleType::sha, "sha", 100, {"format"}, {{"prefix", "sha-"}, {"format", "short"}}},
  };
  return table;
}

constexpr std::string_view k_global_keys[] = {"enable", "priority", "prefix", "suffix"};

Error invalid_rule(std::string_view line, const std::string& why) {
  return bad_input("invalid tag rule " + quoted(std::string(line)) + ": " + why);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// "KEY=VALUE" → {key, value}; a field without "=" → {"", field}.
std::pair<std::string, std::string> split_field(const std::string& field) {
  size_t equals = field.find('=');
  if (equals == std::string::npos) return {"", std::string(core::trim(field))};
  return {lower(std::string(core::trim(field.substr(0, equals)))),
          std::string(core::trim(field.substr(equals + 1)))};
}

const TypeRow& row_for(std::string_view line, const std::string& name) {
  for (const auto& row : type_table()) {
    if (row.name == name) return row;
  }
  throw invalid_rule(line, "unknown type " + quoted(name) +
                               " (schedule, semver, pep440, match, edge, ref, raw, sha)");
}

void check_rule(std::string_view line, const TypeRow& row, TagRule& rule) {
  for (const auto& [key, value] : rule.attrs) {
    bool known = std::find(row.keys.begin(), row.keys.end(), key) != row.keys.end() ||
                 std::find(std::begin(k_global_keys), std::end(k_global_keys), key) !=
                     std::end(k_global_keys);
    if (!known) throw invalid_rule(line, "unknown key " + quoted(key) + " for type=" + std::string(row.name));
  }
  auto require = [&](const char* key, const char* form) {
    if (rule.attr(key).empty()) throw invalid_rule(line, std::string("type=") + std::string(row.name) + " needs " + form);
  };
  switch (row.type) {
    case RuleType::semver:
    case RuleType::pep440:
      require("pattern", "pattern=…");
      break;
    case RuleType::raw:
      if (!rule.has("value")) throw invalid_rule(line, "type=raw needs value=…");
      break;
    case RuleType::ref: {
      std::string event = rule.attr("event");
      if (event != "branch" && event != "tag" && event != "pr") {
        throw invalid_rule(line, "type=ref needs event=branch, event=tag or event=pr");
      }
      if (event == "pr" && !rule.has("prefix")) rule.attrs["prefix"] = "pr-";
      break;
    }
    case RuleType::sha:
      if (rule.attr("format") != "short" && rule.attr("format") != "long") {
        throw invalid_rule(line, "format " + quoted(rule.attr("format")) + " must be short or long");
      }
      break;
    case RuleType::match: {
      require("pattern", "pattern=…");
      const std::string& group = rule.attrs["group"];
      if (group.empty() || group.find_first_not_of("0123456789") != std::string::npos) {
        throw invalid_rule(line, "group " + quoted(group) + " must be a whole number");
      }
      break;
    }
    default:
      break;
  }
}

bool parse_bool(const std::string& value, bool& out) {
  if (value == "true") return out = true, true;
  if (value == "false") return out = false, true;
  return false;
}

}  // namespace

std::string TagRule::attr(const std::string& key) const {
  auto it = attrs.find(key);
  return it == attrs.end() ? std::string() : it->second;
}

std::vector<std::string> csv_fields(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted_text = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '"') {
      if (quoted_text && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        quoted_text = !quoted_text;
      }
    } else if (c == ',' && !quoted_text) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

TagRule parse_rule(std::string_view line) {
  TagRule rule;
  rule.text = std::string(core::trim(line));
  std::string type = "raw";
  for (const std::string& field : csv_fields(rule.text)) {
    if (core::trim(field).empty()) continue;
    auto [key, value] = split_field(field);
    if (key.empty()) {
      rule.attrs["value"] = value;
    } else if (key == "type") {
      type = lower(value);
    } else if (!rule.attrs.emplace(key, value).second) {
      throw invalid_rule(line, "duplicate key " + quoted(key));
    }
  }
  const TypeRow& row = row_for(line, type);
  rule.type = row.type;
  for (const auto& [key, value] : row.defaults) rule.attrs.emplace(std::string(key), std::string(value));
  rule.attrs.emplace("enable", "true");
  check_rule(line, row, rule);
  rule.priority = row.priority;
  if (rule.has("priority")) {
    const std::string text = rule.attr("priority");
    bool digits = !text.empty() && text.size() < 10 &&
                  text.find_first_not_of("0123456789", text[0] == '-' ? 1 : 0) == std::string::npos;
    if (!digits || text == "-") throw invalid_rule(line, "priority " + quoted(text) + " must be a whole number");
    rule.priority = std::stoi(text);
  }
  return rule;
}

std::vector<TagRule> parse_rules(const std::vector<std::string>& lines) {
  std::vector<TagRule> rules;
  for (const auto& text : lines) {
    for (const auto& line : core::split(text, '\n')) {
      if (!core::trim(line).empty()) rules.push_back(parse_rule(line));
    }
  }
  if (rules.empty()) {
    for (const char* line : {"type=schedule", "type=ref,event=branch", "type=ref,event=tag", "type=ref,event=pr"}) {
      rules.push_back(parse_rule(line));
    }
  }
  std::stable_sort(rules.begin(), rules.end(),
                   [](const TagRule& a, const TagRule& b) { return a.priority > b.priority; });
  return rules;
}

Flavor parse_flavor(const std::vector<std::string>& lines) {
  Flavor flavor;
  for (const auto& text : lines) {
    for (const auto& line : core::split(text, '\n')) {
      if (core::trim(line).empty()) continue;
      auto invalid = [&line](const std::string& why) {
        return bad_input("invalid flavor " + quoted(std::string(core::trim(line))) + ": " + why);
      };
      auto fields = csv_fields(core::trim(line));
      auto [key, value] = split_field(fields[0]);
      bool onlatest = false;
      for (size_t i = 1; i < fields.size(); ++i) {
        auto [extra, extra_value] = split_field(fields[i]);
        if (extra != "onlatest" || !parse_bool(extra_value, onlatest)) {
          throw invalid("expected onlatest=true|false after " + key + "=, got " + quoted(fields[i]));
        }
        if (key != "prefix" && key != "suffix") throw invalid("onlatest goes with prefix= or suffix=");
      }
      if (key == "latest") {
        if (value != "auto" && value != "true" && value != "false") {
          throw invalid("latest must be auto, true or false, not " + quoted(value));
        }
        flavor.latest = value;
      } else if (key == "prefix") {
        flavor.prefix = value;
        flavor.prefix_latest = onlatest;
      } else if (key == "suffix") {
        flavor.suffix = value;
        flavor.suffix_latest = onlatest;
      } else {
        throw invalid("unknown key " + quoted(key) + " (latest, prefix, suffix)");
      }
    }
  }
  return flavor;
}

std::vector<ImageName> parse_images(const std::vector<std::string>& lines) {
  std::vector<ImageName> images;
  for (const auto& text : lines) {
    for (const auto& line : core::split(text, '\n')) {
      std::string trimmed(core::trim(line));
      if (trimmed.empty()) continue;
      auto fields = csv_fields(trimmed);
      bool attributes = std::any_of(fields.begin(), fields.end(), [](const std::string& field) {
        return split_field(field).first == "name";
      });
      if (!attributes) {
        for (const auto& field : fields) {
          if (!core::trim(field).empty()) images.push_back({lower(std::string(core::trim(field))), "true"});
        }
        continue;
      }
      ImageName image;
      for (const auto& field : fields) {
        auto [key, value] = split_field(field);
        if (key == "name") {
          image.name = lower(value);
        } else if (key == "enable") {
          image.enable = value;
        } else {
          throw bad_input("invalid image " + quoted(trimmed) + ": unknown key " + quoted(key.empty() ? value : key) +
                          " (name, enable)");
        }
      }
      if (image.name.empty()) throw bad_input("invalid image " + quoted(trimmed) + ": empty name");
      images.push_back(std::move(image));
    }
  }
  return images;
}

}  // namespace polyarch::metadata
