#include "engine/verify/layer_scan.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/publish/blob_pipe.hpp"

namespace polyarch::verify {

namespace {

constexpr std::string_view k_whiteout_prefix = ".wh.";
constexpr std::string_view k_opaque_marker = ".wh..wh..opq";

// libarchive's read side of the pipe; remembers the error a read threw.
struct PipeSource {
  explicit PipeSource(publish::BlobPipe& from) : pipe(from) {}
  publish::BlobPipe& pipe;
  int64_t position = 0;
  std::vector<char> buffer = std::vector<char>(1 << 16);
  std::exception_ptr error;
};

la_ssize_t read_pipe(struct archive* archive, void* data, const void** out) {
  auto* source = static_cast<PipeSource*>(data);
  try {
    size_t n = source->pipe.read(source->position, source->buffer.data(), source->buffer.size());
    source->position += static_cast<int64_t>(n);
    *out = source->buffer.data();
    return static_cast<la_ssize_t>(n);
  } catch (...) {
    source->error = std::current_exception();
    archive_set_error(archive, EIO, "the blob could not be read");
    return -1;
  }
}

// "./usr/bin/" -> "/usr/bin"; "" -> "/".
std::string clean_path(std::string_view name) {
  while (name.starts_with("./")) name.remove_prefix(2);
  while (name.starts_with("/")) name.remove_prefix(1);
  while (name.ends_with("/")) name.remove_suffix(1);
  if (name == ".") name = "";
  return "/" + std::string(name);
}

// Classifies one header; whiteouts name the path they delete.
LayerEntry entry_of(struct archive_entry* entry) {
  const char* raw = archive_entry_pathname(entry);
  LayerEntry result;
  result.path = clean_path(raw == nullptr ? "" : raw);
  size_t slash = result.path.rfind('/');
  std::string_view base = std::string_view(result.path).substr(slash + 1);
  std::string parent = result.path.substr(0, slash);
  if (base == k_opaque_marker) {
    result.kind = LayerEntry::Kind::opaque;
    result.path = parent.empty() ? "/" : parent;
  } else if (base.starts_with(k_whiteout_prefix)) {
    result.kind = LayerEntry::Kind::whiteout;
    result.path = parent + "/" + std::string(base.substr(k_whiteout_prefix.size()));
  } else if (archive_entry_filetype(entry) == AE_IFREG && archive_entry_hardlink(entry) == nullptr) {
    result.kind = LayerEntry::Kind::file;
  } else if (archive_entry_filetype(entry) == AE_IFDIR) {
    result.kind = LayerEntry::Kind::directory;
  }
  return result;
}

// Reads up to size leading bytes of the current entry's data.
std::string read_head(struct archive* archive, size_t size, const std::string& what) {
  std::string head(size, '\0');
  size_t filled = 0;
  while (filled < size) {
    la_ssize_t n = archive_read_data(archive, head.data() + filled, size - filled);
    if (n < 0) throw failure("cannot read " + what + ": " + archive_error_string(archive));
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  head.resize(filled);
  return head;
}

using ArchivePtr = std::unique_ptr<struct archive, decltype(&archive_read_free)>;

// Walks every entry of the archive that source feeds.
void read_entries(PipeSource& source, const std::string& what, size_t head_size,
                  const EntryVisitor& visit) {
  ArchivePtr archive(archive_read_new(), archive_read_free);
  // The compressions an OCI layer may have (tar, tar+gzip, tar+zstd); no
  // other filter, so a hostile layer never starts an external decompressor.
  archive_read_support_filter_none(archive.get());
  archive_read_support_filter_gzip(archive.get());
  archive_read_support_filter_zstd(archive.get());
  archive_read_support_format_tar(archive.get());
  auto fail = [&](struct archive* a) -> Error {
    if (source.error) std::rethrow_exception(source.error);
    const char* message = archive_error_string(a);
    return failure("cannot read " + what + ": " + (message ? message : "not a tar archive"));
  };
  if (archive_read_open(archive.get(), &source, nullptr, read_pipe, nullptr) != ARCHIVE_OK) {
    throw fail(archive.get());
  }
  struct archive_entry* entry = nullptr;
  for (;;) {
    int status = archive_read_next_header(archive.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status < ARCHIVE_WARN) throw fail(archive.get());
    LayerEntry layer_entry = entry_of(entry);
    if (layer_entry.kind == LayerEntry::Kind::file) {
      layer_entry.head = read_head(archive.get(), head_size, what);
    }
    visit(layer_entry);
  }
  // Reads the padding after the end-of-archive marker, so the producer
  // reaches the end and verifies the digest.
  std::vector<char> rest(1 << 16);
  while (size_t n = source.pipe.read(source.position, rest.data(), rest.size())) {
    source.position += static_cast<int64_t>(n);
  }
}

}  // namespace

void scan_tar_stream(const BlobProducer& produce, const std::string& what, size_t head_size,
                     const EntryVisitor& visit) {
  publish::BlobPipe pipe;
  std::thread producer([&] {
    try {
      produce([&pipe](const char* data, size_t size) { return pipe.write(data, size); });
      pipe.close();
    } catch (const std::exception& e) {
      pipe.close(e.what());
    }
  });
  PipeSource source(pipe);
  try {
    read_entries(source, what, head_size, visit);
  } catch (...) {
    pipe.abandon();
    producer.join();
    throw;
  }
  pipe.abandon();
  producer.join();
}

void scan_layer(publish::ImageStore& store, const image::Descriptor& layer, size_t head_size,
                const EntryVisitor& visit) {
  scan_tar_stream([&](const registry::BodySink& sink) { store.read_blob(layer, sink); },
                  "layer " + layer.digest.str() + " of " + store.name(), head_size, visit);
}

}  // namespace polyarch::verify
