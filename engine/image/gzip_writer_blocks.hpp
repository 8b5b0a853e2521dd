#pragma once
// The block compressor behind GzipWriter (internal to it): input cut into
// fixed-size blocks, each deflated as if on its own with the previous block's
// last 32 KiB as its dictionary (as pigz does), so the bytes of one gzip
// stream are the same whether one thread or many compress it.

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

// One block of input, the dictionary just before it, and, once compressed,
// its raw deflate bytes. The buffers are allocated once and reused.
struct Block {
  Block();

  // The input: input_size bytes, with room for k_block_size.
  unsigned char* input() { return buffer.get() + k_dictionary_size; }
  // The dictionary: the dictionary_size bytes just before input().
  const unsigned char* dictionary() const {
    return buffer.get() + k_dictionary_size - dictionary_size;
  }

  std::unique_ptr<unsigned char[]> buffer;  // room for the dictionary, then the input
  size_t dictionary_size = 0;               // at most k_dictionary_size
  size_t input_size = 0;                    // at most k_block_size
  uint64_t index = 0;                       // 0 for the stream's first block, then 1, 2, ...
  bool last = false;                        // ends the deflate stream (BFINAL)
  std::unique_ptr<unsigned char[]> output;  // ends byte-aligned (sync flush) unless last
  size_t output_capacity = 0;
  size_t output_size = 0;
  std::string error;                        // zlib's complaint, if any
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

  // Fills block.output from block.input (or block.error). The
  // block right after the one compressed last goes on in the same stream:
  // at levels 4 to 9 (zlib's lazy matching, which hashes every position)
  // that gives the bytes a reset and loading its dictionary would give, for
  // less work.
  void compress(Block& block);

 private:
  z_stream m_stream{};
  bool m_may_continue = false;
  uint64_t m_continues = UINT64_MAX;  // the block index that goes on in this stream
};

// Compresses blocks on worker threads, and on the caller's thread while it
// would otherwise wait, and hands them back in the order they were given.
class BlockCompressor {
 public:
  // Starts `workers` threads (none: every block is compressed in submit());
  // throws failure when zlib cannot start.
  BlockCompressor(int level, int workers);
  ~BlockCompressor();
  BlockCompressor(const BlockCompressor&) = delete;
  BlockCompressor& operator=(const BlockCompressor&) = delete;

  // Queues a block (compresses it at once when there are no workers).
  void submit(std::unique_ptr<Block> block);
  // The oldest block, once compressed; nullptr when none is queued, or when
  // it is not done yet and wait is false. While it waits, the caller
  // compresses blocks that no worker has taken yet.
  std::unique_ptr<Block> next(bool wait);
  // Blocks submitted and not yet handed back.
  size_t queued() const { return m_queued; }
  // How many blocks may be in flight before the writer should wait.
  size_t max_queued() const { return m_max_queued; }

 private:
  void work(Deflater& deflater);
  void take_run(std::vector<Block*>& run);
  void compress_run(Deflater& deflater, const std::vector<Block*>& run);

  Deflater m_own;                  // the caller's: inline without workers, else helping
  std::vector<Block*> m_own_run;   // what the caller took to help
  std::mutex m_mutex;
  std::condition_variable m_todo_ready;
  std::condition_variable m_block_done;
  std::deque<Block*> m_todo;                      // not yet taken, oldest first
  std::deque<std::unique_ptr<Block>> m_in_order;  // every queued block, oldest first
  Block* m_awaited = nullptr;                     // the caller sleeps until it is done
  size_t m_queued = 0;
  size_t m_max_queued = 1;
  bool m_stopping = false;
  std::vector<std::thread> m_workers;
};

}  // namespace polyarch::image::gzip_blocks
