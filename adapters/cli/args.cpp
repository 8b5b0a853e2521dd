#include "adapters/cli/args.hpp"

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::cli {

static const OptionSpec* find_spec(std::span<const OptionSpec> specs, std::string_view name) {
  for (const auto& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

static Error unknown_option(std::span<const OptionSpec> specs, const std::string& name) {
  std::vector<std::string_view> names;
  for (const auto& spec : specs) names.push_back(spec.name);
  std::string suggestion = core::closest(name, names);
  return bad_input("unknown option " + quoted(name) +
                   (suggestion.empty() ? "" : "; did you mean " + quoted(suggestion) + "?"));
}

Args Args::parse(std::span<const std::string> argv, std::span<const OptionSpec> specs) {
  Args args;
  bool options_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& word = argv[i];
    if (options_done || word.size() < 2 || word[0] != '-') {
      args.m_positionals.push_back(word);
      continue;
    }
    if (word == "--") {
      options_done = true;
      continue;
    }
    size_t equals = word.find('=');
    std::string name = word.substr(0, equals);
    const OptionSpec* spec = find_spec(specs, name);
    if (spec == nullptr) throw unknown_option(specs, name);
    if (!spec->takes_value) {
      if (equals != std::string::npos) {
        throw bad_input("option " + quoted(name) + " takes no value");
      }
      args.m_values[name].push_back("true");
      continue;
    }
    if (equals != std::string::npos) {
      args.m_values[name].push_back(word.substr(equals + 1));
    } else if (i + 1 < argv.size()) {
      args.m_values[name].push_back(argv[++i]);
    } else {
      throw bad_input("option " + quoted(name) + " needs a value");
    }
  }
  return args;
}

std::string Args::value(std::string_view name, std::string_view fallback) const {
  auto it = m_values.find(std::string(name));
  return it == m_values.end() ? std::string(fallback) : it->second.back();
}

std::vector<std::string> Args::values(std::string_view name) const {
  auto it = m_values.find(std::string(name));
  return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace polyarch::cli
