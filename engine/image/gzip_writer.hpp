#pragma once
// A gzip stream into a temp file, hashing the bytes on both sides of zlib.

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "engine/image/digest.hpp"

namespace polyarch::image {

// Compresses what it is given into a new temp file with a deterministic gzip
// header (mtime 0, no name), computing the sha256 of the uncompressed and of
// the compressed bytes in the same pass. The temp file is removed when the
// writer is destroyed unless it was moved away by then.
class GzipWriter {
 public:
  // What finish() hands back.
  struct Result {
    Digest uncompressed;  // sha256 of every byte given to write()
    Digest compressed;    // sha256 of the gzip file
    int64_t size = 0;     // size of the gzip file in bytes
  };

  // Creates a temp file "dir/.tmp-XXXXXX"; throws bad_input for a level
  // outside 0..9 and failure when the file can't be created.
  GzipWriter(const std::filesystem::path& dir, int level);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  // The temp file being written.
  const std::filesystem::path& path() const { return m_path; }

  // Compresses bytes; throws failure on a zlib or write error.
  void write(const void* data, size_t size);
  // Ends the gzip stream and closes the file; call once. Throws failure.
  Result finish();

 private:
  void deflate_all(int flush);
  void write_out(const unsigned char* data, size_t size);

  std::filesystem::path m_path;
  int m_fd = -1;
  z_stream m_zstream{};
  gz_header m_header{};  // zlib keeps a pointer to it until the header is out
  bool m_zstream_ready = false;
  std::vector<unsigned char> m_out;
  Sha256 m_uncompressed;
  Sha256 m_compressed;
  int64_t m_size = 0;
};

}  // namespace polyarch::image
