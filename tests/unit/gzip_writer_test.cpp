// The block-parallel gzip writer (engine/image/gzip_writer.cpp): one valid
// gzip member, the same bytes for any thread count, blocks primed with the
// 32 KiB before them.
#include "engine/image/gzip_writer.hpp"

#include <sys/stat.h>

#include <zlib.h>

#include <cstring>

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/image/gzip_writer_blocks.hpp"
#include "engine/image/gzip_writer_crc.hpp"
#include "tests/unit/gzip_test_util.hpp"

namespace polyarch::image {
namespace {

using test_util::gunzip;

// Random bytes from a fixed seed.
std::string noise(size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string out(size, '\0');
  for (auto& c : out) c = static_cast<char>(random() & 0xff);
  return out;
}

// Text with repeats near and far, runs of zeros and noise: every kind of
// match deflate's lazy search weighs, across block edges.
std::string mixed(size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string out;
  while (out.size() < size) {
    switch (random() % 4) {
      case 0:
        out += "entry " + std::to_string(random() % 5000) + " of the layer\n";
        break;
      case 1:
        out.append(random() % 700, '\0');
        break;
      case 2:
        out += noise(random() % 300, static_cast<unsigned>(random()));
        break;
      default:
        if (out.size() > 4000) {
          out += out.substr(out.size() - 4000 + random() % 3000, random() % 400);
        }
    }
  }
  out.resize(size);
  return out;
}

class GzipWriterTest : public ::testing::Test {
 protected:
  // Compresses input, given in pieces of `piece` bytes, on `threads` threads.
  std::string gzip(const std::string& input, int threads, size_t piece = 10240, int level = 6) {
    GzipWriter writer(m_temp.path(), level, threads);
    for (size_t at = 0; at < input.size(); at += piece) {
      writer.write(input.data() + at, std::min(piece, input.size() - at));
    }
    GzipWriter::Result result = writer.finish();
    std::string bytes = core::read_file(writer.path());
    EXPECT_EQ(result.size, static_cast<int64_t>(bytes.size()));
    EXPECT_EQ(result.compressed, sha256(bytes));
    EXPECT_EQ(result.uncompressed, sha256(input));
    return bytes;
  }

