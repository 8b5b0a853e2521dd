// polyarch assemble: files per platform -> one multi-platform image.
#include <cstdlib>
#include <iostream>
#include <set>

#include "adapters/cli/commands.hpp"
#include "engine/build/assembler.hpp"
#include "engine/core/env.hpp"
#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"
#include "adapters/cli/registry_options.hpp"
#include "engine/image/layer_cache.hpp"
#include "engine/image/media_types.hpp"
#include "engine/image/reference.hpp"
#include "engine/publish/streamed_push.hpp"

namespace polyarch::cli {

using namespace image;
using namespace build;

namespace {

// "--entrypoint '/app --flag'" or a JSON array '["/app","--flag"]'.
std::vector<std::string> parse_command(const std::string& text, std::string_view option) {
  if (text.starts_with("[")) {
    Json json = Json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_array()) {
      throw bad_input("invalid " + std::string(option) + " " + quoted(text) +
                      ": not a JSON array of strings");
    }
    std::vector<std::string> words;
    for (const auto& item : json) {
      if (!item.is_string()) {
        throw bad_input("invalid " + std::string(option) + " " + quoted(text) +
                        ": not a JSON array of strings");
      }
      words.push_back(item.get<std::string>());
    }
    return words;
  }
  std::vector<std::string> words;
  for (const auto& word : core::split(text, ' ')) {
    if (!word.empty()) words.push_back(word);
  }
  return words;
}

std::vector<AssembleInput> parse_inputs(const std::vector<std::string>& values) {
  if (values.empty()) {
    throw bad_input("assemble needs at least one --platform P=FILE_OR_DIR");
  }
  std::vector<AssembleInput> inputs;
  std::set<std::string> seen;
  for (const auto& value : values) {
    auto equals = value.find('=');
    if (equals == std::string::npos || equals + 1 == value.size()) {
      throw bad_input("invalid --platform " + quoted(value) + ": expected P=FILE_OR_DIR");
    }
    Platform platform = parse_platform(value.substr(0, equals));
    fs::path source = value.substr(equals + 1);
    if (!seen.insert(platform.str()).second) {
      throw bad_input("platform " + quoted(platform.str()) + " is given twice");
    }
    if (!fs::exists(source)) {
      throw bad_input("cannot read " + quoted(source.string()) + " for " + platform.str() +
                      ": No such file or directory");
    }
    inputs.push_back({platform, source});
  }
  return inputs;
}

// Splits "[index:|manifest:|index,manifest:]K=V" into the options' maps.
void add_annotation(AssembleOptions& options, const std::string& text) {
  std::string rest = text;
  bool to_index = false, to_manifest = false;
  auto colon = text.find(':');
  auto equals = text.find('=');
  if (colon != std::string::npos && (equals == std::string::npos || colon < equals)) {
    for (const auto& level : core::split(text.substr(0, colon), ',')) {
      if (level == "index") to_index = true;
      else if (level == "manifest") to_manifest = true;
      else throw bad_input("invalid --annotation " + quoted(text) +
                           ": unknown level " + quoted(level) + " (index or manifest)");
    }
    rest = text.substr(colon + 1);
  } else {
    to_manifest = true;
  }
  auto [key, value] = core::split_key_value(rest, "--annotation");
  if (to_index) options.index_annotations[key] = value;
  if (to_manifest) options.manifest_annotations[key] = value;
}

int64_t source_date_epoch() {
  const char* text = std::getenv("SOURCE_DATE_EPOCH");
  if (text == nullptr || *text == '\0') return 0;
  char* end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value < 0) {
    throw bad_input("invalid SOURCE_DATE_EPOCH " + quoted(text) + ": expected seconds since 1970");
  }
  return value;
}

AssembleOptions parse_options(const Args& args) {
  AssembleOptions options;
  options.inputs = parse_inputs(args.values("--platform"));
  options.dest = args.value("--dest");
  if (!options.dest.empty() && !options.dest.starts_with("/")) {
    throw bad_input("invalid --dest " + quoted(options.dest) + ": must be an absolute path");
  }
  options.config.entrypoint = parse_command(args.value("--entrypoint"), "--entrypoint");
  options.config.cmd = parse_command(args.value("--cmd"), "--cmd");
  if (args.value("--base", "scratch") == "scratch") {
    options.config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  }
  for (const auto& text : args.values("--env")) {
    auto [key, value] = core::split_key_value(text, "--env");
    std::erase_if(options.config.env, [&key](const std::string& e) { return e.starts_with(key + "="); });
    options.config.env.push_back(key + "=" + value);
  }
  options.config.working_dir = args.value("--workdir");
  for (const auto& text : args.values("--label")) {
    auto [key, value] = core::split_key_value(text, "--label");
    options.config.labels[key] = value;
  }
  for (const auto& text : args.values("--annotation")) add_annotation(options, text);
  options.epoch = source_date_epoch();
  return options;
}

