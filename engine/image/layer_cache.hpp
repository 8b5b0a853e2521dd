#pragma once
// Compressed layers remembered by what they hold: packing the same files the
// same way again costs a SHA-256 of their tar, not a gzip (BuildKit and
// containers/image remember compressed variants of layers the same way).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/env.hpp"
#include "engine/image/layer.hpp"

namespace polyarch::image {

// The size above which a layer cache drops its least recently used entries.
inline constexpr uintmax_t k_layer_cache_cap = uintmax_t{2} << 30;

// Entries keyed by a layer's diff_id, media type and gzip level, each a
// compressed blob (<key>.blob) and what it is (<key>.json: digest, size,
// media type, diff_id, level). Every file appears by rename, so concurrent
// processes never see half an entry; a blob is checked against its digest
// before use.
class LayerCache {
 public:
  // A cache in dir that keeps itself under cap bytes; an empty dir remembers
  // nothing.
  explicit LayerCache(std::filesystem::path dir, uintmax_t cap = k_layer_cache_cap)
      : m_dir(std::move(dir)), m_cap(cap) {}

  // $XDG_CACHE_HOME/polyarch/layers, else $HOME/.cache/polyarch/layers, else
  // a cache that remembers nothing.
  static LayerCache from_env(const core::Env& env);

  // The directory entries live in; empty when nothing is remembered.
  const std::filesystem::path& dir() const { return m_dir; }

  // What image::write_layer gives, byte for byte. With an intact entry for
  // this tar at these settings, the blob is hard-linked (or copied) into the
  // layout and nothing is compressed; otherwise the layer is packed and then
  // remembered, dropping old entries above the cap. A cache that can't be
  // read or written only costs the packing. Throws like write_layer.
  Layer write_layer(LayoutDir& layout, const std::vector<LayerSource>& sources,
                    const LayerOptions& options = {});

  // Layers taken from the cache / packed by write_layer so far.
  int hits() const { return m_hits; }
  int misses() const { return m_misses; }

 private:
  std::optional<Layer> take(const std::string& key, const Digest& diff_id, int level,
                            LayoutDir& layout) const;
  void remember(const Layer& layer, int level, const LayoutDir& layout) const;
  void evict() const;
  void drop(const std::string& key) const;
  std::filesystem::path blob_file(const std::string& key) const;
  std::filesystem::path info_file(const std::string& key) const;

  std::filesystem::path m_dir;
  uintmax_t m_cap;
  int m_hits = 0;
  int m_misses = 0;
};

}  // namespace polyarch::image
