// The build pipeline with stand-in backends: one multi-platform run when the
// backend can, attestations kept in the index but not as platforms, and a
// failed platform stopping the builds still running.

#include "engine/build/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "engine/build/run_logged.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {
namespace {

namespace mt = image::media_type;
using image::Platform;

// A manifest-typed blob standing for one platform's image.
PlatformResult put_image(image::LayoutDir& into, const Platform& platform) {
  image::Descriptor descriptor = into.put_blob(mt::k_oci_manifest, "{\"image\":\"" + platform.str() + "\"}");
  descriptor.platform = platform;
  return PlatformResult{platform, descriptor};
}

// Builds everything in one run, like buildx, and adds an attestation.
class TogetherBackend : public Backend {
 public:
  std::string name() const override { return "together"; }
  PlatformResult build(const BuildRequest& request, image::LayoutDir& into, const LogLine&) override {
    ++m_single_builds;
    return put_image(into, request.platform);
  }
  std::vector<PlatformResult> build_all(const BuildRequest& request, image::LayoutDir& into,
                                        const LogLine& log) override {
    m_cache_args = request.cache_args;
    log("#1 building");
    std::vector<PlatformResult> results;
    for (const auto& platform : request.options.platforms) results.push_back(put_image(into, platform));
    results.push_back(put_image(into, image::Platform{"unknown", "unknown", "", "", {}}));
    return results;
  }
  int m_single_builds = 0;
  std::vector<std::string> m_cache_args;
};

// linux/arm64 fails at once; every other platform runs `sleep 30`.
class FailingBackend : public Backend {
 public:
  std::string name() const override { return "failing"; }
  PlatformResult build(const BuildRequest& request, image::LayoutDir& into, const LogLine& log) override {
    if (request.platform.str() == "linux/arm64") {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the others have started
      throw failure("build for linux/arm64 failed (failing exit 1): no space left on device");
    }
    LoggedRun run = run_logged({"sleep", "30"}, log);
    if (run.exit_code != 0) throw failure("build for " + request.platform.str() + " was stopped");
    return put_image(into, request.platform);
  }
};

// linux/arm64 takes 0.3 s; the others end at once.
class SlowArmBackend : public Backend {
 public:
  std::string name() const override { return "slow-arm"; }
  PlatformResult build(const BuildRequest& request, image::LayoutDir& into, const LogLine&) override {
    if (request.platform.str() == "linux/arm64") std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return put_image(into, request.platform);
  }
};

// Counts builders running at once: each "builds" for 50 ms, then says its
// builder is done and "exports" until the next platform has started (or 5 s).
class ExportingBackend : public Backend {
 public:
  std::string name() const override { return "exporting"; }
  PlatformResult build(const BuildRequest& request, image::LayoutDir& into, const LogLine&) override {
    {
      std::lock_guard lock(m_mutex);
      m_started.push_back(request.platform.str());
      m_most_at_once = std::max(m_most_at_once, ++m_building);
    }
    m_changed.notify_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    size_t started;
    {
      std::lock_guard lock(m_mutex);
      --m_building;
      started = m_started.size();
    }
    request.builder_done();
    request.builder_done();  // a second call frees nothing more
    std::unique_lock lock(m_mutex);
    bool next_started = m_changed.wait_for(lock, std::chrono::seconds(5), [&] {
      return m_started.size() > started || m_started.size() == request.options.platforms.size();
    });
    if (!next_started) m_exports_blocked_next = true;
    return put_image(into, request.platform);
  }
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<std::string> m_started;
  int m_building = 0;
  int m_most_at_once = 0;
  bool m_exports_blocked_next = false;
};

BuildOptions options_for(const std::string& platforms) {
  BuildOptions options;
  options.platforms = image::parse_platforms(platforms);
  options.jobs = 4;
  return options;
}

TEST(Pipeline, BuildsEveryPlatformInOneRunWhenTheBackendCan) {
  core::TempDir dir;
  image::LayoutDir layout = image::LayoutDir::create(dir.path() / "layout");
  TogetherBackend backend;
  std::vector<size_t> cache_calls;
  std::vector<std::string> lines, built;
  PipelineHooks hooks{[&](std::span<const Platform> platforms) {
                        cache_calls.push_back(platforms.size());
                        return std::vector<std::string>{"--cache-from", std::to_string(platforms.size())};
                      },
                      [&](const std::string& line) { lines.push_back(line); },
                      [&](const PlatformResult& result) { built.push_back(result.platform.str()); }};
  StagedImage staged = build_platforms(options_for("linux/amd64,linux/arm64"), backend, layout, dir.path(), hooks);

  EXPECT_EQ(backend.m_single_builds, 0);
  EXPECT_EQ(cache_calls, std::vector<size_t>{2});
  EXPECT_EQ(backend.m_cache_args, (std::vector<std::string>{"--cache-from", "2"}));
  EXPECT_EQ(lines, std::vector<std::string>{"#1 building"});
  EXPECT_EQ(built, (std::vector<std::string>{"linux/amd64", "linux/arm64"}));  // no attestation
  ASSERT_EQ(staged.platforms.size(), 2u);  // the attestation is no platform
  EXPECT_EQ(staged.platforms[0].platform.str(), "linux/amd64");
  EXPECT_EQ(staged.platforms[1].platform.str(), "linux/arm64");
  image::Index index = image::parse_index(staged.index_bytes);
  ASSERT_EQ(index.manifests.size(), 3u);  // …but stays in the index, last
  EXPECT_EQ(index.manifests[2].platform->str(), "unknown/unknown");
  EXPECT_EQ(layout.read_blob(staged.index.digest), staged.index_bytes);
}

TEST(Pipeline, OnePlatformIsBuiltOnItsOwn) {
  core::TempDir dir;
  image::LayoutDir layout = image::LayoutDir::create(dir.path() / "layout");
  TogetherBackend backend;
  StagedImage staged = build_platforms(options_for("linux/arm64"), backend, layout, dir.path(), {});
  EXPECT_EQ(backend.m_single_builds, 1);
  ASSERT_EQ(staged.platforms.size(), 1u);
  EXPECT_GE(staged.platforms[0].finished, staged.platforms[0].started);
  EXPECT_EQ(image::parse_index(staged.index_bytes).manifests.size(), 1u);
}

TEST(Pipeline, EachPlatformReportsItsEndAsItFinishes) {
  core::TempDir dir;
  image::LayoutDir layout = image::LayoutDir::create(dir.path() / "layout");
  SlowArmBackend backend;
  std::mutex mutex;
  std::vector<std::string> built;
  PipelineHooks hooks;
  hooks.built = [&](const PlatformResult& result) {
    std::lock_guard lock(mutex);
    EXPECT_GE(result.finished, result.started);
    built.push_back(result.platform.str());
  };
  build_platforms(options_for("linux/arm64,linux/amd64"), backend, layout, dir.path(), hooks);
  EXPECT_EQ(built, (std::vector<std::string>{"linux/amd64", "linux/arm64"}));
}

// Builds platforms through backend, jobs builders at once, into a layout of its own.
StagedImage build_with(Backend& backend, const std::string& platforms, int jobs) {
  core::TempDir dir;
  image::LayoutDir layout = image::LayoutDir::create(dir.path() / "layout");
  BuildOptions options = options_for(platforms);
  options.jobs = jobs;
  return build_platforms(options, backend, layout, dir.path(), {});
}

TEST(Pipeline, AnExportHoldsNoBuildSlot) {
  ExportingBackend backend;
  StagedImage staged = build_with(backend, "linux/amd64,linux/arm64,linux/arm/v7", 1);
  EXPECT_EQ(backend.m_started, (std::vector<std::string>{"linux/amd64", "linux/arm64", "linux/arm/v7"}));
  EXPECT_EQ(backend.m_most_at_once, 1);
  EXPECT_FALSE(backend.m_exports_blocked_next) << "a platform's builder waited for the previous export";
  EXPECT_EQ(staged.platforms.size(), 3u);
}

TEST(Pipeline, NoMoreBuildersAtOnceThanJobsInPlatformOrder) {
  ExportingBackend backend;
  build_with(backend, "linux/amd64,linux/arm64,linux/arm/v7,linux/ppc64le,linux/s390x", 2);
  EXPECT_EQ(backend.m_started, (std::vector<std::string>{"linux/amd64", "linux/arm64", "linux/arm/v7",
                                                         "linux/ppc64le", "linux/s390x"}));
  EXPECT_EQ(backend.m_most_at_once, 2);
}

// Each build waits (up to 5 s) until every platform's build has started.
class GatheringBackend : public Backend {
 public:
  std::string name() const override { return "gathering"; }
  PlatformResult build(const BuildRequest& request, image::LayoutDir& into, const LogLine&) override {
    std::unique_lock lock(m_mutex);
    ++m_started;
    m_changed.notify_all();
    size_t all = request.options.platforms.size();
    if (m_changed.wait_for(lock, std::chrono::seconds(5), [&] { return m_started == all; })) ++m_met_all;
    return put_image(into, request.platform);
  }
  std::mutex m_mutex;
  std::condition_variable m_changed;
  size_t m_started = 0;
  int m_met_all = 0;  // builds that saw every other one start
};

TEST(Pipeline, WithoutJobsEveryPlatformBuildsAtOnce) {
  GatheringBackend backend;
  // jobs 0, the default: all at once, as buildah --platform and buildx build.
  build_with(backend, "linux/amd64,linux/arm64,linux/arm/v7,linux/ppc64le,linux/s390x", 0);
  EXPECT_EQ(backend.m_met_all, 5);
}

TEST(Pipeline, AFailedPlatformStopsTheOthersAndNoIndexIsWritten) {
  core::TempDir dir;
  image::LayoutDir layout = image::LayoutDir::create(dir.path() / "layout");
  FailingBackend backend;
  auto start = std::chrono::steady_clock::now();
  try {
    build_platforms(options_for("linux/amd64,linux/arm64,linux/arm/v7"), backend, layout, dir.path(), {});
    FAIL() << "the build succeeded";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "build for linux/arm64 failed (failing exit 1): no space left on device");
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 10.0) << "the other platforms' `sleep 30` builders were not stopped";
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "layout" / "blobs" / "sha256")) {
    EXPECT_FALSE(mt::is_index(image::parse_json(core::read_file(entry.path()), "blob").value("mediaType", "")))
        << "an index was written";
  }
}

}  // namespace
}  // namespace polyarch::build
