#pragma once
// A bounded in-memory pipe: one thread downloads a blob into it while an
// upload reads from it, so registry-to-registry copies never touch the disk.

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace polyarch::publish {

class BlobPipe {
 public:
  explicit BlobPipe(size_t capacity = 8 << 20) : m_capacity(capacity) {}

  // Blocks while full; returns false when the reader has gone away.
  bool write(const char* data, size_t size);
  // Marks the end of the data (or a failure, with its message).
  void close(std::string error = "");
  // Reads at the given offset, which must be where the last read ended;
  // returns 0 at the end. Throws failure on an earlier offset (a retried
  // request) or when the writer failed.
  size_t read(int64_t offset, char* buffer, size_t size);
  // The reader gives up: writers stop blocking and get false.
  void abandon();

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<char> m_ring;  // m_capacity bytes, used as a ring
  size_t m_capacity;
  size_t m_start = 0;        // where the oldest unread byte is
  size_t m_used = 0;         // unread bytes
  int64_t m_position = 0;
  bool m_closed = false;
  bool m_abandoned = false;
  std::string m_error;
};

}  // namespace polyarch::publish
