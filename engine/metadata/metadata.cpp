#include "engine/metadata/metadata.hpp"

#include <algorithm>
#include <optional>
#include <regex>

#include "engine/core/error.hpp"
#include "engine/metadata/expressions.hpp"
#include "engine/metadata/rules.hpp"

namespace polyarch::metadata {

namespace {

// The version being built up, as metadata-action's: the first value is the
// main tag, later ones partial tags; the first rule that yields decides latest.
struct Building {
  std::string main;
  std::vector<std::string> partial;
  std::optional<bool> latest;
};

class Generator {
 public:
  Generator(const Facts& facts, Flavor flavor) : m_facts(facts), m_flavor(std::move(flavor)) {}

  // Runs every enabled rule, highest priority first.
  Building run(const std::vector<TagRule>& rules, std::vector<std::string>& warnings) {
    Building version;
    for (const TagRule& rule : rules) {
      if (!enabled(rule.attr("enable"), rule.text)) continue;
      auto [value, auto_latest] = produce(rule, warnings);
      if (!value) continue;
      bool latest = m_flavor.latest == "auto" ? auto_latest : m_flavor.latest == "true";
      add(version, *value, latest);
    }
    std::vector<std::string> unique;
    for (const auto& tag : version.partial) {
      if (std::find(unique.begin(), unique.end(), tag) == unique.end()) unique.push_back(tag);
    }
    version.partial = std::move(unique);
    return version;
  }

  // Expressions every attribute may use.
  std::optional<std::string> global_value(const std::string& name, const std::string& arg) const {
    if (name == "branch") return m_facts.branch;
    if (name == "tag") return m_facts.tag;
    if (name == "sha") return m_facts.sha.substr(0, 7);
    if (name == "base_ref") return m_facts.base_ref;
    if (name == "is_default_branch") {
      bool is_default = !m_facts.branch.empty() && m_facts.branch == m_facts.default_branch;
      return std::string(is_default ? "true" : "false");
    }
    if (name == "date") return format_date(m_facts.time_ms, arg.empty() ? "YYYY-MM-DD[T]HH:mm:ss[+00:00]" : arg);
    return std::nullopt;
  }

  std::string global(std::string_view text) const {
    return render(text, [this](const std::string& name, const std::string& arg) { return global_value(name, arg); });
  }

  bool enabled(const std::string& text, const std::string& where) const {
    std::string value = global(text);
    if (value == "true") return true;
    if (value == "false") return false;
    throw bad_input("invalid enable " + quoted(value) + " in " + quoted(where) + ": expected true or false");
  }

 private:
  using Produced = std::pair<std::optional<std::string>, bool>;  // value, latest under latest=auto

  Produced produce(const TagRule& rule, std::vector<std::string>& warnings) const {
    switch (rule.type) {
      case RuleType::schedule:
        if (m_facts.event != Event::schedule) return {};
        return {with_affixes(global(rule.attr("pattern")), rule), false};
      case RuleType::semver:
      case RuleType::pep440:
        return version_rule(rule, warnings);
      case RuleType::match:
        return match_rule(rule);
      case RuleType::edge: {
        std::string branch = rule.has("branch") ? global(rule.attr("branch")) : m_facts.default_branch;
        if (m_facts.branch.empty() || m_facts.branch != branch) return {};
        return {with_affixes("edge", rule), false};
      }
      case RuleType::ref: {
        std::string event = rule.attr("event");
        std::string value = event == "branch" ? m_facts.branch : event == "tag" ? m_facts.tag : m_facts.pr_number;
        if (value.empty()) return {};
        return {with_affixes(value, rule), event == "tag"};
      }
      case RuleType::raw:
        return {with_affixes(global(rule.attr("value")), rule), false};
      case RuleType::sha:
        if (m_facts.sha.empty()) return {};
        return {with_affixes(rule.attr("format") == "long" ? m_facts.sha : m_facts.sha.substr(0, 7), rule), false};
    }
    return {};
  }

  // The git tag a semver/pep440/match rule reads, or its value=.
  std::string source(const TagRule& rule) const {
    if (rule.has("value") && !rule.attr("value").empty()) return global(rule.attr("value"));
    std::string tag = m_facts.tag;
    std::replace(tag.begin(), tag.end(), '/', '-');
    return tag;
  }

  Produced version_rule(const TagRule& rule, std::vector<std::string>& warnings) const {
    std::string text = source(rule);
    if (text.empty()) return {};
    bool semver = rule.type == RuleType::semver;
    auto version = semver ? parse_semver(text) : parse_pep440(text);
    if (!version) {
      warnings.push_back(quoted(text) + (semver ? " is not a valid semver" : " is not a valid PEP 440 version") +
                         "; rule " + quoted(rule.text) + " makes no tag");
      return {};
    }
    std::string pattern = rule.attr("pattern");
    // Pre-releases only extend the full version, unless the pattern is {{raw}}.
    if (version->prerelease && pattern.find("{{raw}}") == std::string::npos) pattern = "{{version}}";
    std::string value = render(pattern, [&](const std::string& name, const std::string& arg) -> std::optional<std::string> {
      if (name == "raw") return version->raw;
      if (name == "version") return version->version;
      if (name == "major") return version->major;
      if (name == "minor") return version->minor;
      if (name == "patch") return version->patch;
      return global_value(name, arg);
    });
    return {with_affixes(value, rule), !version->prerelease};
  }

