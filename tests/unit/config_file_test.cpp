#include "engine/core/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"

namespace polyarch::core {
namespace {

namespace fs = std::filesystem;

// Runs each test inside a fresh TempDir so that messages name "polyarch.yml"
// exactly as a user in that directory would see them.
class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    m_previous = fs::current_path();
    fs::current_path(m_dir.path());
  }
  void TearDown() override { fs::current_path(m_previous); }

  // Writes yaml to polyarch.yml and applies it to a fresh BuildOptions.
  build::BuildOptions load(const std::string& yaml) {
    write_file_atomic("polyarch.yml", yaml);
    build::BuildOptions options;
    apply_config_file("polyarch.yml", options);
    return options;
  }

  // The message apply_config_file throws for yaml ("" when it throws none).
  std::string error_of(const std::string& yaml, const fs::path& file = "polyarch.yml") {
    write_file_atomic(file, yaml);
    build::BuildOptions options;
    try {
      apply_config_file(file, options);
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::bad_input) << error.what();
      return error.what();
    }
    return "";
  }

  TempDir m_dir{"polyarch-config"};
  fs::path m_previous;
};

std::vector<std::string> platform_names(const build::BuildOptions& options) {
  std::vector<std::string> names;
  for (const auto& platform : options.platforms) names.push_back(platform.str());
  return names;
}

using Strings = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;

struct ErrorCase {
  std::string yaml;
  std::string message;
};

const ErrorCase k_file_errors[] = {
    // The examples of the brief, at the line and column a user would look at.
    {"# polyarch.yml\nimage: ghcr.io/me/app\ncontext: .\nfile: Dockerfile\npush: false\n"
     "platforms:\n- linux/arm65\n",
     R"(polyarch.yml:7:3: unknown platform "linux/arm65": unknown architecture "arm65"; did you mean "arm64"?)"},
    {"image: app\nplatfroms: [linux/amd64]\n",
     R"(polyarch.yml:2:1: unknown key "platfroms"; did you mean "platforms"?)"},
    {"image: app\ntags: [v1]\npush: yes please\n",
     R"(polyarch.yml:3:7: "push" must be true or false, not "yes please")"},
    {"image: app\ntags: [v1]\npush: true\njobs:   -2\n",
     R"(polyarch.yml:4:9: "jobs" must be a positive whole number, not "-2")"},
    {"- image: app\n", "polyarch.yml:1:1: the top level must be a mapping of keys"},
    {"image: app\ntags: [v1]\npush: true\nbuild-args:\n  - VERSION=1\n",
     R"(polyarch.yml:5:3: "build-args" must be a mapping of NAME: value)"},
    {"image: app\n- linux/amd64\n", "polyarch.yml:2:1: invalid YAML: end of map not found"},
    {"platforms: [linux/amd64, linux/arm64\n",
     "polyarch.yml:2:1: invalid YAML: end of sequence flow not found"},
    {"platforms: [linux/amd64]\nimage: app\nplatforms: [linux/arm64]\n",
     R"(polyarch.yml:3:1: "platforms" is given twice)"},
    {"backend: dokcer\n", R"(polyarch.yml:1:10: unknown backend "dokcer"; did you mean "docker"?)"},
    {"backend: kaniko\n",
     R"(polyarch.yml:1:10: unknown backend "kaniko"; expected auto, buildx, docker, buildah or podman)"},
    {"tags:\n  - v1\n  - -beta\n",
     R"(polyarch.yml:3:5: invalid tag "-beta": a tag is up to 128 letters, digits, '_', '.' or '-', and starts with a letter, digit or '_')"},
    {"tags: [v1, ghcr.io/Me/app:1]\n",
     R"(polyarch.yml:1:12: invalid reference "ghcr.io/Me/app:1": repository name must be lowercase)"},
    {"image: []\n", R"(polyarch.yml:1:8: "image" must name at least one image)"},
    {"image: ghcr.io/me/app:1.0\n",
     R"(polyarch.yml:1:8: invalid image name "ghcr.io/me/app:1.0": a tag is not allowed here)"},
    {"context: [a, b]\n", R"(polyarch.yml:1:10: "context" must be a string, not a list)"},
    {"image: app\ncontext:\n", R"(polyarch.yml:2:1: "context" must be a string, not empty)"},
    {"platforms:\n  linux: amd64\n",
     R"(polyarch.yml:2:3: "platforms" must be a string or a list of strings, not a mapping)"},
    {"platforms: linux/amd64, linux/arm65\n",
     R"(polyarch.yml:1:12: unknown platform "linux/arm65": unknown architecture "arm65"; did you mean "arm64"?)"},
    {"platforms: [linux/amd64, [linux/arm64]]\n",
     R"(polyarch.yml:1:26: "platforms" items must be strings, not a list)"},
    {"labels:\n  org.opencontainers.image.title: [a]\n",
     R"(polyarch.yml:2:35: "labels" value for "org.opencontainers.image.title" must be a string, not a list)"},
    {"annotations:\n  index:a: 1\n  index:a: 2\n",
     R"(polyarch.yml:3:3: "annotations" gives "index:a" twice)"},
    {"provenance: maybe\n",
     R"(polyarch.yml:1:13: "provenance" must be true, false, "on" or "off", not "maybe")"},
    {"push: [true]\n", R"(polyarch.yml:1:7: "push" must be true or false, not a list)"},
    {"jobs: 0\n", R"(polyarch.yml:1:7: "jobs" must be a positive whole number, not "0")"},
    {"jobs: 2.5\n", R"(polyarch.yml:1:7: "jobs" must be a positive whole number, not "2.5")"},
    {"cache: []\n",
     R"(polyarch.yml:1:8: "cache" must name at least one cache; use "none" for no cache)"},
    {"image: app\nregistry: ghcr.io\n",
     "polyarch.yml:2:1: unknown key \"registry\"; known keys are image, platforms, context, file, "
     "target, build-args, labels, annotations, tags, backend, cache, provenance, push, output, "
     "jobs, secrets"},
    {"image: app\n---\nimage: other\n",
     "polyarch.yml:3:1: only one YAML document is allowed; found a second one"},
    {"# a comment\n\nhello\n", "polyarch.yml:3:1: the top level must be a mapping of keys"},
    {"image: app\nplatforms: [linux/amd64]\ntarget: *missing\n",
     "polyarch.yml:3:9: invalid YAML: the referenced anchor is not defined"},
};

