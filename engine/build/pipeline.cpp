#include "engine/build/pipeline.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

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

// One build per platform, options.jobs at once; the first failure stops the rest.
std::vector<PlatformResult> build_each(const BuildOptions& options, Backend& backend, image::LayoutDir& layout,
                                       const std::filesystem::path& work_root, const PipelineHooks& hooks,
                                       Clock::time_point start) {
  size_t count = options.platforms.size();
  std::vector<PlatformResult> results(count);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::exception_ptr first_error;

  auto worker = [&] {
    for (size_t i; !failed && (i = next++) < count;) {
      const image::Platform& platform = options.platforms[i];
      std::string prefix = "[" + platform.str() + "] ";
      try {
        std::filesystem::path work_dir = work_root / ("build-" + std::to_string(i));
        std::filesystem::create_directories(work_dir);
        double started = seconds_since(start);
        BuildRequest request{options, platform, cache_args_for(hooks, {&platform, 1}), work_dir};
        results[i] = backend.build(request, layout, [&](const std::string& line) {
          if (hooks.log) hooks.log(prefix + line);
        });
        results[i].manifest.platform = platform;
        results[i].started = started;
        results[i].finished = seconds_since(start);
        if (hooks.built) hooks.built(results[i]);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failed.exchange(true)) {
          first_error = std::current_exception();
          core::terminate_children();  // stop the other platforms' builders
        }
      }
    }
  };
  int jobs = backend.parallel() ? std::max(1, options.jobs) : 1;
  std::vector<std::thread> threads;
  for (int t = 1; t < std::min<int>(jobs, static_cast<int>(count)); ++t) threads.emplace_back(worker);
  worker();
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