void print_result(Context& context, const AssembledImage& image, const std::string& output,
                  const std::vector<Reference>& tags) {
  if (context.format == Format::json) {
    Json json = Json::object();
    json["digest"] = image.index.digest.str();
    json["mediaType"] = image.index.media_type;
    json["size"] = image.index.size;
    json["output"] = output;
    json["tags"] = Json::array();
    for (const auto& tag : tags) json["tags"].push_back(tag.str());
    json["platforms"] = Json::array();
    for (const auto& m : image.manifests) {
      json["platforms"].push_back(
          Json{{"platform", m.platform->str()}, {"digest", m.digest.str()}, {"size", m.size}});
    }
    context.out << json.dump(2) << "\n";
    return;
  }
  context.out << image.index.digest.str() << "\n";
  if (context.verbosity >= 0) {
    context.err << "assembled " << image.manifests.size() << " platform"
                << (image.manifests.size() == 1 ? "" : "s") << " into " << output << "\n";
  }
}

// Reads the base image's manifest and config for each platform and puts
// its layers into the layout.
void add_bases(RegistrySession& session, const std::string& base, LayoutDir& layout,
               AssembleOptions& options) {
  Location location = session.open(base, false);
  registry::FetchedManifest top = location.store->resolve(location.reference);
  std::vector<Descriptor> children = {top.descriptor};
  std::vector<Platform> platforms;
  for (const auto& input : options.inputs) platforms.push_back(input.platform);
  if (media_type::is_index(top.descriptor.media_type)) {
    children = publish::select_platforms(parse_index(top.bytes, base), platforms, base);
  }
  for (const auto& child : children) {
    if (publish::is_attestation(child)) continue;
    BaseImage image;
    image.manifest = parse_manifest(child == top.descriptor ? top.bytes
                                                            : location.store->read_manifest(child), base);
    image.config = parse_image_config(location.store->read_small_blob(image.manifest.config), base);
    std::string platform = normalize(image.config.platform).str();
    if (children.size() == 1 && platforms.size() == 1) platform = platforms.front().str();
    for (const auto& layer : image.manifest.layers) {
      if (!layout.has_blob(layer.digest)) publish::download_blob(*location.store, layer, layout);
    }
    options.bases[platform] = image;
  }
  for (const auto& platform : platforms) {
    if (!options.bases.count(platform.str())) {
      throw failure("base image " + quoted(base) + " has no " + platform.str() + " image");
    }
  }
}

}  // namespace

int run_assemble(Context& context) {
  const Args& args = context.args;
  if (!args.positionals().empty()) {
    throw bad_input("unexpected argument " + quoted(args.positionals().front()));
  }
  std::vector<Reference> tags;
  for (const auto& text : args.values("--tag")) {
    tags.push_back(parse_reference(text));
    if (!tags.back().digest.empty()) {
      throw bad_input("invalid --tag " + quoted(text) + ": a digest cannot be a tag");
    }
  }
  if (tags.empty()) throw bad_input("assemble needs at least one --tag NAME[:TAG]");
  bool push = args.has("--push");
  std::string output = args.value("--output");
  if (push == !output.empty()) {
    throw bad_input("assemble needs either --push or --output oci:PATH|oci-dir:PATH");
  }
  AssembleOptions options = parse_options(args);
  // Compressed layers from earlier runs, by content (--no-cache: none).
  LayerCache layer_cache = LayerCache::from_env(core::process_env());
  if (!args.has("--no-cache")) options.layer_cache = &layer_cache;
  std::unique_ptr<core::TempDir> staging;
  LayoutRef target;
  if (push) {
    staging = std::make_unique<core::TempDir>("polyarch-assemble");
    target = LayoutRef{LayoutRef::Kind::directory, staging->path() / "layout", ""};
    output = "oci-dir:" + target.path.string();
  } else {
    target = LayoutRef::parse(output);
    if (!target.ref_name.empty()) target.path += ":" + target.ref_name;  // outputs take no :NAME
  }
  RegistrySession session(context);

  LayoutOutput out(target);
  std::string base = args.value("--base", "scratch");
  if (base != "scratch") add_bases(session, base, out.layout(), options);
  std::unique_ptr<publish::ImageStore> staged;
  std::vector<std::unique_ptr<publish::ImageStore>> stores;
  std::unique_ptr<publish::StreamedPush> pushing;
  if (push) {
    // Each platform goes to the registry while the next one compresses.
    staged = publish::open_layout_store(target, false);
    pushing = std::make_unique<publish::StreamedPush>(*staged, push_targets(session, tags, stores));
    options.on_platform = [&pushing](const Descriptor& manifest) { pushing->add(manifest); };
  }
  AssembledImage image = build::assemble(out.layout(), options);
  for (const auto& tag : tags) out.layout().set_ref(image.index, tag.tag, tag.str());
  out.commit();
  if (push) {
    registry::FetchedManifest top{out.layout().read_blob(image.index.digest), image.index};
    pushing->finish(top);
    output = tags.front().str();
  }
  print_result(context, image, output, tags);
  return 0;
}

}  // namespace polyarch::cli
