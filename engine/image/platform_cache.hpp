#pragma once
// Which platform an image manifest is for, remembered on disk with the
// manifest's descriptor. Only the manifest's config says so, but a digest
// names the manifest's bytes, and so its config, forever: once read, a
// platform never needs reading again.

#include <filesystem>
#include <optional>

#include "engine/core/env.hpp"
#include "engine/image/manifest.hpp"

namespace polyarch::image {

class PlatformCache {
 public:
  // A cache in `dir`; an empty dir remembers nothing.
  explicit PlatformCache(std::filesystem::path dir) : m_dir(std::move(dir)) {}

  // $XDG_CACHE_HOME/polyarch/platforms, else $HOME/.cache/polyarch/platforms.
  static PlatformCache from_env(const core::Env& env);

  // The descriptor (with its platform) remembered for a manifest digest;
  // nullopt when none is, or the entry cannot be read.
  std::optional<Descriptor> find(const Digest& manifest) const;
  // Remembers a manifest's descriptor, which must have a platform; a failure
  // to write is ignored.
  void remember(const Descriptor& manifest) const;

 private:
  std::filesystem::path entry(const Digest& manifest) const;

  std::filesystem::path m_dir;
};

}  // namespace polyarch::image
