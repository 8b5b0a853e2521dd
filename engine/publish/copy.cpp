#include "engine/publish/copy.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/core/error.hpp"
#include "engine/image/media_types.hpp"
#include "engine/publish/parallel.hpp"

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
  std::set<std::string> seen;     // blob digests planned
  std::set<std::string> planned;  // manifest digests planned
  std::vector<std::vector<std::string>> needs;  // per manifest: the blobs an image needs
};

// How deep indexes may nest under the top one (at depth 0). Real images nest
// one or two levels; a source serving an endless chain must not keep copy
// reading forever.
constexpr int k_max_index_depth = 8;

void plan_manifest(ImageStore& from, const Descriptor& d, const std::string& bytes, Planned& plan,
                   int depth) {
  if (!plan.planned.insert(d.digest.str()).second) return;  // listed again: planned once
  std::vector<std::string> needs;
  if (media_type::is_index(d.media_type)) {
    if (depth >= k_max_index_depth) {
      throw failure("cannot copy from " + from.name() + ": index " + d.digest.str() +
                    " is nested more than " + std::to_string(k_max_index_depth) +
                    " indexes deep");
    }
    image::Index index = image::parse_index(bytes, "index " + d.digest.str());
    for (const auto& child : index.manifests) {
      plan_manifest(from, child, from.read_manifest(child), plan, depth + 1);
    }
  } else {
    image::Manifest manifest = image::parse_manifest(bytes, "manifest " + d.digest.str());
    std::vector<Descriptor> blobs = {manifest.config};
    blobs.insert(blobs.end(), manifest.layers.begin(), manifest.layers.end());
    for (const auto& blob : blobs) {
      if (plan.seen.insert(blob.digest.str()).second) plan.blobs.push_back(blob);
      needs.push_back(blob.digest.str());
    }
  }
  plan.manifests.emplace_back(d, bytes);
  plan.needs.push_back(std::move(needs));
}

// The order blobs start in: largest first, so the longest transfers start at
// once and none starts late to finish last; small ones (configs: a few round
// trips each) fill in as workers free up.
std::vector<size_t> transfer_order(const std::vector<Descriptor>& blobs) {
  std::vector<size_t> order(blobs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return blobs[a].size > blobs[b].size; });
  return order;
}

// Tries of one blob: a transfer that fails (a lost upload session, a
// download cut short) starts again from scratch, HEAD first.
constexpr int k_blob_attempts = 3;

enum class Transfer { skipped, copied, mounted };

// Puts blob into `to` unless it is there; says how it got there.
Transfer transfer_blob(ImageStore& from, ImageStore& to, const Descriptor& blob) {
  // A mount needs no HEAD first: the registry answers 201 either way.
  if (to.mount_blob(blob, from)) return Transfer::mounted;
  for (int attempt = 1;; ++attempt) {
    try {
      // Present on a later try: the failed one landed after all.
      if (to.has_blob(blob)) return attempt == 1 ? Transfer::skipped : Transfer::copied;
      return to.write_blob(blob, from) ? Transfer::mounted : Transfer::copied;
    } catch (const Error& error) {
      if (error.kind() != ErrorKind::failure || attempt == k_blob_attempts) throw;
    }
  }
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
    // The children's bytes at once where the store allows, then planned in order.
    std::vector<std::string> children(result.children.size());
    parallel_for(children.size(), from.concurrent_manifests() ? options.jobs : 1, [&](size_t i) {
      children[i] = from.read_manifest(result.children[i]);
    });
    for (size_t i = 0; i < children.size(); ++i) {
      plan_manifest(from, result.children[i], children[i], plan, 1);
    }
  } else {
    plan_manifest(from, top.descriptor, top.bytes, plan, 0);
    plan.manifests.pop_back();  // the top is written below, under its tags
    plan.needs.pop_back();
  }

  std::atomic<int> copied{0}, skipped{0}, mounted{0};
  std::mutex uploaded_mutex;
  std::set<std::string> uploaded;  // blobs the destination did not have
  std::vector<size_t> order = transfer_order(plan.blobs);
  parallel_for(order.size(), options.jobs, [&](size_t n) {
    const Descriptor& blob = plan.blobs[order[n]];
    Transfer how = transfer_blob(from, to, blob);
    if (how == Transfer::copied) {
      std::lock_guard lock(uploaded_mutex);
      uploaded.insert(blob.digest.str());
    }
    if (how == Transfer::skipped) {
      ++skipped;
      return;
    }
    bool was_mounted = how == Transfer::mounted;
    ++(was_mounted ? mounted : copied);
    if (options.log) {
      options.log((was_mounted ? "mounted " : "copied ") + blob.digest.str() + " (" +
                  std::to_string(blob.size) + " bytes)");
    }
  });
  result.blobs_copied = copied;
  result.blobs_skipped = skipped;
  result.blobs_mounted = mounted;

  // Image manifests need only blobs, so they go at once; an index needs its
  // children, so indexes go after them in order, and the top last.
  int manifest_jobs = to.concurrent_manifests() ? options.jobs : 1;
  std::vector<size_t> images, indexes;
  for (size_t i = 0; i < plan.manifests.size(); ++i) {
    bool index = media_type::is_index(plan.manifests[i].first.media_type);
    (index ? indexes : images).push_back(i);
  }
  // A registry takes no manifest whose blobs it lacks: an image one of whose
  // blobs had to be uploaded cannot be there yet, so it needs no HEAD.
  auto write_child = [&](size_t i) {
    const auto& [descriptor, bytes] = plan.manifests[i];
    const auto& needs = plan.needs[i];
    bool new_image = std::any_of(needs.begin(), needs.end(),
                                 [&](const std::string& digest) { return uploaded.count(digest) > 0; });
    if (new_image || !to.has_manifest(descriptor)) to.write_manifest(descriptor, bytes, "");
  };
  parallel_for(images.size(), manifest_jobs, [&](size_t i) { write_child(images[i]); });
  for (size_t i : indexes) write_child(i);
  std::vector<std::string> names = tags.empty() ? std::vector<std::string>{""} : tags;
  parallel_for(names.size(), manifest_jobs, [&](size_t i) {
    to.write_manifest(result.top, result.bytes, names[i]);
  });
  to.commit();
  return result;
}

}  // namespace polyarch::publish
