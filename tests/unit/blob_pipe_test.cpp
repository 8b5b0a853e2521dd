// The bounded pipe between a download and an upload (engine/publish/blob_pipe.cpp).
#include "engine/publish/blob_pipe.hpp"

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"

namespace polyarch::publish {
namespace {

// What a reader gets from the pipe from `offset` on, in reads of `piece` bytes.
std::string drain_from(BlobPipe& pipe, size_t offset, size_t piece) {
  std::string out;
  std::string buffer(piece, '\0');
  while (size_t n = pipe.read(static_cast<int64_t>(offset + out.size()), buffer.data(), piece)) {
    out.append(buffer.data(), n);
  }
  return out;
}

TEST(BlobPipeTest, PassesEveryByteInOrderThroughASmallRing) {
  // 7-byte ring, odd write and read sizes: every wrap-around position.
  std::string data;
  for (int i = 0; i < 5000; ++i) data += static_cast<char>('a' + i % 26 + (i / 26) % 3);
  BlobPipe pipe(7);
  std::thread writer([&] {
    for (size_t at = 0; at < data.size(); at += 5) {
      ASSERT_TRUE(pipe.write(data.data() + at, std::min<size_t>(5, data.size() - at)));
    }
    pipe.close();
  });
  std::string got = drain_from(pipe, 0, 3);
  writer.join();
  EXPECT_TRUE(got == data);
}

TEST(BlobPipeTest, WriterErrorReachesTheReaderAndAbandonFreesTheWriter) {
  BlobPipe failing(16);
  ASSERT_TRUE(failing.write("abc", 3));
  failing.close("download from r.example interrupted");
  char buffer[8];
  try {
    failing.read(0, buffer, sizeof buffer);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "download from r.example interrupted");
  }

  BlobPipe full(4);
  std::thread writer([&] { EXPECT_FALSE(full.write("0123456789", 10)); });
  EXPECT_EQ(full.read(0, buffer, 2), 2u);
  EXPECT_EQ(std::string(buffer, 2), "01");
  full.abandon();
  writer.join();
  try {
    full.read(0, buffer, 2);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "a streamed blob cannot be sent again from the start");
  }
}

TEST(BlobPipeTest, AReadWaitsForHalfTheRingOrTheEndAndTakesItAcrossTheWrap) {
  // A 16-byte ring: a read of 8 or more returns 8 bytes at once, however the
  // writer cut them, and nothing shorter until the writer closes.
  BlobPipe pipe(16);
  std::thread writer([&] {
    for (const char* piece : {"ab", "cde", "f", "ghij", "klmnop", "qrstuvwxyz"}) {
      ASSERT_TRUE(pipe.write(piece, std::char_traits<char>::length(piece)));
    }
    pipe.close();
  });
  char buffer[32];
  EXPECT_EQ(pipe.read(0, buffer, 5), 5u);  // smaller than half the ring: waits for 5
  EXPECT_EQ(std::string(buffer, 5), "abcde");
  size_t n = pipe.read(5, buffer, sizeof buffer);
  EXPECT_GE(n, 8u);
  std::string got = "abcde" + std::string(buffer, n);
  got += drain_from(pipe, got.size(), sizeof buffer);
  writer.join();
  EXPECT_EQ(got, "abcdefghijklmnopqrstuvwxyz");

  // Fewer bytes than asked for, then the end: they come without waiting for more.
  BlobPipe short_pipe(16);
  ASSERT_TRUE(short_pipe.write("xyz", 3));
  short_pipe.close();
  EXPECT_EQ(short_pipe.read(0, buffer, sizeof buffer), 3u);
  EXPECT_EQ(std::string(buffer, 3), "xyz");
  EXPECT_EQ(short_pipe.read(3, buffer, sizeof buffer), 0u);
}

TEST(BlobPipeTest, AStalledWriterStillFeedsTheReaderAfterAShortWait) {
  // Three bytes of the eight a read waits for, and no more for now: the
  // read gives them after a short wait rather than holding them back (a
  // guard closes the pipe after 3 s, so a read that waits for more fails
  // the timing below instead of hanging).
  BlobPipe pipe(16);
  ASSERT_TRUE(pipe.write("abc", 3));
  std::promise<void> read_done;
  std::thread guard([&pipe, done = read_done.get_future()] {
    if (done.wait_for(std::chrono::seconds(3)) == std::future_status::timeout) pipe.close();
  });
  char buffer[16];
  auto start = std::chrono::steady_clock::now();
  size_t n = pipe.read(0, buffer, sizeof buffer);
  auto waited = std::chrono::steady_clock::now() - start;
  read_done.set_value();
  guard.join();
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(std::string(buffer, 3), "abc");
  EXPECT_LT(waited, std::chrono::seconds(1));
  // A reader waiting on an empty pipe gets the next bytes as they come.
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(pipe.write("d", 1));
  });
  EXPECT_EQ(pipe.read(3, buffer, sizeof buffer), 1u);
  EXPECT_EQ(buffer[0], 'd');
  writer.join();
}

TEST(BlobPipeTest, OneReadTakesBytesFromTheEndAndTheStartOfTheRing) {
  BlobPipe pipe(8);
  char buffer[8];
  ASSERT_TRUE(pipe.write("012345", 6));
  EXPECT_EQ(pipe.read(0, buffer, 4), 4u);  // unread "45" now sits at ring offsets 4-5
  ASSERT_TRUE(pipe.write("6789", 4));      // "67" at offsets 6-7, "89" wraps to 0-1
  pipe.close();
  EXPECT_EQ(pipe.read(4, buffer, sizeof buffer), 6u);
  EXPECT_EQ(std::string(buffer, 6), "456789");
  EXPECT_EQ(pipe.read(10, buffer, sizeof buffer), 0u);
}

}  // namespace
}  // namespace polyarch::publish
