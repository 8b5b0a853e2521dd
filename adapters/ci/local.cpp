// A run outside any CI: no facts beyond the time, no cache, no outputs.
#include "adapters/ci/adapters.hpp"
#include "engine/cache/cache.hpp"

namespace polyarch::ci {

namespace {

class LocalAdapter final : public Adapter {
 public:
  using Adapter::Adapter;

  std::string_view name() const override { return "local"; }

  metadata::Facts facts() const override {
    metadata::Facts facts;
    facts.time_ms = build_time_ms();
    return facts;
  }

  std::string cache_convention(std::string_view, std::string_view) const override {
    return std::string(cache::k_local_auto);
  }
};

}  // namespace

bool detect_local(const core::Env&) { return true; }

std::unique_ptr<Adapter> make_local(core::Env env, Clock clock) {
  return std::make_unique<LocalAdapter>(std::move(env), std::move(clock));
}

}  // namespace polyarch::ci
