#include "engine/image/reference.hpp"

#include <gtest/gtest.h>

#include <string>

#include "engine/core/error.hpp"

namespace polyarch::image {
namespace {

const std::string k_hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string k_digest = "sha256:" + k_hex;

struct ValidCase {
  std::string input;
  std::string registry;
  std::string repository;
  std::string tag;
  std::string digest;
};

const ValidCase k_valid[] = {
    {"alpine", "docker.io", "library/alpine", "latest", ""},
    {"alpine:3.19", "docker.io", "library/alpine", "3.19", ""},
    {"user/app", "docker.io", "user/app", "latest", ""},
    {"docker.io/alpine", "docker.io", "library/alpine", "latest", ""},
    {"docker.io/library/x", "docker.io", "library/x", "latest", ""},
    {"docker.io/user/app:v1", "docker.io", "user/app", "v1", ""},
    {"index.docker.io/x", "docker.io", "library/x", "latest", ""},
    {"index.docker.io/user/x:2", "docker.io", "user/x", "2", ""},
    {"localhost/app", "localhost", "app", "latest", ""},
    {"localhost:5000/app:dev", "localhost:5000", "app", "dev", ""},
    {"127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest", ""},
    {"[::1]:5000/app:1", "[::1]:5000", "app", "1", ""},
    {"[fe80::1]/app", "[fe80::1]", "app", "latest", ""},
    {"ghcr.io/org/team/sub/app:1.2.3", "ghcr.io", "org/team/sub/app", "1.2.3", ""},
    {"registry.example.com:443/a/b", "registry.example.com:443", "a/b", "latest", ""},
    {"Example.com/x", "Example.com", "x", "latest", ""},
    {"my-registry.io/x", "my-registry.io", "x", "latest", ""},
    {"ghcr.io/x/y:1@" + k_digest, "ghcr.io", "x/y", "1", k_digest},
    {"alpine@" + k_digest, "docker.io", "library/alpine", "", k_digest},
    {"a__b", "docker.io", "library/a__b", "latest", ""},
    {"a_b.c", "docker.io", "library/a_b.c", "latest", ""},
    {"a-b", "docker.io", "library/a-b", "latest", ""},
    {"a--b", "docker.io", "library/a--b", "latest", ""},
    {"ghcr.io", "docker.io", "library/ghcr.io", "latest", ""},
    {"localhost:5000", "docker.io", "library/localhost", "5000", ""},
    {"x:_Tag.With-Dots_", "docker.io", "library/x", "_Tag.With-Dots_", ""},
    {"x:" + std::string(128, 't'), "docker.io", "library/x", std::string(128, 't'), ""},
};

TEST(Reference, ParsesAndNormalizes) {
  for (const auto& c : k_valid) {
    SCOPED_TRACE(c.input);
    Reference ref = parse_reference(c.input);
    EXPECT_EQ(ref.registry, c.registry);
    EXPECT_EQ(ref.repository, c.repository);
    EXPECT_EQ(ref.tag, c.tag);
    EXPECT_EQ(ref.digest, c.digest);
  }
}

struct ErrorCase {
  std::string input;
  std::string message;
};

const std::string k_long_name(300, 'a');
const std::string k_long_shown = std::string(40, 'a') + "\u2026";

const ErrorCase k_invalid[] = {
    {"", "invalid reference \"\": empty reference"},
    {"Foo/bar", "invalid reference \"Foo/bar\": repository name must be lowercase"},
    {"Example/x", "invalid reference \"Example/x\": repository name must be lowercase"},
    {"ghcr.io/Org/app", "invalid reference \"ghcr.io/Org/app\": repository name must be lowercase"},
    {k_long_name,
     "invalid reference \"" + k_long_shown + "\": repository name must not exceed 255 characters"},
    {"ghcr.io/" + std::string(248, 'b'),
     "invalid reference \"ghcr.io/" + std::string(32, 'b') +
         "\u2026\": repository name must not exceed 255 characters"},
    {"x:-bad", "invalid reference \"x:-bad\": invalid tag \"-bad\""},
    {"x:", "invalid reference \"x:\": invalid tag \"\""},
    {"x:a+b", "invalid reference \"x:a+b\": invalid tag \"a+b\""},
    {"x:" + std::string(129, 't'), "invalid reference \"x:" + std::string(38, 't') +
                                       "\u2026\": invalid tag \"" + std::string(40, 't') +
                                       "\u2026\""},
    {"x@sha256:abc", "invalid reference \"x@sha256:abc\": invalid digest \"sha256:abc\""},
    {"x@", "invalid reference \"x@\": invalid digest \"\""},
    {"x@" + k_hex,
     "invalid reference \"x@" + k_hex.substr(0, 38) + "\u2026\": invalid digest \"" + k_hex + "\""},
    {"x@sha256:" + std::string(64, 'A'),
     "invalid reference \"x@sha256:" + std::string(31, 'A') +
         "\u2026\": invalid digest \"sha256:" + std::string(33, 'A') + "\u2026\""},
    {"alpine:3.19 ",
     "invalid reference \"alpine:3.19 \": contains whitespace or non-ASCII characters"},
    {"al pine", "invalid reference \"al pine\": contains whitespace or non-ASCII characters"},
    {"caf\u00e9/app",
     "invalid reference \"caf\u00e9/app\": contains whitespace or non-ASCII characters"},
    {"x//y", "invalid reference \"x//y\": invalid repository name \"x//y\""},
    {"/x", "invalid reference \"/x\": invalid repository name \"/x\""},
    {"x/", "invalid reference \"x/\": invalid repository name \"x/\""},
    {"ghcr.io/", "invalid reference \"ghcr.io/\": invalid repository name \"\""},
    {"a..b", "invalid reference \"a..b\": invalid path component \"a..b\""},
    {"a___b", "invalid reference \"a___b\": invalid path component \"a___b\""},
    {"org/-app", "invalid reference \"org/-app\": invalid path component \"-app\""},
    {"org/app-", "invalid reference \"org/app-\": invalid path component \"app-\""},
    {"org/a.-b", "invalid reference \"org/a.-b\": invalid path component \"a.-b\""},
    {"host:99999/x", "invalid reference \"host:99999/x\": invalid registry \"host:99999\""},
    {"host:/x", "invalid reference \"host:/x\": invalid registry \"host:\""},
    {"my_host.com/x", "invalid reference \"my_host.com/x\": invalid registry \"my_host.com\""},
    {"-bad.io/x", "invalid reference \"-bad.io/x\": invalid registry \"-bad.io\""},
    {"[::g]:5000/x", "invalid reference \"[::g]:5000/x\": invalid registry \"[::g]:5000\""},
    {":1", "invalid reference \":1\": missing repository name"},
    {"@" + k_digest.substr(0, 20),
     "invalid reference \"@sha256:0123456789abc\": missing repository name"},
};

TEST(Reference, RejectsWithExactMessages) {
  for (const auto& c : k_invalid) {
    SCOPED_TRACE(c.input);
    try {
      parse_reference(c.input);
      ADD_FAILURE() << "accepted " << c.input;
    } catch (const Error& error) {
      EXPECT_EQ(std::string(error.what()), c.message);
      EXPECT_EQ(error.exit_status(), 2);
    }
  }
}

struct FormatCase {
  std::string input;
  std::string str;
  std::string familiar;
  std::string ref_or_digest;
};

const FormatCase k_formats[] = {
    {"alpine:3.19", "docker.io/library/alpine:3.19", "alpine:3.19", "3.19"},
    {"alpine", "docker.io/library/alpine:latest", "alpine:latest", "latest"},
    {"docker.io/library/x", "docker.io/library/x:latest", "x:latest", "latest"},
    {"docker.io/library/a/b:1", "docker.io/library/a/b:1", "library/a/b:1", "1"},
    {"user/app", "docker.io/user/app:latest", "user/app:latest", "latest"},
    {"ghcr.io/x/y:1", "ghcr.io/x/y:1", "ghcr.io/x/y:1", "1"},
    {"localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest", "latest"},
    {"x:1@" + k_digest, "docker.io/library/x:1@" + k_digest, "x:1@" + k_digest, k_digest},
    {"ghcr.io/x@" + k_digest, "ghcr.io/x@" + k_digest, "ghcr.io/x@" + k_digest, k_digest},
};

TEST(Reference, FormatsFullyQualifiedAndFamiliar) {
  for (const auto& c : k_formats) {
    SCOPED_TRACE(c.input);
    Reference ref = parse_reference(c.input);
    EXPECT_EQ(ref.str(), c.str);
    EXPECT_EQ(ref.familiar(), c.familiar);
    EXPECT_EQ(ref.ref_or_digest(), c.ref_or_digest);
    EXPECT_EQ(parse_reference(ref.str()), ref);  // str() round-trips
  }
}

TEST(Reference, NameIsRegistryAndRepository) {
  EXPECT_EQ(parse_reference("alpine:3").name(), "docker.io/library/alpine");
  EXPECT_EQ(parse_reference("[::1]:5000/a/b:1").name(), "[::1]:5000/a/b");
}

TEST(Reference, ParseNameAcceptsOnlyANameWithoutTagOrDigest) {
  Reference ref = parse_name("user/app");
  EXPECT_EQ(ref.name(), "docker.io/user/app");
  EXPECT_EQ(ref.tag, "");
  EXPECT_EQ(ref.familiar(), "user/app");
  EXPECT_EQ(parse_name("localhost:5000/app").str(), "localhost:5000/app");
  EXPECT_EQ(parse_name("alpine").str(), "docker.io/library/alpine");

  const ErrorCase cases[] = {
      {"x:1", "invalid image name \"x:1\": a tag is not allowed here"},
      {"x@" + k_digest, "invalid image name \"x@" + k_digest.substr(0, 38) +
                            "\u2026\": a digest is not allowed here"},
      {"", "invalid image name \"\": empty name"},
      {"Foo/bar", "invalid image name \"Foo/bar\": repository name must be lowercase"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    try {
      parse_name(c.input);
      ADD_FAILURE() << "accepted " << c.input;
    } catch (const Error& error) {
      EXPECT_EQ(std::string(error.what()), c.message);
      EXPECT_EQ(error.exit_status(), 2);
    }
  }
}

}  // namespace
}  // namespace polyarch::image