TEST_F(ConfigFile, RejectsBadFilesWithExactMessages) {
  for (const auto& c : k_file_errors) {
    SCOPED_TRACE(c.yaml);
    EXPECT_EQ(error_of(c.yaml), c.message);
  }
}

TEST_F(ConfigFile, NamesTheFileAsTheUserGaveIt) {
  fs::create_directory("ci");
  EXPECT_EQ(error_of("platforms: [linux/amd64]\npush: sure\n", "ci/build.yml"),
            R"(ci/build.yml:2:7: "push" must be true or false, not "sure")");
}

TEST_F(ConfigFile, RefusesMissingDirectoriesAndHugeFiles) {
  build::BuildOptions options;
  try {
    apply_config_file("missing.yml", options);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::bad_input);
    EXPECT_STREQ(error.what(), R"(cannot read "missing.yml": No such file or directory)");
  }
  fs::create_directory("conf.yml");
  try {
    apply_config_file("conf.yml", options);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), R"(cannot read "conf.yml": Is a directory)");
  }
  std::string big = "image: app\n" + std::string(k_max_config_bytes, '#') + "\n";
  EXPECT_EQ(error_of(big), "polyarch.yml: larger than 1 MiB; refusing it");
  // Exactly 1 MiB is still read.
  std::string fits = "image: app\n#";
  fits += std::string(k_max_config_bytes - fits.size(), 'x');
  EXPECT_EQ(load(fits).images, Strings{"app"});
}

