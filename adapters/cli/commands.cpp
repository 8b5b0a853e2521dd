#include "adapters/cli/commands.hpp"

namespace polyarch::cli {

namespace {

constexpr OptionSpec k_global_options[] = {
    {"--config", true, "read options from FILE instead of ./polyarch.yml"},
    {"--ci", true, "CI system: auto|github|gitlab|circleci|codebuild|local"},
    {"--format", true, "output format: text|json"},
    {"--verbose", false, "say more on stderr"},
    {"-v", false, "same as --verbose"},
    {"--quiet", false, "say only errors on stderr"},
    {"-q", false, "same as --quiet"},
    {"--help", false, "show this command's help"},
    {"-h", false, "same as --help"},
};

constexpr OptionSpec k_assemble_options[] = {
    {"--platform", true, "P=FILE_OR_DIR: a file or root filesystem for platform P (repeat)"},
    {"--base", true, "base image; only \"scratch\" for now"},
    {"--dest", true, "where a FILE goes in the image (default /<basename>)"},
    {"--entrypoint", true, "entrypoint: a command line or a JSON array"},
    {"--cmd", true, "default arguments: a command line or a JSON array"},
    {"--env", true, "K=V environment variable (repeat)"},
    {"--workdir", true, "working directory"},
    {"--label", true, "K=V image config label (repeat)"},
    {"--annotation", true, "[index:|manifest:]K=V annotation (repeat; default manifest)"},
    {"--tag", true, "image name and tag, e.g. ghcr.io/me/app:1.0 (repeat)"},
    {"--output", true, "oci:PATH (tar archive) or oci-dir:PATH (directory)"},
};

constexpr OptionSpec k_manifest_inspect_options[] = {
    {"--raw", false, "print the manifest or index bytes exactly"},
};

constexpr Command k_commands[] = {
    {"assemble", "build a multi-platform image from files, with no builder",
     "--platform P=FILE_OR_DIR … --tag REF … --output oci:PATH", k_assemble_options,
     run_assemble},
    {"manifest inspect", "show the platforms, digests and sizes of an image",
     "oci:PATH[:NAME]|oci-dir:PATH[:NAME] [--raw]", k_manifest_inspect_options,
     run_manifest_inspect},
};

}  // namespace

std::span<const Command> command_table() { return k_commands; }

std::span<const OptionSpec> global_options() { return k_global_options; }

}  // namespace polyarch::cli
