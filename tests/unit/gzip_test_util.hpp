#pragma once
// What the layer and gzip writer tests share: decompressing what they wrote.
#include <zlib.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace polyarch::image::test_util {

// Decompresses one gzip member, checking its CRC and length (inflate does)
// and that nothing follows it.
inline std::string gunzip(const std::string& gz) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  stream.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  std::vector<char> buffer(1 << 16);
  int code = Z_OK;
  while (code == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
    stream.avail_out = static_cast<uInt>(buffer.size());
    code = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer.data(), buffer.size() - stream.avail_out);
  }
  EXPECT_EQ(code, Z_STREAM_END);
  EXPECT_EQ(stream.avail_in, 0u);  // nothing after the gzip member
  inflateEnd(&stream);
  return out;
}

}  // namespace polyarch::image::test_util
