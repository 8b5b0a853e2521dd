#pragma once
// A gzip stream into a temp file, hashing the bytes on both sides of zlib,
// compressed on several cores with output that does not depend on how many.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "engine/image/digest.hpp"

namespace polyarch::image {

namespace gzip_blocks {
class BlockCompressor;
struct Block;
}  // namespace gzip_blocks

// Compresses what it is given into a new temp file as one gzip member with a
// deterministic header (mtime 0, no name), computing the sha256 of the
// uncompressed and of the compressed bytes in the same pass. The input is
// cut into 128 KiB blocks deflated independently (each primed with the 32 KiB
// before it, ending on a byte boundary), as pigz does, so the bytes are the
// same for any number of threads; memory stays bounded whatever the size.
// The temp file is removed when the writer is destroyed unless it was moved
// away by then.
class GzipWriter {
 public:
  // What finish() hands back.
  struct Result {
    Digest uncompressed;  // sha256 of every byte given to write()
    Digest compressed;    // sha256 of the gzip file
    int64_t size = 0;     // size of the gzip file in bytes
  };

  // Creates a temp file "dir/.tmp-XXXXXX" and compresses on `threads`
  // threads, the caller's included (0: one per core); throws bad_input for a
  // level outside 0..9 and failure when the file can't be created.
  GzipWriter(const std::filesystem::path& dir, int level, int threads = 0);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  // The temp file being written.
  const std::filesystem::path& path() const { return m_path; }

  // Compresses bytes; throws failure on a zlib or write error.
  void write(const void* data, size_t size);
  // Where the next input bytes go, for filling in place (never empty); then
  // commit() says how many were put there.
  std::span<unsigned char> input_space();
  // Takes the first `size` bytes of input_space() as input; throws like write().
  void commit(size_t size);
  // Ends the gzip stream and closes the file; call once. Throws failure.
  Result finish();

 private:
  void submit_current(bool last);
  void write_finished(bool wait);
  void write_out(const unsigned char* data, size_t size);

  std::filesystem::path m_path;
  int m_fd = -1;
  std::unique_ptr<gzip_blocks::BlockCompressor> m_compressor;
  std::unique_ptr<gzip_blocks::Block> m_current;              // filling up
  std::vector<std::unique_ptr<gzip_blocks::Block>> m_spare;  // written, for reuse
  uint32_t m_crc = 0;  // crc32 of the input so far
  int64_t m_input_size = 0;
  uint64_t m_blocks = 0;  // submitted so far
  Sha256 m_uncompressed;
  Sha256 m_compressed;
  int64_t m_size = 0;
};

}  // namespace polyarch::image
