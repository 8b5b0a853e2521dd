#pragma once
// The block compressor behind GzipWriter (internal to it): input cut into
// fixed-size blocks, each deflated on its own with the previous block's last
// 32 KiB as its dictionary (as pigz does), so the bytes of one gzip stream
// are the same whether one thread or many compress it.

#include <zlib.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace polyarch::image::gzip_blocks {

constexpr size_t k_block_size = size_t{128} << 10;      // input bytes per block
constexpr size_t k_dictionary_size = size_t{32} << 10;  // deflate's whole window

// One block of input and, once compressed, its raw deflate bytes.
struct Block {
  std::vector<unsigned char> input;       // at most k_block_size bytes
  std::vector<unsigned char> dictionary;  // the input just before this block
  bool last = false;                      // ends the deflate stream (BFINAL)
  std::vector<unsigned char> output;      // ends byte-aligned (sync flush) unless last
  uLong crc = 0;                          // crc32 of input
  std::string error;                      // zlib's complaint, if any
  bool done = false;
};

// A raw deflate stream reused from block to block.
class Deflater {
 public:
  // Throws failure when zlib cannot start.
  explicit Deflater(int level);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Fills block.output and block.crc from block.input (or block.error).
  void compress(Block& block);

 private:
  z_stream m_stream{};
};

// Compresses blocks on `threads` worker threads (inline for one) and hands
// them back in the order they were given.
class BlockCompressor {
 public:
  // Throws failure when zlib cannot start.
  BlockCompressor(int level, int threads);
  ~BlockCompressor();
  BlockCompressor(const BlockCompressor&) = delete;
  BlockCompressor& operator=(const BlockCompressor&) = delete;

  // Queues a block (compresses it at once when there are no workers).
  void submit(std::unique_ptr<Block> block);
  // The oldest block, once compressed; nullptr when none is queued, or when
  // it is not done yet and wait is false.
  std::unique_ptr<Block> next(bool wait);
  // Blocks submitted and not yet handed back.
  size_t queued() const { return m_queued; }
  // How many blocks may be in flight before the writer should wait.
  size_t max_queued() const { return m_max_queued; }

 private:
  void work();

  std::unique_ptr<Deflater> m_inline;  // when there are no workers
  std::mutex m_mutex;
  std::condition_variable m_todo_ready;
  std::condition_variable m_block_done;
  std::deque<Block*> m_todo;                      // not yet picked up by a worker
  std::deque<std::unique_ptr<Block>> m_in_order;  // every queued block, oldest first
  size_t m_queued = 0;
  size_t m_max_queued = 1;
  bool m_stopping = false;
  std::vector<std::thread> m_workers;
};

}  // namespace polyarch::image::gzip_blocks
