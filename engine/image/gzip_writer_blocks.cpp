#include "engine/image/gzip_writer_blocks.hpp"

#include <algorithm>

#include "engine/core/error.hpp"

namespace polyarch::image::gzip_blocks {

namespace {

constexpr int k_raw_window_bits = -15;  // 32 KiB window, no zlib or gzip wrapper
constexpr int k_memory_level = 8;
constexpr size_t k_blocks_per_thread = 16;  // in flight (2 MiB), so workers rarely wait for the writer

std::string zlib_message(const z_stream& stream, int code) {
  if (stream.msg != nullptr) return stream.msg;
  return "zlib error " + std::to_string(code);
}

}  // namespace

Deflater::Deflater(int level) {
  int code = deflateInit2(&m_stream, level, Z_DEFLATED, k_raw_window_bits, k_memory_level,
                          Z_DEFAULT_STRATEGY);
  if (code != Z_OK) throw failure("cannot start gzip: " + zlib_message(m_stream, code));
}

Deflater::~Deflater() { deflateEnd(&m_stream); }

void Deflater::compress(Block& block) {
  block.crc = crc32(0L, block.input.data(), static_cast<uInt>(block.input.size()));
  int code = deflateReset(&m_stream);
  if (code == Z_OK && !block.dictionary.empty()) {
    code = deflateSetDictionary(&m_stream, block.dictionary.data(),
                                static_cast<uInt>(block.dictionary.size()));
  }
  if (code != Z_OK) {
    block.error = zlib_message(m_stream, code);
    return;
  }
  // Room for the worst case plus the sync flush's empty stored block.
  block.output.resize(deflateBound(&m_stream, block.input.size()) + 16);
  m_stream.next_in = block.input.data();
  m_stream.avail_in = static_cast<uInt>(block.input.size());
  const int flush = block.last ? Z_FINISH : Z_SYNC_FLUSH;
  size_t produced = 0;
  while (true) {
    m_stream.next_out = block.output.data() + produced;
    m_stream.avail_out = static_cast<uInt>(block.output.size() - produced);
    code = deflate(&m_stream, flush);
    produced = block.output.size() - m_stream.avail_out;
    if (code != Z_OK && code != Z_STREAM_END && code != Z_BUF_ERROR) {
      block.error = zlib_message(m_stream, code);
      return;
    }
    bool complete = block.last ? code == Z_STREAM_END
                               : m_stream.avail_in == 0 && m_stream.avail_out != 0;
    if (complete) break;
    block.output.resize(block.output.size() * 2);
  }
  block.output.resize(produced);
}

BlockCompressor::BlockCompressor(int level, int threads) {
  if (threads <= 1) {
    m_inline = std::make_unique<Deflater>(level);
    return;
  }
  m_max_queued = static_cast<size_t>(threads) * k_blocks_per_thread;
  // Made here so a zlib failure is thrown to the caller, not in a worker.
  std::vector<std::unique_ptr<Deflater>> deflaters;
  for (int i = 0; i < threads; ++i) deflaters.push_back(std::make_unique<Deflater>(level));
  for (auto& deflater : deflaters) {
    m_workers.emplace_back([this, d = std::move(deflater)] {
      while (true) {
        Block* block = nullptr;
        {
          std::unique_lock lock(m_mutex);
          m_todo_ready.wait(lock, [&] { return m_stopping || !m_todo.empty(); });
          if (m_stopping) return;
          block = m_todo.front();
          m_todo.pop_front();
        }
        d->compress(*block);
        {
          std::lock_guard lock(m_mutex);
          block->done = true;
        }
        m_block_done.notify_all();
      }
    });
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

void BlockCompressor::submit(std::unique_ptr<Block> block) {
  block->done = false;
  Block* raw = block.get();
  ++m_queued;
  if (m_inline) {
    m_inline->compress(*raw);
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
  if (!oldest->done) {
    if (!wait) return nullptr;
    m_block_done.wait(lock, [&] { return oldest->done; });
  }
  std::unique_ptr<Block> block = std::move(m_in_order.front());
  m_in_order.pop_front();
  --m_queued;
  return block;
}

}  // namespace polyarch::image::gzip_blocks
