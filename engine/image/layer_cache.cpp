#include "engine/image/layer_cache.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <map>
#include <random>
#include <system_error>

#include <nlohmann/json.hpp>

#include "engine/core/fs.hpp"
#include "engine/image/cache_root.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::image {

namespace {

using Json = nlohmann::ordered_json;

// A temp file left by a process that died mid-write is removed after this.
constexpr auto k_stale_temp = std::chrono::hours(1);

// The entry name for a tar at these settings: sha256 of all three, in hex.
std::string entry_key(const Digest& diff_id, std::string_view media_type, int level) {
  return sha256(diff_id.str() + "\n" + std::string(media_type) + "\n" + std::to_string(level)).hex;
}

// A name no other process or call uses: "dir/.tmp-<pid>-<n>-<random>".
fs::path temp_name(const fs::path& dir) {
  static std::atomic<unsigned> counter{0};
  static const unsigned salt = std::random_device{}();
  return dir / (".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                std::to_string(salt));
}

// Makes `to` the same file as `from`: a hard link when both are on one file
// system, else a copy; through a temp name and a rename, so `to` never
// appears half written. Throws std::filesystem_error.
void link_or_copy(const fs::path& from, const fs::path& to) {
  fs::path temp = temp_name(to.parent_path());
  try {
    if (::link(from.c_str(), temp.c_str()) != 0) fs::copy_file(from, temp);
    fs::rename(temp, to);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
  // Renaming a hard link over the same file leaves both names.
  std::error_code ignored;
  fs::remove(temp, ignored);
}

// The cached layer an entry's JSON describes, if it is for this key's
// diff_id and settings.
std::optional<Layer> parse_info(const std::string& text, const Digest& diff_id, int level) {
  Json json = Json::parse(text, nullptr, false);
  if (!json.is_object() || json.value("diffID", "") != diff_id.str() ||
      json.value("mediaType", "") != media_type::k_oci_layer_gzip ||
      json.value("gzipLevel", -1) != level || !json["size"].is_number_integer()) {
    return std::nullopt;
  }
  Layer layer;
  layer.descriptor.media_type = std::string(media_type::k_oci_layer_gzip);
  layer.descriptor.digest = Digest::parse(json.value("digest", ""));
  layer.descriptor.size = json["size"].get<int64_t>();
  layer.diff_id = diff_id;
  if (layer.descriptor.digest.algorithm != "sha256" || layer.descriptor.size < 0) {
    return std::nullopt;
  }
  return layer;
}

}  // namespace

LayerCache LayerCache::from_env(const core::Env& env) {
  fs::path root = cache_root(env);
  return LayerCache(root.empty() ? root : root / "layers");
}

fs::path LayerCache::blob_file(const std::string& key) const { return m_dir / (key + ".blob"); }

fs::path LayerCache::info_file(const std::string& key) const { return m_dir / (key + ".json"); }

Layer LayerCache::write_layer(LayoutDir& layout, const std::vector<LayerSource>& sources,
                              const LayerOptions& options) {
  if (!make_private_dirs(m_dir)) {
    ++m_misses;
    return image::write_layer(layout, sources, options);
  }
  // The tar alone, hashed: a fraction of the cost of compressing it.
  Digest diff_id = layer_diff_id(sources, options);
  std::string key = entry_key(diff_id, media_type::k_oci_layer_gzip, options.gzip_level);
  if (std::optional<Layer> cached = take(key, diff_id, options.gzip_level, layout)) {
    ++m_hits;
    return *cached;
  }
  ++m_misses;
  Layer layer = image::write_layer(layout, sources, options);
  remember(layer, options.gzip_level, layout);
  return layer;
}

std::optional<Layer> LayerCache::take(const std::string& key, const Digest& diff_id, int level,
                                      LayoutDir& layout) const {
  try {
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(info_file(key), ec))) return std::nullopt;
    std::optional<Layer> layer = parse_info(core::read_file(info_file(key)), diff_id, level);
    fs::path blob = blob_file(key);
    // A damaged or tampered entry is dropped: packing makes it again.
    if (!layer || !fs::is_regular_file(fs::symlink_status(blob, ec)) ||
        fs::file_size(blob, ec) != static_cast<uintmax_t>(layer->descriptor.size) ||
        sha256_file(blob.string()) != layer->descriptor.digest) {
      drop(key);
      return std::nullopt;
    }
    fs::path target = layout.blob_path(layer->descriptor.digest);
    if (!fs::exists(target)) link_or_copy(blob, target);
    // Recently used: the last to be evicted.
    fs::last_write_time(info_file(key), fs::file_time_type::clock::now(), ec);
    return layer;
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable: pack as if there were no cache
  }
}

void LayerCache::remember(const Layer& layer, int level, const LayoutDir& layout) const {
  std::string key = entry_key(layer.diff_id, layer.descriptor.media_type, level);
  try {
    link_or_copy(layout.blob_path(layer.descriptor.digest), blob_file(key));
    Json info = {{"mediaType", layer.descriptor.media_type},
                 {"digest", layer.descriptor.digest.str()},
                 {"size", layer.descriptor.size},
                 {"diffID", layer.diff_id.str()},
                 {"gzipLevel", level}};
    core::write_file_atomic(info_file(key), info.dump());
    evict();
  } catch (const std::exception&) {
    drop(key);  // a full disk or a read-only dir: only a cache
  }
}

void LayerCache::drop(const std::string& key) const {
  std::error_code ignored;
  fs::remove(info_file(key), ignored);  // first: an entry without it is not used
  fs::remove(blob_file(key), ignored);
}

void LayerCache::evict() const {
  struct Entry {
    fs::file_time_type used{};  // its JSON's mtime, else its blob's
    uintmax_t size = 0;
  };
  std::map<std::string, Entry> entries;
  uintmax_t total = 0;
  auto now = fs::file_time_type::clock::now();
  for (const auto& file : fs::directory_iterator(m_dir)) {
    std::error_code ec;
    if (!file.is_regular_file(ec)) continue;
    std::string name = file.path().filename().string();
    uintmax_t size = file.file_size(ec);
    fs::file_time_type mtime = file.last_write_time(ec);
    if (ec) continue;
    // Ours (".tmp-…") and write_file_atomic's ("….tmp.PID").
    if (name.starts_with(".tmp-") || name.find(".tmp.") != std::string::npos) {
      if (now - mtime > k_stale_temp && fs::remove(file.path(), ec)) continue;
      total += size;
      continue;
    }
    Entry& entry = entries[file.path().stem().string()];
    entry.size += size;
    if (name.ends_with(".json") || entry.used == fs::file_time_type{}) entry.used = mtime;
    total += size;
  }
  if (total <= m_cap) return;
  std::vector<std::pair<fs::file_time_type, std::string>> by_age;
  for (const auto& [key, entry] : entries) by_age.emplace_back(entry.used, key);
  std::sort(by_age.begin(), by_age.end());
  for (const auto& [used, key] : by_age) {
    if (total <= m_cap) break;
    drop(key);
    total -= entries[key].size;
  }
}

}  // namespace polyarch::image
