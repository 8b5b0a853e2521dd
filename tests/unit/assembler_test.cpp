// The assembler: configs, manifests and index from files, deterministically.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/build/assembler.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {
namespace {

using namespace image;

class Assembler : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(m_temp.path() / "arm") << "arm binary\n";
    fs::permissions(m_temp.path() / "arm", fs::perms(0755));
    fs::create_directories(m_temp.path() / "root" / "bin");
    std::ofstream(m_temp.path() / "root" / "bin" / "app") << "app\n";
  }
  AssembleOptions options() const {
    AssembleOptions o;
    o.inputs = {{parse_platform("linux/arm/v7"), m_temp.path() / "arm"},
                {parse_platform("linux/arm64"), m_temp.path() / "root"}};
    o.config.entrypoint = {"/arm"};
    o.config.env = {"A=1"};
    o.index_annotations = {{"org.opencontainers.image.title", "demo"}};
    return o;
  }
  LayoutDir layout(const char* name) const { return LayoutDir::create(m_temp.path() / name); }
  core::TempDir m_temp;
};

TEST_F(Assembler, WritesOneManifestPerPlatformWithTheRightConfig) {
  LayoutDir out = layout("out");
  AssembledImage image = assemble(out, options());
  ASSERT_EQ(image.manifests.size(), 2u);
  Index index = parse_index(out.read_blob(image.index.digest));
  EXPECT_EQ(index.media_type, media_type::k_oci_index);
  EXPECT_EQ(index.annotations.at("org.opencontainers.image.title"), "demo");
  EXPECT_EQ(index.manifests, image.manifests);

  Manifest arm = parse_manifest(out.read_blob(image.manifests[0].digest));
  EXPECT_EQ(arm.media_type, media_type::k_oci_manifest);
  ASSERT_EQ(arm.layers.size(), 1u);
  EXPECT_EQ(arm.layers[0].media_type, media_type::k_oci_layer_gzip);
  ImageConfig config = parse_image_config(out.read_blob(arm.config.digest));
  EXPECT_EQ(config.platform.os, "linux");
  EXPECT_EQ(config.platform.architecture, "arm");
  EXPECT_EQ(config.platform.variant, "v7");
  EXPECT_EQ(config.created, "1970-01-01T00:00:00Z");
  EXPECT_EQ(config.config.entrypoint, std::vector<std::string>{"/arm"});
  EXPECT_EQ(config.config.env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(config.diff_ids.size(), 1u);

  ImageConfig arm64 = parse_image_config(
      out.read_blob(parse_manifest(out.read_blob(image.manifests[1].digest)).config.digest));
  EXPECT_EQ(arm64.platform.str(), "linux/arm64");
  EXPECT_NE(arm64.diff_ids, config.diff_ids);
}

TEST_F(Assembler, OnPlatformSeesEachManifestInTheLayoutBeforeTheNextPlatformStarts) {
  LayoutDir out = layout("out");
  AssembleOptions o = options();
  std::vector<Descriptor> seen;
  o.on_platform = [&](const Descriptor& manifest) {
    // Its manifest, config and layer are readable now.
    Manifest written = parse_manifest(out.read_blob(manifest.digest));
    EXPECT_TRUE(out.has_blob(written.config.digest));
    EXPECT_TRUE(out.has_blob(written.layers.at(0).digest));
    seen.push_back(manifest);
  };
  AssembledImage image = assemble(out, o);
  EXPECT_EQ(seen, image.manifests);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].platform->str(), "linux/arm/v7");
  EXPECT_EQ(seen[1].platform->str(), "linux/arm64");
}

TEST_F(Assembler, SameInputsGiveTheSameDigestAndEpochChangesIt) {
  LayoutDir a = layout("a"), b = layout("b"), c = layout("c");
  Digest first = assemble(a, options()).index.digest;
  EXPECT_EQ(assemble(b, options()).index.digest, first);
  AssembleOptions later = options();
  later.epoch = 1700000000;
  AssembledImage image = assemble(c, later);
  EXPECT_NE(image.index.digest, first);
  Manifest manifest = parse_manifest(c.read_blob(image.manifests[0].digest));
  EXPECT_EQ(parse_image_config(c.read_blob(manifest.config.digest)).created,
            "2023-11-14T22:13:20Z");
}

TEST_F(Assembler, ManifestAnnotationsGoOnEachManifest) {
  LayoutDir out = layout("out");
  AssembleOptions o = options();
  o.manifest_annotations = {{"k", "v"}};
  AssembledImage image = assemble(out, o);
  for (const auto& m : image.manifests) {
    EXPECT_EQ(parse_manifest(out.read_blob(m.digest)).annotations.at("k"), "v");
  }
}

TEST_F(Assembler, MissingSourceIsBadInput) {
  LayoutDir out = layout("out");
  AssembleOptions o = options();
  o.inputs[0].source = m_temp.path() / "nope";
  try {
    assemble(out, o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_EQ(std::string(e.what()), "cannot read \"" + (m_temp.path() / "nope").string() +
                                         "\" for linux/arm/v7: No such file or directory");
  }
}

TEST(Rfc3339, FormatsUtc) {
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(rfc3339(86400 + 3661), "1970-01-02T01:01:01Z");
}

}  // namespace
}  // namespace polyarch::build
