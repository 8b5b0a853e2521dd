#pragma once
// The command table: one row per command drives dispatch, --help and typos.

#include <iosfwd>
#include <span>
#include <string_view>

#include "adapters/cli/args.hpp"

namespace polyarch::cli {

enum class Format { text, json };

// What every command handler gets: parsed options and where output goes.
struct Context {
  const Args& args;
  Format format = Format::text;
  int verbosity = 0;  // -1 quiet, 0 normal, 1 verbose
  std::ostream& out;  // results only
  std::ostream& err;  // messages for people
};

using Handler = int (*)(Context& context);

struct Command {
  std::string_view name;     // "assemble", "manifest inspect"
  std::string_view summary;  // one line for `polyarch --help`
  std::string_view usage;    // arguments after the name
  std::span<const OptionSpec> options;
  Handler handler;
};

// Every command polyarch has, in the order --help lists them.
std::span<const Command> command_table();

// Handlers, one per file.
int run_build(Context& context);
int run_assemble(Context& context);
int run_manifest_inspect(Context& context);
int run_manifest_create(Context& context);
int run_manifest_verify(Context& context);
int run_merge(Context& context);
int run_plan(Context& context);
int run_copy(Context& context);
int run_push(Context& context);
int run_emulate(Context& context);
int run_doctor(Context& context);
int run_login(Context& context);
int run_logout(Context& context);
int run_tags(Context& context);

// The tags command's options (cmd_tags.cpp).
std::span<const OptionSpec> tags_option_specs();

// True for commands that also take the registry options.
bool uses_registry(std::string_view name);

// The options every command accepts (--format, -v, -q, --config, --ci, --help).
std::span<const OptionSpec> global_options();

}  // namespace polyarch::cli
