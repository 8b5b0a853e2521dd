#pragma once
// Tar entries written through libarchive into a gzip writer, or only through
// a hash (internal to write_layer and layer_diff_id).

#include <locale.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/image/digest.hpp"
#include "engine/image/gzip_writer.hpp"
#include "engine/image/layer_entries.hpp"

struct archive;
struct archive_entry;

namespace polyarch::image::tar {

// Makes this thread's character type UTF-8 while it lives, so libarchive
// encodes names in pax headers the same way whatever the user's locale is
// (under "C" it would mark every non-ASCII name as binary).
class Utf8Ctype {
 public:
  Utf8Ctype();
  ~Utf8Ctype();
  Utf8Ctype(const Utf8Ctype&) = delete;
  Utf8Ctype& operator=(const Utf8Ctype&) = delete;

 private:
  locale_t m_locale;
  locale_t m_previous = nullptr;
};

// Where a tar stream's bytes go.
class TarOutput {
 public:
  virtual ~TarOutput() = default;
  // Where the next bytes go, for filling in place (never empty).
  virtual std::span<unsigned char> input_space() = 0;
  // Takes the first `size` bytes of input_space(); throws failure.
  virtual void commit(size_t size) = 0;
  // Takes bytes from anywhere; throws failure.
  virtual void write(const void* data, size_t size) = 0;
};

// The tar stream into a gzip writer, which fills its blocks in place.
class GzipOutput final : public TarOutput {
 public:
  explicit GzipOutput(GzipWriter& gzip) : m_gzip(gzip) {}
  std::span<unsigned char> input_space() override { return m_gzip.input_space(); }
  void commit(size_t size) override { m_gzip.commit(size); }
  void write(const void* data, size_t size) override { m_gzip.write(data, size); }

 private:
  GzipWriter& m_gzip;
};

// The tar stream into SHA-256 only: a layer's diff_id, with nothing
// compressed or written.
class HashOutput final : public TarOutput {
 public:
  HashOutput() : m_buffer(k_buffer_size) {}
  std::span<unsigned char> input_space() override { return m_buffer; }
  void commit(size_t size) override { m_hash.update(m_buffer.data(), size); }
  void write(const void* data, size_t size) override { m_hash.update(data, size); }
  // The sha256 of every byte given; call once.
  Digest finish() { return m_hash.finish(); }

 private:
  static constexpr size_t k_buffer_size = 256 << 10;  // one read() of a file's content
  std::vector<unsigned char> m_buffer;
  Sha256 m_hash;
};

// Writes a pax (restricted) tar stream into an output: entries owned by 0:0 with
// empty user and group names and a fixed mtime. libarchive formats the
// headers; file contents are read straight into the output's space.
// The stream ends padded to a multiple of 10240 bytes, as libarchive's
// default blocking pads it.
class TarWriter {
 public:
  // What libarchive's callback writes into; public for that callback only.
  struct Sink {
    TarOutput* output = nullptr;
    int64_t written = 0;  // tar bytes so far
    std::string error;    // an exception can't cross libarchive: kept here
    bool discard = false;  // after a failure: closing writes nothing
  };

  // Throws failure when libarchive cannot start.
  TarWriter(TarOutput& output, int64_t mtime);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // Writes one entry named name (a tar path) with its content; throws failure
  // naming the file when it can't be read or shrinks meanwhile.
  void add(const std::string& name, const layer_entries::Entry& entry);
  // Writes the end-of-archive blocks and the padding; throws failure.
  void close();

 private:
  void copy_content(int fd, int64_t size, const std::string& name, const fs::path& source);
  void check(int rc, const std::string& name);

  Utf8Ctype m_utf8;  // first: libarchive reads the locale when it starts
  Sink m_sink;
  struct archive* m_archive = nullptr;
  struct archive_entry* m_entry = nullptr;
  int64_t m_mtime;
  bool m_closed = false;
};

}  // namespace polyarch::image::tar
