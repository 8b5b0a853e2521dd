#include "engine/image/layer.hpp"

#include <system_error>

#include "engine/core/error.hpp"
#include "engine/image/gzip_writer.hpp"
#include "engine/image/layer_entries.hpp"
#include "engine/image/media_types.hpp"
#include "engine/image/tar_writer.hpp"

namespace polyarch::image {

// Tars every entry into output as the sources are read.
static void write_tar(const layer_entries::Entries& entries, int64_t mtime, tar::TarOutput& output) {
  tar::TarWriter tar(output, mtime);
  entries.for_each([&tar](const std::string& name, const layer_entries::Entry& entry) {
    tar.add(name, entry);
  });
  tar.close();
}

Layer write_layer(LayoutDir& layout, const std::vector<LayerSource>& sources,
                  const LayerOptions& options) {
  layer_entries::Entries entries(sources);
  fs::path temp_dir = layout.root() / "blobs";
  std::error_code ec;
  fs::create_directories(temp_dir, ec);
  if (ec) {
    throw failure("cannot create " + quoted(temp_dir.string()) + ": " + ec.message());
  }
  // Entries are tarred, gzipped and hashed as the sources are read.
  GzipWriter gzip(temp_dir, options.gzip_level, options.threads);
  tar::GzipOutput output(gzip);
  write_tar(entries, options.mtime, output);
  GzipWriter::Result result = gzip.finish();

  layout.adopt_blob(gzip.path(), result.compressed);
  Layer layer;
  layer.descriptor.media_type = std::string(media_type::k_oci_layer_gzip);
  layer.descriptor.digest = result.compressed;
  layer.descriptor.size = result.size;
  layer.diff_id = result.uncompressed;
  return layer;
}

Digest layer_diff_id(const std::vector<LayerSource>& sources, const LayerOptions& options) {
  layer_entries::Entries entries(sources);
  tar::HashOutput output;
  write_tar(entries, options.mtime, output);
  return output.finish();
}

}  // namespace polyarch::image
