#include "engine/publish/streamed_push.hpp"

#include <algorithm>

#include "engine/image/media_types.hpp"
#include "engine/publish/parallel.hpp"

namespace polyarch::publish {

StreamedPush::StreamedPush(ImageStore& from, std::vector<PushTarget> targets, CopyOptions options)
    : m_from(from), m_targets(std::move(targets)), m_options(std::move(options)) {}

StreamedPush::~StreamedPush() { join_all(); }

void StreamedPush::join_all() {
  for (auto& thread : m_threads) {
    if (thread.joinable()) thread.join();
  }
  m_threads.clear();
}

void StreamedPush::rethrow_failure() {
  std::lock_guard lock(m_mutex);
  if (m_failure) std::rethrow_exception(m_failure);
}

void StreamedPush::add(const Descriptor& manifest) {
  rethrow_failure();
  m_added.push_back(manifest.digest.str());
  m_threads.emplace_back([this, manifest] {
    try {
      push(manifest);
    } catch (...) {
      std::lock_guard lock(m_mutex);
      if (!m_failure) m_failure = std::current_exception();
    }
  });
}

// One image to every target: its blobs, then the manifest by digest.
void StreamedPush::push(const Descriptor& manifest) {
  FetchedManifest child{m_from.read_manifest(manifest), manifest};
  for (const auto& target : m_targets) {
    std::unique_lock serial(m_one_at_a_time, std::defer_lock);
    if (!target.store->concurrent_manifests()) serial.lock();
    CopyResult done = copy_image(m_from, child, *target.store, {}, m_options);
    std::lock_guard lock(m_mutex);
    m_counts.blobs_copied += done.blobs_copied;
    m_counts.blobs_mounted += done.blobs_mounted;
    m_counts.blobs_skipped += done.blobs_skipped;
  }
}

CopyResult StreamedPush::finish(const FetchedManifest& top) {
  join_all();
  rethrow_failure();
  CopyResult result;
  result.top = top.descriptor;
  result.bytes = top.bytes;
  // What the tags need that was never added (attestations, nested indexes,
  // or a top that is an image itself) goes now, the same way.
  std::vector<Descriptor> needed = {top.descriptor};
  if (image::media_type::is_index(top.descriptor.media_type)) {
    result.children = image::parse_index(top.bytes, "index " + top.descriptor.digest.str()).manifests;
    needed = result.children;
  }
  std::vector<Descriptor> missing;
  for (const auto& d : needed) {
    bool added = std::find(m_added.begin(), m_added.end(), d.digest.str()) != m_added.end();
    if (!added) missing.push_back(d);
  }
  parallel_for(missing.size(), m_options.jobs, [&](size_t i) { push(missing[i]); });
  result.blobs_copied = m_counts.blobs_copied;
  result.blobs_mounted = m_counts.blobs_mounted;
  result.blobs_skipped = m_counts.blobs_skipped;
  for (const auto& target : m_targets) {
    std::vector<std::string> names = target.tags;
    if (names.empty()) names.push_back("");  // by digest only
    int jobs = target.store->concurrent_manifests() ? m_options.jobs : 1;
    parallel_for(names.size(), jobs, [&](size_t i) {
      target.store->write_manifest(top.descriptor, top.bytes, names[i]);
    });
    target.store->commit();
  }
  return result;
}

}  // namespace polyarch::publish
