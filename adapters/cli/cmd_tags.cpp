// polyarch tags: image tags and OCI labels from the CI's facts, with
// docker/metadata-action's rules, flavor and images syntax.
//
// Text output: one NAME:TAG per line, highest priority first.
// --format json: {"tags": […], "labels": {…}, "annotations": ["manifest:K=V", …]}.
// The CI also gets tags, labels, version and json as its own outputs
// ($GITHUB_OUTPUT, the dotenv report, $BASH_ENV, polyarch.env).
#include <ostream>

#include "adapters/ci/adapter.hpp"
#include "adapters/ci/outputs.hpp"
#include "adapters/cli/commands.hpp"
#include "engine/core/env.hpp"
#include "engine/core/error.hpp"
#include "engine/metadata/metadata.hpp"

namespace polyarch::cli {

namespace {

constexpr OptionSpec k_tags_options[] = {
    {"--image", true, "image name, or name=NAME,enable=true|false (repeat)"},
    {"--rule", true, "a tag rule, e.g. type=semver,pattern={{version}} (repeat; default rules when none)"},
    {"--flavor", true, "latest=auto|true|false, prefix=P[,onlatest=true], suffix=S[,onlatest=true] (repeat)"},
};

}  // namespace

std::span<const OptionSpec> tags_option_specs() { return k_tags_options; }

int run_tags(Context& context) {
  const Args& args = context.args;
  if (!args.positionals().empty()) {
    throw bad_input("unexpected argument " + quoted(args.positionals().front()) +
                    "; tags takes --image, --rule and --flavor");
  }
  auto adapter = ci::make_adapter(args.value("--ci", "auto"), core::process_env());
  metadata::Request request{args.values("--image"), args.values("--rule"), args.values("--flavor")};
  metadata::Metadata made = metadata::compute(adapter->facts(), request);
  if (context.verbosity >= 0) {
    for (const auto& warning : made.warnings) context.err << "warning: " << warning << "\n";
  }
  if (context.format == Format::json) {
    context.out << made.json().dump(2) << "\n";
  } else {
    for (const auto& tag : made.tags) context.out << tag << "\n";
  }
  adapter->write_outputs(ci::tags_outputs(made));
  return 0;
}

}  // namespace polyarch::cli
