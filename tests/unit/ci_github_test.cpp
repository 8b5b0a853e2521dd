// The GitHub Actions adapter: facts from realistic environments, its cache
// convention and login, and $GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY read back
// the way the runner reads them.
#include <gtest/gtest.h>

#include <sstream>

#include "adapters/ci/adapter.hpp"
#include "adapters/ci/apply.hpp"
#include "adapters/ci/outputs.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/strings.hpp"
#include "engine/image/digest.hpp"

namespace polyarch::ci {
namespace {

constexpr const char* k_sha = "ffac537e6cbbf934b08745a378932722df287a53";
constexpr std::int64_t k_now = 1700000000123;

std::int64_t fixed_clock() { return k_now; }

class GithubTest : public ::testing::Test {
 protected:
  core::Env env(const std::string& event, const std::string& ref) {
    core::write_file_atomic(m_dir.path() / "event.json", R"({
      "ref": ")" + ref + R"(", "base_ref": "refs/heads/main",
      "repository": {"name": "Hello-World", "description": "My first repo", "default_branch": "main",
                     "html_url": "https://github.com/Octocat/Hello-World", "license": {"spdx_id": "MIT"}},
      "head_commit": {"timestamp": "2024-03-01T10:00:00+01:00"}})");
    return {{"GITHUB_ACTIONS", "true"},         {"GITHUB_EVENT_NAME", event},
            {"GITHUB_REF", ref},                {"GITHUB_SHA", k_sha},
            {"GITHUB_REPOSITORY", "Octocat/Hello-World"}, {"GITHUB_SERVER_URL", "https://github.com"},
            {"GITHUB_RUN_ID", "9000"},          {"GITHUB_RUN_NUMBER", "42"},
            {"GITHUB_ACTOR", "octocat"},        {"GITHUB_EVENT_PATH", (m_dir.path() / "event.json").string()},
            {"GITHUB_OUTPUT", (m_dir.path() / "output").string()},
            {"GITHUB_STEP_SUMMARY", (m_dir.path() / "summary").string()}};
  }

  metadata::Facts facts(const core::Env& e) { return make_adapter("auto", e, fixed_clock)->facts(); }

  core::TempDir m_dir{"polyarch-ci-github"};
};

TEST_F(GithubTest, BranchPush) {
  metadata::Facts f = facts(env("push", "refs/heads/main"));
  EXPECT_EQ(f.event, metadata::Event::branch);
  EXPECT_EQ(f.ref, "refs/heads/main");
  EXPECT_EQ(f.branch, "main");
  EXPECT_EQ(f.tag, "");
  EXPECT_EQ(f.pr_number, "");
  EXPECT_EQ(f.sha, k_sha);
  EXPECT_EQ(f.default_branch, "main");
  EXPECT_EQ(f.repository_url, "https://github.com/Octocat/Hello-World");
  EXPECT_EQ(f.repository_name, "Octocat/Hello-World");
  EXPECT_EQ(f.title, "Hello-World");
  EXPECT_EQ(f.description, "My first repo");
  EXPECT_EQ(f.licenses, "MIT");
  EXPECT_EQ(f.build_number, "42");
  EXPECT_EQ(f.commit_time, "2024-03-01T10:00:00+01:00");
  EXPECT_EQ(f.registry, "ghcr.io");
  EXPECT_EQ(f.registry_image, "ghcr.io/octocat/hello-world");
  EXPECT_EQ(f.time_ms, k_now);
}

TEST_F(GithubTest, TagPush) {
  metadata::Facts f = facts(env("push", "refs/tags/v1.2.3"));
  EXPECT_EQ(f.event, metadata::Event::tag);
  EXPECT_EQ(f.tag, "v1.2.3");
  EXPECT_EQ(f.branch, "");
  EXPECT_EQ(f.base_ref, "main");
}

TEST_F(GithubTest, PullRequest) {
  core::Env e = env("pull_request", "refs/pull/7/merge");
  e["GITHUB_HEAD_REF"] = "feature/x";
  e["GITHUB_BASE_REF"] = "main";
  metadata::Facts f = facts(e);
  EXPECT_EQ(f.event, metadata::Event::pull_request);
  EXPECT_EQ(f.pr_number, "7");
  EXPECT_EQ(f.branch, "");
  EXPECT_EQ(f.head_branch, "feature/x");
  EXPECT_EQ(f.base_ref, "main");
}

TEST_F(GithubTest, ScheduleAndManual) {
  metadata::Facts scheduled = facts(env("schedule", "refs/heads/main"));
  EXPECT_EQ(scheduled.event, metadata::Event::schedule);
  EXPECT_EQ(scheduled.branch, "main");
  metadata::Facts manual = facts(env("workflow_dispatch", "refs/heads/dev"));
  EXPECT_EQ(manual.event, metadata::Event::manual);
  EXPECT_EQ(manual.branch, "dev");
}

TEST_F(GithubTest, SourceDateEpochWinsOverTheClock) {
  core::Env e = env("push", "refs/heads/main");
  e["SOURCE_DATE_EPOCH"] = "1578616200";
  EXPECT_EQ(facts(e).time_ms, 1578616200000);
  e["SOURCE_DATE_EPOCH"] = "yesterday";
  try {
    facts(e);
    FAIL() << "accepted a bad SOURCE_DATE_EPOCH";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "invalid SOURCE_DATE_EPOCH \"yesterday\": expected whole seconds since 1970");
  }
}