TEST_F(ConfigFile, ReadsEveryKeyInListForm) {
  build::BuildOptions options = load(R"(# every key, lists where a key takes one
image:
  - ghcr.io/me/app
  - docker.io/me/app
platforms:
  - linux/amd64
  - linux/aarch64
  - linux/arm/v7
  - linux/arm64/v8
context: src
file: src/Dockerfile.release
target: runtime
build-args:
  VERSION: 1.10
  DEBUG: false
  EMPTY: ""
labels:
  org.opencontainers.image.title: hello
annotations:
  "index:org.opencontainers.image.description": multi-arch hello
tags:
  - "1.0"
  - latest
  - ghcr.io/me/app:edge
backend: buildah
cache:
  - type=registry,ref=ghcr.io/me/cache
  - type=local,dest=/tmp/cache
provenance: on
push: true
output: oci:dist/app.oci.tar
jobs: 3
secrets:
  - id=npmrc,src=.npmrc
  - id=token,env=TOKEN
)");
  EXPECT_EQ(options.images, (Strings{"ghcr.io/me/app", "docker.io/me/app"}));
  EXPECT_EQ(platform_names(options), (Strings{"linux/amd64", "linux/arm64", "linux/arm/v7"}));
  EXPECT_EQ(options.context, "src");
  EXPECT_EQ(options.file, "src/Dockerfile.release");
  EXPECT_EQ(options.target, "runtime");
  EXPECT_EQ(options.build_args, (StringMap{{"VERSION", "1.10"}, {"DEBUG", "false"}, {"EMPTY", ""}}));
  EXPECT_EQ(options.labels, (StringMap{{"org.opencontainers.image.title", "hello"}}));
  EXPECT_EQ(options.annotations,
            (StringMap{{"index:org.opencontainers.image.description", "multi-arch hello"}}));
  EXPECT_EQ(options.tags, (Strings{"1.0", "latest", "ghcr.io/me/app:edge"}));
  EXPECT_EQ(options.backend, "buildah");
  EXPECT_EQ(options.cache, (Strings{"type=registry,ref=ghcr.io/me/cache", "type=local,dest=/tmp/cache"}));
  EXPECT_TRUE(options.provenance);
  EXPECT_TRUE(options.push);
  EXPECT_EQ(options.output, "oci:dist/app.oci.tar");
  EXPECT_EQ(options.jobs, 3);
  EXPECT_EQ(options.secrets, (Strings{"id=npmrc,src=.npmrc", "id=token,env=TOKEN"}));
}

TEST_F(ConfigFile, ReadsStringForms) {
  build::BuildOptions options = load(
      "image: ghcr.io/me/app\n"
      "platforms: linux/amd64, arm64 ,linux/arm/v7\n"
      "tags: v1, latest\n"
      "cache: type=gha,scope=app\n"
      "secrets: id=npmrc,src=.npmrc\n"
      "provenance: \"off\"\n"
      "push: \"false\"\n");
  EXPECT_EQ(options.images, Strings{"ghcr.io/me/app"});
  EXPECT_EQ(platform_names(options), (Strings{"linux/amd64", "linux/arm64", "linux/arm/v7"}));
  EXPECT_EQ(options.tags, (Strings{"v1", "latest"}));
  EXPECT_EQ(options.cache, Strings{"type=gha,scope=app"});
  EXPECT_EQ(options.secrets, Strings{"id=npmrc,src=.npmrc"});
  EXPECT_FALSE(options.provenance);
  EXPECT_FALSE(options.push);
}

// Tags in docker/metadata-action's rule syntax stay whole (they hold
// commas), next to plain tags; `polyarch build` expands them from CI facts.
TEST_F(ConfigFile, KeepsTagRulesWhole) {
  build::BuildOptions list = load(
      "tags:\n"
      "  - type=semver,pattern={{version}}\n"
      "  - type=semver,pattern={{major}}.{{minor}}\n"
      "  - type=ref,event=branch\n"
      "  - stable\n");
  EXPECT_EQ(list.tags, (Strings{"type=semver,pattern={{version}}", "type=semver,pattern={{major}}.{{minor}}",
                                "type=ref,event=branch", "stable"}));
  build::BuildOptions block = load(
      "tags: |\n"
      "  type=schedule,pattern=nightly\n"
      "  type=sha,prefix=,format=long\n"
      "  edge\n");
  EXPECT_EQ(block.tags, (Strings{"type=schedule,pattern=nightly", "type=sha,prefix=,format=long", "edge"}));
  EXPECT_EQ(load("tags: v1, latest\n").tags, (Strings{"v1", "latest"}));
  EXPECT_EQ(load("tags: type=raw,value=dev\n").tags, Strings{"type=raw,value=dev"});
}

