#include "engine/build/pipeline.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include "engine/core/children.hpp"
#include "engine/core/error.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {

StagedImage build_platforms(const BuildOptions& options, Backend& backend,
                            image::LayoutDir& layout, const std::filesystem::path& work_root,
                            const PipelineHooks& hooks) {
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
        BuildRequest request{options, platform,
                             hooks.cache_args ? hooks.cache_args(platform) : std::vector<std::string>{},
                             work_dir};
        results[i] = backend.build(request, layout, [&](const std::string& line) {
          if (hooks.log) hooks.log(prefix + line);
        });
        results[i].manifest.platform = platform;
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

  image::Index index;
  index.media_type = std::string(image::media_type::k_oci_index);
  for (const auto& result : results) index.manifests.push_back(result.manifest);
  for (const auto& [key, value] : options.annotations) {
    if (key.starts_with("index:")) index.annotations[key.substr(6)] = value;
  }
  StagedImage staged;
  staged.index_bytes = image::to_bytes(index);
  staged.index = layout.put_blob(image::media_type::k_oci_index, staged.index_bytes);
  staged.platforms = results;
  return staged;
}

}  // namespace polyarch::build
