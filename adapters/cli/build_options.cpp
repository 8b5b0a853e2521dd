#include "adapters/cli/build_options.hpp"

#include <algorithm>
#include <iostream>

#include "adapters/ci/apply.hpp"
#include "engine/cache/cache.hpp"
#include "engine/core/config.hpp"
#include "engine/core/env.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::cli {

namespace {

constexpr OptionSpec k_build_options[] = {
    {"--platform", true, "platforms to build, e.g. linux/amd64,linux/arm64 (repeat)"},
    {"--tag", true, "REF, or a bare tag applied to every image (repeat)"},
    {"--push", false, "push the image and its index to every tag"},
    {"--output", true, "oci:PATH or oci-dir:PATH (default dist/<name>.oci.tar)"},
    {"--file", true, "the Dockerfile (default CONTEXT/Dockerfile)"},
    {"-f", true, "same as --file"},
    {"--target", true, "the stage to build"},
    {"--build-arg", true, "K=V build argument (repeat)"},
    {"--label", true, "K=V image label (repeat)"},
    {"--annotation", true, "index:K=V annotation on the index (repeat)"},
    {"--backend", true, "auto|buildx|docker|buildah|podman"},
    {"--cache", true, "cache spec: type=registry,ref=R | type=local,dest=D | type=gha | none"},
    {"--provenance", true, "on|off (buildx only; default off)"},
    {"--jobs", true, "platforms built at once (default: all of them, as buildah and buildx do)"},
    {"--secret", true, "id=NAME,src=FILE or id=NAME,env=VAR (repeat)"},
    {"--push-by-digest", false, "push each platform by digest only (a split-build leg)"},
    {"--digest-file", true, "with --push-by-digest: where to write the digests as JSON"},
    {"--summary", true, "write the build report (Markdown table and timeline) to FILE"},
};

void put_pairs(std::map<std::string, std::string>& into, const std::vector<std::string>& texts,
               const char* option) {
  for (const auto& text : texts) {
    auto [key, value] = core::split_key_value(text, option);
    into.insert_or_assign(key, value);
  }
}

void apply_flags(const Args& args, build::BuildOptions& options) {
  if (args.positionals().size() > 1) {
    throw bad_input("unexpected argument " + quoted(args.positionals()[1]) +
                    "; build takes one CONTEXT directory");
  }
  if (!args.positionals().empty()) options.context = args.positionals().front();
  if (args.has("--platform")) {
    options.platforms.clear();
    for (const auto& text : args.values("--platform")) {
      for (auto& platform : image::parse_platforms(text)) options.platforms.push_back(platform);
    }
  }
  if (args.has("--tag")) options.tags = args.values("--tag");
  if (args.has("--push")) options.push = true;
  if (args.has("--output")) options.output = args.value("--output");
  if (args.has("--file")) options.file = args.value("--file");
  if (args.has("-f")) options.file = args.value("-f");
  if (args.has("--target")) options.target = args.value("--target");
  put_pairs(options.build_args, args.values("--build-arg"), "--build-arg");
  put_pairs(options.labels, args.values("--label"), "--label");
  put_pairs(options.annotations, args.values("--annotation"), "--annotation");
  if (args.has("--backend")) options.backend = args.value("--backend");
  if (args.has("--cache")) options.cache = args.values("--cache");
  if (args.has("--provenance")) {
    std::string value = args.value("--provenance");
    if (value != "on" && value != "off") {
      throw bad_input("invalid --provenance " + quoted(value) + ": expected on or off");
    }
    options.provenance = value == "on";
  }
  if (args.has("--jobs")) {
    std::string value = args.value("--jobs");
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos ||
        value.size() > 3 || std::stoi(value) < 1) {
      throw bad_input("invalid --jobs " + quoted(value) + ": expected a positive whole number");
    }
    options.jobs = std::stoi(value);
  }
  for (const auto& secret : args.values("--secret")) options.secrets.push_back(secret);
  if (args.has("--push-by-digest")) options.push_by_digest = true;
  if (args.has("--digest-file")) options.digest_file = args.value("--digest-file");
}

// "dist/<name>.oci.tar" from the first image or tag, else the context's name.
std::string default_output(const build::BuildOptions& options, const ResolvedTargets& targets) {
  std::string name;
  if (!targets.tags.empty()) name = targets.tags.front().repository;
  auto slash = name.rfind('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  if (name.empty()) name = std::filesystem::absolute(options.context).lexically_normal().filename();
  if (name.empty()) name = "image";
  return "oci:dist/" + name + ".oci.tar";
}

}  // namespace

std::span<const OptionSpec> build_option_specs() { return k_build_options; }

