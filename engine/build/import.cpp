// import_single_image: moving the one image of a builder's OCI layout into ours.

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

#include "engine/build/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {

namespace fs = std::filesystem;

namespace {

// The one descriptor in a list of index entries; throws failure naming
// `where` when there is none or several (entries with one digest count once).
image::Descriptor only_entry(const std::vector<image::Descriptor>& entries,
                             const std::string& where) {
  if (entries.empty()) throw failure(where + " holds no image");
  for (const auto& entry : entries) {
    if (entry.digest != entries.front().digest) {
      throw failure(where + " holds " + std::to_string(entries.size()) +
                    " images; expected one");
    }
  }
  return entries.front();
}

// Moves one blob from the layout `from` into `into`, unless it is there:
// a rename, or a copy and rename when the two are on different devices.
void move_blob(const image::LayoutDir& from, image::LayoutDir& into,
               const image::Descriptor& blob) {
  if (into.has_blob(blob.digest)) return;
  fs::path source = from.blob_path(blob.digest);
  std::error_code ec;
  auto size = fs::file_size(source, ec);
  if (ec) {
    throw failure("blob " + blob.digest.str() + " is missing from " +
                  quoted(from.root().string()));
  }
  if (static_cast<int64_t>(size) != blob.size) {
    throw failure("blob " + blob.digest.str() + " in " + quoted(from.root().string()) + " has " +
                  std::to_string(size) + " bytes; its descriptor says " +
                  std::to_string(blob.size));
  }
  fs::path target = into.blob_path(blob.digest);
  fs::create_directories(target.parent_path(), ec);
  fs::rename(source, target, ec);
  if (!ec) return;
  if (ec != std::errc::cross_device_link) {
    throw failure("cannot move " + quoted(source.string()) + " to " + quoted(target.string()) +
                  ": " + ec.message());
  }
  // Another device: copy next to the target first, so no reader sees half a blob.
  static std::atomic<unsigned> copies{0};
  fs::path partial = target;
  partial += ".partial-" + std::to_string(::getpid()) + "-" + std::to_string(++copies);
  fs::copy_file(source, partial, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(partial, target, ec);
  if (ec) {
    fs::remove(partial, ec);
    throw failure("cannot copy " + quoted(source.string()) + " to " + quoted(target.string()) +
                  ": " + ec.message());
  }
  fs::remove(source, ec);
}

}  // namespace

image::Descriptor import_single_image(const fs::path& from, image::LayoutDir& into) {
  image::LayoutDir layout = image::LayoutDir::open(from);
  const std::string where = quoted(from.string());
  image::Descriptor entry = only_entry(layout.read_index().manifests, where);

  // An index of one image (what some builders write) is looked through; the
  // index itself is not imported, only the image it names.
  if (image::media_type::is_index(entry.media_type)) {
    image::Index nested = image::parse_index(layout.read_blob(entry.digest),
                                             "index " + entry.digest.str() + " in " + where);
    entry = only_entry(nested.manifests, where);
  }
  if (!image::media_type::is_manifest(entry.media_type)) {
    throw failure(where + " holds " + quoted(entry.media_type) + ", not an image manifest");
  }

  std::string manifest_bytes = layout.read_blob(entry.digest);
  image::Manifest manifest =
      image::parse_manifest(manifest_bytes, "manifest " + entry.digest.str() + " in " + where);
  move_blob(layout, into, manifest.config);
  for (const auto& layer : manifest.layers) {
    // Foreign layers (with urls) are fetched from their urls, not stored.
    if (!layer.urls.empty() && !layout.has_blob(layer.digest)) continue;
    move_blob(layout, into, layer);
  }
  // The manifest last: once it is in place, everything it names is too.
  move_blob(layout, into, entry);

  entry.annotations.erase(std::string(image::k_ref_name_annotation));
  entry.annotations.erase("io.containerd.image.name");
  return entry;
}

}  // namespace polyarch::build
