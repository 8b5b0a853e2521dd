// CI facts into build options: the CI's image and labels between
// polyarch.yml and the environment, and "type=…" tags expanded from facts.
#include <gtest/gtest.h>

#include "adapters/ci/adapter.hpp"
#include "adapters/ci/apply.hpp"
#include "engine/core/config.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"

namespace polyarch::ci {
namespace {

std::int64_t fixed_clock() { return 1578616200000; }

core::Env gitlab_tag() {
  return {{"GITLAB_CI", "true"}, {"CI_COMMIT_TAG", "v1.2.3"}, {"CI_PIPELINE_SOURCE", "push"},
          {"CI_COMMIT_SHA", "90dd6032fac8bda1b6c4436a2e65de27961ed071"}, {"CI_PROJECT_NAME", "p"},
          {"CI_PROJECT_URL", "https://gitlab.example.com/g/p"}, {"CI_REGISTRY_IMAGE", "registry.example.com/g/p"}};
}

TEST(CiApplyTest, FactsFillWhatTheFileLeftUnset) {
  auto adapter = make_adapter("gitlab", gitlab_tag(), fixed_clock);
  build::BuildOptions options;
  options.labels["org.opencontainers.image.title"] = "from polyarch.yml";
  apply_facts(*adapter, options);
  EXPECT_EQ(options.images, std::vector<std::string>{"registry.example.com/g/p"});
  std::map<std::string, std::string> expected = {
      {"org.opencontainers.image.created", "2020-01-10T00:30:00.000Z"},
      {"org.opencontainers.image.revision", "90dd6032fac8bda1b6c4436a2e65de27961ed071"},
      {"org.opencontainers.image.source", "https://gitlab.example.com/g/p"},
      {"org.opencontainers.image.title", "from polyarch.yml"},
      {"org.opencontainers.image.url", "https://gitlab.example.com/g/p"}};
  EXPECT_EQ(options.labels, expected);
  build::BuildOptions named;
  named.images = {"docker.io/me/app"};
  apply_facts(*adapter, named);
  EXPECT_EQ(named.images, std::vector<std::string>{"docker.io/me/app"});
}

TEST(CiApplyTest, LocalRunsChangeNothing) {
  build::BuildOptions options;
  apply_facts(*make_adapter("local", {}, fixed_clock), options);
  EXPECT_TRUE(options.images.empty());
  EXPECT_TRUE(options.labels.empty());
}

TEST(CiApplyTest, TagRulesBecomeTags) {
  auto adapter = make_adapter("gitlab", gitlab_tag(), fixed_clock);
  build::BuildOptions options;
  options.tags = {"type=semver,pattern={{version}}", "stable", "type=semver,pattern={{major}}.{{minor}}"};
  expand_tag_rules(*adapter, options);
  EXPECT_EQ(options.tags, (std::vector<std::string>{"stable", "1.2.3", "1.2", "latest"}));
  build::BuildOptions plain;
  plain.tags = {"1.0"};
  expand_tag_rules(*adapter, plain);
  EXPECT_EQ(plain.tags, std::vector<std::string>{"1.0"});
}

// What `polyarch build` does with polyarch.yml's tags: rules expand from
// the CI's facts (a GitLab tag pipeline for v1.2.3), plain tags stay.
TEST(CiApplyTest, ConfigTagsAsRulesOrAsPlainTags) {
  auto adapter = make_adapter("gitlab", gitlab_tag(), fixed_clock);
  core::TempDir dir;
  auto load = [&](const std::string& yaml) {
    core::write_file_atomic(dir.path() / "polyarch.yml", yaml);
    build::BuildOptions options;
    core::apply_config_file(dir.path() / "polyarch.yml", options);
    apply_facts(*adapter, options);
    expand_tag_rules(*adapter, options);
    return options.tags;
  };
  EXPECT_EQ(load("tags:\n  - type=semver,pattern={{version}}\n  - type=semver,pattern={{major}}\n"
                 "  - type=sha\n  - type=ref,event=branch\n"),
            (std::vector<std::string>{"1.2.3", "1", "sha-90dd603", "latest"}));
  EXPECT_EQ(load("tags: |\n  type=raw,value=release\n  type=semver,pattern=v{{major}}.{{minor}}\n"),
            (std::vector<std::string>{"v1.2", "release", "latest"}));  // semver (900) before raw (200)
  EXPECT_EQ(load("tags: [1.0, registry.example.com/g/p:edge]\n"),
            (std::vector<std::string>{"1.0", "registry.example.com/g/p:edge"}));
  EXPECT_EQ(load("tags: v1, latest\n"), (std::vector<std::string>{"v1", "latest"}));
}

TEST(CiApplyTest, RulesThatGiveNothingLeaveALayoutBuildUntagged) {
  auto adapter = make_adapter("gitlab", gitlab_tag(), fixed_clock);
  build::BuildOptions options;
  options.tags = {"type=ref,event=branch"};
  expand_tag_rules(*adapter, options);
  EXPECT_TRUE(options.tags.empty());
}

TEST(CiApplyTest, RulesThatGiveNothingToPushAreAnError) {
  auto adapter = make_adapter("gitlab", gitlab_tag(), fixed_clock);
  build::BuildOptions options;
  options.push = true;
  options.tags = {"type=ref,event=branch"};
  try {
    expand_tag_rules(*adapter, options);
    FAIL() << "no tags accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "tag rules \"type=ref,event=branch\" give no tag for this build (event tag)");
  }
}

}  // namespace
}  // namespace polyarch::ci
