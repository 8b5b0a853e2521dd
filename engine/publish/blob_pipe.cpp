#include "engine/publish/blob_pipe.hpp"

#include <algorithm>

#include "engine/core/error.hpp"

namespace polyarch::publish {

bool BlobPipe::write(const char* data, size_t size) {
  std::unique_lock lock(m_mutex);
  if (m_ring.empty()) m_ring.resize(m_capacity);
  while (size > 0) {
    m_changed.wait(lock, [&] { return m_abandoned || m_used < m_capacity; });
    if (m_abandoned) return false;
    // Into the free space after the unread bytes, up to the end of the ring.
    size_t end = (m_start + m_used) % m_capacity;
    size_t n = std::min({size, m_capacity - m_used, m_capacity - end});
    std::copy_n(data, n, m_ring.data() + end);
    m_used += n;
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
  m_changed.wait(lock, [&] { return m_used > 0 || m_closed; });
  if (!m_error.empty()) throw failure(m_error);
  if (m_used == 0) return 0;
  // From the oldest unread byte, up to the end of the ring.
  size_t n = std::min({size, m_used, m_capacity - m_start});
  std::copy_n(m_ring.data() + m_start, n, buffer);
  m_start = (m_start + n) % m_capacity;
  m_used -= n;
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
