#include "engine/publish/blob_pipe.hpp"

#include <algorithm>
#include <chrono>

#include "engine/core/error.hpp"

namespace polyarch::publish {

namespace {

// How long a read waits for a large piece before it takes what there is: a
// slow download still feeds its upload steadily.
constexpr std::chrono::milliseconds k_batch_wait{50};

}  // namespace

bool BlobPipe::write(const char* data, size_t size) {
  std::unique_lock lock(m_mutex);
  // Not zeroed: every byte is written before it is read.
  if (!m_ring) m_ring.reset(new char[m_capacity]);
  while (size > 0) {
    if (!m_abandoned && m_used == m_capacity) {
      m_writer_waiting = true;
      m_writable.wait(lock, [&] { return m_abandoned || m_used < m_capacity; });
      m_writer_waiting = false;
    }
    if (m_abandoned) return false;
    // Into the free space after the unread bytes, up to the end of the ring.
    size_t end = (m_start + m_used) % m_capacity;
    size_t n = std::min({size, m_capacity - m_used, m_capacity - end});
    std::copy_n(data, n, m_ring.get() + end);
    m_used += n;
    data += n;
    size -= n;
    // Wake the reader only once it has what it waits for: one wake-up per
    // large read rather than one per small write.
    if (m_wanted > 0 && m_used >= m_wanted) m_readable.notify_one();
  }
  return true;
}

void BlobPipe::close(std::string error) {
  std::lock_guard lock(m_mutex);
  m_closed = true;
  m_error = std::move(error);
  m_readable.notify_all();
}

size_t BlobPipe::read(int64_t offset, char* buffer, size_t size) {
  std::unique_lock lock(m_mutex);
  if (offset != m_position) throw failure("a streamed blob cannot be sent again from the start");
  size_t wanted = std::max<size_t>(1, std::min(size, m_capacity / 2));
  if (m_used < wanted && !m_closed) {
    m_wanted = wanted;
    if (!m_readable.wait_for(lock, k_batch_wait, [&] { return m_used >= wanted || m_closed; })) {
      m_wanted = 1;
      m_readable.wait(lock, [&] { return m_used > 0 || m_closed; });
    }
    m_wanted = 0;
  }
  if (!m_error.empty()) throw failure(m_error);
  if (m_used == 0) return 0;
  // From the oldest unread byte, up to the end of the ring, then on from
  // its start: one read takes everything available up to size.
  size_t n = std::min(size, m_used);
  size_t first = std::min(n, m_capacity - m_start);
  std::copy_n(m_ring.get() + m_start, first, buffer);
  std::copy_n(m_ring.get(), n - first, buffer + first);
  m_start = (m_start + n) % m_capacity;
  m_used -= n;
  m_position += static_cast<int64_t>(n);
  if (m_writer_waiting) m_writable.notify_one();
  return n;
}

void BlobPipe::abandon() {
  std::lock_guard lock(m_mutex);
  m_abandoned = true;
  m_writable.notify_all();
  m_readable.notify_all();
}

}  // namespace polyarch::publish
