#pragma once
// A bounded in-memory pipe: one thread downloads a blob into it while an
// upload reads from it, so registry-to-registry copies never touch the disk.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

namespace polyarch::publish {

class BlobPipe {
 public:
  explicit BlobPipe(size_t capacity = 8 << 20) : m_capacity(capacity) {}

  // Blocks while full; returns false when the reader has gone away.
  bool write(const char* data, size_t size);
  // Marks the end of the data (or a failure, with its message).
  void close(std::string error = "");
  // Reads at the given offset, which must be where the last read ended;
  // returns 0 at the end. Waits for size bytes (at most half the ring), the
  // end, or 50 ms with some bytes there, so a socket gets large writes, not
  // one per downloaded piece. Throws failure on an earlier offset (a retried
  // request) or when the writer failed.
  size_t read(int64_t offset, char* buffer, size_t size);
  // The reader gives up: writers stop blocking and get false.
  void abandon();

 private:
  std::mutex m_mutex;
  std::condition_variable m_readable;  // the reader waits here for m_wanted bytes
  std::condition_variable m_writable;  // the writer waits here for room
  std::unique_ptr<char[]> m_ring;  // m_capacity bytes, used as a ring (made by the first write)
  size_t m_capacity;
  size_t m_start = 0;        // where the oldest unread byte is
  size_t m_used = 0;         // unread bytes
  size_t m_wanted = 0;       // bytes the waiting reader needs; 0 when it is not waiting
  bool m_writer_waiting = false;
  int64_t m_position = 0;
  bool m_closed = false;
  bool m_abandoned = false;
  std::string m_error;
};

}  // namespace polyarch::publish