TEST_F(GithubTest, CacheConventionAndLogin) {
  core::Env e = env("push", "refs/heads/main");
  e["INPUT_GITHUB-TOKEN"] = "ghs_secret123";
  auto adapter = make_adapter("github", e, fixed_clock);
  EXPECT_EQ(adapter->cache_convention("buildx"), "type=gha");
  EXPECT_EQ(adapter->cache_convention("buildah"), "type=registry,ref=ghcr.io/octocat/hello-world:buildcache,mode=max");
  auto logins = adapter->logins();
  ASSERT_EQ(logins.size(), 1u);
  EXPECT_EQ(logins[0].registry, "ghcr.io");
  EXPECT_EQ(logins[0].credential.username, "octocat");
  EXPECT_EQ(logins[0].credential.password, "ghs_secret123");
  registry::CredentialStore store({{"DOCKER_CONFIG", m_dir.path().string()}});
  std::ostringstream log;
  EXPECT_EQ(apply_logins(*adapter, store, log), 1);
  EXPECT_EQ(log.str(), "::add-mask::ghs_secret123\n");
  EXPECT_EQ(store.find("ghcr.io")->password, "ghs_secret123");
  EXPECT_FALSE(store.find("docker.io").has_value());
}

// Reads a GITHUB_OUTPUT file as the runner does: NAME=VALUE, or
// NAME<<DELIMITER, lines, DELIMITER.
std::map<std::string, std::string> read_github_output(const std::string& text) {
  std::map<std::string, std::string> values;
  auto lines = core::split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty()) continue;
    size_t heredoc = line.find("<<");
    size_t equals = line.find('=');
    if (heredoc != std::string::npos && (equals == std::string::npos || heredoc < equals)) {
      std::string delimiter = line.substr(heredoc + 2);
      std::string value;
      size_t j = i + 1;
      for (; j < lines.size() && lines[j] != delimiter; ++j) value += (j == i + 1 ? "" : "\n") + lines[j];
      EXPECT_LT(j, lines.size()) << "no closing delimiter " << delimiter;
      values[line.substr(0, heredoc)] = value;
      i = j;
    } else {
      values[line.substr(0, equals)] = line.substr(equals + 1);
    }
  }
  return values;
}

