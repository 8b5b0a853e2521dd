// polyarch plan: the job matrix of a split build, one leg per platform.
//
// Each leg says which kind of CI runner builds it without QEMU:
//   runner "amd64"  an x86-64 runner (ubuntu-24.04, medium, LINUX_CONTAINER)
//                   builds linux/amd64 and linux/386 natively;
//   runner "arm64"  an arm64 runner (ubuntu-24.04-arm, arm.medium,
//                   ARM_CONTAINER) builds linux/arm64, linux/arm/v7 and
//                   linux/arm/v6 natively;
//   runner "any"    any runner, under emulation ("emulated": true).
// The facts come from the arch table's native_on column. Each leg also
// carries its CI's name for that runner ("label", from --ci or the CI
// detected): a GitHub runs-on label, a GitLab SaaS runner tag, a CircleCI
// resource class, a CodeBuild environment type; "any" legs take the amd64 one.
//
// Text output, one line per platform: PLATFORM  SLUG  RUNNER  native|emulated  LABEL
// JSON output (--format json) is a compact array on one line, so a CI system
// can take it as a matrix as it is, e.g. in GitHub Actions
//   matrix: { include: ${{ fromJSON(needs.plan.outputs.matrix) }} }
//   runs-on: ${{ matrix.label }}
// [{"platform":"linux/amd64","slug":"linux-amd64","runner":"amd64","emulated":false,"label":"ubuntu-24.04"},…]
#include <algorithm>
#include <iostream>

#include "adapters/ci/adapter.hpp"
#include "adapters/cli/commands.hpp"
#include "engine/core/env.hpp"
#include "engine/core/error.hpp"
#include "engine/emulation/arch_table.hpp"
#include "engine/image/manifest.hpp"

namespace polyarch::cli {

namespace {

// The runner kinds CI systems offer, in order of preference.
constexpr std::string_view k_runner_kinds[] = {"amd64", "arm64"};

// Each CI's name for an amd64 and an arm64 runner.
struct RunnerLabels {
  std::string_view ci, amd64, arm64;
};
constexpr RunnerLabels k_runner_labels[] = {
    {"github", "ubuntu-24.04", "ubuntu-24.04-arm"},
    {"gitlab", "saas-linux-small-amd64", "saas-linux-small-arm64"},
    {"circleci", "medium", "arm.medium"},
    {"codebuild", "LINUX_CONTAINER", "ARM_CONTAINER"},
    {"local", "amd64", "arm64"},
};

std::string label_for(std::string_view ci, std::string_view runner) {
  for (const auto& row : k_runner_labels) {
    if (row.ci == ci) return std::string(runner == "arm64" ? row.arm64 : row.amd64);
  }
  return std::string(runner);
}

struct Leg {
  std::string platform;  // "linux/arm/v7"
  std::string slug;      // "linux-arm-v7": safe in job names, scopes and file names
  std::string runner;    // "amd64", "arm64" or "any"
  bool emulated = true;
  std::string label;     // the CI's name for that runner
};

Leg leg_for(const image::Platform& platform) {
  Leg leg;
  leg.platform = platform.str();
  leg.slug = leg.platform;
  for (char& c : leg.slug) {
    if (c == '/') c = '-';
  }
  leg.runner = "any";
  const emulation::Arch* arch = emulation::find_arch(platform);
  for (auto kind : k_runner_kinds) {
    if (arch != nullptr && emulation::runs_natively(*arch, image::parse_platform("linux/" + std::string(kind)))) {
      leg.runner = kind;
      leg.emulated = false;
      break;
    }
  }
  return leg;
}

}  // namespace

int run_plan(Context& context) {
  const Args& args = context.args;
  if (!args.positionals().empty()) {
    throw bad_input("plan takes no arguments; give platforms with --platform P,…");
  }
  std::vector<image::Platform> platforms;
  for (const auto& text : args.values("--platform")) {
    for (const auto& platform : image::parse_platforms(text)) {
      if (std::find(platforms.begin(), platforms.end(), platform) == platforms.end()) platforms.push_back(platform);
    }
  }
  if (platforms.empty()) throw bad_input("plan needs --platform P,… (e.g. linux/amd64,linux/arm64)");
  std::string ci(ci::make_adapter(args.value("--ci", "auto"), core::process_env())->name());
  std::vector<Leg> legs;
  for (const auto& platform : platforms) {
    legs.push_back(leg_for(platform));
    legs.back().label = label_for(ci, legs.back().runner);
  }

  if (context.format == Format::json) {
    image::Json json = image::Json::array();
    for (const auto& leg : legs) {
      json.push_back({{"platform", leg.platform}, {"slug", leg.slug}, {"runner", leg.runner},
                      {"emulated", leg.emulated}, {"label", leg.label}});
    }
    context.out << json.dump() << "\n";
    return 0;
  }
  size_t platform_width = 0, slug_width = 0;
  for (const auto& leg : legs) {
    platform_width = std::max(platform_width, leg.platform.size());
    slug_width = std::max(slug_width, leg.slug.size());
  }
  for (const auto& leg : legs) {
    context.out << leg.platform << std::string(platform_width - leg.platform.size() + 2, ' ')
                << leg.slug << std::string(slug_width - leg.slug.size() + 2, ' ') << leg.runner
                << std::string(7 - leg.runner.size(), ' ') << (leg.emulated ? "emulated  " : "native    ")
                << leg.label << "\n";
  }
  return 0;
}

}  // namespace polyarch::cli
