#include "engine/image/gzip_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

#include "engine/core/error.hpp"
#include "engine/image/gzip_writer_blocks.hpp"
#include "engine/image/gzip_writer_crc.hpp"

namespace polyarch::image {

namespace {

using gzip_blocks::Block;
using gzip_blocks::k_block_size;
using gzip_blocks::k_dictionary_size;

constexpr int k_max_threads = 16;
constexpr unsigned char k_os_unknown = 255;  // gzip "OS" byte: not tied to the build host

// The gzip header zlib writes for these settings: magic, deflate, no flags
// (so no name), mtime 0, XFL by level (2 slowest, 4 fastest), OS unknown.
void gzip_header(unsigned char out[10], int level) {
  unsigned char extra = level == 9 ? 2 : level < 2 ? 4 : 0;
  const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extra, k_os_unknown};
  std::memcpy(out, header, sizeof header);
}

void put_le32(unsigned char* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
}

// Worker threads for `requested` threads in all, the caller's included
// (0: one per core).
int worker_count(int requested) {
  int threads = requested;
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(threads, 1, k_max_threads) - 1;
}

// The process's umask, read without changing it (umask(2) would, for every
// thread); 022 when /proc does not say.
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("Umask:")) return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
  }
  return 022;
}

}  // namespace

GzipWriter::GzipWriter(const std::filesystem::path& dir, int level, int threads) {
  if (level < 0 || level > 9) {
    throw bad_input("invalid gzip level " + quoted(std::to_string(level)) +
                    ": expected a number from 0 to 9");
  }
  std::string pattern = (dir / ".tmp-XXXXXX").string();
  m_fd = ::mkstemp(pattern.data());
  if (m_fd < 0) {
    throw failure("cannot create a temporary file in " + quoted(dir.string()) + ": " +
                  std::strerror(errno));
  }
  m_path = pattern;
  // mkstemp makes the file 0600; the blob it becomes is as readable as any
  // other file written here.
  ::fchmod(m_fd, 0666 & ~current_umask());
  m_compressor = std::make_unique<gzip_blocks::BlockCompressor>(level, worker_count(threads));
  m_current = std::make_unique<Block>();
  unsigned char header[10];
  gzip_header(header, level);
  write_out(header, sizeof header);
}

GzipWriter::~GzipWriter() {
  m_compressor.reset();  // stops the workers before the blocks go
  if (m_fd >= 0) ::close(m_fd);
  if (!m_path.empty()) {
    std::error_code ignored;
    std::filesystem::remove(m_path, ignored);
  }
}

void GzipWriter::write(const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  while (size > 0) {
    std::span<unsigned char> space = input_space();
    size_t n = std::min(size, space.size());
    std::memcpy(space.data(), bytes, n);
    commit(n);
    bytes += n;
    size -= n;
  }
}

std::span<unsigned char> GzipWriter::input_space() {
  return {m_current->input() + m_current->input_size, k_block_size - m_current->input_size};
}

void GzipWriter::commit(size_t size) {
  m_current->input_size += size;
  if (m_current->input_size == k_block_size) submit_current(false);
}

GzipWriter::Result GzipWriter::finish() {
  submit_current(true);
  while (m_compressor->queued() > 0) write_finished(true);
  unsigned char trailer[8];
  put_le32(trailer, static_cast<uint32_t>(m_crc));
  put_le32(trailer + 4, static_cast<uint32_t>(m_input_size));  // ISIZE: modulo 2^32
  write_out(trailer, sizeof trailer);
  if (::close(m_fd) != 0) {
    m_fd = -1;
    throw failure("cannot write " + quoted(m_path.string()) + ": " + std::strerror(errno));
  }
  m_fd = -1;
  return Result{m_uncompressed.finish(), m_compressed.finish(), m_size};
}

void GzipWriter::submit_current(bool last) {
  std::unique_ptr<Block> block = std::move(m_current);
  block->last = last;
  block->index = m_blocks++;
  // Hashed while the input is still in this core's cache.
  m_uncompressed.update(block->input(), block->input_size);
  m_crc = gzip_blocks::crc32(m_crc, block->input(), block->input_size);
  m_input_size += static_cast<int64_t>(block->input_size);
  if (!last) {
    if (m_spare.empty()) {
      m_current = std::make_unique<Block>();
    } else {
      m_current = std::move(m_spare.back());
      m_spare.pop_back();
    }
    // The next block's dictionary: the last 32 KiB of everything so far,
    // which ends this block's buffer (its dictionary runs into its input).
    size_t keep = std::min(k_dictionary_size, block->dictionary_size + block->input_size);
    std::memcpy(m_current->buffer.get() + k_dictionary_size - keep,
                block->input() + block->input_size - keep, keep);
    m_current->dictionary_size = keep;
    m_current->input_size = 0;
  }
  m_compressor->submit(std::move(block));
  write_finished(false);
  while (m_compressor->queued() >= m_compressor->max_queued()) write_finished(true);
}

void GzipWriter::write_finished(bool wait) {
  while (std::unique_ptr<Block> block = m_compressor->next(wait)) {
    if (!block->error.empty()) throw failure("cannot compress a layer: " + block->error);
    write_out(block->output.get(), block->output_size);
    m_spare.push_back(std::move(block));
    wait = false;  // then whatever else is done already
  }
}

void GzipWriter::write_out(const unsigned char* data, size_t size) {
  m_compressed.update(data, size);
  m_size += static_cast<int64_t>(size);
  while (size > 0) {
    ssize_t written = ::write(m_fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw failure("cannot write " + quoted(m_path.string()) + ": " + std::strerror(errno));
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
}

}  // namespace polyarch::image