TEST_F(ConfigFile, PointsAtABadTagRule) {
  EXPECT_EQ(error_of("tags:\n  - v1\n  - type=semverr,pattern={{version}}\n"),
            "polyarch.yml:3:5: invalid tag rule \"type=semverr,pattern={{version}}\": unknown type "
            "\"semverr\" (schedule, semver, pep440, match, edge, ref, raw, sha)");
}

TEST_F(ConfigFile, LeavesUnsetOptionsAlone) {
  write_file_atomic("polyarch.yml", "# nothing but a comment\n");
  build::BuildOptions options;
  options.target = "from-defaults";
  apply_config_file("polyarch.yml", options);
  EXPECT_EQ(options.target, "from-defaults");

  options = load("platforms: [linux/riscv64]\n");
  EXPECT_EQ(platform_names(options), Strings{"linux/riscv64"});
  EXPECT_EQ(options.context, ".");
  EXPECT_EQ(options.cache, Strings{"auto"});
  EXPECT_EQ(options.backend, "auto");
  EXPECT_EQ(options.jobs, 0);
  EXPECT_FALSE(options.push);
  EXPECT_TRUE(options.images.empty());
}

// The message apply_env throws for env ("" when it throws none).
std::string env_error(const Env& env) {
  build::BuildOptions options;
  try {
    apply_env(env, options);
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::bad_input) << error.what();
    return error.what();
  }
  return "";
}

TEST(ConfigEnv, RejectsBadValuesWithTheVariableName) {
  EXPECT_EQ(env_error({{"POLYARCH_PUSH", "maybe"}}),
            R"(POLYARCH_PUSH: must be true, false, 1 or 0, not "maybe")");
  EXPECT_EQ(env_error({{"POLYARCH_PROVENANCE", "2"}}),
            R"(POLYARCH_PROVENANCE: must be true, false, on, off, 1 or 0, not "2")");
  EXPECT_EQ(env_error({{"POLYARCH_PLATFORMS", "linux/amd64,linux/arm65"}}),
            R"(POLYARCH_PLATFORMS: unknown platform "linux/arm65": unknown architecture "arm65"; did you mean "arm64"?)");
  EXPECT_EQ(env_error({{"POLYARCH_JOBS", "0"}}),
            R"(POLYARCH_JOBS: must be a positive whole number, not "0")");
  EXPECT_EQ(env_error({{"POLYARCH_BACKEND", "podmn"}}),
            R"(POLYARCH_BACKEND: unknown backend "podmn"; did you mean "podman"?)");
  EXPECT_EQ(env_error({{"POLYARCH_TAGS", "v1,v 2"}}),
            R"(POLYARCH_TAGS: invalid tag "v 2": a tag is up to 128 letters, digits, '_', '.' or '-', and starts with a letter, digit or '_')");
  EXPECT_EQ(env_error({{"POLYARCH_IMAGE", "Me/App"}}),
            R"(POLYARCH_IMAGE: invalid image name "Me/App": repository name must be lowercase)");
  EXPECT_EQ(env_error({{"POLYARCH_PLATFORMS", " , "}}),
            R"(POLYARCH_PLATFORMS: must name at least one platform, not ",")");
}

TEST(ConfigEnv, TakesTagRulesOneALine) {
  build::BuildOptions options;
  apply_env({{"POLYARCH_TAGS", "type=semver,pattern={{version}}\ntype=ref,event=pr\nlatest"}}, options);
  EXPECT_EQ(options.tags, (Strings{"type=semver,pattern={{version}}", "type=ref,event=pr", "latest"}));
  apply_env({{"POLYARCH_TAGS", "v1,v2\nv3"}}, options);
  EXPECT_EQ(options.tags, (Strings{"v1", "v2", "v3"}));
  EXPECT_EQ(env_error({{"POLYARCH_TAGS", "type=ref"}}),
            "POLYARCH_TAGS: invalid tag rule \"type=ref\": type=ref needs event=branch, event=tag or event=pr");
}

