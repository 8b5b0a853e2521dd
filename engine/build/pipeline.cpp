#include "engine/build/pipeline.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "engine/core/children.hpp"
#include "engine/core/error.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::string> cache_args_for(const PipelineHooks& hooks, std::span<const image::Platform> platforms) {
  return hooks.cache_args ? hooks.cache_args(platforms) : std::vector<std::string>{};
}

// Every platform in one run of the backend, or {} when it cannot.
std::vector<PlatformResult> build_together(const BuildOptions& options, Backend& backend,
                                           image::LayoutDir& layout, const std::filesystem::path& work_root,
                                           const PipelineHooks& hooks, Clock::time_point start) {
  if (options.platforms.size() < 2) return {};
  std::filesystem::path work_dir = work_root / "build-all";
  std::filesystem::create_directories(work_dir);
  BuildRequest request{options, options.platforms.front(), cache_args_for(hooks, options.platforms), work_dir};
  std::vector<PlatformResult> results = backend.build_all(request, layout, [&](const std::string& line) {
    if (hooks.log) hooks.log(line);  // BuildKit's own lines name their platform
  });
  double finished = seconds_since(start);
  for (auto& result : results) {
    result.finished = finished;
    if (hooks.built && !image::is_unknown(result.platform)) hooks.built(result);
  }
  return results;
}

// Builder slots: platforms start in order, at most `count` builders at once.
class Slots {
 public:
  explicit Slots(int count) : m_free(count) {}

  // Waits until it is platform `index`'s turn and a slot is free; false once stopped.
  bool take(size_t index) {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_stopped || (m_next == index && m_free > 0); });
    if (m_stopped) return false;
    ++m_next;
    --m_free;
    m_changed.notify_all();
    return true;
  }

  void give_back() {
    std::lock_guard lock(m_mutex);
    ++m_free;
    m_changed.notify_all();
  }

  // Wakes every waiting platform, which then starts nothing.
  void stop() {
    std::lock_guard lock(m_mutex);
    m_stopped = true;
    m_changed.notify_all();
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  int m_free;
  size_t m_next = 0;
  bool m_stopped = false;
};

// One build per platform, options.jobs builders at once; a platform's export
// (after BuildRequest::builder_done) no longer holds a slot, so the next
// builder starts meanwhile. The first failure stops the rest.
std::vector<PlatformResult> build_each(const BuildOptions& options, Backend& backend, image::LayoutDir& layout,
                                       const std::filesystem::path& work_root, const PipelineHooks& hooks,
                                       Clock::time_point start) {
  size_t count = options.platforms.size();
  std::vector<PlatformResult> results(count);
  int jobs = options.jobs > 0 ? options.jobs : static_cast<int>(count);  // 0: all at once
  Slots slots(backend.parallel() ? std::max(1, jobs) : 1);
  std::mutex mutex;
  std::exception_ptr first_error;

  auto build_one = [&](size_t i) {
    if (!slots.take(i)) return;
    bool held = true;
    auto free_slot = [&] {
      if (std::exchange(held, false)) slots.give_back();
    };
    const image::Platform& platform = options.platforms[i];
    std::string prefix = "[" + platform.str() + "] ";
    try {
      std::filesystem::path work_dir = work_root / ("build-" + std::to_string(i));
      std::filesystem::create_directories(work_dir);
      double started = seconds_since(start);
      BuildRequest request{options, platform, cache_args_for(hooks, {&platform, 1}), work_dir, free_slot};
      results[i] = backend.build(request, layout, [&](const std::string& line) {
        if (hooks.log) hooks.log(prefix + line);
      });
      free_slot();
      results[i].manifest.platform = platform;
      results[i].started = started;
      results[i].finished = seconds_since(start);
      if (hooks.built) hooks.built(results[i]);
    } catch (...) {
      free_slot();
      std::lock_guard lock(mutex);
      if (!first_error) {
        first_error = std::current_exception();
        slots.stop();                // start no other platform
        core::terminate_children();  // stop the other platforms' builders
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < count; ++i) threads.emplace_back(build_one, i);
  if (count != 0) build_one(0);
  for (auto& thread : threads) thread.join();
  if (first_error) std::rethrow_exception(first_error);
  return results;
}

}  // namespace

StagedImage build_platforms(const BuildOptions& options, Backend& backend,
                            image::LayoutDir& layout, const std::filesystem::path& work_root,
                            const PipelineHooks& hooks) {
  auto start = Clock::now();
  std::vector<PlatformResult> results = build_together(options, backend, layout, work_root, hooks, start);
  if (results.empty()) results = build_each(options, backend, layout, work_root, hooks, start);

  image::Index index;
  index.media_type = std::string(image::media_type::k_oci_index);
  for (const auto& result : results) index.manifests.push_back(result.manifest);
  for (const auto& [key, value] : options.annotations) {
    if (key.starts_with("index:")) index.annotations[key.substr(6)] = value;
  }
  StagedImage staged;
  staged.index_bytes = image::to_bytes(index);
  staged.index = layout.put_blob(image::media_type::k_oci_index, staged.index_bytes);
  for (const auto& result : results) {
    if (!image::is_unknown(result.platform)) staged.platforms.push_back(result);
  }
  return staged;
}

}  // namespace polyarch::build
