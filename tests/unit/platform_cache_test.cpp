#include "engine/image/platform_cache.hpp"

#include <gtest/gtest.h>

#include "engine/core/fs.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::image {
namespace {

Descriptor armv7_manifest() {
  Descriptor d;
  d.media_type = std::string(media_type::k_oci_manifest);
  d.digest = Digest::parse("sha256:" + std::string(64, 'a'));
  d.size = 401;
  d.platform = parse_platform("linux/arm/v7");
  return d;
}

TEST(PlatformCache, RemembersADescriptorWithItsPlatform) {
  core::TempDir dir;
  PlatformCache cache(dir.path());
  Descriptor d = armv7_manifest();
  EXPECT_EQ(cache.find(d.digest), std::nullopt);
  cache.remember(d);
  EXPECT_EQ(cache.find(d.digest), d);
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.path() / "sha256" / (std::string(64, 'a') + ".json")));
}

TEST(PlatformCache, ADamagedOrMisplacedEntryIsNotBelieved) {
  core::TempDir dir;
  PlatformCache cache(dir.path());
  Descriptor d = armv7_manifest();
  cache.remember(d);
  std::filesystem::path entry = dir.path() / "sha256" / (std::string(64, 'a') + ".json");
  core::write_file_atomic(entry, "{\"mediaType\":");
  EXPECT_EQ(cache.find(d.digest), std::nullopt);

  // An entry whose descriptor names another digest is someone else's.
  Descriptor other = d;
  other.digest = Digest::parse("sha256:" + std::string(64, 'b'));
  cache.remember(other);
  std::filesystem::copy_file(dir.path() / "sha256" / (std::string(64, 'b') + ".json"), entry,
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(cache.find(d.digest), std::nullopt);
}

TEST(PlatformCache, ADescriptorWithoutAPlatformIsNotRemembered) {
  core::TempDir dir;
  PlatformCache cache(dir.path());
  Descriptor d = armv7_manifest();
  d.platform.reset();
  cache.remember(d);
  EXPECT_EQ(cache.find(d.digest), std::nullopt);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "sha256"));
}

TEST(PlatformCache, LivesUnderXdgCacheHomeElseHomeElseNowhere) {
  core::TempDir dir;
  Descriptor d = armv7_manifest();
  PlatformCache::from_env({{"XDG_CACHE_HOME", (dir.path() / "xdg").string()},
                           {"HOME", (dir.path() / "home").string()}})
      .remember(d);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "xdg" / "polyarch" / "platforms" / "sha256"));
  PlatformCache::from_env({{"HOME", (dir.path() / "home").string()}}).remember(d);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "home" / ".cache" / "polyarch" / "platforms" / "sha256"));
  PlatformCache nowhere = PlatformCache::from_env({});
  nowhere.remember(d);
  EXPECT_EQ(nowhere.find(d.digest), std::nullopt);
}

TEST(PlatformCache, AnUnwritableDirectoryIsOnlyAMiss) {
  core::TempDir dir;
  core::write_file_atomic(dir.path() / "file", "not a directory");
  PlatformCache cache(dir.path() / "file" / "platforms");
  Descriptor d = armv7_manifest();
  cache.remember(d);  // no throw
  EXPECT_EQ(cache.find(d.digest), std::nullopt);
}

}  // namespace
}  // namespace polyarch::image
