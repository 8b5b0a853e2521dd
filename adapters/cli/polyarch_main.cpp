#include "adapters/cli/polyarch_main.hpp"


#include <iostream>
#include <string>
#include <vector>

#include "adapters/cli/commands.hpp"
#include "adapters/cli/registry_options.hpp"
#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::cli {

namespace {

void print_help(std::ostream& out) {
  out << "usage: polyarch [--format text|json] [-v|-q] COMMAND [ARGS…]\n\n"
         "Builds multi-architecture container images in any CI system.\n\ncommands:\n";
  for (const auto& command : command_table()) {
    out << "  " << command.name << std::string(20 - command.name.size(), ' ')
        << command.summary << "\n";
  }
  out << "\nRun 'polyarch COMMAND --help' for a command's options.\n";
}

void print_command_help(std::ostream& out, const Command& command) {
  out << "usage: polyarch " << command.name << " " << command.usage << "\n\n"
      << command.summary << "\n\noptions:\n";
  auto print = [&out](const OptionSpec& spec) {
    std::string left = std::string(spec.name) + (spec.takes_value ? " VALUE" : "");
    out << "  " << left << std::string(left.size() < 22 ? 22 - left.size() : 1, ' ')
        << spec.help << "\n";
  };
  for (const auto& spec : command.options) print(spec);
  for (const auto& spec : global_options()) print(spec);
  if (uses_registry(command.name)) {
    for (const auto& spec : registry_options()) print(spec);
  }
}

// Finds the command named by words[0] (and words[1] for two-word commands).
const Command* find_command(const std::vector<std::string>& words, size_t& used) {
  for (const auto& command : command_table()) {
    if (words.size() >= 2 && command.name == words[0] + " " + words[1]) {
      used = 2;
      return &command;
    }
  }
  for (const auto& command : command_table()) {
    if (command.name == words[0]) {
      used = 1;
      return &command;
    }
  }
  return nullptr;
}

Error unknown_command(const std::vector<std::string>& words) {
  std::vector<std::string_view> names;
  for (const auto& command : command_table()) names.push_back(command.name);
  std::string typed = words[0];
  if (words.size() >= 2 && !words[1].starts_with("-")) {
    for (const auto& command : command_table()) {
      if (command.name.starts_with(words[0] + " ")) typed = words[0] + " " + words[1];
    }
  }
  std::string suggestion = core::closest(typed, names);
  return bad_input("unknown command " + quoted(typed) +
                   (suggestion.empty() ? "; run 'polyarch --help' for the list"
                                       : "; did you mean " + quoted(suggestion) + "?"));
}

Format parse_format(const std::string& text) {
  if (text == "text") return Format::text;
  if (text == "json") return Format::json;
  throw bad_input("invalid --format " + quoted(text) + ": expected text or json");
}

int run(const std::vector<std::string>& words) {
  if (words.empty()) {
    print_help(std::cerr);
    return 2;
  }
  if (words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    print_help(std::cout);
    return 0;
  }
  if (words[0] == "--version") {
    std::cout << "polyarch " << POLYARCH_VERSION << "\n";
    return 0;
  }
  // Global options may come before the command; they are parsed with it below.
  size_t start = 0;
  while (start < words.size() && words[start].starts_with("-")) {
    bool takes_value = false;
    for (const auto& spec : global_options()) {
      if (spec.name == words[start]) takes_value = spec.takes_value;
    }
    start += takes_value ? 2 : 1;
  }
  if (start >= words.size()) throw bad_input("no command given; run 'polyarch --help'");
  std::vector<std::string> rest(words.begin() + static_cast<long>(start), words.end());
  size_t used = 0;
  const Command* command = find_command(rest, used);
  if (command == nullptr) throw unknown_command(rest);

  std::vector<OptionSpec> specs(command->options.begin(), command->options.end());
  specs.insert(specs.end(), global_options().begin(), global_options().end());
  if (uses_registry(command->name)) {
    specs.insert(specs.end(), registry_options().begin(), registry_options().end());
  }
  std::vector<std::string> argv(words.begin(), words.begin() + static_cast<long>(start));
  argv.insert(argv.end(), rest.begin() + static_cast<long>(used), rest.end());
  Args args = Args::parse(argv, specs);
  if (args.has("--help") || args.has("-h")) {
    print_command_help(std::cout, *command);
    return 0;
  }
  Context context{args, parse_format(args.value("--format", "text")), 0, std::cout, std::cerr};
  if (args.has("--verbose") || args.has("-v")) context.verbosity = 1;
  if (args.has("--quiet") || args.has("-q")) context.verbosity = -1;
  return command->handler(context);
}

}  // namespace

int polyarch_main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  try {
    return run(words);
  } catch (const Error& e) {
    std::cerr << "polyarch: error: " << e.what() << "\n";
    return e.exit_status();
  } catch (const std::exception& e) {
    std::cerr << "polyarch: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace polyarch::cli
