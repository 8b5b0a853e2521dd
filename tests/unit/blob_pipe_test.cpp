// The bounded pipe between a download and an upload (engine/publish/blob_pipe.cpp).
#include "engine/publish/blob_pipe.hpp"

#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"

namespace polyarch::publish {
namespace {

// Everything a reader gets from the pipe, in reads of `piece` bytes.
std::string drain(BlobPipe& pipe, size_t piece) {
  std::string out;
  std::string buffer(piece, '\0');
  while (size_t n = pipe.read(static_cast<int64_t>(out.size()), buffer.data(), piece)) {
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
  std::string got = drain(pipe, 3);
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

}  // namespace
}  // namespace polyarch::publish
