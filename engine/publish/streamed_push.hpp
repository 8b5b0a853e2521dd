#pragma once
// Publishing an image while it is still being made: each image manifest (with
// its blobs) goes to the targets on a thread of its own as soon as it is
// ready, so uploads overlap the making of the next one; the top manifest goes
// under its tags last, once every child is there.

#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/publish/copy.hpp"

namespace polyarch::publish {

// One repository to publish to, and the tags the top manifest gets there.
struct PushTarget {
  ImageStore* store = nullptr;
  std::vector<std::string> tags;
};

class StreamedPush {
 public:
  // Reads what it pushes from `from` (which must allow reads from several
  // threads, as layouts do); every store must outlive this object.
  StreamedPush(ImageStore& from, std::vector<PushTarget> targets, CopyOptions options = {});
  // Waits for the pushes still running (their errors are dropped: finish() reports them).
  ~StreamedPush();
  StreamedPush(const StreamedPush&) = delete;
  StreamedPush& operator=(const StreamedPush&) = delete;

  // Starts pushing an image manifest and its blobs to every target, by
  // digest. Throws the failure of an earlier push, so the caller stops early.
  void add(const Descriptor& manifest);
  // Waits for every push and rethrows the first failure; pushes the
  // children of top (an index) that were not added; then writes top under
  // each target's tags. Returns the counts of every push.
  CopyResult finish(const FetchedManifest& top);

 private:
  void push(const Descriptor& manifest);
  void rethrow_failure();
  void join_all();

  ImageStore& m_from;
  std::vector<PushTarget> m_targets;
  CopyOptions m_options;
  std::vector<std::thread> m_threads;
  std::vector<std::string> m_added;  // digests of the manifests added
  std::mutex m_mutex;
  std::mutex m_one_at_a_time;    // for targets that take one manifest at a time (layouts)
  std::exception_ptr m_failure;  // the first push that failed
  CopyResult m_counts;           // blobs copied, mounted, skipped so far
};

}  // namespace polyarch::publish