TEST(ConfigEnv, CatchesMisspeltNamesButIgnoresOthers) {
  EXPECT_EQ(env_error({{"POLYARCH_PLATFORM", "linux/arm64"}}),
            R"(POLYARCH_PLATFORM: unknown variable; did you mean "POLYARCH_PLATFORMS"?)");
  EXPECT_EQ(env_error({{"POLYARCH_TAG", "v1"}}),
            R"(POLYARCH_TAG: unknown variable; did you mean "POLYARCH_TAGS"?)");
  EXPECT_EQ(env_error({{"POLYARCH_VERSION", "1"}, {"POLYARCH_BINARY", "/x"}, {"PUSH", "maybe"}}), "");
}

TEST(ConfigEnv, SetsEveryVariableAndSkipsEmptyOnes) {
  Env env = {
      {"POLYARCH_IMAGE", "ghcr.io/me/app,docker.io/me/app"},
      {"POLYARCH_PLATFORMS", "linux/amd64, armhf"},
      {"POLYARCH_TAGS", "v1,latest"},
      {"POLYARCH_PUSH", "1"},
      {"POLYARCH_BACKEND", "podman"},
      {"POLYARCH_CACHE", "type=registry,ref=ghcr.io/me/cache\ntype=local,src=/c"},
      {"POLYARCH_OUTPUT", "oci:out.tar"},
      {"POLYARCH_CONTEXT", "app"},
      {"POLYARCH_FILE", "app/Containerfile"},
      {"POLYARCH_TARGET", "final"},
      {"POLYARCH_JOBS", "4"},
      {"POLYARCH_PROVENANCE", "on"},
  };
  build::BuildOptions options;
  apply_env(env, options);
  EXPECT_EQ(options.images, (Strings{"ghcr.io/me/app", "docker.io/me/app"}));
  EXPECT_EQ(platform_names(options), (Strings{"linux/amd64", "linux/arm/v7"}));
  EXPECT_EQ(options.tags, (Strings{"v1", "latest"}));
  EXPECT_TRUE(options.push);
  EXPECT_EQ(options.backend, "podman");
  EXPECT_EQ(options.cache, (Strings{"type=registry,ref=ghcr.io/me/cache", "type=local,src=/c"}));
  EXPECT_EQ(options.output, "oci:out.tar");
  EXPECT_EQ(options.context, "app");
  EXPECT_EQ(options.file, "app/Containerfile");
  EXPECT_EQ(options.target, "final");
  EXPECT_EQ(options.jobs, 4);
  EXPECT_TRUE(options.provenance);

  // An empty variable (as CI systems often define them) changes nothing.
  apply_env({{"POLYARCH_PUSH", ""}, {"POLYARCH_TARGET", "  "}}, options);
  EXPECT_TRUE(options.push);
  EXPECT_EQ(options.target, "final");
}

TEST_F(ConfigFile, EnvironmentOverridesOnlyWhatItSets) {
  build::BuildOptions options = load(
      "image: ghcr.io/me/app\nplatforms: [linux/amd64, linux/arm64]\npush: true\n"
      "tags: [v1]\nbackend: docker\n");
  apply_env({{"POLYARCH_PLATFORMS", "linux/s390x"}, {"POLYARCH_PUSH", "false"}}, options);
  EXPECT_EQ(platform_names(options), Strings{"linux/s390x"});
  EXPECT_FALSE(options.push);
  EXPECT_EQ(options.images, Strings{"ghcr.io/me/app"});
  EXPECT_EQ(options.tags, Strings{"v1"});
  EXPECT_EQ(options.backend, "docker");
}

TEST_F(ConfigFile, FindsTheConfigFile) {
  EXPECT_EQ(find_config_file(""), fs::path());
  write_file_atomic("polyarch.yml", "image: app\n");
  EXPECT_EQ(find_config_file(""), fs::path("polyarch.yml"));
  write_file_atomic("other.yml", "image: app\n");
  EXPECT_EQ(find_config_file("other.yml"), fs::path("other.yml"));
  try {
    find_config_file("ci/polyarch.yml");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::bad_input);
    EXPECT_STREQ(error.what(), R"(cannot read "ci/polyarch.yml": No such file or directory)");
  }
}

}  // namespace
}  // namespace polyarch::core
