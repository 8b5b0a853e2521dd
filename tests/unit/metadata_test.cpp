// Tags and labels checked against docker/metadata-action's documented
// behaviour (its README's tables and examples), rule by rule.
#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/metadata/expressions.hpp"
#include "engine/metadata/metadata.hpp"

namespace polyarch::metadata {
namespace {

constexpr const char* k_sha = "90dd6032fac8bda1b6c4436a2e65de27961ed071";
constexpr std::int64_t k_time = 1578616200000;  // 2020-01-10T00:30:00.000Z

Facts base() {
  Facts facts;
  facts.sha = k_sha;
  facts.default_branch = "master";
  facts.time_ms = k_time;
  return facts;
}

Facts branch(const std::string& name) {
  Facts facts = base();
  facts.event = Event::branch;
  facts.ref = "refs/heads/" + name;
  facts.branch = name;
  return facts;
}

Facts tag(const std::string& name) {
  Facts facts = base();
  facts.event = Event::tag;
  facts.ref = "refs/tags/" + name;
  facts.tag = name;
  return facts;
}

Facts pull_request(const std::string& number) {
  Facts facts = base();
  facts.event = Event::pull_request;
  facts.ref = "refs/pull/" + number + "/merge";
  facts.pr_number = number;
  facts.base_ref = "master";
  return facts;
}

Facts schedule() {
  Facts facts = branch("master");
  facts.event = Event::schedule;
  return facts;
}

using Lines = std::vector<std::string>;

struct Case {
  const char* name;
  Facts facts;
  Lines rules;
  Lines flavor;
  Lines expected;  // tags for the image name/app
  Lines images = {"name/app"};
};

const Lines k_semver_example = {"type=ref,event=branch", "type=ref,event=pr", "type=semver,pattern={{version}}",
                                "type=semver,pattern={{major}}.{{minor}}"};

Lines app(const Lines& tags) {
  Lines out;
  for (const auto& tag : tags) out.push_back("name/app:" + tag);
  return out;
}

std::vector<Case> cases() {
  std::string long_branch(200, 'b');
  return {
      // The default rules (README "Basic").
      {"default pr", pull_request("2"), {}, {}, app({"pr-2"})},
      {"default branch", branch("master"), {}, {}, app({"master"})},
      {"default nested branch", branch("releases/v1"), {}, {}, app({"releases-v1"})},
      {"default tag", tag("v1.2.3"), {}, {}, app({"v1.2.3", "latest"})},
      {"default pre-release tag", tag("v2.0.8-beta.67"), {}, {}, app({"v2.0.8-beta.67", "latest"})},
      {"default schedule", schedule(), {}, {}, app({"nightly", "master"})},
      // README "Semver".
      {"semver example pr", pull_request("2"), k_semver_example, {}, app({"pr-2"})},
      {"semver example branch", branch("master"), k_semver_example, {}, app({"master"})},
      {"semver example tag", tag("v1.2.3"), k_semver_example, {}, app({"1.2.3", "1.2", "latest"})},
      {"semver example pre-release", tag("v2.0.8-beta.67"), k_semver_example, {}, app({"2.0.8-beta.67"})},
      // type=semver patterns.
      {"semver raw", tag("v1.2.3"), {"type=semver,pattern={{raw}}"}, {}, app({"v1.2.3", "latest"})},
      {"semver v major", tag("v1.2.3"), {"type=semver,pattern=v{{major}}"}, {}, app({"v1", "latest"})},
      {"semver minor", tag("v1.2.3"), {"type=semver,pattern={{minor}}"}, {}, app({"2", "latest"})},
      {"semver patch", tag("v1.2.3"), {"type=semver,pattern={{patch}}"}, {}, app({"3", "latest"})},
      {"semver pre-release raw", tag("v2.0.8-beta.67"), {"type=semver,pattern={{raw}}"}, {}, app({"v2.0.8-beta.67"})},
      {"semver pre-release major.minor", tag("v2.0.8-beta.67"), {"type=semver,pattern={{major}}.{{minor}}"}, {},
       app({"2.0.8-beta.67"})},
      {"semver build metadata", tag("v1.2.3+build.5"), {"type=semver,pattern={{version}}"}, {}, app({"1.2.3", "latest"})},
      {"semver value on a branch", branch("master"), {"type=semver,pattern={{version}},value=v1.0.0"}, {},
       app({"1.0.0", "latest"})},
      {"semver without a tag", branch("master"), {"type=semver,pattern={{version}}"}, {}, {}},
      {"semver invalid tag", tag("release-1"), {"type=semver,pattern={{version}}"}, {}, {}},
      // type=pep440.
      {"pep440 version", tag("1.2.3"), {"type=pep440,pattern={{version}}"}, {}, app({"1.2.3", "latest"})},
      {"pep440 pre-release", tag("1.1rc2"), {"type=pep440,pattern={{major}}.{{minor}}"}, {}, app({"1.1rc2"})},
      {"pep440 dev release", tag("v1.0dev4"), {"type=pep440,pattern={{version}}"}, {}, app({"1.0.dev4"})},
      {"pep440 post release", tag("1.2.post1"), {"type=pep440,pattern={{major}}"}, {}, app({"1.2.post1"})},
      // type=match (README table).
      {"match group 0", tag("v1.2.3"), {"type=match,pattern=\\d.\\d.\\d"}, {}, app({"1.2.3", "latest"})},
      {"match group 1", tag("v2.0.8-beta.67"), {"type=match,pattern=v(.*),group=1"}, {}, app({"2.0.8-beta.67", "latest"})},
      {"match short group", tag("v2.0.8-beta.67"), {"type=match,pattern=v(\\d.\\d),group=1"}, {}, app({"2.0", "latest"})},
      {"match digits", tag("20200110-RC2"), {"type=match,pattern=\\d+"}, {}, app({"20200110", "latest"})},
      {"match slash tag", tag("p1/v1.2.3"), {"type=match,pattern=p1-v(\\d.\\d.\\d),group=1"}, {}, app({"1.2.3", "latest"})},
      {"match no match", tag("v1.2.3"), {"type=match,pattern=^x(\\d)"}, {}, {}},
      // type=edge.
      {"edge default branch", branch("master"), {"type=edge"}, {}, app({"edge"})},
      {"edge other branch", branch("dev"), {"type=edge"}, {}, {}},
      {"edge named branch", branch("dev"), {"type=edge,branch=dev"}, {}, app({"edge"})},
      // type=ref.
      {"ref branch sanitized", branch("my/branch"), {"type=ref,event=branch"}, {}, app({"my-branch"})},
      {"ref tag", tag("v1.2.3"), {"type=ref,event=tag"}, {}, app({"v1.2.3", "latest"})},
      {"ref branch prefix", branch("master"), {"type=ref,event=branch,prefix=br-"}, {}, app({"br-master"})},
      {"ref pr on a branch", branch("master"), {"type=ref,event=pr"}, {}, {}},
      // type=raw.
      {"raw two values", branch("master"), {"type=raw,value=foo", "type=raw,value=bar"}, {}, app({"foo", "bar"})},
      {"raw latest on default branch", branch("master"), {"type=raw,value=latest,enable={{is_default_branch}}"}, {},
       app({"latest"})},
      {"raw latest off default branch", branch("dev"), {"type=raw,value=latest,enable={{is_default_branch}}"}, {}, {}},
      {"raw expressions", branch("master"), {"type=raw,value={{branch}}-{{sha}}"}, {}, app({"master-90dd603"})},
      {"raw date", branch("master"), {"type=raw,value={{date 'YYYYMMDD'}}"}, {}, app({"20200110"})},
      {"raw bare line", branch("master"), {"my-tag"}, {}, app({"my-tag"})},
      // type=sha.
      {"sha short", branch("master"), {"type=sha"}, {}, app({"sha-90dd603"})},
      {"sha long", branch("master"), {"type=sha,format=long"}, {}, app({std::string("sha-") + k_sha})},
      {"sha no prefix", branch("master"), {"type=sha,prefix="}, {}, app({"90dd603"})},
      // type=schedule.
      {"schedule date pattern", schedule(), {"type=schedule,pattern={{date 'YYYYMMDD'}}"}, {}, app({"20200110"})},
      {"schedule on a push", branch("master"), {"type=schedule"}, {}, {}},
      // flavor.
      {"latest=false", tag("v1.2.3"), {}, {"latest=false"}, app({"v1.2.3"})},
      {"latest=true", branch("master"), {}, {"latest=true"}, app({"master", "latest"})},
      {"flavor prefix", tag("v1.2.3"), {"type=semver,pattern={{version}}"}, {"prefix=foo-"}, app({"foo-1.2.3", "latest"})},
      {"flavor prefix on latest", tag("v1.2.3"), {"type=semver,pattern={{version}}"}, {"prefix=foo-,onlatest=true"},
       app({"foo-1.2.3", "foo-latest"})},
      {"flavor suffix on latest", tag("v1.2.3"), {"type=semver,pattern={{version}}"}, {"suffix=-slim,onlatest=true"},
       app({"1.2.3-slim", "latest-slim"})},
      {"rule suffix beats flavor", tag("v1.2.3"), {"type=semver,pattern={{version}},suffix="}, {"suffix=-slim"},
       app({"1.2.3", "latest"})},
      // priority.
      {"priority raises sha", branch("master"), {"type=ref,event=branch", "type=sha,priority=1100"}, {},
       app({"sha-90dd603", "master"})},
      {"bake example", tag("v1.2.3"),
       {"type=ref,event=branch", "type=ref,event=pr", "type=semver,pattern={{version}}",
        "type=semver,pattern={{major}}.{{minor}}", "type=sha"},
       {}, app({"1.2.3", "1.2", "sha-90dd603", "latest"})},
      // sanitizing.
      {"sanitize branch", branch("feature/ABC_1.0+x"), {}, {}, app({"feature-ABC_1.0-x"})},
      {"sanitize length", branch(long_branch), {}, {}, app({std::string(128, 'b')})},
      // images.
      {"two images", tag("v1.2.3"), {}, {}, {"name/app:v1.2.3", "name/app:latest", "ghcr.io/name/app:v1.2.3",
                                             "ghcr.io/name/app:latest"}, {"name/app", "ghcr.io/Name/App"}},
      {"image disabled", tag("v1.2.3"), {}, {}, {"ghcr.io/name/app:v1.2.3", "ghcr.io/name/app:latest"},
       {"name=name/app,enable=false", "name=ghcr.io/name/app"}},
      {"csv images", branch("master"), {}, {}, {"a/b:master", "c/d:master"}, {"a/b,c/d"}},
      {"no image", tag("v1.2.3"), {}, {}, {"v1.2.3", "latest"}, {}},
  };
}

TEST(MetadataTest, TagsMatchMetadataAction) {
  auto all = cases();
  ASSERT_GE(all.size(), 40u);
  for (const auto& c : all) {
    Metadata made = compute(c.facts, {c.images, c.rules, c.flavor});
    EXPECT_EQ(made.tags, c.expected) << c.name;
  }
}

TEST(MetadataTest, VersionIsTheFirstTag) {
  EXPECT_EQ(compute(tag("v1.2.3"), {{}, k_semver_example, {}}).version, "1.2.3");
  EXPECT_EQ(compute(branch("dev"), {{}, {"type=edge"}, {}}).version, "");
}

TEST(MetadataTest, InvalidSemverWarns) {
  Metadata made = compute(tag("release-1"), {{}, {"type=semver,pattern={{version}}"}, {}});
  ASSERT_EQ(made.warnings.size(), 1u);
  EXPECT_EQ(made.warnings[0],
            "\"release-1\" is not a valid semver; rule \"type=semver,pattern={{version}}\" makes no tag");
}

TEST(MetadataTest, LabelsAsTheBakeExample) {
  Facts facts = tag("v1.2.3");
  facts.title = "Hello-World";
  facts.description = "This your first repo!";
  facts.repository_url = "https://github.com/octocat/Hello-World";
  facts.licenses = "MIT";
  Metadata made = compute(facts, {{"name/app"}, k_semver_example, {}});
  std::vector<std::pair<std::string, std::string>> expected = {
      {"org.opencontainers.image.title", "Hello-World"},
      {"org.opencontainers.image.description", "This your first repo!"},
      {"org.opencontainers.image.url", "https://github.com/octocat/Hello-World"},
      {"org.opencontainers.image.source", "https://github.com/octocat/Hello-World"},
      {"org.opencontainers.image.version", "1.2.3"},
      {"org.opencontainers.image.created", "2020-01-10T00:30:00.000Z"},
      {"org.opencontainers.image.revision", k_sha},
      {"org.opencontainers.image.licenses", "MIT"},
  };
  EXPECT_EQ(made.labels, expected);
  EXPECT_EQ(made.annotations[0], "manifest:org.opencontainers.image.title=Hello-World");
  nlohmann::json json = made.json();
  EXPECT_EQ(json["tags"], nlohmann::json({"name/app:1.2.3", "name/app:1.2", "name/app:latest"}));
  EXPECT_EQ(json["labels"]["org.opencontainers.image.version"], "1.2.3");
  EXPECT_EQ(json["annotations"].size(), 8u);
}

std::string error_of(const Facts& facts, const Request& request) {
  try {
    compute(facts, request);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_status(), 2);
    return e.what();
  }
  return "no error";
}

TEST(MetadataTest, BadInputIsNamed) {
  Facts facts = branch("master");
  EXPECT_EQ(error_of(facts, {{}, {"type=foo"}, {}}),
            "invalid tag rule \"type=foo\": unknown type \"foo\" (schedule, semver, pep440, match, edge, ref, raw, sha)");
  EXPECT_EQ(error_of(facts, {{}, {"type=ref"}, {}}),
            "invalid tag rule \"type=ref\": type=ref needs event=branch, event=tag or event=pr");
  EXPECT_EQ(error_of(facts, {{}, {"type=semver"}, {}}), "invalid tag rule \"type=semver\": type=semver needs pattern=…");
  EXPECT_EQ(error_of(facts, {{}, {"type=sha,length=7"}, {}}),
            "invalid tag rule \"type=sha,length=7\": unknown key \"length\" for type=sha");
  EXPECT_EQ(error_of(facts, {{}, {"type=raw,value=a,priority=high"}, {}}),
            "invalid tag rule \"type=raw,value=a,priority=high\": priority \"high\" must be a whole number");
  EXPECT_EQ(error_of(facts, {{}, {}, {"latest=sometimes"}}),
            "invalid flavor \"latest=sometimes\": latest must be auto, true or false, not \"sometimes\"");
  EXPECT_EQ(error_of(facts, {{}, {"type=raw,value={{nope}}"}, {}}),
            "unknown expression \"{{nope}}\" in \"{{nope}}\"");
  EXPECT_EQ(error_of(facts, {{}, {"type=raw,value=a,enable=maybe"}, {}}),
            "invalid enable \"maybe\" in \"type=raw,value=a,enable=maybe\": expected true or false");
}

TEST(MetadataTest, DatesUseMomentTokens) {
  EXPECT_EQ(format_date(k_time, "YYYYMMDD-HHmmss"), "20200110-003000");
  EXPECT_EQ(format_date(k_time, "[week] D/M/YY"), "week 10/1/20");
  EXPECT_EQ(iso_time(k_time + 7), "2020-01-10T00:30:00.007Z");
}

}  // namespace
}  // namespace polyarch::metadata
