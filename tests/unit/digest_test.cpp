#include "engine/image/digest.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"

namespace polyarch::image {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_empty_hex =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* k_abc_hex =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

// The message of the Error that parsing text throws, checking its kind.
std::string parse_error(const std::string& text) {
  try {
    Digest::parse(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input) << text;
    return e.what();
  }
  ADD_FAILURE() << "no error for " << text;
  return "";
}

TEST(DigestSha256, KnownVectors) {
  EXPECT_EQ(sha256("").str(), std::string("sha256:") + k_empty_hex);
  EXPECT_EQ(sha256("abc").str(), std::string("sha256:") + k_abc_hex);
  EXPECT_EQ(sha256("abc").algorithm, "sha256");
  EXPECT_EQ(sha256("abc").hex, k_abc_hex);
}

TEST(DigestSha256, IncrementalEqualsOneShot) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += static_cast<char>('a' + i % 26);
  Sha256 hasher;
  hasher.update(text.substr(0, 1));
  hasher.update(text.data() + 1, 0);
  hasher.update(text.substr(1, 999));
  hasher.update(text.data() + 1000, text.size() - 1000);
  Digest incremental = hasher.finish();
  EXPECT_EQ(incremental, sha256(text));
  EXPECT_NE(incremental, sha256(text.substr(1)));

  Sha256 abc;
  abc.update("a");
  abc.update("bc");
  EXPECT_EQ(abc.finish().hex, k_abc_hex);
}

TEST(DigestSha256, FileMatchesBytesAndMissingFileFails) {
  core::TempDir temp("polyarch-digest-test");
  fs::path file = temp.path() / "abc";
  core::write_file_atomic(file, "abc");
  EXPECT_EQ(sha256_file(file.string()).hex, k_abc_hex);
  fs::path empty = temp.path() / "empty";
  core::write_file_atomic(empty, "");
  EXPECT_EQ(sha256_file(empty.string()).hex, k_empty_hex);
  // Larger than the 1 MiB read buffer.
  std::string big(3 * (1 << 20) + 17, 'x');
  core::write_file_atomic(temp.path() / "big", big);
  EXPECT_EQ(sha256_file((temp.path() / "big").string()), sha256(big));

  std::string missing = (temp.path() / "missing").string();
  try {
    sha256_file(missing);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    EXPECT_EQ(std::string(e.what()),
              "cannot read \"" + missing + "\": No such file or directory");
  }
}

TEST(DigestParse, AcceptsValidDigests) {
  Digest d = Digest::parse(std::string("sha256:") + k_abc_hex);
  EXPECT_EQ(d.algorithm, "sha256");
  EXPECT_EQ(d.hex, k_abc_hex);
  EXPECT_EQ(d, sha256("abc"));
  std::string sha512 = "sha512:" + std::string(128, 'a');
  EXPECT_EQ(Digest::parse(sha512).str(), sha512);
  Digest other = Digest::parse("multihash+base58:0123456789abcdef0123456789abcdef");
  EXPECT_EQ(other.algorithm, "multihash+base58");
  EXPECT_EQ(other.hex, "0123456789abcdef0123456789abcdef");
}

TEST(DigestParse, RejectsMalformedDigestsWithExactMessages) {
  EXPECT_EQ(parse_error("abc"),
            "invalid digest \"abc\": expected ALGORITHM:HEX, e.g. sha256:<64 hex digits>");
  EXPECT_EQ(parse_error(":abc"),
            "invalid digest \":abc\": expected ALGORITHM:HEX, e.g. sha256:<64 hex digits>");
  EXPECT_EQ(parse_error("sha256:abc"),
            "invalid digest \"sha256:abc\": sha256 needs 64 lowercase hex digits");
  std::string upper = "sha256:" + std::string(64, 'A');
  EXPECT_EQ(parse_error(upper),
            "invalid digest \"" + upper + "\": sha256 needs 64 lowercase hex digits");
  std::string long_hex = std::string("sha256:") + k_abc_hex + "0";
  EXPECT_EQ(parse_error(long_hex),
            "invalid digest \"" + long_hex + "\": sha256 needs 64 lowercase hex digits");
  EXPECT_EQ(parse_error("sha512:abcd"),
            "invalid digest \"sha512:abcd\": sha512 needs 128 lowercase hex digits");
  std::string caps = std::string("SHA256:") + k_abc_hex;
  EXPECT_EQ(parse_error(caps), "invalid digest \"" + caps + "\": bad algorithm \"SHA256\"");
  EXPECT_EQ(parse_error("md5:abc"),
            "invalid digest \"md5:abc\": expected at least 32 lowercase hex digits");
}

TEST(DigestParse, RejectsAlgorithmsThatAreNotSeparatedComponents) {
  // "..", "." or a leading/trailing/double separator would make
  // blobs/<algorithm>/<hex> leave the blobs directory or break the grammar.
  std::string hex = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(parse_error("..:" + hex),
            "invalid digest \"..:" + hex + "\": bad algorithm \"..\"");
  EXPECT_EQ(parse_error(".:" + hex), "invalid digest \".:" + hex + "\": bad algorithm \".\"");
  EXPECT_EQ(parse_error("sha256+:" + hex),
            "invalid digest \"sha256+:" + hex + "\": bad algorithm \"sha256+\"");
  EXPECT_EQ(parse_error("a--b:" + hex),
            "invalid digest \"a--b:" + hex + "\": bad algorithm \"a--b\"");
}

}  // namespace
}  // namespace polyarch::image
