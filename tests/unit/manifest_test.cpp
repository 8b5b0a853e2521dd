#include "engine/image/manifest.hpp"

#include <string>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::image {
namespace {

// A platform with the given fields and nothing else.
Platform platform(std::string os, std::string architecture, std::string variant = "") {
  Platform p;
  p.os = std::move(os);
  p.architecture = std::move(architecture);
  p.variant = std::move(variant);
  return p;
}

// A digest made of one repeated hex digit, readable in expected bytes.
std::string fake_hex(char c) { return std::string(64, c); }
Digest fake_digest(char c) { return Digest{"sha256", fake_hex(c)}; }

Descriptor descriptor(std::string_view type, char c, int64_t size) {
  Descriptor d;
  d.media_type = std::string(type);
  d.digest = fake_digest(c);
  d.size = size;
  return d;
}

// A manifest using every field, with unknown fields at each level.
Manifest full_manifest() {
  Manifest m;
  m.media_type = std::string(media_type::k_oci_manifest);
  m.artifact_type = "application/vnd.example.sbom";
  m.config = descriptor(media_type::k_oci_config, '1', 7);
  Descriptor layer = descriptor(media_type::k_oci_layer_gzip, '2', 100);
  layer.urls = {"https://example.com/layer"};
  layer.annotations = {{"b", "2"}, {"a", "1"}};
  m.layers.push_back(layer);
  Descriptor extra_layer = descriptor(media_type::k_oci_layer_tar, '3', 5);
  extra_layer.extra = Json{{"x-unknown", Json{{"k", Json::array({1, 2})}}}};
  m.layers.push_back(extra_layer);
  m.subject = descriptor(media_type::k_oci_manifest, '4', 42);
  m.annotations = {{"org.example", "v"}};
  m.extra = Json{{"zz", true}, {"aa", nullptr}};
  return m;
}

const std::string k_full_manifest_bytes =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
    R"("artifactType":"application/vnd.example.sbom",)"
    R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:)" +
    fake_hex('1') + R"(","size":7},)"
    R"("layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:)" +
    fake_hex('2') +
    R"(","size":100,"urls":["https://example.com/layer"],"annotations":{"a":"1","b":"2"}},)"
    R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:)" +
    fake_hex('3') + R"(","size":5,"x-unknown":{"k":[1,2]}}],)"
    R"("subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
    fake_hex('4') + R"(","size":42},"annotations":{"org.example":"v"},"zz":true,"aa":null})";

