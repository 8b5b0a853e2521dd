// The block-parallel gzip writer (engine/image/gzip_writer.cpp): one valid
// gzip member, the same bytes for any thread count, blocks primed with the
// 32 KiB before them.
#include "engine/image/gzip_writer.hpp"

#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
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

class GzipWriterTest : public ::testing::Test {
 protected:
  // Compresses input, given in pieces of `piece` bytes, on `threads` threads.
  std::string gzip(const std::string& input, int threads, size_t piece = 10240) {
    GzipWriter writer(m_temp.path(), 6, threads);
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
