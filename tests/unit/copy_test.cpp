// Copying images between stores (engine/publish/copy.cpp) and publishing one
// while it is being made (engine/publish/streamed_push.cpp).
#include "engine/publish/copy.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/image/media_types.hpp"
#include "engine/publish/streamed_push.hpp"

namespace polyarch::publish {
namespace {

namespace media_type = image::media_type;

// A layout holding a two-platform index: amd64 with a 3 MB layer, arm64
// with a 1 MB one, each with its own config.
struct Source {
  Source() {
    image::LayoutDir layout = image::LayoutDir::create(dir.path() / "src");
    image::Index index;
    index.media_type = std::string(media_type::k_oci_index);
    for (auto [arch, size] : {std::pair{"amd64", 3'000'000}, std::pair{"arm64", 1'000'000}}) {
      image::Descriptor config = layout.put_blob(
          media_type::k_oci_config, std::string(R"({"architecture":")") + arch + R"(","os":"linux"})");
      std::string bytes;
      for (int i = 0; i < size; ++i) bytes += static_cast<char>('a' + i % 23);
      image::Descriptor layer = layout.put_blob(media_type::k_oci_layer_gzip, bytes);
      image::Manifest manifest;
      manifest.media_type = std::string(media_type::k_oci_manifest);
      manifest.config = config;
      manifest.layers = {layer};
      image::Descriptor child = layout.put_blob(media_type::k_oci_manifest, image::to_bytes(manifest));
      child.platform = image::parse_platform(std::string("linux/") + arch);
      index.manifests.push_back(child);
      names[config.digest.str()] = std::string("config-") + arch;
      names[layer.digest.str()] = std::string("layer-") + arch;
      names[child.digest.str()] = std::string("manifest-") + arch;
    }
    top = layout.put_blob(media_type::k_oci_index, image::to_bytes(index));
    names[top.digest.str()] = "index";
    layout.set_ref(top, "app", "");
  }
  std::unique_ptr<ImageStore> open() {
    return open_layout_store({image::LayoutRef::Kind::directory, dir.path() / "src", ""}, false);
  }
  core::TempDir dir{"copy-test"};
  image::Descriptor top;
  std::map<std::string, std::string> names;  // digest -> "layer-amd64", …
};

// A destination layout that records, in order, what a copy asked of it
// ("write_blob layer-amd64", "write_manifest index app"); write_blob of
// `failing` throws.
class Recorder : public ImageStore {
 public:
  Recorder(std::unique_ptr<ImageStore> inner, const std::map<std::string, std::string>& names)
      : m_inner(std::move(inner)), m_names(names) {}

  std::string name() const override { return m_inner->name(); }
  FetchedManifest resolve(const std::string& reference) override { return m_inner->resolve(reference); }
  std::string read_manifest(const Descriptor& d) override { return m_inner->read_manifest(d); }
  std::string read_small_blob(const Descriptor& d) override { return m_inner->read_small_blob(d); }
  void read_blob(const Descriptor& d, const registry::BodySink& sink) override {
    m_inner->read_blob(d, sink);
  }
  bool has_blob(const Descriptor& d) override {
    record("has_blob", d);
    return m_inner->has_blob(d);
  }
  bool write_blob(const Descriptor& d, ImageStore& from) override {
    record("write_blob", d);
    if (m_names.at(d.digest.str()) == failing) throw failure("no room for " + failing);
    return m_inner->write_blob(d, from);
  }
  bool has_manifest(const Descriptor& d) override {
    record("has_manifest", d);
    return m_inner->has_manifest(d);
  }
  void write_manifest(const Descriptor& d, const std::string& bytes, const std::string& tag) override {
    record("write_manifest", d, tag);
    m_inner->write_manifest(d, bytes, tag);
  }
  void commit() override { m_inner->commit(); }