// The message of the failure that parsing bytes as a manifest throws.
std::string manifest_error(const std::string& bytes) {
  try {
    parse_manifest(bytes, "manifest m.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    return e.what();
  }
  ADD_FAILURE() << "no error for " << bytes;
  return "";
}

// The message of the failure that parsing bytes as an index throws.
std::string index_error(const std::string& bytes) {
  try {
    parse_index(bytes, "index i.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    return e.what();
  }
  ADD_FAILURE() << "no error for " << bytes;
  return "";
}

TEST(ManifestJson, FullManifestHasFixedBytesAndRoundTrips) {
  Manifest m = full_manifest();
  std::string bytes = to_bytes(m);
  EXPECT_EQ(bytes, k_full_manifest_bytes);
  Manifest parsed = parse_manifest(bytes);
  EXPECT_EQ(parsed, m);
  EXPECT_EQ(parsed.layers.at(1).extra.dump(), R"({"x-unknown":{"k":[1,2]}})");
  EXPECT_EQ(parsed.extra.dump(), R"({"zz":true,"aa":null})");
  EXPECT_EQ(to_bytes(parsed), bytes);
}

TEST(ManifestJson, SmallIndexHasExactBytes) {
  Index index;
  index.media_type = std::string(media_type::k_oci_index);
  Descriptor child = descriptor(media_type::k_oci_manifest, 'a', 1234);
  child.platform = platform("linux", "arm", "v7");
  index.manifests.push_back(child);
  std::string expected =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
      R"("manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("digest":"sha256:)" + fake_hex('a') + R"(","size":1234,)"
      R"("platform":{"architecture":"arm","os":"linux","variant":"v7"}}]})";
  EXPECT_EQ(to_bytes(index), expected);
  EXPECT_EQ(parse_index(expected), index);
  EXPECT_EQ(to_bytes(parse_index(expected)), expected);
}

TEST(ManifestJson, FullIndexRoundTrips) {
  Index index;
  index.media_type = std::string(media_type::k_oci_index);
  index.artifact_type = "application/vnd.example.bundle";
  Descriptor arm = descriptor(media_type::k_oci_manifest, '5', 10);
  arm.platform = platform("linux", "arm", "v6");
  arm.annotations = {{std::string(k_ref_name_annotation), "latest"}};
  Descriptor win = descriptor(media_type::k_oci_manifest, '6', 11);
  win.platform = platform("windows", "amd64");
  win.platform->os_version = "10.0.17763.1234";
  win.platform->os_features = {"win32k"};
  win.urls = {"https://a.example/x", "https://b.example/y"};
  win.artifact_type = "application/vnd.example.thing";
  win.extra = Json{{"data", "e30="}};
  index.manifests = {arm, win};
  index.subject = descriptor(media_type::k_oci_index, '7', 99);
  index.annotations = {{"org.opencontainers.image.created", "1970-01-01T00:00:00Z"}};
  index.extra = Json{{"vendor", Json{{"n", 1}}}};

  std::string bytes = to_bytes(index);
  EXPECT_NE(bytes.find(R"("platform":{"architecture":"amd64","os":"windows",)"
                       R"("os.version":"10.0.17763.1234","os.features":["win32k"]},)"
                       R"("artifactType":"application/vnd.example.thing","data":"e30="})"),
            std::string::npos)
      << bytes;
  EXPECT_TRUE(bytes.ends_with(R"(,"vendor":{"n":1}})")) << bytes;
  Index parsed = parse_index(bytes);
  EXPECT_EQ(parsed, index);
  ASSERT_EQ(parsed.manifests.size(), 2u);
  EXPECT_EQ(parsed.manifests[0].platform->variant, "v6");
  EXPECT_EQ(parsed.manifests[1].platform->os_features, std::vector<std::string>{"win32k"});
  EXPECT_EQ(to_bytes(parsed), bytes);
}

TEST(ManifestJson, DescribeHashesTheBytes) {
  std::string bytes = to_bytes(full_manifest());
  Descriptor d = describe(media_type::k_oci_manifest, bytes);
  EXPECT_EQ(d.media_type, media_type::k_oci_manifest);
  EXPECT_EQ(d.digest, sha256(bytes));
  EXPECT_EQ(d.size, static_cast<int64_t>(bytes.size()));
  EXPECT_FALSE(d.platform.has_value());
  EXPECT_TRUE(d.annotations.empty());
  EXPECT_EQ(to_bytes(to_json(d)), R"({"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                                  R"("digest":")" + sha256(bytes).str() + R"(","size":)" +
                                      std::to_string(bytes.size()) + "}");
}

TEST(ManifestJson, AcceptsDockerManifestListAndManifest) {
  std::string list =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",)"
      R"("manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("digest":"sha256:)" + fake_hex('b') + R"(","size":528,)"
      R"("platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]})";
  Index index = parse_index(list);
  EXPECT_EQ(index.media_type, media_type::k_docker_list);
  ASSERT_EQ(index.manifests.size(), 1u);
  EXPECT_EQ(index.manifests[0].media_type, media_type::k_docker_manifest);
  EXPECT_EQ(index.manifests[0].platform->str(), "linux/arm64/v8");
  EXPECT_EQ(to_bytes(index), list);

  std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:)" +
      fake_hex('c') + R"(","size":1}, "layers":[]})";
  Manifest m = parse_manifest(manifest);
  EXPECT_EQ(m.media_type, media_type::k_docker_manifest);
  EXPECT_EQ(m.config.media_type, media_type::k_docker_config);
  EXPECT_TRUE(m.layers.empty());
}

TEST(ManifestJson, ForeignJsonKeepsUnknownFieldsInExtra) {
  // Written by another tool: whitespace, other key order, unknown fields.
  std::string foreign = R"({
    "x-tool": {"version": "1.2"},
    "manifests": [
      {"size": 3, "digest": "sha256:)" + fake_hex('d') + R"(", "x-child": [true],
       "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "platform": {"os": "linux", "architecture": "riscv64", "x-cpu": "rv64gc"}}
    ],
    "schemaVersion": 2,
    "x-last": 7
  })";
  Index index = parse_index(foreign);
  EXPECT_EQ(index.media_type, "");
  EXPECT_EQ(index.extra.dump(), R"({"x-tool":{"version":"1.2"},"x-last":7})");
  ASSERT_EQ(index.manifests.size(), 1u);
  EXPECT_EQ(index.manifests[0].extra.dump(), R"({"x-child":[true]})");
  EXPECT_EQ(index.manifests[0].platform->str(), "linux/riscv64");
  // Known fields first in fixed order, then the unknown ones in their order.
  EXPECT_EQ(to_bytes(index),
            R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("digest":"sha256:)" + fake_hex('d') + R"(","size":3,)"
            R"("platform":{"architecture":"riscv64","os":"linux"},"x-child":[true]}],)"
            R"("x-tool":{"version":"1.2"},"x-last":7})");
}

