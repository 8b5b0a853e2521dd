#include "engine/build/assembler.hpp"


#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"
#include "engine/image/layer.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {

using namespace image;

std::string rfc3339(int64_t epoch) { return core::format_utc(epoch, "%Y-%m-%dT%H:%M:%SZ"); }

// Where a source goes in the image: a DIR is the root, a FILE goes to dest.
static LayerSource layer_source(const fs::path& source, const std::string& dest) {
  if (fs::is_directory(source)) return {source, "/"};
  if (!dest.empty()) return {source, dest};
  return {source, "/" + source.filename().string()};
}

// Applies what the user set over a base image's runtime config: entrypoint
// (which resets cmd, as in a Dockerfile), cmd, env by key, workdir, labels.
static void merge_runtime_config(RuntimeConfig& into, const RuntimeConfig& ours) {
  if (!ours.entrypoint.empty()) {
    into.entrypoint = ours.entrypoint;
    into.cmd.clear();
  }
  if (!ours.cmd.empty()) into.cmd = ours.cmd;
  for (const auto& entry : ours.env) {
    std::string key = entry.substr(0, entry.find('=') + 1);
    std::erase_if(into.env, [&key](const std::string& e) { return e.starts_with(key); });
    into.env.push_back(entry);
  }
  if (!ours.working_dir.empty()) into.working_dir = ours.working_dir;
  for (const auto& [key, value] : ours.labels) into.labels[key] = value;
  if (!ours.user.empty()) into.user = ours.user;
}

// Writes one platform's layer, config and manifest; returns the manifest's descriptor.
static Descriptor assemble_platform(LayoutDir& layout, const AssembleInput& input,
                                    const AssembleOptions& options) {
  if (!fs::exists(input.source)) {
    throw bad_input("cannot read " + quoted(input.source.string()) +
                    " for " + input.platform.str() + ": No such file or directory");
  }
  std::vector<LayerSource> sources = {layer_source(input.source, options.dest)};
  LayerOptions layer_options{options.epoch, 6};
  Layer layer = options.layer_cache
                    ? options.layer_cache->write_layer(layout, sources, layer_options)
                    : write_layer(layout, sources, layer_options);
  auto base = options.bases.find(input.platform.str());

  ImageConfig config;
  Manifest manifest;
  if (base != options.bases.end()) {
    config = base->second.config;
    manifest.layers = base->second.manifest.layers;
  }
  config.created = rfc3339(options.epoch);
  config.platform = input.platform;
  merge_runtime_config(config.config, options.config);
  config.diff_ids.push_back(layer.diff_id.str());
  config.history.push_back(HistoryEntry{config.created, "polyarch assemble", "", false});

  manifest.media_type = std::string(media_type::k_oci_manifest);
  manifest.config = layout.put_blob(media_type::k_oci_config, to_bytes(config));
  manifest.layers.push_back(layer.descriptor);
  manifest.annotations = options.manifest_annotations;

  Descriptor descriptor = layout.put_blob(media_type::k_oci_manifest, to_bytes(manifest));
  descriptor.platform = input.platform;
  return descriptor;
}

AssembledImage assemble(LayoutDir& layout, const AssembleOptions& options) {
  AssembledImage image;
  Index index;
  index.media_type = std::string(media_type::k_oci_index);
  index.annotations = options.index_annotations;
  for (const auto& input : options.inputs) {
    image.manifests.push_back(assemble_platform(layout, input, options));
    if (options.on_platform) options.on_platform(image.manifests.back());
  }
  index.manifests = image.manifests;
  image.index = layout.put_blob(media_type::k_oci_index, to_bytes(index));
  return image;
}

}  // namespace polyarch::build