TEST_F(GithubTest, BuildOutputsInTheRunnersFormat) {
  auto adapter = make_adapter("github", env("push", "refs/heads/main"), fixed_clock);
  BuildResult result{"sha256:aaaa", {"ghcr.io/o/app:1.2.3", "ghcr.io/o/app:latest"},
                     {{"linux/amd64", "sha256:bbbb", 1234}, {"linux/arm64", "sha256:cccc", 5678}}};
  adapter->write_outputs(build_outputs(result));
  std::string text = core::read_file(m_dir.path() / "output");
  std::string tags_delimiter = "ghadelimiter_" + image::sha256("tags\nghcr.io/o/app:1.2.3\nghcr.io/o/app:latest").hex.substr(0, 32);
  std::string platforms_delimiter = "ghadelimiter_" + image::sha256("platforms\nlinux/amd64\nlinux/arm64").hex.substr(0, 32);
  EXPECT_EQ(text, "digest=sha256:aaaa\n"
                  "tags<<" + tags_delimiter + "\nghcr.io/o/app:1.2.3\nghcr.io/o/app:latest\n" + tags_delimiter + "\n"
                  "platforms<<" + platforms_delimiter + "\nlinux/amd64\nlinux/arm64\n" + platforms_delimiter + "\n"
                  "metadata={\"digest\":\"sha256:aaaa\",\"platforms\":[{\"digest\":\"sha256:bbbb\",\"platform\":"
                  "\"linux/amd64\",\"size\":1234},{\"digest\":\"sha256:cccc\",\"platform\":\"linux/arm64\",\"size\":5678}],"
                  "\"tags\":[\"ghcr.io/o/app:1.2.3\",\"ghcr.io/o/app:latest\"]}\n");
  auto values = read_github_output(text);
  EXPECT_EQ(values["tags"], "ghcr.io/o/app:1.2.3\nghcr.io/o/app:latest");
  EXPECT_EQ(values["digest"], "sha256:aaaa");
  EXPECT_EQ(core::read_file(m_dir.path() / "summary"),
            "### polyarch build\n\nIndex `sha256:aaaa` tagged `ghcr.io/o/app:1.2.3`, `ghcr.io/o/app:latest`.\n\n"
            "| platform | digest | size | build time | built |\n| --- | --- | --: | --: | --- |\n"
            "| linux/amd64 | `sha256:bbbb` |  |  |  |\n| linux/arm64 | `sha256:cccc` |  |  |  |\n");
}

TEST_F(GithubTest, SpecialCharactersSurviveTheRoundTrip) {
  auto adapter = make_adapter("github", env("push", "refs/heads/main"), fixed_clock);
  std::string tricky = "a=b<<EOF\nEOF\n%0A 'quoted' \"double\" $HOME `tick`";
  adapter->write_outputs({{{"odd", {tricky}, false}, {"empty", {""}, false}}, ""});
  auto values = read_github_output(core::read_file(m_dir.path() / "output"));
  EXPECT_EQ(values["odd"], tricky);
  EXPECT_EQ(values["empty"], "");
  EXPECT_FALSE(std::filesystem::exists(m_dir.path() / "summary"));  // no summary for these outputs
}

TEST_F(GithubTest, GroupsAndMasks) {
  auto adapter = make_adapter("github", env("push", "refs/heads/main"), fixed_clock);
  EXPECT_EQ(adapter->section_start("build", "polyarch: build 2 platforms"), "::group::polyarch: build 2 platforms\n");
  EXPECT_EQ(adapter->section_end("build"), "::endgroup::\n");
  EXPECT_EQ(adapter->mask("a%b\nc"), "::add-mask::a%25b%0Ac\n");
  std::ostringstream log;
  {
    Sections sections(make_adapter("github", env("push", "refs/heads/main"), fixed_clock), log, true);
    sections.next("plan", "plan");
    sections.next("build", "build");
  }
  EXPECT_EQ(log.str(), "::group::plan\n::endgroup::\n::group::build\n::endgroup::\n");
}

}  // namespace
}  // namespace polyarch::ci