TEST(ManifestParse, RejectsBadDocumentsWithExactMessages) {
  EXPECT_EQ(manifest_error("{\"schemaVersion\":"),
            "invalid JSON in manifest m.json: parse error at line 1, column 18: syntax error "
            "while parsing value - unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(manifest_error("[1,2]"), "invalid manifest m.json: not a JSON object");
  EXPECT_EQ(index_error("\"text\""), "invalid index i.json: not a JSON object");
  std::string config = R"("config":{"mediaType":"x","digest":"sha256:)" + fake_hex('e') +
                       R"(","size":1})";
  EXPECT_EQ(manifest_error(R"({"schemaVersion":1,)" + config + "}"),
            "invalid manifest m.json: \"schemaVersion\" must be 2");
  EXPECT_EQ(manifest_error("{" + config + "}"),
            "invalid manifest m.json: \"schemaVersion\" must be 2");
  // 2 + 2^32 must not wrap around to 2.
  EXPECT_EQ(manifest_error(R"({"schemaVersion":4294967298,)" + config + "}"),
            "invalid manifest m.json: \"schemaVersion\" must be 2");
  EXPECT_EQ(manifest_error(R"({"schemaVersion":2})"), "invalid manifest m.json: no \"config\"");
  EXPECT_EQ(manifest_error(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)" +
                           config + "}"),
            "invalid manifest m.json: media type \"application/vnd.oci.image.index.v1+json\" "
            "is not an image manifest");
  EXPECT_EQ(index_error(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                        R"("manifests":[]})"),
            "invalid index i.json: media type \"application/vnd.oci.image.manifest.v1+json\" "
            "is not an image index");
  EXPECT_EQ(index_error(R"({"schemaVersion":2})"),
            "invalid index i.json: \"manifests\" must be an array");
  EXPECT_EQ(manifest_error(R"({"schemaVersion":2,)" + config + R"(,"layers":{}})"),
            "invalid manifest m.json: \"layers\" must be an array");
}

TEST(ManifestParse, RejectsBadDescriptorsWithExactMessages) {
  std::string head = R"({"schemaVersion":2,"manifests":[)";
  std::string digest = R"("digest":"sha256:)" + fake_hex('f') + R"(")";
  EXPECT_EQ(index_error(head + R"({"mediaType":"m","digest":"sha256:F00","size":1}]})"),
            "invalid index i.json: invalid digest \"sha256:F00\": "
            "sha256 needs 64 lowercase hex digits");
  EXPECT_EQ(index_error(head + R"({"mediaType":"m",)" + digest + R"(,"size":-1}]})"),
            "invalid index i.json: \"size\" must be a non-negative integer");
  EXPECT_EQ(index_error(head + R"({"mediaType":"m",)" + digest + R"(,"size":"1"}]})"),
            "invalid index i.json: \"size\" must be a non-negative integer");
  EXPECT_EQ(index_error(head + R"({"mediaType":"m",)" + digest + R"(}]})"),
            "invalid index i.json: \"size\" must be a non-negative integer");
  EXPECT_EQ(index_error(head + R"({"mediaType":"m",)" + digest +
                        R"(,"size":1,"annotations":{"a":1}}]})"),
            "invalid index i.json: \"annotations\" must be an object of strings");
  EXPECT_EQ(index_error(R"({"schemaVersion":2,"manifests":[],"annotations":["a"]})"),
            "invalid index i.json: \"annotations\" must be an object of strings");
  EXPECT_EQ(index_error(head + R"({"mediaType":7,)" + digest + R"(,"size":1}]})"),
            "invalid index i.json: \"mediaType\" must be a string");
  EXPECT_EQ(index_error(head + R"({"mediaType":"m",)" + digest + R"(,"size":1,"urls":"u"}]})"),
            "invalid index i.json: \"urls\" must be an array of strings");
  EXPECT_EQ(index_error(head + R"({"mediaType":"m",)" + digest + R"(,"size":1,"platform":"x"}]})"),
            "invalid index i.json: not a JSON object");
  EXPECT_EQ(index_error(head + "3]}"), "invalid index i.json: not a JSON object");
}

}  // namespace
}  // namespace polyarch::image