build::BuildOptions resolve_build_options(const Context& context) {
  build::BuildOptions options;
  auto file = core::find_config_file(context.args.value("--config"));
  if (!file.empty()) core::apply_config_file(file, options);
  auto ci_adapter = ci::make_adapter(context.args.value("--ci", "auto"), core::process_env());
  ci::apply_facts(*ci_adapter, options);  // CI facts: its registry image, OCI labels
  core::apply_env(core::process_env(), options);
  apply_flags(context.args, options);
  ci::expand_tag_rules(*ci_adapter, options);  // "type=…" tags → tags from the CI's facts
  if (options.platforms.empty()) {
    throw bad_input("no platforms to build: give --platform, or platforms: in polyarch.yml");
  }
  return options;
}

ResolvedTargets resolve_targets(const build::BuildOptions& options) {
  ResolvedTargets targets;
  for (const auto& name : options.images) targets.images.push_back(image::parse_name(name));
  for (const auto& tag : options.tags) {
    if (tag.find('/') != std::string::npos || tag.find(':') != std::string::npos ||
        targets.images.empty()) {
      targets.tags.push_back(image::parse_reference(tag));
      continue;
    }
    for (const auto& image : targets.images) {
      targets.tags.push_back(image::parse_reference(image.name() + ":" + tag));
    }
  }
  if (targets.tags.empty()) {
    for (const auto& image : targets.images) {
      targets.tags.push_back(image::parse_reference(image.name() + ":latest"));
    }
  }
  // The repositories pushed to are those of the tags (a CI's default image
  // only counts when a bare tag was applied to it).
  targets.images.clear();
  for (const auto& tag : targets.tags) {
    image::Reference name = image::parse_name(tag.name());
    if (std::find(targets.images.begin(), targets.images.end(), name) == targets.images.end()) {
      targets.images.push_back(name);
    }
  }
  if (options.push && !options.output.empty()) {
    throw bad_input("give --push or --output, not both");
  }
  if (options.push_by_digest && options.digest_file.empty()) {
    throw bad_input("--push-by-digest needs --digest-file FILE");
  }
  if ((options.push || options.push_by_digest) && targets.images.empty()) {
    throw bad_input("nothing to push to: give --tag REF, or image: in polyarch.yml");
  }
  if (!options.push && !options.push_by_digest) {
    targets.output = options.output.empty() ? default_output(options, targets) : options.output;
    if (!image::LayoutRef::matches(targets.output)) {
      throw bad_input("invalid --output " + quoted(targets.output) +
                      ": expected oci:PATH or oci-dir:PATH");
    }
    if (targets.tags.empty()) targets.tags.push_back(image::parse_reference("image:latest"));
  }
  return targets;
}

std::function<std::vector<std::string>(std::span<const image::Platform>)> translate_caches(
    Context& context, const build::BuildOptions& options, const std::string& backend) {
  ResolvedTargets targets = resolve_targets(options);  // a CI's registry cache sits next to the image
  std::string image = targets.images.empty() ? "" : targets.images.front().name();
  auto specs = cache::resolve_cache_specs(
      options.cache, ci::make_adapter(context.args.value("--ci", "auto"), core::process_env())
                         ->cache_convention(backend, image));  // what "auto" means in this CI
  // Notes are the same for every platform: say them once, before building.
  if (!options.platforms.empty() && context.verbosity >= 0) {
    for (const auto& note : cache::cache_args(specs, backend, options.platforms.front()).notes) {
      context.err << "note: " << note << "\n";
    }
  }
  return [specs, backend](std::span<const image::Platform> platforms) {
    return cache::cache_args(specs, backend, platforms).args;
  };
}

void write_digest_files(RegistrySession& session, publish::ImageStore& from,
                        const ResolvedTargets& targets, const build::StagedImage& staged,
                        const std::string& path) {
  image::Json entries = image::Json::array();
  for (const auto& image : targets.images) {
    auto store = publish::registry_store(session.client(image.registry), image.repository);
    for (const auto& result : staged.platforms) {
      registry::FetchedManifest manifest{from.read_manifest(result.manifest), result.manifest};
      publish::copy_image(from, manifest, *store, {}, publish::CopyOptions{});
      entries.push_back({{"platform", result.platform.str()},
                         {"digest", result.manifest.digest.str()},
                         {"size", result.manifest.size},
                         {"mediaType", result.manifest.media_type},
                         {"image", image.name()}});
    }
  }
  core::write_file_atomic(path, (entries.size() == 1 ? entries[0] : entries).dump(2) + "\n");
}

}  // namespace polyarch::cli
