#include "engine/build/docker_archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <map>
#include <memory>

#include "engine/core/error.hpp"
#include "engine/image/config.hpp"
#include "engine/image/gzip_writer.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {

namespace {

namespace fs = std::filesystem;
using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;

constexpr int64_t k_max_json = 64 << 20;

// What a docker-archive says, in place of each layer a compressed blob.
struct Saved {
  std::map<std::string, std::string> json;      // small *.json files by path
  std::map<std::string, std::string> symlinks;  // path -> resolved target path
};

struct Compressed {
  image::Digest diff_id;
  image::Descriptor descriptor;
};

std::string entry_path(archive_entry* entry) {
  const char* name = archive_entry_pathname(entry);
  return fs::path(name == nullptr ? "" : name).lexically_normal().string();
}

ReadArchive open_archive(const fs::path& path) {
  ReadArchive in(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  archive_read_support_filter_none(in.get());
  if (archive_read_open_filename(in.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw failure("cannot read docker archive " + quoted(path.string()) + ": " +
                  archive_error_string(in.get()));
  }
  return in;
}

Error bad_archive(const fs::path& path, const std::string& why) {
  return failure("docker archive " + quoted(path.string()) + " " + why);
}

// Pass 1: the JSON files and the symlinks docker uses for repeated layers.
Saved read_index(const fs::path& path) {
  Saved saved;
  ReadArchive in = open_archive(path);
  archive_entry* entry = nullptr;
  while (archive_read_next_header(in.get(), &entry) == ARCHIVE_OK) {
    std::string name = entry_path(entry);
    if (archive_entry_filetype(entry) == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      fs::path resolved = (fs::path(name).parent_path() / (target ? target : "")).lexically_normal();
      if (resolved.is_absolute() || resolved.string().starts_with("..")) {
        throw bad_archive(path, "has a link leaving the archive: " + name);
      }
      saved.symlinks[name] = resolved.string();
    } else if (archive_entry_filetype(entry) == AE_IFREG && name.ends_with(".json") &&
               archive_entry_size(entry) <= k_max_json) {
      std::string bytes(static_cast<size_t>(archive_entry_size(entry)), '\0');
      if (archive_read_data(in.get(), bytes.data(), bytes.size()) !=
          static_cast<la_ssize_t>(bytes.size())) {
        throw bad_archive(path, "cannot be read at " + name);
      }
      saved.json[name] = std::move(bytes);
    }
  }
  return saved;
}

// Pass 2: gzips each wanted layer.tar straight from the archive into `into`.
std::map<std::string, Compressed> compress_layers(const fs::path& path, const std::vector<std::string>& wanted,
                                                  image::LayoutDir& into) {
  std::map<std::string, Compressed> done;
  ReadArchive in = open_archive(path);
  archive_entry* entry = nullptr;
  while (archive_read_next_header(in.get(), &entry) == ARCHIVE_OK) {
    std::string name = entry_path(entry);
    if (archive_entry_filetype(entry) != AE_IFREG || done.count(name) != 0 ||
        std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
      continue;
    }
    image::GzipWriter gzip(into.root(), 6);
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int status = ARCHIVE_OK;
    while ((status = archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK) {
      gzip.write(block, size);
    }
    if (status != ARCHIVE_EOF) throw bad_archive(path, "cannot be read at " + name);
    image::GzipWriter::Result result = gzip.finish();
    into.adopt_blob(gzip.path(), result.compressed);
    image::Descriptor descriptor;
    descriptor.media_type = std::string(image::media_type::k_oci_layer_gzip);
    descriptor.digest = result.compressed;
    descriptor.size = result.size;
    done[name] = Compressed{result.uncompressed, descriptor};
  }
  return done;
}

std::string follow(const Saved& saved, std::string name) {
  for (int hops = 0; hops < 8; ++hops) {
    auto link = saved.symlinks.find(name);
    if (link == saved.symlinks.end()) return name;
    name = link->second;
  }
  return name;
}

}  // namespace

ArchiveImage import_docker_archive(const fs::path& archive, image::LayoutDir& into,
                                   const image::Annotations& annotations) {
  Saved saved = read_index(archive);
  auto listing = saved.json.find("manifest.json");
  if (listing == saved.json.end()) throw bad_archive(archive, "has no manifest.json");
  image::Json manifests = image::parse_json(listing->second, "manifest.json of a docker archive");
  if (!manifests.is_array() || manifests.size() != 1 || !manifests[0].is_object() ||
      !manifests[0].contains("Config") || !manifests[0]["Config"].is_string()) {
    throw bad_archive(archive, "must hold exactly one image");
  }
  const image::Json& saved_image = manifests[0];
  std::string config_name = follow(saved, saved_image["Config"].get<std::string>());
  auto config = saved.json.find(config_name);
  if (config == saved.json.end()) throw bad_archive(archive, "has no config " + config_name);
  image::Digest config_digest = image::sha256(config->second);
  if (fs::path(config_name).filename().string() != config_digest.hex + ".json") {
    throw bad_archive(archive, "has config " + config_name + " whose digest is " + config_digest.str());
  }
  image::ImageConfig parsed = image::parse_image_config(config->second, "image config " + config_name);

  std::vector<std::string> layer_paths;
  if (saved_image.contains("Layers")) {
    for (const auto& layer : saved_image["Layers"]) {
      if (!layer.is_string()) throw bad_archive(archive, "lists a layer that is not a path");
      layer_paths.push_back(follow(saved, fs::path(layer.get<std::string>()).lexically_normal().string()));
    }
  }
  if (layer_paths.size() != parsed.diff_ids.size()) {
    throw bad_archive(archive, "lists " + std::to_string(layer_paths.size()) + " layers but its config has " +
                                   std::to_string(parsed.diff_ids.size()) + " diff_ids");
  }
  std::map<std::string, Compressed> layers = compress_layers(archive, layer_paths, into);

  image::Manifest manifest;
  manifest.media_type = std::string(image::media_type::k_oci_manifest);
  manifest.config = into.put_blob(image::media_type::k_oci_config, config->second);
  for (size_t i = 0; i < layer_paths.size(); ++i) {
    auto layer = layers.find(layer_paths[i]);
    if (layer == layers.end()) throw bad_archive(archive, "has no layer " + layer_paths[i]);
    if (layer->second.diff_id.str() != parsed.diff_ids[i]) {
      throw bad_archive(archive, "has layer " + layer_paths[i] + " with diff_id " +
                                     layer->second.diff_id.str() + " but its config says " +
                                     parsed.diff_ids[i]);
    }
    manifest.layers.push_back(layer->second.descriptor);
  }
  manifest.annotations = annotations;
  return ArchiveImage{into.put_blob(image::media_type::k_oci_manifest, image::to_bytes(manifest)),
                      parsed.platform};
}

}  // namespace polyarch::build