  core::TempDir m_temp{"polyarch-gzip-test"};
};

TEST_F(GzipWriterTest, EmptyInputIsAValidGzipWithTheFixedHeader) {
  std::string gz = gzip("", 3);
  EXPECT_EQ(gunzip(gz), "");
  EXPECT_EQ(gz, gzip("", 1));
  // Magic, deflate, no flags, mtime 0, XFL 0 (level 6), OS unknown.
  EXPECT_EQ(gz.substr(0, 10), std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10));
}

TEST_F(GzipWriterTest, SameBytesForAnyThreadCountAndAnyWriteSizes) {
  // Exactly two blocks, then two blocks and a byte: the block edges.
  for (size_t size : {size_t{256} << 10, (size_t{256} << 10) + 1, size_t{3} << 20}) {
    std::string input = noise(size / 4, 7) + std::string(size / 4, 'a') + noise(size - size / 2, 9);
    std::string one = gzip(input, 1);
    EXPECT_EQ(gunzip(one), input) << size;
    EXPECT_TRUE(gzip(input, 2) == one) << size;
    EXPECT_TRUE(gzip(input, 7, 1 << 20) == one) << size;
    EXPECT_TRUE(gzip(input, 0, 333) == one) << size;
  }
}

TEST_F(GzipWriterTest, EachBlockIsPrimedWithTheLast32KiBBeforeIt) {
  // 16 KiB of noise repeated over 1 MiB: only a block that sees the end of
  // the previous one can refer to it, so the whole compresses to little more
  // than one copy of the noise, not one per 128 KiB block (8 x 16 KiB).
  std::string unit = noise(16 << 10, 3);
  std::string input;
  while (input.size() < (1u << 20)) input += unit;
  std::string gz = gzip(input, 2);
  EXPECT_EQ(gunzip(gz), input);
  EXPECT_LT(gz.size(), 32u << 10);
}

TEST_F(GzipWriterTest, SameBytesForAnyThreadCountAtEveryLevel) {
  // Six blocks: runs of blocks continue one deflate stream where that gives
  // the same bytes (levels 4 to 9), and start afresh everywhere else.
  std::string input = mixed((size_t{5} << 17) + 777, 11);
  for (int level = 0; level <= 9; ++level) {
    std::string one = gzip(input, 1, 65536, level);
    EXPECT_EQ(gunzip(one), input) << level;
    EXPECT_TRUE(gzip(input, 3, 65536, level) == one) << level;
    EXPECT_TRUE(gzip(input, 9, 65536, level) == one) << level;
  }
}

TEST_F(GzipWriterTest, FillingInPlaceIsTheSameAsWriting) {
  std::string input = mixed((size_t{3} << 17) + 5, 4);
  GzipWriter writer(m_temp.path(), 6, 2);
  size_t at = 0;
  while (at < input.size()) {
    std::span<unsigned char> space = writer.input_space();
    ASSERT_FALSE(space.empty());
    size_t n = std::min({space.size(), input.size() - at, size_t{50000}});
    std::memcpy(space.data(), input.data() + at, n);
    writer.commit(n);
    at += n;
  }
  GzipWriter::Result result = writer.finish();
  std::string bytes = core::read_file(writer.path());
  EXPECT_TRUE(bytes == gzip(input, 1));
  EXPECT_EQ(result.uncompressed, sha256(input));
  EXPECT_EQ(result.compressed, sha256(bytes));
}

TEST_F(GzipWriterTest, TheFileIsAsReadableAsAnyOtherFileWrittenHere) {
  mode_t mask = ::umask(027);  // not 022, so the mode cannot be a fixed 0644
  GzipWriter writer(m_temp.path(), 6, 1);
  writer.finish();
  auto mode = static_cast<mode_t>(std::filesystem::status(writer.path()).permissions());
  ::umask(mask);
  EXPECT_EQ(mode, 0640u) << "mkstemp's 0600 was kept";
}

// A deflate stream that goes on from one block to the next writes, for each
// block, exactly what a reset stream primed with the block's dictionary
// writes: what lets runs of blocks skip the reset.
TEST(GzipBlocksTest, ContinuedStreamWritesWhatResetBlocksWrite) {
  using gzip_blocks::Block;
  using gzip_blocks::k_block_size;
  using gzip_blocks::k_dictionary_size;
  std::string input = mixed(9 * k_block_size + 300, 21);
  gzip_blocks::Deflater continued(6);
  gzip_blocks::Deflater afresh(6);
  size_t blocks = (input.size() + k_block_size - 1) / k_block_size;
  for (size_t i = 0; i < blocks; ++i) {
    size_t start = i * k_block_size;
    size_t size = std::min(k_block_size, input.size() - start);
    size_t dictionary = std::min(start, k_dictionary_size);
    auto fill = [&](Block& block, uint64_t index) {
      std::memcpy(block.input() - dictionary, input.data() + start - dictionary, dictionary + size);
      block.dictionary_size = dictionary;
      block.input_size = size;
      block.index = index;
      block.last = i + 1 == blocks;
    };
    Block one;
    fill(one, i);
    continued.compress(one);
    Block two;
    fill(two, 2 * i + 7);  // never the block after the last one: a reset each time
    afresh.compress(two);
    ASSERT_TRUE(one.error.empty() && two.error.empty());
    ASSERT_EQ(std::string(reinterpret_cast<char*>(one.output.get()), one.output_size),
              std::string(reinterpret_cast<char*>(two.output.get()), two.output_size))
        << "block " << i;
  }
}

TEST(GzipBlocksTest, Crc32IsZlibs) {
  std::string data = noise((1 << 20) + 77, 5);
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  for (size_t size = 0; size < 300; ++size) {
    for (size_t offset = 0; offset < 3; ++offset) {
      uint32_t start = size % 2 == 0 ? 0 : 0x12345678u * static_cast<uint32_t>(size);
      ASSERT_EQ(gzip_blocks::crc32(start, bytes + offset, size),
                static_cast<uint32_t>(crc32_z(start, bytes + offset, size)))
          << size << " at " << offset;
    }
  }
  EXPECT_EQ(gzip_blocks::crc32(0, bytes, data.size()),
            static_cast<uint32_t>(crc32_z(0, bytes, data.size())));
  uint32_t halves = gzip_blocks::crc32(gzip_blocks::crc32(0, bytes, 1000), bytes + 1000,
                                       data.size() - 1000);
  EXPECT_EQ(halves, static_cast<uint32_t>(crc32_z(0, bytes, data.size())));
}

TEST_F(GzipWriterTest, RejectsALevelOutsideZeroToNine) {
  try {
    GzipWriter writer(m_temp.path(), 10);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_STREQ(e.what(), "invalid gzip level \"10\": expected a number from 0 to 9");
  }
}

}  // namespace
}  // namespace polyarch::image
