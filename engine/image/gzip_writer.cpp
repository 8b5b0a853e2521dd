#include "engine/image/gzip_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "engine/core/error.hpp"

namespace polyarch::image {

namespace {

constexpr size_t k_out_buffer_size = size_t{1} << 16;
constexpr int k_gzip_window_bits = 15 + 16;  // 32 KiB window, gzip wrapper
constexpr int k_memory_level = 8;
constexpr int k_os_unknown = 255;  // gzip "OS" byte: not tied to the build host

std::string zlib_message(const z_stream& stream, int code) {
  if (stream.msg != nullptr) return stream.msg;
  return "zlib error " + std::to_string(code);
}

}  // namespace

GzipWriter::GzipWriter(const std::filesystem::path& dir, int level) : m_out(k_out_buffer_size) {
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
  int code = deflateInit2(&m_zstream, level, Z_DEFLATED, k_gzip_window_bits, k_memory_level,
                          Z_DEFAULT_STRATEGY);
  if (code != Z_OK) throw failure("cannot start gzip: " + zlib_message(m_zstream, code));
  m_zstream_ready = true;
  m_header.text = 0;
  m_header.time = 0;
  m_header.os = k_os_unknown;
  m_header.name = Z_NULL;
  m_header.comment = Z_NULL;
  m_header.extra = Z_NULL;
  m_header.hcrc = 0;
  code = deflateSetHeader(&m_zstream, &m_header);
  if (code != Z_OK) throw failure("cannot start gzip: " + zlib_message(m_zstream, code));
}

GzipWriter::~GzipWriter() {
  if (m_zstream_ready) deflateEnd(&m_zstream);
  if (m_fd >= 0) ::close(m_fd);
  if (!m_path.empty()) {
    std::error_code ignored;
    std::filesystem::remove(m_path, ignored);
  }
}

void GzipWriter::write(const void* data, size_t size) {
  m_uncompressed.update(data, size);
  const auto* bytes = static_cast<const unsigned char*>(data);
  while (size > 0) {
    // avail_in is 32 bits wide; feed huge buffers in slices.
    uInt slice = size > (uInt{1} << 30) ? (uInt{1} << 30) : static_cast<uInt>(size);
    m_zstream.next_in = const_cast<unsigned char*>(bytes);
    m_zstream.avail_in = slice;
    deflate_all(Z_NO_FLUSH);
    bytes += slice;
    size -= slice;
  }
}

GzipWriter::Result GzipWriter::finish() {
  m_zstream.next_in = nullptr;
  m_zstream.avail_in = 0;
  deflate_all(Z_FINISH);
  deflateEnd(&m_zstream);
  m_zstream_ready = false;
  if (::close(m_fd) != 0) {
    m_fd = -1;
    throw failure("cannot write " + quoted(m_path.string()) + ": " + std::strerror(errno));
  }
  m_fd = -1;
  return Result{m_uncompressed.finish(), m_compressed.finish(), m_size};
}

void GzipWriter::deflate_all(int flush) {
  // Runs deflate until it has taken all input (and, on Z_FINISH, ended the stream).
  while (true) {
    m_zstream.next_out = m_out.data();
    m_zstream.avail_out = static_cast<uInt>(m_out.size());
    int code = deflate(&m_zstream, flush);
    if (code != Z_OK && code != Z_STREAM_END && code != Z_BUF_ERROR) {
      throw failure("cannot compress a layer: " + zlib_message(m_zstream, code));
    }
    write_out(m_out.data(), m_out.size() - m_zstream.avail_out);
    if (flush == Z_FINISH ? code == Z_STREAM_END
                          : (m_zstream.avail_in == 0 && m_zstream.avail_out != 0)) {
      return;
    }
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
