#include "engine/publish/blob_pipe.hpp"

#include <algorithm>

#include "engine/core/error.hpp"

namespace polyarch::publish {

bool BlobPipe::write(const char* data, size_t size) {
  std::unique_lock lock(m_mutex);
  while (size > 0) {
    m_changed.wait(lock, [&] { return m_abandoned || m_buffer.size() < m_capacity; });
    if (m_abandoned) return false;
    size_t n = std::min(size, m_capacity - m_buffer.size());
    m_buffer.insert(m_buffer.end(), data, data + n);
    data += n;
    size -= n;
    m_changed.notify_all();
  }
  return true;
}

void BlobPipe::close(std::string error) {
  std::lock_guard lock(m_mutex);
  m_closed = true;
  m_error = std::move(error);
  m_changed.notify_all();
}

size_t BlobPipe::read(int64_t offset, char* buffer, size_t size) {
  std::unique_lock lock(m_mutex);
  if (offset != m_position) throw failure("a streamed blob cannot be sent again from the start");
  m_changed.wait(lock, [&] { return !m_buffer.empty() || m_closed; });
  if (!m_error.empty()) throw failure(m_error);
  size_t n = std::min(size, m_buffer.size());
  std::copy_n(m_buffer.begin(), n, buffer);
  m_buffer.erase(m_buffer.begin(), m_buffer.begin() + static_cast<long>(n));
  m_position += static_cast<int64_t>(n);
  m_changed.notify_all();
  return n;
}

void BlobPipe::abandon() {
  std::lock_guard lock(m_mutex);
  m_abandoned = true;
  m_changed.notify_all();
}

}  // namespace polyarch::publish
