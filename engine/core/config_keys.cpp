#include "engine/core/config_keys.hpp"

#include <map>
#include <optional>
#include <vector>

#include "engine/core/config_values.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::core {

std::string shown(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (node.IsScalar()) return quoted(node.Scalar());
  return "empty";
}

namespace {

// Runs check, prefixing any Error it throws with node's location.
template <typename Check>
void located(const ConfigField& field, const YAML::Node& node, Check check) {
  try {
    check();
  } catch (const Error& error) {
    throw field.error(node, error.what());
  }
}

std::string text_of(const ConfigField& field) {
  if (!field.value.IsScalar()) {
    throw field.error(field.value, field.name() + " must be a string, not " + shown(field.value));
  }
  return field.value.Scalar();
}

// The items of a string-or-list key, each with its node; a string is split at
// commas when comma_list is set (platforms, tags), else it is one item.
std::vector<std::pair<std::string, YAML::Node>> items_of(const ConfigField& field, bool comma_list) {
  std::vector<std::pair<std::string, YAML::Node>> items;
  if (field.value.IsScalar()) {
    if (!comma_list) return {{field.value.Scalar(), field.value}};
    for (std::string& piece : split_list(field.value.Scalar(), ",")) {
      items.emplace_back(std::move(piece), field.value);
    }
    return items;
  }
  if (!field.value.IsSequence()) {
    throw field.error(field.value, field.name() + " must be a string or a list of strings, not " +
                                       shown(field.value));
  }
  for (YAML::const_iterator it = field.value.begin(); it != field.value.end(); ++it) {
    const YAML::Node item = *it;
    if (!item.IsScalar()) {
      // A null item's mark lies on the next token; point at the list instead.
      const YAML::Node& where = item.IsNull() ? field.value : item;
      throw field.error(where, field.name() + " items must be strings, not " + shown(item));
    }
    items.emplace_back(item.Scalar(), item);
  }
  return items;
}

std::map<std::string, std::string> map_of(const ConfigField& field) {
  if (!field.value.IsMap()) {
    throw field.error(field.value, field.name() + " must be a mapping of NAME: value");
  }
  std::map<std::string, std::string> result;
  for (auto it = field.value.begin(); it != field.value.end(); ++it) {
    const YAML::Node name = it->first;
    const YAML::Node value = it->second;
    if (!name.IsScalar() || name.Scalar().empty()) {
      throw field.error(name, field.name() + " must be a mapping of NAME: value");
    }
    std::string shown_name = quoted(name.Scalar());
    if (result.count(name.Scalar()) != 0) {
      throw field.error(name, field.name() + " gives " + shown_name + " twice");
    }
    if (!value.IsScalar()) {
      const YAML::Node& where = value.IsNull() ? name : value;
      throw field.error(where, field.name() + " value for " + shown_name +
                                   " must be a string, not " + shown(value));
    }
    result[name.Scalar()] = value.Scalar();
  }
  return result;
}

bool switch_of(const ConfigField& field, SwitchWords words, const std::string& expected) {
  std::optional<bool> value;
  if (field.value.IsScalar()) value = parse_switch(field.value.Scalar(), words);
  if (!value) {
    throw field.error(field.value, field.name() + " must be " + expected + ", not " + shown(field.value));
  }
  return *value;
}

// --- one function per key ---------------------------------------------------

void set_image(const ConfigField& field, build::BuildOptions& options) {
  std::vector<std::string> images;
  for (auto& item : items_of(field, false)) {
    located(field, item.second, [&] { images.push_back(checked_image(item.first)); });
  }
  if (images.empty()) throw field.error(field.value, "\"image\" must name at least one image");
  options.images = std::move(images);
}

void set_platforms(const ConfigField& field, build::BuildOptions& options) {
  std::vector<image::Platform> platforms;
  for (auto& item : items_of(field, true)) {
    located(field, item.second, [&] { add_platform(item.first, platforms); });
  }
  if (platforms.empty()) {
    throw field.error(field.value, "\"platforms\" must name at least one platform");
  }
  options.platforms = std::move(platforms);
}

void set_context(const ConfigField& field, build::BuildOptions& options) {
  std::string context = text_of(field);
  if (context.empty()) throw field.error(field.value, "\"context\" must not be empty");
  options.context = std::move(context);
}

void set_file(const ConfigField& field, build::BuildOptions& options) { options.file = text_of(field); }

void set_target(const ConfigField& field, build::BuildOptions& options) { options.target = text_of(field); }

void set_output(const ConfigField& field, build::BuildOptions& options) { options.output = text_of(field); }

void set_build_args(const ConfigField& field, build::BuildOptions& options) {
  options.build_args = map_of(field);
}

void set_labels(const ConfigField& field, build::BuildOptions& options) { options.labels = map_of(field); }

void set_annotations(const ConfigField& field, build::BuildOptions& options) {
  options.annotations = map_of(field);
}

// Plain tags or references, or metadata-action rules ("type=…"), which
// `polyarch build` expands from the CI's facts. A string holding a rule is
// split at line breaks only (`tags: |` one rule a line, as metadata-action's
// input); a list item is always one entry.
void set_tags(const ConfigField& field, build::BuildOptions& options) {
  std::vector<std::pair<std::string, YAML::Node>> items;
  if (field.value.IsScalar()) {
    for (std::string& text : split_tags(field.value.Scalar())) items.emplace_back(std::move(text), field.value);
  } else {
    items = items_of(field, false);
  }
  std::vector<std::string> tags;
  for (auto& item : items) {
    located(field, item.second, [&] { tags.push_back(checked_tag_or_rule(item.first)); });
  }
  options.tags = std::move(tags);
}

void set_backend(const ConfigField& field, build::BuildOptions& options) {
  std::string text = text_of(field);
  located(field, field.value, [&] { options.backend = checked_backend(text); });
}

void set_cache(const ConfigField& field, build::BuildOptions& options) {
  std::vector<std::string> cache;
  for (auto& [text, node] : items_of(field, false)) {
    if (text.empty()) throw field.error(node, "\"cache\" items must not be empty");
    cache.push_back(text);
  }
  if (cache.empty()) {
    throw field.error(field.value, "\"cache\" must name at least one cache; use \"none\" for no cache");
  }
  options.cache = std::move(cache);
}

void set_provenance(const ConfigField& field, build::BuildOptions& options) {
  options.provenance = switch_of(field, {.on_off = true}, "true, false, \"on\" or \"off\"");
}

void set_push(const ConfigField& field, build::BuildOptions& options) {
  options.push = switch_of(field, {}, "true or false");
}

void set_jobs(const ConfigField& field, build::BuildOptions& options) {
  std::optional<int> jobs;
  if (field.value.IsScalar()) jobs = parse_positive_int(field.value.Scalar());
  if (!jobs) {
    throw field.error(field.value, "\"jobs\" must be a positive whole number, not " + shown(field.value));
  }
  options.jobs = *jobs;
}

void set_secrets(const ConfigField& field, build::BuildOptions& options) {
  std::vector<std::string> secrets;
  for (auto& [text, node] : items_of(field, false)) {
    if (text.empty()) throw field.error(node, "\"secrets\" items must not be empty");
    secrets.push_back(text);
  }
  options.secrets = std::move(secrets);
}

// The keys of polyarch.yml: the same names as the build flags.
struct Key {
  std::string_view name;
  void (*set)(const ConfigField&, build::BuildOptions&);
};

constexpr Key k_keys[] = {
    {"image", set_image},           {"platforms", set_platforms},
    {"context", set_context},       {"file", set_file},
    {"target", set_target},         {"build-args", set_build_args},
    {"labels", set_labels},         {"annotations", set_annotations},
    {"tags", set_tags},             {"backend", set_backend},
    {"cache", set_cache},           {"provenance", set_provenance},
    {"push", set_push},             {"output", set_output},
    {"jobs", set_jobs},             {"secrets", set_secrets},
};

std::string unknown_key(const std::string& key) {
  std::vector<std::string_view> names;
  for (const Key& k : k_keys) names.push_back(k.name);
  std::string guess = closest(key, names);
  if (!guess.empty()) return "unknown key " + quoted(key) + "; did you mean " + quoted(guess) + "?";
  std::string list;
  for (std::string_view name : names) list += (list.empty() ? "" : ", ") + std::string(name);
  return "unknown key " + quoted(key) + "; known keys are " + list;
}

}  // namespace

void apply_key(const ConfigField& field, build::BuildOptions& options) {
  for (const Key& key : k_keys) {
    if (key.name == field.key) {
      key.set(field, options);
      return;
    }
  }
  throw field.error(field.key_node, unknown_key(field.key));
}

}  // namespace polyarch::core
