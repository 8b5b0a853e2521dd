#pragma once
// Tar entries written through libarchive into a gzip writer (internal to
// write_layer).

#include <locale.h>

#include <cstdint>
#include <memory>
#include <string>

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

// Writes a pax (restricted) tar stream into gzip: entries owned by 0:0 with
// empty user and group names and a fixed mtime. libarchive formats the
// headers; file contents are read straight into the gzip writer's blocks.
// The stream ends padded to a multiple of 10240 bytes, as libarchive's
// default blocking pads it.
class TarWriter {
 public:
  // What libarchive's callback writes into; public for that callback only.
  struct Sink {
    GzipWriter* gzip = nullptr;
    int64_t written = 0;  // tar bytes so far
    std::string error;    // an exception can't cross libarchive: kept here
    bool discard = false;  // after a failure: closing writes nothing
  };

  // Throws failure when libarchive cannot start.
  TarWriter(GzipWriter& gzip, int64_t mtime);
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