  Produced match_rule(const TagRule& rule) const {
    std::string text = source(rule);
    if (text.empty()) return {};
    std::string pattern = rule.attr("pattern");
    auto flags = std::regex::ECMAScript;
    static const std::regex slashed(R"(^/(.+)/([a-z]*)$)");
    std::smatch parts;
    if (std::regex_match(pattern, parts, slashed)) {
      if (parts[2].str().find('i') != std::string::npos) flags |= std::regex::icase;
      pattern = parts[1];
    }
    std::regex expression;
    try {
      expression = std::regex(pattern, flags);
    } catch (const std::regex_error&) {
      throw bad_input("invalid tag rule " + quoted(rule.text) + ": pattern " + quoted(pattern) +
                      " is not a regular expression");
    }
    std::smatch found;
    if (!std::regex_search(text, found, expression)) return {};
    size_t group = std::stoul(rule.attr("group"));
    if (group >= found.size() || !found[group].matched) return {};
    return {with_affixes(found[group].str(), rule), true};
  }

  // The rule's own prefix/suffix when it has one (even empty), else the flavor's.
  std::string with_affixes(const std::string& value, const TagRule& rule) const {
    std::string prefix = rule.has("prefix") ? rule.attr("prefix") : m_flavor.prefix;
    std::string suffix = rule.has("suffix") ? rule.attr("suffix") : m_flavor.suffix;
    return global(prefix) + value + global(suffix);
  }

  static void add(Building& version, const std::string& raw, bool latest) {
    if (raw.empty()) return;
    std::string value = sanitize_tag(raw);
    if (version.main.empty()) version.main = value;
    else if (value != version.main) version.partial.push_back(value);
    if (!version.latest) version.latest = latest;
  }

  const Facts& m_facts;
  Flavor m_flavor;
};

}  // namespace

nlohmann::json Metadata::json() const {
  nlohmann::json out = {{"tags", tags}, {"labels", nlohmann::json::object()}, {"annotations", annotations}};
  for (const auto& [key, value] : labels) out["labels"][key] = value;
  return out;
}

std::vector<std::pair<std::string, std::string>> oci_labels(const Facts& facts, const std::string& version) {
  return {
      {"org.opencontainers.image.title", facts.title},
      {"org.opencontainers.image.description", facts.description},
      {"org.opencontainers.image.url", facts.repository_url},
      {"org.opencontainers.image.source", facts.repository_url},
      {"org.opencontainers.image.version", version},
      {"org.opencontainers.image.created", iso_time(facts.time_ms)},
      {"org.opencontainers.image.revision", facts.sha},
      {"org.opencontainers.image.licenses", facts.licenses},
  };
}

Metadata compute(const Facts& facts, const Request& request) {
  std::vector<TagRule> rules = parse_rules(request.rules);
  Flavor flavor = parse_flavor(request.flavor);
  std::vector<ImageName> images = parse_images(request.images);
  Generator generator(facts, flavor);
  Metadata out;
  Building version = generator.run(rules, out.warnings);
  out.version = version.main;
  std::vector<std::string> names;
  for (const auto& image : images) {
    if (generator.enabled(image.enable, image.name)) names.push_back(image.name);
  }
  if (names.empty()) names.push_back("");
  if (!version.main.empty()) {
    std::string latest = (flavor.prefix_latest ? generator.global(flavor.prefix) : "") + "latest" +
                         (flavor.suffix_latest ? generator.global(flavor.suffix) : "");
    for (const auto& name : names) {
      std::string prefix = name.empty() ? "" : name + ":";
      out.tags.push_back(prefix + version.main);
      for (const auto& partial : version.partial) out.tags.push_back(prefix + partial);
      if (version.latest.value_or(false)) out.tags.push_back(prefix + sanitize_tag(latest));
    }
  }
  out.labels = oci_labels(facts, version.main);
  for (const auto& [key, value] : out.labels) out.annotations.push_back("manifest:" + key + "=" + value);
  return out;
}

std::string_view event_name(Event event) {
  switch (event) {
    case Event::branch: return "branch";
    case Event::tag: return "tag";
    case Event::pull_request: return "pull_request";
    case Event::schedule: return "schedule";
    case Event::manual: return "manual";
    case Event::other: break;
  }
  return "other";
}

}  // namespace polyarch::metadata