  std::vector<std::string> calls() {
    std::lock_guard lock(m_mutex);
    return m_calls;
  }
  // The calls that are `what` or start with it and a space.
  std::vector<std::string> calls(const std::string& what) {
    std::vector<std::string> out;
    for (const auto& call : calls()) {
      if (call == what || call.starts_with(what + " ")) out.push_back(call);
    }
    return out;
  }
  std::string failing;

 private:
  void record(const std::string& what, const Descriptor& d, const std::string& tag = "") {
    std::lock_guard lock(m_mutex);
    m_calls.push_back(what + " " + m_names.at(d.digest.str()) + (tag.empty() ? "" : " " + tag));
  }
  std::unique_ptr<ImageStore> m_inner;
  const std::map<std::string, std::string>& m_names;
  std::mutex m_mutex;
  std::vector<std::string> m_calls;
};

struct Destination {
  explicit Destination(const Source& source)
      : store(open_layout_store({image::LayoutRef::Kind::directory, dir.path() / "dst", ""}, true),
              source.names) {}
  image::LayoutDir layout() const { return image::LayoutDir::open(dir.path() / "dst"); }
  core::TempDir dir{"copy-test-dst"};
  Recorder store;
};

using Calls = std::vector<std::string>;

TEST(CopyTest, BlobsGoLargestFirstAndTheIndexGoesLastUnderItsTag) {
  Source source;
  Destination to(source);
  auto from = source.open();
  CopyOptions one_at_a_time;
  one_at_a_time.jobs = 1;
  CopyResult result = copy_image(*from, from->resolve("app"), to.store, {"app"}, one_at_a_time);
  EXPECT_EQ(result.blobs_copied, 4);
  EXPECT_EQ(to.store.calls("write_blob"), (Calls{"write_blob layer-amd64", "write_blob layer-arm64",
                                                 "write_blob config-amd64", "write_blob config-arm64"}));
  EXPECT_EQ(to.store.calls().back(), "write_manifest index app");
  EXPECT_EQ(to.layout().read_blob(source.top.digest), from->resolve("app").bytes);
}

TEST(CopyTest, AnImageWhoseBlobsWereUploadedIsWrittenWithoutAskingFirst) {
  Source source;
  Destination to(source);
  auto from = source.open();
  copy_image(*from, from->resolve("app"), to.store, {"app"}, CopyOptions{});
  // Its blobs were missing, so the manifest cannot have been there.
  EXPECT_EQ(to.store.calls("has_manifest"), Calls{});
  EXPECT_EQ(to.store.calls("write_manifest").size(), 3u);

  // Again: every blob is there, so each manifest is looked for, found, not written.
  image::LayoutRef written{image::LayoutRef::Kind::directory, to.dir.path() / "dst", ""};
  Recorder again(open_layout_store(written, true), source.names);
  CopyResult result = copy_image(*from, from->resolve("app"), again, {"app"}, CopyOptions{});
  EXPECT_EQ(result.blobs_skipped, 4);
  auto looked = again.calls("has_manifest");
  std::sort(looked.begin(), looked.end());
  EXPECT_EQ(looked, (Calls{"has_manifest manifest-amd64", "has_manifest manifest-arm64"}));
  EXPECT_EQ(again.calls("write_manifest"), Calls{"write_manifest index app"});
}

// Wraps the source's index in `levels` more indexes, each listing the one
// below twice; the outermost is tagged "nested".
void nest(Source& source, int levels) {
  image::LayoutDir layout = image::LayoutDir::open(source.dir.path() / "src");
  image::Descriptor inner = source.top;
  for (int i = 1; i <= levels; ++i) {
    image::Index index;
    index.media_type = std::string(media_type::k_oci_index);
    index.manifests = {inner, inner};
    inner = layout.put_blob(media_type::k_oci_index, image::to_bytes(index));
    source.names[inner.digest.str()] = "index-" + std::to_string(i);
  }
  layout.set_ref(inner, "nested", "");
}

TEST(CopyTest, NestedIndexesAreCopiedEachOnceUpToEightDeep) {
  Source source;
  nest(source, 7);  // eight indexes in all
  Destination to(source);
  auto from = source.open();
  CopyResult result = copy_image(*from, from->resolve("nested"), to.store, {"nested"}, CopyOptions{});
  EXPECT_EQ(result.blobs_copied, 4);
  // Listed twice at every level, written once: 2 images, 7 indexes, the top.
  EXPECT_EQ(to.store.calls("write_manifest").size(), 10u);
  EXPECT_EQ(to.store.calls().back(), "write_manifest index-7 nested");
}

TEST(CopyTest, IndexesNestedDeeperThanEightAreRefused) {
  Source source;
  nest(source, 8);
  Destination to(source);
  auto from = source.open();
  try {
    copy_image(*from, from->resolve("nested"), to.store, {"nested"}, CopyOptions{});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot copy from " + from->name() + ": index " +
                                         source.top.digest.str() +
                                         " is nested more than 8 indexes deep");
  }
  EXPECT_EQ(to.store.calls("write_manifest"), Calls{});
  EXPECT_EQ(to.store.calls("write_blob"), Calls{});
}

TEST(StreamedPushTest, ChildrenGoAsTheyAreAddedAndTheTagsLast) {
  Source source;
  Destination to(source);
  auto from = source.open();
  FetchedManifest top = from->resolve("app");
  image::Index index = image::parse_index(top.bytes, "index");
  StreamedPush push(*from, {{&to.store, {"app", "v1"}}});
  push.add(index.manifests[0]);
  push.add(index.manifests[1]);
  CopyResult result = push.finish(top);
  EXPECT_EQ(result.blobs_copied, 4);
  EXPECT_EQ(result.top, top.descriptor);
  EXPECT_EQ(result.children, index.manifests);
  Calls calls = to.store.calls();
  ASSERT_GE(calls.size(), 2u);
  Calls last(calls.end() - 2, calls.end());
  std::sort(last.begin(), last.end());
  EXPECT_EQ(last, (Calls{"write_manifest index app", "write_manifest index v1"}));
  // Each child by digest, once; no index written before the children.
  Calls manifests = to.store.calls("write_manifest");
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(manifests[i].starts_with("write_manifest manifest-")) << manifests[i];
  }
  EXPECT_EQ(manifests.size(), 4u);
  EXPECT_EQ(to.layout().read_blob(index.manifests[1].digest), from->read_manifest(index.manifests[1]));
}

TEST(StreamedPushTest, ChildrenNeverAddedArePushedByFinish) {
  Source source;
  Destination to(source);
  auto from = source.open();
  FetchedManifest top = from->resolve("app");
  StreamedPush push(*from, {{&to.store, {"app"}}});
  push.add(image::parse_index(top.bytes, "index").manifests[0]);
  CopyResult result = push.finish(top);
  image::LayoutDir written = to.layout();
  for (const auto& [digest, name] : source.names) {
    EXPECT_TRUE(written.has_blob(image::Digest::parse(digest))) << name;
  }
  EXPECT_EQ(to.store.calls().back(), "write_manifest index app");
  EXPECT_EQ(result.blobs_copied + result.blobs_skipped, 4);
}

TEST(StreamedPushTest, AFailedPushStopsFinishBeforeAnyTag) {
  Source source;
  Destination to(source);
  to.store.failing = "layer-arm64";
  auto from = source.open();
  FetchedManifest top = from->resolve("app");
  image::Index index = image::parse_index(top.bytes, "index");
  StreamedPush push(*from, {{&to.store, {"app"}}});
  push.add(index.manifests[0]);
  push.add(index.manifests[1]);
  try {
    push.finish(top);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "no room for layer-arm64");
  }
  // Tried three times (a failed transfer starts again), and no tag was written.
  EXPECT_EQ(to.store.calls("write_blob layer-arm64").size(), 3u);
  for (const auto& call : to.store.calls("write_manifest")) EXPECT_NE(call, "write_manifest index app");
  // A later add says so at once.
  try {
    push.add(index.manifests[0]);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "no room for layer-arm64");
  }
}

}  // namespace
}  // namespace polyarch::publish
