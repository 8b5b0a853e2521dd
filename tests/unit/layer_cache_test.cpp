// The layer cache: a hit gives what packing gives, byte for byte, without
// compressing; damaged entries, other settings and unusable dirs are misses;
// the least recently used entries go above the cap.
#include "engine/image/layer_cache.hpp"

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "engine/build/assembler.hpp"
#include "engine/core/fs.hpp"
#include "tests/unit/gzip_test_util.hpp"

namespace polyarch::image {
namespace {

// Bytes that do not compress, so an entry's size is about the file's.
std::string random_bytes(size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(generator() & 0xff);
  return bytes;
}

ino_t inode(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

// The *.json entries in a cache dir.
int entry_count(const fs::path& dir) {
  int count = 0;
  for (const auto& file : fs::directory_iterator(dir)) count += file.path().extension() == ".json";
  return count;
}

class LayerCacheTest : public ::testing::Test {
 protected:
  fs::path file(const std::string& name, const std::string& content) {
    fs::path path = m_temp.path() / "in" / name;
    fs::create_directories(path.parent_path());
    core::write_file_atomic(path, content);
    return path;
  }
  LayoutDir layout(const std::string& name) { return LayoutDir::create(m_temp.path() / name); }
  std::vector<LayerSource> app(const fs::path& path) { return {{path, "/app"}}; }
  fs::path cache_dir() const { return m_temp.path() / "cache" / "layers"; }
  // The cache's blob file for a layer, found by its content's digest.
  fs::path cached_blob(const Layer& layer) const {
    for (const auto& file : fs::directory_iterator(cache_dir())) {
      if (file.path().extension() == ".blob" &&
          sha256_file(file.path().string()) == layer.descriptor.digest) {
        return file.path();
      }
    }
    ADD_FAILURE() << "no cached blob for " << layer.descriptor.digest.str();
    return {};
  }

  core::TempDir m_temp;
};

TEST_F(LayerCacheTest, AHitGivesThePackedLayerByteForByteWithoutCompressing) {
  fs::path source = file("app", random_bytes(300 << 10, 1) + std::string(200 << 10, 'x'));
  LayoutDir plain = layout("plain");
  Layer packed = write_layer(plain, app(source));

  LayerCache cache(cache_dir());
  LayoutDir cold = layout("cold");
  Layer miss = cache.write_layer(cold, app(source));
  EXPECT_EQ(cache.misses(), 1);
  EXPECT_EQ(cache.hits(), 0);
  EXPECT_EQ(entry_count(cache_dir()), 1);

  LayoutDir warm = layout("warm");
  Layer hit = cache.write_layer(warm, app(source));
  EXPECT_EQ(cache.hits(), 1);
  EXPECT_EQ(cache.misses(), 1);

  for (const Layer* layer : {&miss, &hit}) {
    EXPECT_EQ(layer->descriptor, packed.descriptor);
    EXPECT_EQ(layer->diff_id, packed.diff_id);
  }
  std::string bytes = core::read_file(plain.blob_path(packed.descriptor.digest));
  EXPECT_EQ(core::read_file(cold.blob_path(hit.descriptor.digest)), bytes);
  EXPECT_EQ(core::read_file(warm.blob_path(hit.descriptor.digest)), bytes);
  EXPECT_EQ(sha256(test_util::gunzip(bytes)), hit.diff_id);
  // Nothing was compressed for the hit: its blob is the cached file itself.
  EXPECT_EQ(inode(warm.blob_path(hit.descriptor.digest)), inode(cached_blob(hit)));
  EXPECT_EQ(fs::status(cache_dir()).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(LayerCacheTest, TheDiffIdAloneMatchesThePackedLayer) {
  fs::path source = file("app", random_bytes(1 << 20, 2));
  LayoutDir out = layout("out");
  EXPECT_EQ(layer_diff_id(app(source)), write_layer(out, app(source)).diff_id);
  LayerOptions later{1700000000, 6};
  EXPECT_EQ(layer_diff_id(app(source), later), write_layer(out, app(source), later).diff_id);
  EXPECT_NE(layer_diff_id(app(source), later), layer_diff_id(app(source)));
}

TEST_F(LayerCacheTest, ADamagedBlobIsAMissIsRemovedAndTheLayerIsStillRight) {
  fs::path source = file("app", random_bytes(200 << 10, 3));
  LayerCache cache(cache_dir());
  LayoutDir first = layout("first");
  Layer packed = cache.write_layer(first, app(source));
  std::string bytes = core::read_file(first.blob_path(packed.descriptor.digest));

  // Flip one byte of the cached blob in place (same size, same inode).
  fs::path blob = cached_blob(packed);
  ino_t damaged = inode(blob);
  {
    std::fstream damage(blob, std::ios::in | std::ios::out | std::ios::binary);
    damage.seekp(static_cast<std::streamoff>(bytes.size() / 2));
    damage.put(static_cast<char>(bytes[bytes.size() / 2] ^ 0x01));
  }
  ASSERT_NE(core::read_file(blob), bytes);

  LayoutDir second = layout("second");
  Layer again = cache.write_layer(second, app(source));
  EXPECT_EQ(cache.hits(), 0);
  EXPECT_EQ(cache.misses(), 2);
  EXPECT_EQ(again.descriptor, packed.descriptor);
  EXPECT_EQ(again.diff_id, packed.diff_id);
  EXPECT_EQ(core::read_file(second.blob_path(again.descriptor.digest)), bytes);
  // The damaged file is gone; the entry was made again from the new pack.
  EXPECT_NE(inode(blob), damaged);
  EXPECT_EQ(core::read_file(blob), bytes);
  EXPECT_EQ(inode(blob), inode(second.blob_path(again.descriptor.digest)));
}

TEST_F(LayerCacheTest, AnEntryNamingAnotherDigestIsAMissAndRemoved) {
  fs::path source = file("app", random_bytes(100 << 10, 4));
  LayerCache cache(cache_dir());
  LayoutDir first = layout("first");
  Layer packed = cache.write_layer(first, app(source));
  fs::path blob = cached_blob(packed);
  fs::path info = fs::path(blob).replace_extension(".json");
  std::string json = core::read_file(info);
  std::string digest = packed.descriptor.digest.str();
  json.replace(json.find(digest), digest.size(), sha256("other").str());
  core::write_file_atomic(info, json);

  LayoutDir second = layout("second");
  Layer again = cache.write_layer(second, app(source));
  EXPECT_EQ(cache.hits(), 0);
  EXPECT_EQ(again.descriptor, packed.descriptor);
  EXPECT_EQ(core::read_file(info).find(sha256("other").str()), std::string::npos);
}

TEST_F(LayerCacheTest, AnotherGzipLevelIsAnotherEntry) {
  fs::path source = file("app", random_bytes(100 << 10, 5) + std::string(100 << 10, 'y'));
  LayerCache cache(cache_dir());
  LayoutDir out = layout("out");
  Layer six = cache.write_layer(out, app(source), LayerOptions{0, 6});
  Layer one = cache.write_layer(out, app(source), LayerOptions{0, 1});
  EXPECT_EQ(cache.misses(), 2);
  EXPECT_EQ(cache.hits(), 0);
  EXPECT_EQ(entry_count(cache_dir()), 2);
  EXPECT_EQ(one.diff_id, six.diff_id);
  EXPECT_NE(one.descriptor.digest, six.descriptor.digest);
  LayoutDir plain = layout("plain");
  EXPECT_EQ(cache.write_layer(out, app(source), LayerOptions{0, 1}).descriptor,
            write_layer(plain, app(source), LayerOptions{0, 1}).descriptor);
  EXPECT_EQ(cache.hits(), 1);
}

TEST_F(LayerCacheTest, AnUnusableCacheDirStillGivesTheLayer) {
  fs::path source = file("app", random_bytes(100 << 10, 6));
  LayoutDir plain = layout("plain");
  Layer packed = write_layer(plain, app(source));
  core::write_file_atomic(m_temp.path() / "not-a-dir", "a file");
  LayerCache cache(m_temp.path() / "not-a-dir" / "layers");
  for (const char* name : {"one", "two"}) {
    LayoutDir out = layout(name);
    Layer layer = cache.write_layer(out, app(source));
    EXPECT_EQ(layer.descriptor, packed.descriptor);
    EXPECT_EQ(layer.diff_id, packed.diff_id);
    EXPECT_EQ(core::read_file(out.blob_path(layer.descriptor.digest)),
              core::read_file(plain.blob_path(packed.descriptor.digest)));
  }
  EXPECT_EQ(cache.misses(), 2);
  EXPECT_TRUE(fs::is_regular_file(m_temp.path() / "not-a-dir"));
}

TEST_F(LayerCacheTest, TheLeastRecentlyUsedEntriesGoAboveTheCap) {
  fs::path a = file("a", random_bytes(100 << 10, 7));
  fs::path b = file("b", random_bytes(100 << 10, 8));
  fs::path c = file("c", random_bytes(100 << 10, 9));
  LayerCache roomy(cache_dir());
  LayoutDir out = layout("out");
  roomy.write_layer(out, app(a));
  roomy.write_layer(out, app(b));
  // a was stored first, b later; then a is used again, so b is the oldest.
  auto now = fs::file_time_type::clock::now();
  for (const auto& file : fs::directory_iterator(cache_dir())) {
    fs::last_write_time(file.path(), now - std::chrono::minutes(10));
  }
  LayoutDir again = layout("again");
  roomy.write_layer(again, app(a));
  EXPECT_EQ(roomy.hits(), 1);

  // Room for about two entries: storing c evicts b only.
  LayerCache tight(cache_dir(), 250 << 10);
  tight.write_layer(out, app(c));
  EXPECT_EQ(entry_count(cache_dir()), 2);
  LayerCache check(cache_dir());
  LayoutDir second = layout("second");
  check.write_layer(second, app(a));
  check.write_layer(second, app(c));
  EXPECT_EQ(check.hits(), 2);
  check.write_layer(second, app(b));
  EXPECT_EQ(check.misses(), 1);
}

TEST_F(LayerCacheTest, LivesUnderXdgCacheHomeElseHomeElseNowhere) {
  EXPECT_EQ(LayerCache::from_env({{"XDG_CACHE_HOME", "/x"}, {"HOME", "/h"}}).dir(),
            fs::path("/x/polyarch/layers"));
  EXPECT_EQ(LayerCache::from_env({{"HOME", "/h"}}).dir(), fs::path("/h/.cache/polyarch/layers"));
  LayerCache nowhere = LayerCache::from_env({});
  EXPECT_TRUE(nowhere.dir().empty());
  fs::path source = file("app", "content\n");
  LayoutDir out = layout("out");
  EXPECT_EQ(nowhere.write_layer(out, app(source)).diff_id, layer_diff_id(app(source)));
  EXPECT_EQ(nowhere.misses(), 1);
}

TEST_F(LayerCacheTest, AssemblingTwiceGivesTheSameIndexFromTheCache) {
  build::AssembleOptions options;
  options.inputs = {{parse_platform("linux/amd64"), file("amd64", random_bytes(64 << 10, 10))},
                    {parse_platform("linux/arm64"), file("arm64", random_bytes(64 << 10, 11))}};
  LayoutDir plain = layout("plain");
  build::AssembledImage uncached = build::assemble(plain, options);
  LayerCache cache(cache_dir());
  options.layer_cache = &cache;
  LayoutDir cold = layout("cold");
  LayoutDir warm = layout("warm");
  EXPECT_EQ(build::assemble(cold, options).index, uncached.index);
  EXPECT_EQ(build::assemble(warm, options).index, uncached.index);
  EXPECT_EQ(cache.misses(), 2);
  EXPECT_EQ(cache.hits(), 2);
}

}  // namespace
}  // namespace polyarch::image
