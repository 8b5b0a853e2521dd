// Hostile references, platforms and polyarch.yml files that reference_test,
// platform_test and config_file_test do not already cover: control
// characters (escaped, never printed raw), huge inputs (cut in messages),
// empty parts, deep YAML nesting, alias bombs, binary garbage; each a
// one-line bad_input (exit status 2 from the binary).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "engine/core/config.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/image/manifest.hpp"
#include "engine/image/platform.hpp"
#include "engine/image/reference.hpp"
#include "tests/unit/hostile_util.hpp"

namespace polyarch {
namespace {

using testing::error_line;
using testing::run_polyarch;

struct Case {
  std::string input;
  std::string message;
};

// The message fn throws as bad_input, checking it is one line.
template <typename Fn>
std::string bad_input_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  return "no error";
}

const std::string k_hex(64, 'a');
const std::string k_cut = "\u2026";

const Case k_references[] = {
    {"app\x1b[31m:1", R"(invalid reference "app\x1b[31m:1": contains control characters)"},
    {std::string("app\0x", 5), R"(invalid reference "app\x00x": contains control characters)"},
    {"alpine:3.19\n",
     R"(invalid reference "alpine:3.19\x0a": contains whitespace or non-ASCII characters)"},
    {"app\u202e:1",
     "invalid reference \"app\u202e:1\": contains whitespace or non-ASCII characters"},
    {"\u0430lpine",
     "invalid reference \"\u0430lpine\": contains whitespace or non-ASCII characters"},
    {std::string(1 << 20, 'a'), "invalid reference \"" + std::string(40, 'a') + k_cut +
                                    "\": repository name must not exceed 255 characters"},
    {"x@md5:abc", "invalid reference \"x@md5:abc\": invalid digest \"md5:abc\""},
    {"x@sha512:abc", "invalid reference \"x@sha512:abc\": invalid digest \"sha512:abc\""},
    {"x@sha256:" + k_hex + "@sha256:" + k_hex,
     "invalid reference \"x@sha256:" + std::string(31, 'a') + k_cut +
         "\": invalid digest \"sha256:" + std::string(33, 'a') + k_cut + "\""},
    {"ghcr.io:0/x", "invalid reference \"ghcr.io:0/x\": invalid registry \"ghcr.io:0\""},
    {"[::1/x", "invalid reference \"[::1/x\": invalid registry \"[::1\""},
    {"x:" + std::string(300, 't'), "invalid reference \"x:" + std::string(38, 't') + k_cut +
                                       "\": invalid tag \"" + std::string(40, 't') + k_cut + "\""},
};

TEST(HostileReference, RefusedWithOneLineMessages) {
  for (const auto& c : k_references) {
    SCOPED_TRACE(c.message);
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(bad_input_of([&] { image::parse_reference(c.input); }), c.message);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  }
}

// Found by fuzz_reference: a Docker Hub repository whose first component
// looks like a host lost "docker.io/" in its familiar form, which then named
// another registry.
TEST(HostileReference, FamiliarFormsNameTheSameImage) {
  for (const char* text : {"index.docker.io/index.docker.io/aa", "docker.io/localhost/app:1",
                           "docker.io/my.host/x", "docker.io/library/alpine", "user/app"}) {
    SCOPED_TRACE(text);
    image::Reference ref = image::parse_reference(text);
    EXPECT_EQ(image::parse_reference(ref.familiar()), ref) << ref.familiar();
  }
  EXPECT_EQ(image::parse_reference("docker.io/localhost/app:1").familiar(),
            "docker.io/localhost/app:1");
  EXPECT_EQ(image::parse_reference("docker.io/library/alpine").familiar(), "alpine:latest");
}

const std::string k_usage = "expected OS/ARCH[/VARIANT], e.g. linux/arm64";

const Case k_platforms[] = {
    {"linux//arm64", "invalid platform \"linux//arm64\": " + k_usage},
    {"/arm64", "invalid platform \"/arm64\": " + k_usage},
    {"linux/", "invalid platform \"linux/\": " + k_usage},
    {"linux/arm64/", "invalid platform \"linux/arm64/\": " + k_usage},
    {"linux/arm64\x1b[2J",
     R"(unknown platform "linux/arm64\x1b[2J": unknown architecture "arm64\x1b[2J")"},
    {std::string("linux/\0", 7), R"(unknown platform "linux/\x00": unknown architecture "\x00")"},
    {"linux/" + std::string(300, 'x'), "unknown platform \"linux/" + std::string(34, 'x') + k_cut +
                                           "\": unknown architecture \"" + std::string(40, 'x') +
                                           k_cut + "\""},
    {"linux/\u0430rm64",
     "unknown platform \"linux/\u0430rm64\": unknown architecture \"\u0430rm64\"; "
     "did you mean \"arm64\"?"},
    {"linux/amd64,linux/arm65,linux/arm64",
     "unknown platform \"linux/arm65\": unknown architecture \"arm65\"; did you mean \"arm64\"?"},
};

TEST(HostilePlatform, RefusedWithOneLineMessages) {
  for (const auto& c : k_platforms) {
    SCOPED_TRACE(c.message);
    EXPECT_EQ(bad_input_of([&] { image::parse_platforms(c.input); }), c.message);
  }
  // A long list of the same platform is one platform, quickly.
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "linux/amd64,";
  EXPECT_EQ(image::parse_platforms(many).size(), 1u);
}

const Case k_config_files[] = {
    {"image: " + std::string(5000, '[') + std::string(5000, ']') + "\n",
     "polyarch.yml:1:108: nested deeper than 100 levels"},
    // Brackets in quotes and comments are no nesting.
    {"image: \"[[[[#\"  # [[[[\n",
     "polyarch.yml:1:8: invalid image name \"[[[[#\": invalid path component \"[[[[#\""},
    // Found by fuzz_config_file: yaml-cpp's LoadAll never ended on a lone ",".
    {",", "polyarch.yml:1:1: invalid YAML: unexpected \",\""},
    {"image: app\n---\nimage: other\n",
     "polyarch.yml:3:1: only one YAML document is allowed; found a second one"},
    // Found by fuzz_config_file: yaml-cpp quotes the raw byte.
    {"push: \"\\\x01\"\n", R"(polyarch.yml:1:10: invalid YAML: unknown escape character: \x01)"},
    {"a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nlabels: [*c, *c, *c, *c, *c, *c, *c, *c]\n",
     "polyarch.yml:1:1: unknown key \"a\"; known keys are image, platforms, context, file, "
     "target, build-args, labels, annotations, tags, backend, cache, provenance, push, output, "
     "jobs, secrets"},
    {"labels: &c [[a], [b]]\nbuild-args: *c\n",
     "polyarch.yml:1:9: \"labels\" must be a mapping of NAME: value"},
    {std::string("image: app\0\x01\x02\xff\n", 15),
     R"(polyarch.yml:1:13: invalid YAML: unknown escape character: \x01)"},
    {"image: app\n\tpush: true\n",
     "polyarch.yml:2:1: invalid YAML: illegal tab when looking for indentation"},
    {"jobs: 99999999999999999999\n",
     "polyarch.yml:1:7: \"jobs\" must be a positive whole number, not \"99999999999999999999\""},
    {"push: {a: 1}\n", "polyarch.yml:1:7: \"push\" must be true or false, not a mapping"},
    {"tags: {a: 1}\n",
     "polyarch.yml:1:7: \"tags\" must be a string or a list of strings, not a mapping"},
    {std::string(300, 'k') + ": 1\n",
     "polyarch.yml:1:1: unknown key \"" + std::string(300, 'k') +
         "\"; known keys are image, platforms, context, file, target, build-args, labels, "
         "annotations, tags, backend, cache, provenance, push, output, jobs, secrets"},
    {"<<: {push: true}\n",
     "polyarch.yml:1:1: unknown key \"<<\"; known keys are image, platforms, "
     "context, file, target, build-args, labels, annotations, tags, "
     "backend, cache, provenance, push, output, jobs, secrets"},
};

TEST(HostileConfigFile, RefusedWithOneLineMessages) {
  for (const auto& c : k_config_files) {
    SCOPED_TRACE(c.message);
    build::BuildOptions options;
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(bad_input_of([&] { core::apply_config_text("polyarch.yml", c.input, options); }),
              c.message);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  }
}

// Found by fuzz_manifest: a media type with a newline split the message.
TEST(HostileManifest, ForeignValuesAreEscapedInMessages) {
  std::string bytes = R"({"schemaVersion":2,"mediaType":"applicatio\n/vnd.oci.image.index.v1+json"})";
  try {
    image::parse_manifest(bytes);
    ADD_FAILURE() << "parsed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    EXPECT_STREQ(e.what(),
                 R"(invalid manifest: media type "applicatio\x0a/vnd.oci.image.index.v1+json" is )"
                 "not an image manifest");
  }
}

// Found by fuzz_manifest: a number too large for a double escaped as
// nlohmann's own out_of_range exception.
TEST(HostileManifest, HugeNumbersAreInvalidJson) {
  try {
    image::parse_index(R"({"schemaVersion":2,"manifests":[],"x":3e877})", "index");
    ADD_FAILURE() << "parsed";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    EXPECT_STREQ(e.what(), "invalid JSON in index: number overflow parsing '3e877'");
  }
}

TEST(HostileConfigFile, TheBinaryExits2AndBuildsNothing) {
  core::TempDir dir("hostile-config");
  core::write_file_atomic(dir.path() / "big.yml", "image: app\n" + std::string(2 << 20, '#'));
  core::write_file_atomic(dir.path() / "deep.yml", "platforms: " + std::string(3000, '[') + "\n");
  core::ProcessResult r = run_polyarch({"--config", (dir.path() / "big.yml").string(), "build",
                                        dir.path().string(), "--platform", "linux/amd64"},
                                       dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, error_line(dir.path().string() + "/big.yml: larger than 1 MiB; refusing it"));
  EXPECT_EQ(r.out, "");
  r = run_polyarch({"--config", (dir.path() / "deep.yml").string(), "build", dir.path().string(),
                    "--platform", "linux/amd64"},
                   dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            error_line(dir.path().string() + "/deep.yml:1:112: nested deeper than 100 levels"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "dist"));
}

}  // namespace
}  // namespace polyarch
