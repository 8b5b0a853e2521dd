#include "engine/core/config_env.hpp"

#include "engine/core/config.hpp"
#include "engine/core/config_values.hpp"
#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::core {

namespace {

constexpr std::string_view k_prefix = "POLYARCH_";

std::optional<bool> env_switch(const std::string& value, SwitchWords words, const char* expected) {
  std::optional<bool> result = parse_switch(value, words);
  if (!result) throw bad_input(std::string("must be ") + expected + ", not " + quoted(value));
  return result;
}

// --- one function per variable ----------------------------------------------

void set_platforms(const std::string& value, build::BuildOptions& options) {
  std::vector<image::Platform> platforms;
  for (const std::string& item : split_list(value, ",\n")) add_platform(item, platforms);
  if (platforms.empty()) throw bad_input("must name at least one platform, not " + quoted(value));
  options.platforms = std::move(platforms);
}

void set_image(const std::string& value, build::BuildOptions& options) {
  std::vector<std::string> images;
  for (const std::string& item : split_list(value, ",\n")) images.push_back(checked_image(item));
  if (images.empty()) throw bad_input("must name at least one image, not " + quoted(value));
  options.images = std::move(images);
}

// Tags split at commas and line breaks; with a metadata-action rule
// ("type=…", which holds commas) one entry a line.
void set_tags(const std::string& value, build::BuildOptions& options) {
  std::vector<std::string> tags;
  for (const std::string& item : split_tags(value)) tags.push_back(checked_tag_or_rule(item));
  options.tags = std::move(tags);
}

void set_push(const std::string& value, build::BuildOptions& options) {
  options.push = *env_switch(value, {.digits = true}, "true, false, 1 or 0");
}

void set_provenance(const std::string& value, build::BuildOptions& options) {
  options.provenance =
      *env_switch(value, {.on_off = true, .digits = true}, "true, false, on, off, 1 or 0");
}

void set_backend(const std::string& value, build::BuildOptions& options) {
  options.backend = checked_backend(value);
}

// Cache specs hold commas ("type=registry,ref=…"), so several go one a line.
void set_cache(const std::string& value, build::BuildOptions& options) {
  std::vector<std::string> cache = split_list(value, "\n");
  if (cache.empty()) throw bad_input("must name at least one cache, not " + quoted(value));
  options.cache = std::move(cache);
}

void set_output(const std::string& value, build::BuildOptions& options) { options.output = value; }

void set_context(const std::string& value, build::BuildOptions& options) { options.context = value; }

void set_file(const std::string& value, build::BuildOptions& options) { options.file = value; }

void set_target(const std::string& value, build::BuildOptions& options) { options.target = value; }

void set_jobs(const std::string& value, build::BuildOptions& options) {
  std::optional<int> jobs = parse_positive_int(value);
  if (!jobs) throw bad_input("must be a positive whole number, not " + quoted(value));
  options.jobs = *jobs;
}

// The POLYARCH_* variables, in the order they are applied.
struct Variable {
  std::string_view name;
  void (*set)(const std::string&, build::BuildOptions&);
};

constexpr Variable k_variables[] = {
    {"POLYARCH_IMAGE", set_image},   {"POLYARCH_PLATFORMS", set_platforms},
    {"POLYARCH_CONTEXT", set_context}, {"POLYARCH_FILE", set_file},
    {"POLYARCH_TARGET", set_target}, {"POLYARCH_TAGS", set_tags},
    {"POLYARCH_BACKEND", set_backend}, {"POLYARCH_CACHE", set_cache},
    {"POLYARCH_PROVENANCE", set_provenance}, {"POLYARCH_PUSH", set_push},
    {"POLYARCH_OUTPUT", set_output}, {"POLYARCH_JOBS", set_jobs},
};

bool is_known(std::string_view name) {
  for (const Variable& variable : k_variables) {
    if (variable.name == name) return true;
  }
  return false;
}

// Throws for a POLYARCH_* name that looks like a misspelt known one.
void check_spelling(const Env& env) {
  std::vector<std::string_view> names;
  for (const Variable& variable : k_variables) names.push_back(variable.name);
  for (const auto& [name, value] : env) {
    if (name.rfind(k_prefix, 0) != 0 || is_known(name)) continue;
    std::string guess = closest(name, names);
    if (!guess.empty()) {
      throw bad_input(name + ": unknown variable; did you mean " + quoted(guess) + "?");
    }
  }
}

}  // namespace

std::vector<std::string_view> env_variable_names() {
  std::vector<std::string_view> names;
  for (const Variable& variable : k_variables) names.push_back(variable.name);
  return names;
}

void apply_env(const Env& env, build::BuildOptions& options) {
  check_spelling(env);
  for (const Variable& variable : k_variables) {
    auto it = env.find(std::string(variable.name));
    if (it == env.end() || trim(it->second).empty()) continue;
    try {
      variable.set(std::string(trim(it->second)), options);
    } catch (const Error& error) {
      throw bad_input(std::string(variable.name) + ": " + error.what());
    }
  }
}

}  // namespace polyarch::core
