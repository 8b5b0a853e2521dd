// Counting the bytes a copy reads from its source (engine/publish/counting_store.cpp).
#include "engine/publish/counting_store.hpp"

#include <gtest/gtest.h>

#include "engine/core/fs.hpp"
#include "engine/image/media_types.hpp"
#include "engine/publish/copy.hpp"

namespace polyarch::publish {
namespace {

namespace media_type = image::media_type;

// A layout holding one image: a config and a 3 MB layer (three 1 MiB reads).
struct Source {
  Source() {
    image::LayoutDir layout = image::LayoutDir::create(dir.path() / "src");
    config = layout.put_blob(media_type::k_oci_config, R"({"architecture":"amd64","os":"linux"})");
    std::string bytes;
    for (int i = 0; i < 3'000'000; ++i) bytes += static_cast<char>('a' + i % 23);
    layer = layout.put_blob(media_type::k_oci_layer_gzip, bytes);
    image::Manifest manifest;
    manifest.media_type = std::string(media_type::k_oci_manifest);
    manifest.config = config;
    manifest.layers = {layer};
    top = layout.put_blob(media_type::k_oci_manifest, image::to_bytes(manifest));
    layout.set_ref(top, "app", "");
  }
  std::unique_ptr<ImageStore> open(BlobTally& tally) {
    image::LayoutRef ref{image::LayoutRef::Kind::directory, dir.path() / "src", ""};
    return counting_store(open_layout_store(ref, false), tally);
  }
  core::TempDir dir{"counting-store-test"};
  image::Descriptor config, layer, top;
};

TEST(CountingStoreTest, ReadBlobCountsEveryByteAndPassesThemOnUnchanged) {
  Source source;
  BlobTally tally;
  auto store = source.open(tally);
  std::string got;
  store->read_blob(source.layer, [&got](const char* data, size_t size) {
    got.append(data, size);
    return true;
  });
  EXPECT_EQ(static_cast<int64_t>(got.size()), source.layer.size);
  EXPECT_EQ(image::describe(media_type::k_oci_layer_gzip, got).digest, source.layer.digest);
  EXPECT_EQ(tally.bytes(source.layer.digest), 3'000'000);
  EXPECT_EQ(tally.bytes(source.config.digest), 0);
  EXPECT_EQ(store->name(), "oci-dir:" + (source.dir.path() / "src").string());
}

TEST(CountingStoreTest, AReaderCountsOffsetsOnceAndASecondReaderCountsAgain) {
  Source source;
  BlobTally tally;
  auto store = source.open(tally);
  std::string buffer(1'000'000, '\0');
  registry::BodyReader reader = store->blob_reader(source.layer);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader(0, buffer.data(), buffer.size()), 1'000'000u);
  EXPECT_EQ(reader(1'000'000, buffer.data(), buffer.size()), 1'000'000u);
  EXPECT_EQ(tally.bytes(source.layer.digest), 2'000'000);
  // A resumed upload asks again from 500000: only the bytes past 2000000 are new.
  EXPECT_EQ(reader(500'000, buffer.data(), buffer.size()), 1'000'000u);
  EXPECT_EQ(reader(1'500'000, buffer.data(), buffer.size()), 1'000'000u);
  EXPECT_EQ(tally.bytes(source.layer.digest), 2'500'000);
  EXPECT_EQ(reader(2'500'000, buffer.data(), buffer.size()), 500'000u);
  EXPECT_EQ(reader(3'000'000, buffer.data(), buffer.size()), 0u);
  EXPECT_EQ(tally.bytes(source.layer.digest), 3'000'000);
  // A second destination reads it all again.
  registry::BodyReader again = store->blob_reader(source.layer);
  EXPECT_EQ(again(0, buffer.data(), buffer.size()), 1'000'000u);
  EXPECT_EQ(tally.bytes(source.layer.digest), 4'000'000);
}

TEST(CountingStoreTest, ACopyThroughItCountsEachBlobOnceAndWritesTheSameImage) {
  Source source;
  BlobTally tally;
  auto from = source.open(tally);
  core::TempDir out("counting-store-out");
  image::LayoutRef to_ref{image::LayoutRef::Kind::directory, out.path() / "dst", ""};
  auto to = open_layout_store(to_ref, true);
  FetchedManifest top = from->resolve("app");
  CopyResult result = copy_image(*from, top, *to, {"app"}, CopyOptions{});
  EXPECT_EQ(result.blobs_copied, 2);
  EXPECT_EQ(tally.bytes(source.layer.digest), source.layer.size);
  EXPECT_EQ(tally.bytes(source.config.digest), source.config.size);
  EXPECT_EQ(tally.bytes(source.top.digest), 0);  // manifests are not blobs being pushed
  image::LayoutDir copied = image::LayoutDir::open(out.path() / "dst");
  EXPECT_EQ(copied.read_blob(source.top.digest), top.bytes);
  EXPECT_TRUE(copied.has_blob(source.layer.digest));
}

TEST(CountingStoreTest, AsTheDestinationABlobItAlreadyHasCountsWhole) {
  Source source;
  BlobTally tally;
  core::TempDir out("counting-store-out");
  image::LayoutRef to_ref{image::LayoutRef::Kind::directory, out.path() / "dst", ""};
  {
    auto from = source.open(tally);
    auto to = counting_store(open_layout_store(to_ref, true), tally);
    EXPECT_EQ(copy_image(*from, from->resolve("app"), *to, {"app"}, CopyOptions{}).blobs_copied, 2);
  }
  EXPECT_EQ(tally.bytes(source.layer.digest), 3'000'000);  // read once, not also counted as present
  // Again into the same directory: both blobs are there, skipped, and count whole.
  auto from = source.open(tally);
  auto to = counting_store(open_layout_store(to_ref, true), tally);
  CopyResult again = copy_image(*from, from->resolve("app"), *to, {"app"}, CopyOptions{});
  EXPECT_EQ(again.blobs_skipped, 2);
  EXPECT_EQ(tally.bytes(source.layer.digest), 6'000'000);
  EXPECT_EQ(tally.bytes(source.config.digest), 2 * source.config.size);
}

}  // namespace
}  // namespace polyarch::publish
