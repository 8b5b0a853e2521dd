#include "adapters/cli/commands.hpp"

#include "adapters/cli/build_options.hpp"

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
    {"--base", true, "base image REF or oci:PATH (default scratch)"},
    {"--dest", true, "where a FILE goes in the image (default /<basename>)"},
    {"--entrypoint", true, "entrypoint: a command line or a JSON array"},
    {"--cmd", true, "default arguments: a command line or a JSON array"},
    {"--env", true, "K=V environment variable (repeat)"},
    {"--workdir", true, "working directory"},
    {"--label", true, "K=V image config label (repeat)"},
    {"--annotation", true, "[index:|manifest:]K=V annotation (repeat; default manifest)"},
    {"--tag", true, "image name and tag, e.g. ghcr.io/me/app:1.0 (repeat)"},
    {"--output", true, "oci:PATH (tar archive) or oci-dir:PATH (directory)"},
    {"--push", false, "push to every --tag instead of writing a layout"},
    {"--no-cache", false, "compress every layer; neither read nor fill the layer cache"},
};

constexpr OptionSpec k_manifest_inspect_options[] = {
    {"--raw", false, "print the manifest or index bytes exactly"},
};

constexpr OptionSpec k_manifest_create_options[] = {
    {"--tag", true, "where to push the index, e.g. ghcr.io/me/app:1.0 (repeat)"},
    {"--annotation", true, "K=V annotation on the index (repeat)"},
    {"--media-type", true, "oci (default) or docker"},
    {"--dry-run", false, "print the index instead of pushing it"},
};

constexpr OptionSpec k_manifest_verify_options[] = {
    {"--platform", true, "verify only these platforms, e.g. linux/amd64,linux/arm64"},
};

constexpr OptionSpec k_merge_options[] = {
    {"--tag", true, "where to push the index, e.g. ghcr.io/me/app:1.0 (repeat)"},
    {"--from-tags", false, "the arguments are image references (one platform or an index each)"},
    {"--annotation", true, "K=V or index:K=V annotation on the index (repeat)"},
};

constexpr OptionSpec k_plan_options[] = {
    {"--platform", true, "platforms to build, e.g. linux/amd64,linux/arm64,linux/arm/v7"},
};

constexpr OptionSpec k_copy_options[] = {
    {"--platform", true, "copy only these platforms, e.g. linux/amd64,linux/arm64"},
    {"--jobs", true, "blobs transferred at once (default 4)"},
};

constexpr OptionSpec k_push_options[] = {
    {"--jobs", true, "blobs transferred at once (default 4)"},
};

constexpr OptionSpec k_emulate_options[] = {
    {"--platform", true, "platforms to set up, e.g. linux/arm64,linux/arm/v7, or all (default)"},
    {"--check", false, "only report; change nothing"},
    {"--uninstall", false, "remove the QEMU handlers polyarch registered"},
    {"--force", false, "with --uninstall: remove every matching handler"},
    {"--binfmt-image", true, "image for the Docker path (default docker.io/tonistiigi/binfmt:latest)"},
};

constexpr OptionSpec k_login_options[] = {
    {"--username", true, "user name for the registry"},
    {"-u", true, "same as --username"},
    {"--password-stdin", false, "read the password (or token) from stdin"},
    {"--password", true, "refused: a password on the command line is unsafe"},
    {"--aws", false, "log in through AWS ecr:GetAuthorizationToken (ECR hosts without -u do)"},
};

// Commands that talk to registries take registry_options() too.
constexpr std::string_view k_registry_commands[] = {
    "build", "assemble", "manifest inspect", "manifest create", "manifest verify", "merge", "copy",
    "push", "login", "logout"};

// Not constexpr: some option tables live next to their commands.
const Command k_commands[] = {
    {"build", "build an image for several platforms and publish one tag",
     "[CONTEXT] --platform P,… [--tag REF …] [--push | --output oci:PATH]", build_option_specs(),
     run_build},
    {"assemble", "build a multi-platform image from files, with no builder",
     "--platform P=FILE_OR_DIR … --tag REF … --push|--output oci:PATH [--no-cache]",
     k_assemble_options, run_assemble},
    {"manifest inspect", "show the platforms, digests and sizes of an image",
     "oci:PATH[:NAME]|oci-dir:PATH[:NAME] [--raw]", k_manifest_inspect_options,
     run_manifest_inspect},
    {"manifest create", "push one index over images that already exist",
     "--tag REF … [--annotation K=V …] [--media-type oci|docker] [--dry-run] SOURCE …",
     k_manifest_create_options, run_manifest_create},
    {"manifest verify", "check that each platform's config and ELF files match its platform",
     "REF|oci:PATH [--platform P,…]", k_manifest_verify_options, run_manifest_verify},
    {"merge", "join the legs of a split build under one index and push it",
     "--tag REF … DIGEST_FILE_OR_DIR … | --from-tags REF …", k_merge_options, run_merge},
    {"plan", "print the job matrix of a split build (one leg per platform)",
     "--platform P,… [--format json]", k_plan_options, run_plan},
    {"copy", "copy an image between registries and OCI layouts", "SRC DST [--platform P,…]",
     k_copy_options, run_copy},
    {"push", "push an OCI layout to a registry", "oci:PATH REF …", k_push_options, run_push},
    {"emulate", "register QEMU handlers and prove each platform runs",
     "[--platform P,…|all] [--check] [--uninstall [--force]]", k_emulate_options, run_emulate},
    {"doctor", "show what this machine can build: CI, backends, emulation, credentials", "",
     {}, run_doctor},
    {"tags", "print image tags and OCI labels from the CI's facts (metadata-action rules)",
     "--image NAME … [--rule RULE …] [--flavor K=V …]", tags_option_specs(), run_tags},
    {"login", "check credentials for a registry and save them",
     "[REGISTRY] -u USER --password-stdin | [--aws] ECR_REGISTRY", k_login_options, run_login},
    {"logout", "remove the saved credentials for a registry", "[REGISTRY]", {}, run_logout},
};

}  // namespace

std::span<const Command> command_table() { return k_commands; }

bool uses_registry(std::string_view name) {
  for (auto command : k_registry_commands) {
    if (command == name) return true;
  }
  return false;
}

std::span<const OptionSpec> global_options() { return k_global_options; }

}  // namespace polyarch::cli
