#include "engine/image/gzip_writer_blocks.hpp"

#include <algorithm>
#include <cstring>

#include "engine/core/error.hpp"

namespace polyarch::image::gzip_blocks {

namespace {

constexpr int k_raw_window_bits = -15;  // 32 KiB window, no zlib or gzip wrapper
constexpr int k_memory_level = 8;
constexpr int k_first_lazy_level = 4;   // zlib's deflate_slow: levels 4 to 9
constexpr size_t k_blocks_per_thread = 16;  // in flight (2 MiB), so no thread waits for input
constexpr size_t k_longest_run = 8;         // consecutive blocks one thread takes at once
constexpr size_t k_flush_room = 16;         // the sync flush's empty stored block, and some

std::string zlib_message(const z_stream& stream, int code) {
  if (stream.msg != nullptr) return stream.msg;
  return "zlib error " + std::to_string(code);
}

}  // namespace

Block::Block()
    : buffer(std::make_unique_for_overwrite<unsigned char[]>(k_dictionary_size + k_block_size)) {}

Deflater::Deflater(int level) : m_may_continue(level >= k_first_lazy_level) {
  int code = deflateInit2(&m_stream, level, Z_DEFLATED, k_raw_window_bits, k_memory_level,
                          Z_DEFAULT_STRATEGY);
  if (code != Z_OK) throw failure("cannot start gzip: " + zlib_message(m_stream, code));
}

Deflater::~Deflater() { deflateEnd(&m_stream); }

void Deflater::compress(Block& block) {
  // After a sync flush the stream holds the 32 KiB before the next block,
  // every position of it hashed, as deflateSetDictionary would leave it.
  bool goes_on = m_may_continue && block.index == m_continues;
  m_continues = UINT64_MAX;
  int code = Z_OK;
  if (!goes_on) {
    code = deflateReset(&m_stream);
    if (code == Z_OK && block.dictionary_size > 0) {
      code = deflateSetDictionary(&m_stream, block.dictionary(),
                                  static_cast<uInt>(block.dictionary_size));
    }
  }
  if (code != Z_OK) {
    block.error = zlib_message(m_stream, code);
    return;
  }
  // Room for the worst case, so one call nearly always does; kept for the
  // block's next use and never zeroed.
  size_t bound = deflateBound(&m_stream, block.input_size) + k_flush_room;
  if (block.output_capacity < bound) {
    block.output = std::make_unique_for_overwrite<unsigned char[]>(bound);
    block.output_capacity = bound;
  }
  m_stream.next_in = block.input();
  m_stream.avail_in = static_cast<uInt>(block.input_size);
  const int flush = block.last ? Z_FINISH : Z_SYNC_FLUSH;
  size_t produced = 0;
  while (true) {
    m_stream.next_out = block.output.get() + produced;
    m_stream.avail_out = static_cast<uInt>(block.output_capacity - produced);
    code = deflate(&m_stream, flush);
    produced = block.output_capacity - m_stream.avail_out;
    if (code != Z_OK && code != Z_STREAM_END && code != Z_BUF_ERROR) {
      block.error = zlib_message(m_stream, code);
      return;
    }
    bool complete = block.last ? code == Z_STREAM_END
                               : m_stream.avail_in == 0 && m_stream.avail_out != 0;
    if (complete) break;
    auto bigger = std::make_unique_for_overwrite<unsigned char[]>(block.output_capacity * 2);
    std::memcpy(bigger.get(), block.output.get(), produced);
    block.output = std::move(bigger);
    block.output_capacity *= 2;
  }
  block.output_size = produced;
  if (!block.last) m_continues = block.index + 1;
}

BlockCompressor::BlockCompressor(int level, int workers) : m_own(level) {
  if (workers <= 0) return;
  m_max_queued = static_cast<size_t>(workers + 1) * k_blocks_per_thread;
  // Made here so a zlib failure is thrown to the caller, not in a worker.
  std::vector<std::unique_ptr<Deflater>> deflaters;
  for (int i = 0; i < workers; ++i) deflaters.push_back(std::make_unique<Deflater>(level));
  for (auto& deflater : deflaters) {
    m_workers.emplace_back([this, d = std::move(deflater)] { work(*d); });
  }
}

BlockCompressor::~BlockCompressor() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_todo_ready.notify_all();
  for (auto& worker : m_workers) worker.join();
}

void BlockCompressor::work(Deflater& deflater) {
  std::vector<Block*> run;
  while (true) {
    {
      std::unique_lock lock(m_mutex);
      m_todo_ready.wait(lock, [&] { return m_stopping || !m_todo.empty(); });
      if (m_stopping) return;
      take_run(run);
    }
    compress_run(deflater, run);
  }
}

void BlockCompressor::take_run(std::vector<Block*>& run) {
  // Consecutive blocks go on in one deflate stream; the runs get shorter as
  // the queue empties, so that every thread has some.
  size_t threads = m_workers.size() + 1;
  size_t longest = std::clamp(m_todo.size() / threads, size_t{1}, k_longest_run);
  run.clear();
  while (run.size() < longest && !m_todo.empty()) {
    run.push_back(m_todo.front());
    m_todo.pop_front();
  }
}

void BlockCompressor::compress_run(Deflater& deflater, const std::vector<Block*>& run) {
  for (Block* block : run) {
    deflater.compress(*block);
    bool wake = false;
    {
      std::lock_guard lock(m_mutex);
      block->done = true;
      wake = block == m_awaited;
    }
    // Only the block the caller sleeps on wakes it.
    if (wake) m_block_done.notify_one();
  }
}

void BlockCompressor::submit(std::unique_ptr<Block> block) {
  block->done = false;
  Block* raw = block.get();
  ++m_queued;
  if (m_workers.empty()) {
    m_own.compress(*raw);
    raw->done = true;
    m_in_order.push_back(std::move(block));
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    m_in_order.push_back(std::move(block));
    m_todo.push_back(raw);
  }
  m_todo_ready.notify_one();
}

std::unique_ptr<Block> BlockCompressor::next(bool wait) {
  std::unique_lock lock(m_mutex);
  if (m_in_order.empty()) return nullptr;
  Block* oldest = m_in_order.front().get();
  while (!oldest->done) {
    if (!wait) return nullptr;
    if (!m_todo.empty()) {
      take_run(m_own_run);
      lock.unlock();
      compress_run(m_own, m_own_run);
      lock.lock();
      continue;
    }
    m_awaited = oldest;
    m_block_done.wait(lock, [&] { return oldest->done; });
    m_awaited = nullptr;
  }
  std::unique_ptr<Block> block = std::move(m_in_order.front());
  m_in_order.pop_front();
  --m_queued;
  return block;
}

}  // namespace polyarch::image::gzip_blocks
