#include "engine/image/platform.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/core/error.hpp"

namespace polyarch::image {
namespace {

struct NormalizeCase {
  std::string input;
  std::string expected;  // Platform::str() of the result
};

const NormalizeCase k_normalized[] = {
    {"linux/amd64", "linux/amd64"},
    {"linux/arm64", "linux/arm64"},
    {"linux/aarch64", "linux/arm64"},
    {"linux/x86_64", "linux/amd64"},
    {"linux/x86-64", "linux/amd64"},
    {"linux/i386", "linux/386"},
    {"linux/i686", "linux/386"},
    {"linux/386", "linux/386"},
    {"linux/armhf", "linux/arm/v7"},
    {"linux/armel", "linux/arm/v6"},
    {"linux/arm", "linux/arm/v7"},
    {"linux/arm/v6", "linux/arm/v6"},
    {"linux/arm/v5", "linux/arm/v5"},
    {"linux/arm/v8", "linux/arm/v8"},
    {"linux/arm/7", "linux/arm/v7"},
    {"linux/arm/6", "linux/arm/v6"},
    {"linux/arm64/v8", "linux/arm64"},
    {"linux/aarch64/v8", "linux/arm64"},
    {"linux/amd64/v1", "linux/amd64"},
    {"linux/amd64/v2", "linux/amd64/v2"},
    {"linux/amd64/v3", "linux/amd64/v3"},
    {"linux/amd64/v4", "linux/amd64/v4"},
    {"Linux/ARM64", "linux/arm64"},
    {"LINUX/X86_64", "linux/amd64"},
    {"arm64", "linux/arm64"},
    {"aarch64", "linux/arm64"},
    {"armhf", "linux/arm/v7"},
    {"  linux/ppc64le ", "linux/ppc64le"},
    {"linux/s390x", "linux/s390x"},
    {"linux/riscv64", "linux/riscv64"},
    {"linux/mips64le", "linux/mips64le"},
    {"linux/loong64", "linux/loong64"},
    {"windows/amd64", "windows/amd64"},
    {"darwin/arm64", "darwin/arm64"},
    {"freebsd/amd64", "freebsd/amd64"},
};

TEST(Platform, ParsesAndNormalizes) {
  for (const auto& c : k_normalized) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(parse_platform(c.input).str(), c.expected);
  }
}

TEST(Platform, ParsedFieldsAreSeparate) {
  Platform p = parse_platform("linux/armhf");
  EXPECT_EQ(p.os, "linux");
  EXPECT_EQ(p.architecture, "arm");
  EXPECT_EQ(p.variant, "v7");
  EXPECT_EQ(parse_platform("linux/arm64/v8").variant, "");
}

TEST(Platform, StrJoinsWithSlashes) {
  EXPECT_EQ((Platform{"linux", "arm", "v7", "", {}}).str(), "linux/arm/v7");
  EXPECT_EQ((Platform{"windows", "amd64", "", "10.0.17763.1", {}}).str(), "windows/amd64");
}

TEST(Platform, NormalizeMapsConfigValuesWithoutValidating) {
  EXPECT_EQ(normalize(Platform{"linux", "aarch64", "", "", {}}).str(), "linux/arm64");
  EXPECT_EQ(normalize(Platform{"linux", "arm64", "v8", "", {}}).str(), "linux/arm64");
  EXPECT_EQ(normalize(Platform{"linux", "arm", "", "", {}}).str(), "linux/arm/v7");
  EXPECT_EQ(normalize(Platform{"Linux", "x86_64", "", "", {}}).str(), "linux/amd64");
  EXPECT_EQ(normalize(Platform{"unknown", "unknown", "", "", {}}).str(), "unknown/unknown");
  EXPECT_EQ(normalize(Platform{"plan9", "arm65", "v9", "", {}}).str(), "plan9/arm65/v9");
}

TEST(Platform, ParsesListsInOrderWithoutDuplicates) {
  std::vector<std::string> got;
  for (const auto& p :
       parse_platforms("linux/arm64, linux/amd64,,linux/aarch64 ,armhf,linux/arm/v7,")) {
    got.push_back(p.str());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"linux/arm64", "linux/amd64", "linux/arm/v7"}));
  EXPECT_EQ(parse_platforms("linux/386").size(), 1u);
}

struct ErrorCase {
  std::string input;
  std::string message;
};

const ErrorCase k_errors[] = {
    {"", "empty platform: expected OS/ARCH[/VARIANT], e.g. linux/arm64"},
    {"   ", "empty platform: expected OS/ARCH[/VARIANT], e.g. linux/arm64"},
    {"a/b/c/d", "invalid platform \"a/b/c/d\": expected OS/ARCH[/VARIANT], e.g. linux/arm64"},
    {"plan9/amd64", "unknown platform \"plan9/amd64\": unknown operating system \"plan9\""},
    {"linus/amd64",
     "unknown platform \"linus/amd64\": unknown operating system \"linus\"; did you mean "
     "\"linux\"?"},
    {"linux/arm65",
     "unknown platform \"linux/arm65\": unknown architecture \"arm65\"; did you mean \"arm64\"?"},
    {"linux/amd46",
     "unknown platform \"linux/amd46\": unknown architecture \"amd46\"; did you mean \"amd64\"?"},
    {"linux/sparc64", "unknown platform \"linux/sparc64\": unknown architecture \"sparc64\""},
    {"sparc", "unknown platform \"sparc\": unknown architecture \"sparc\""},
    {"linux/arm64/v9", "unknown platform \"linux/arm64/v9\": unknown variant \"v9\" for arm64"},
    {"linux/aarch64/v9", "unknown platform \"linux/aarch64/v9\": unknown variant \"v9\" for arm64"},
    {"linux/arm/v9", "unknown platform \"linux/arm/v9\": unknown variant \"v9\" for arm"},
    {"linux/amd64/v5", "unknown platform \"linux/amd64/v5\": unknown variant \"v5\" for amd64"},
    {"linux/s390x/v1", "unknown platform \"linux/s390x/v1\": unknown variant \"v1\" for s390x"},
};

TEST(Platform, RejectsWithExactMessages) {
  for (const auto& c : k_errors) {
    SCOPED_TRACE(c.input);
    try {
      parse_platform(c.input);
      ADD_FAILURE() << "accepted " << c.input;
    } catch (const Error& error) {
      EXPECT_EQ(std::string(error.what()), c.message);
      EXPECT_EQ(error.exit_status(), 2);
    }
  }
}

TEST(Platform, ListErrors) {
  for (const char* input : {"", " , ,", ","}) {
    SCOPED_TRACE(input);
    try {
      parse_platforms(input);
      ADD_FAILURE() << "accepted " << input;
    } catch (const Error& error) {
      EXPECT_STREQ(error.what(), "empty platform: expected OS/ARCH[/VARIANT], e.g. linux/arm64");
    }
  }
  try {
    parse_platforms("linux/amd64,linux/arm65");
    ADD_FAILURE() << "accepted linux/arm65";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "unknown platform \"linux/arm65\": unknown architecture \"arm65\"; did you mean "
                 "\"arm64\"?");
  }
}

TEST(Platform, HostIsThisMachine) {
  // The CI and development machines are x86-64 Linux.
  EXPECT_EQ(host_platform().str(), "linux/amd64");
  EXPECT_EQ(parse_platform("linux").str(), host_platform().str());
}

}  // namespace
}  // namespace polyarch::image
