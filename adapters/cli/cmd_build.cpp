// polyarch build: the main job. Each stage is one call below.
#include <iostream>
#include <map>
#include <thread>

#include "adapters/ci/apply.hpp"
#include "adapters/ci/outputs.hpp"
#include "adapters/cli/build_options.hpp"
#include "adapters/cli/progress.hpp"
#include "adapters/cli/registry_options.hpp"
#include "engine/build/pipeline.hpp"
#include "engine/build/plan.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/image/media_types.hpp"
#include "engine/publish/counting_store.hpp"

namespace polyarch::cli {

using namespace build;

namespace {

// Stage 2: per platform native / emulated / unsupported, shown before
// building; returns each platform's mode for the report ("cross" when the
// Dockerfile cross-compiles a foreign platform).
std::map<std::string, std::string> plan_platforms(Context& context, const BuildOptions& options) {
  auto system = emulation::System::real();
  auto plans = make_plan(options.platforms, system, true);
  std::string line = "plan:";
  std::string refused;
  for (const auto& plan : plans) {
    line += " " + plan.platform.str() + " " + std::string(mode_name(plan.mode)) +
            (plan.mode == Mode::emulated ? " (" + plan.detail + ")" : "") + ",";
    if (plan.mode == Mode::unsupported && refused.empty()) {
      refused = "cannot build " + plan.platform.str() + " here: " + plan.detail;
    }
  }
  line.pop_back();
  if (context.verbosity >= 0) context.err << line << "\n";
  if (!refused.empty()) throw failure(refused);
  std::filesystem::path dockerfile =
      options.file.empty() ? std::filesystem::path(options.context) / "Dockerfile"
                           : std::filesystem::path(options.file);
  DockerfileFacts facts = scan_dockerfile(dockerfile);
  if (context.verbosity >= 0 && facts.cross_compiles) {
    context.err << "the Dockerfile cross-compiles (FROM --platform=$BUILDPLATFORM)\n";
  }
  if (context.verbosity >= 0 && !facts.compile_hint.empty()) {
    context.err << "hint: " << facts.compile_hint << "\n";
  }
  std::map<std::string, std::string> modes;
  for (const auto& plan : plans) {
    bool cross = facts.cross_compiles && plan.mode == Mode::emulated;
    modes[plan.platform.str()] = cross ? "cross" : std::string(mode_name(plan.mode));
  }
  return modes;
}

// Refuses a --summary path that could not be written after the build.
void check_summary_path(const std::string& path) {
  if (path.empty()) return;
  std::filesystem::path parent = std::filesystem::absolute(path).parent_path();
  std::error_code error;
  if (!std::filesystem::is_directory(parent, error)) {
    throw bad_input("cannot write --summary " + quoted(path) + ": no such directory " + quoted(parent.string()));
  }
}

// Stage 5: the staged image goes to every tag (children first, index last),
// to the registry by digest only, or to an OCI layout; with a progress
// display, the bytes read from the staging layout are counted (and the blobs
// a layout output already has).
void publish(Context& context, const BuildOptions& options, const ResolvedTargets& targets,
             const image::LayoutRef& staging, const StagedImage& staged, ProgressDisplay* progress) {
  RegistrySession session(context);
  auto from = publish::open_layout_store(staging, false);
  if (progress) from = publish::counting_store(std::move(from), progress->tally());
  registry::FetchedManifest top{staged.index_bytes, staged.index};
  if (options.push_by_digest) {
    write_digest_files(session, *from, targets, staged, options.digest_file);
  } else if (options.push) {
    push_to_tags(session, *from, top, targets.tags, publish::CopyOptions{});
  } else {
    auto to = publish::open_layout_store(image::LayoutRef::parse(targets.output), true);
    if (progress) to = publish::counting_store(std::move(to), progress->tally());
    std::vector<std::string> names;
    for (const auto& tag : targets.tags) names.push_back(tag.tag);
    publish::copy_image(*from, top, *to, names, publish::CopyOptions{});
  }
}

// The compressed size of a platform's image: its config and layers.
int64_t image_size(const image::LayoutDir& layout, const image::Descriptor& manifest) {
  if (!image::media_type::is_manifest(manifest.media_type)) return -1;
  image::Manifest parsed = image::parse_manifest(layout.read_blob(manifest.digest), "built manifest");
  int64_t size = parsed.config.size;
  for (const auto& layer : parsed.layers) size += layer.size;
  return size;
}

// Stage 6: digest on stdout, or everything as JSON; the CI's outputs and
// the build report.
void report(Context& context, const BuildOptions& options, const ResolvedTargets& targets,
            const StagedImage& staged, const image::LayoutDir& layout,
            const std::map<std::string, std::string>& modes, const std::string& summary_path) {
  ci::BuildResult built{staged.index.digest.str(), {}, {}};
  if (!options.push_by_digest) {  // a leg tags nothing; its merge does
    for (const auto& tag : targets.tags) built.tags.push_back(tag.str());
  }
  for (const auto& p : staged.platforms) {
    auto mode = modes.find(p.platform.str());
    built.platforms.push_back({p.platform.str(), p.manifest.digest.str(), p.manifest.size,
                               image_size(layout, p.manifest), mode == modes.end() ? "" : mode->second,
                               p.started, p.finished});
  }
  ci::make_adapter(context.args.value("--ci", "auto"), core::process_env())->write_outputs(ci::build_outputs(built));
  if (!summary_path.empty()) core::write_file_atomic(summary_path, ci::build_report(built));
  if (context.format == Format::json) {
    image::Json json = image::Json::object();
    json["digest"] = staged.index.digest.str();
    json["mediaType"] = staged.index.media_type;
    json["tags"] = image::Json::array();
    for (const auto& tag : targets.tags) json["tags"].push_back(tag.str());
    if (!targets.output.empty()) json["output"] = targets.output;
    json["platforms"] = image::Json::array();
    for (const auto& result : staged.platforms) {
      json["platforms"].push_back({{"platform", result.platform.str()},
                                   {"digest", result.manifest.digest.str()},
                                   {"size", result.manifest.size},
                                   {"mediaType", result.manifest.media_type}});
    }
    context.out << json.dump(2) << "\n";
    return;
  }
  context.out << staged.index.digest.str() << "\n";
}

}  // namespace

int run_build(Context& context) {
  ci::Sections sections(ci::make_adapter(context.args.value("--ci", "auto"), core::process_env()),
                        context.err, context.verbosity >= 0);  // collapsible stages in CI logs
  sections.next("polyarch_plan", "polyarch: options, plan, emulation");
  BuildOptions options = resolve_build_options(context);       // 1. every source, in order
  ResolvedTargets targets = resolve_targets(options);          //    tags, output
  std::string summary_path = context.args.value("--summary");
  check_summary_path(summary_path);
  auto modes = plan_platforms(context, options);               // 2-3. plan, emulation
  auto backend = make_backend(options.backend);
  auto cache_args = translate_caches(context, options, backend->name());
  core::TempDir work("polyarch-build");
  image::LayoutRef staging{image::LayoutRef::Kind::directory, work.path() / "layout", ""};
  image::LayoutDir layout = image::LayoutDir::create(staging.path);
  PipelineHooks hooks;
  hooks.cache_args = cache_args;
  hooks.log = [&context](const std::string& line) {
    if (context.verbosity >= 0) context.err << line + "\n" << std::flush;
  };
  auto progress = make_progress(context, options.platforms);   // on a terminal only
  if (progress) hooks = watch_build(*progress, hooks);
  StagedImage staged;
  try {
    std::string count = std::to_string(options.platforms.size());
    sections.next("polyarch_build", "polyarch: build " + count + " platforms");
    staged = build_platforms(options, *backend, layout, work.path(), hooks);  // 4.
    if (progress) progress->pushing(staged, layout, publish_passes(options, targets.tags, targets.images));
    sections.next("polyarch_publish", "polyarch: publish");
    publish(context, options, targets, staging, staged, progress.get());  // 5. children, then index
    if (progress) progress->done();
  } catch (const std::exception& e) {
    if (progress) progress->failed(e.what());  // the final lines stay; the error follows
    throw;
  }
  sections.close();
  report(context, options, targets, staged, layout, modes, summary_path);  // 6.
  return 0;
}

}  // namespace polyarch::cli
