#include "engine/publish/copy.hpp"

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/core/error.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::publish {

using image::Digest;
namespace media_type = image::media_type;

namespace {

constexpr std::string_view k_reference_type = "vnd.docker.reference.type";
constexpr std::string_view k_reference_digest = "vnd.docker.reference.digest";

// A manifest to write, and the blobs it needs.
struct Planned {
  std::vector<std::pair<Descriptor, std::string>> manifests;  // children first
  std::vector<Descriptor> blobs;
  std::set<std::string> seen;
};

void plan_manifest(ImageStore& from, const Descriptor& d, const std::string& bytes, Planned& plan) {
  if (media_type::is_index(d.media_type)) {
    image::Index index = image::parse_index(bytes, "index " + d.digest.str());
    for (const auto& child : index.manifests) {
      plan_manifest(from, child, from.read_manifest(child), plan);
    }
  } else {
    image::Manifest manifest = image::parse_manifest(bytes, "manifest " + d.digest.str());
    std::vector<Descriptor> blobs = {manifest.config};
    blobs.insert(blobs.end(), manifest.layers.begin(), manifest.layers.end());
    for (const auto& blob : blobs) {
      if (plan.seen.insert(blob.digest.str()).second) plan.blobs.push_back(blob);
    }
  }
  plan.manifests.emplace_back(d, bytes);
}

// Runs work(i) for i in [0, count) on up to jobs threads; rethrows the first error.
void parallel_for(size_t count, int jobs, const std::function<void(size_t)>& work) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::exception_ptr first_error;
  auto worker = [&] {
    for (size_t i; (i = next++) < count;) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!first_error) first_error = std::current_exception();
        next = count;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < std::min<int>(jobs, static_cast<int>(count)); ++t) threads.emplace_back(worker);
  worker();
  for (auto& thread : threads) thread.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace

bool is_attestation(const Descriptor& d) {
  return d.annotations.count(std::string(k_reference_type)) > 0 ||
         (d.platform && image::is_unknown(*d.platform));
}

std::vector<Descriptor> select_platforms(const image::Index& index,
                                         const std::vector<image::Platform>& platforms,
                                         const std::string& source_name) {
  if (platforms.empty()) return index.manifests;
  std::vector<Descriptor> selected;
  std::set<std::string> kept;
  for (const auto& wanted : platforms) {
    bool found = false;
    for (const auto& child : index.manifests) {
      if (is_attestation(child) || !child.platform) continue;
      if (image::normalize(*child.platform).str() != wanted.str()) continue;
      if (kept.insert(child.digest.str()).second) selected.push_back(child);
      found = true;
    }
    if (!found) {
      std::string have;
      for (const auto& child : index.manifests) {
        if (!is_attestation(child) && child.platform) have += (have.empty() ? "" : ", ") + child.platform->str();
      }
      throw failure(source_name + " has no " + wanted.str() + " image (it has: " + have + ")");
    }
  }
  for (const auto& child : index.manifests) {
    auto target = child.annotations.find(std::string(k_reference_digest));
    if (is_attestation(child) && target != child.annotations.end() && kept.count(target->second)) {
      selected.push_back(child);
    }
  }
  return selected;
}

CopyResult copy_image(ImageStore& from, const FetchedManifest& top, ImageStore& to,
                      const std::vector<std::string>& tags, const CopyOptions& options) {
  CopyResult result;
  result.top = top.descriptor;
  result.bytes = top.bytes;
  Planned plan;
  if (media_type::is_index(top.descriptor.media_type)) {
    image::Index index = image::parse_index(top.bytes, "index " + top.descriptor.digest.str());
    result.children = select_platforms(index, options.platforms, from.name());
    if (result.children.size() != index.manifests.size()) {
      index.manifests = result.children;
      result.bytes = image::to_bytes(index);
      result.top = image::describe(top.descriptor.media_type, result.bytes);
    }
    for (const auto& child : result.children) plan_manifest(from, child, from.read_manifest(child), plan);
  } else {
    plan_manifest(from, top.descriptor, top.bytes, plan);
    plan.manifests.pop_back();  // the top is written below, under its tags
  }

  std::atomic<int> copied{0}, skipped{0}, mounted{0};
  parallel_for(plan.blobs.size(), options.jobs, [&](size_t i) {
    const Descriptor& blob = plan.blobs[i];
    if (to.has_blob(blob)) {
      ++skipped;
      return;
    }
    bool was_mounted = to.write_blob(blob, from);
    ++(was_mounted ? mounted : copied);
    if (options.log) {
      options.log((was_mounted ? "mounted " : "copied ") + blob.digest.str() + " (" +
                  std::to_string(blob.size) + " bytes)");
    }
  });
  result.blobs_copied = copied;
  result.blobs_skipped = skipped;
  result.blobs_mounted = mounted;

  for (const auto& [descriptor, bytes] : plan.manifests) {
    if (!to.has_manifest(descriptor)) to.write_manifest(descriptor, bytes, "");
  }
  if (tags.empty()) to.write_manifest(result.top, result.bytes, "");
  for (const auto& tag : tags) to.write_manifest(result.top, result.bytes, tag);
  to.commit();
  return result;
}

}  // namespace polyarch::publish
