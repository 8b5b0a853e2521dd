#include "engine/image/platform_cache.hpp"

#include "engine/core/fs.hpp"
#include "engine/image/cache_root.hpp"

namespace polyarch::image {

PlatformCache PlatformCache::from_env(const core::Env& env) {
  std::filesystem::path root = cache_root(env);
  if (root.empty()) return PlatformCache({});
  return PlatformCache(root / "platforms");
}

std::filesystem::path PlatformCache::entry(const Digest& manifest) const {
  return m_dir / manifest.algorithm / (manifest.hex + ".json");
}

std::optional<Descriptor> PlatformCache::find(const Digest& manifest) const {
  if (m_dir.empty()) return std::nullopt;
  try {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(entry(manifest), ec)) return std::nullopt;
    Json json = parse_json(core::read_file(entry(manifest)), "platform cache entry");
    Descriptor found = descriptor_from_json(json, "platform cache entry");
    if (found.digest != manifest || !found.platform) return std::nullopt;
    return found;
  } catch (const std::exception&) {
    return std::nullopt;  // a damaged entry is read again from the registry
  }
}

void PlatformCache::remember(const Descriptor& manifest) const {
  if (m_dir.empty() || !manifest.platform) return;
  try {
    std::filesystem::path path = entry(manifest.digest);
    if (!make_private_dirs(path.parent_path())) return;
    core::write_file_atomic(path, to_json(manifest).dump());
  } catch (const std::exception&) {
    // Only a cache: the next run reads the config again.
  }
}

}  // namespace polyarch::image
