#include "engine/build/buildx_backend.hpp"

#include <gtest/gtest.h>

#include "engine/cache/cache.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {
namespace {

using Args = std::vector<std::string>;

const image::Platform k_amd64{"linux", "amd64", "", "", {}};
const image::Platform k_arm64{"linux", "arm64", "", "", {}};

BuildOptions base_options() {
  BuildOptions options;
  options.context = "app";
  options.platforms = {k_amd64, k_arm64};
  return options;
}

Args argv_of(const BuildOptions& options, const Args& cache = {}, const std::string& oci_dest = "/w/out.tar") {
  return buildx_argv(BuildxBuild{options, options.platforms, cache, "/w/meta.json", oci_dest});
}

const Args k_head = {"docker", "buildx", "build", "--progress", "plain", "--platform",
                     "linux/amd64,linux/arm64", "-f", "app/Dockerfile"};

Args with_head(const Args& tail) {
  Args all = k_head;
  all.insert(all.end(), tail.begin(), tail.end());
  return all;
}

TEST(BuildxArgvTest, MultiPlatformPushByDigest) {
  BuildOptions options = base_options();
  options.images = {"127.0.0.1:5000/app"};
  EXPECT_EQ(argv_of(options, {}, ""),
            with_head({"--provenance=false", "--sbom=false", "--metadata-file", "/w/meta.json", "--output",
                       "type=image,name=127.0.0.1:5000/app,push-by-digest=true,name-canonical=true,push=true",
                       "app"}));
  options.images = {"r.io/a", "r.io/b"};
  EXPECT_EQ(argv_of(options, {}, "")[k_head.size() + 5],
            "type=image,\"name=r.io/a,r.io/b\",push-by-digest=true,name-canonical=true,push=true");
  options.images.clear();
  try {
    argv_of(options, {}, "");
    FAIL() << "push without a name accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "pushing by digest with buildx needs an image name");
  }
}

TEST(BuildxArgvTest, OciOutput) {
  EXPECT_EQ(argv_of(base_options()),
            with_head({"--provenance=false", "--sbom=false", "--metadata-file", "/w/meta.json", "--output",
                       "type=oci,dest=/w/out.tar", "app"}));
}

TEST(BuildxArgvTest, EachCacheKindForAllPlatforms) {
  BuildOptions options = base_options();
  auto specs = cache::resolve_cache_specs(
      {"type=registry,ref=r.io/c,mode=max", "type=local,dest=/c", "type=gha,scope=s", "type=inline"});
  cache::CacheArgs cache = cache::cache_args(specs, "buildx", options.platforms);
  EXPECT_EQ(argv_of(options, cache.args),
            with_head({"--cache-from", "type=registry,ref=r.io/c:buildcache-linux-amd64_linux-arm64",
                       "--cache-to", "type=registry,ref=r.io/c:buildcache-linux-amd64_linux-arm64,mode=max",
                       "--cache-from", "type=local,src=/c/linux-amd64_linux-arm64",
                       "--cache-to", "type=local,dest=/c/linux-amd64_linux-arm64",
                       "--cache-from", "type=gha,scope=s-linux-amd64_linux-arm64",
                       "--cache-to", "type=gha,scope=s-linux-amd64_linux-arm64",
                       "--cache-to", "type=inline",
                       "--provenance=false", "--sbom=false", "--metadata-file", "/w/meta.json",
                       "--output", "type=oci,dest=/w/out.tar", "app"}));
}

TEST(BuildxArgvTest, ProvenanceOnIsModeMin) {
  BuildOptions options = base_options();
  options.provenance = true;
  EXPECT_EQ(argv_of(options),
            with_head({"--provenance=mode=min", "--sbom=false", "--metadata-file", "/w/meta.json", "--output",
                       "type=oci,dest=/w/out.tar", "app"}));
}

TEST(BuildxArgvTest, BuildArgsLabelsAnnotationsTargetAndSecretsByFile) {
  BuildOptions options = base_options();
  options.file = "docker/Dockerfile.prod";
  options.target = "runtime";
  options.build_args = {{"VERSION", "1.2"}, {"A", "x=y"}};
  options.labels = {{"org.opencontainers.image.source", "https://x/y"}};
  options.annotations = {{"index:org.opencontainers.image.title", "app"}};
  options.secrets = {"id=npmrc,src=/home/me/.npmrc"};
  EXPECT_EQ(argv_of(options),
            (Args{"docker", "buildx", "build", "--progress", "plain", "--platform", "linux/amd64,linux/arm64",
                  "-f", "docker/Dockerfile.prod", "--target", "runtime",
                  "--build-arg", "A=x=y", "--build-arg", "VERSION=1.2",
                  "--label", "org.opencontainers.image.source=https://x/y",
                  "--annotation", "index:org.opencontainers.image.title=app",
                  "--provenance=false", "--sbom=false", "--secret", "id=npmrc,src=/home/me/.npmrc",
                  "--metadata-file", "/w/meta.json", "--output", "type=oci,dest=/w/out.tar", "app"}));
}

// An OCI archive shaped like buildx's: one index over two platform
// manifests and one attestation manifest.
struct FakeBuildxOutput {
  core::TempDir dir{"buildx-test"};
  std::vector<image::Descriptor> children;
  image::Descriptor index;

  FakeBuildxOutput() {
    image::LayoutDir built = image::LayoutDir::create(dir.path() / "built");
    for (const auto& platform : {k_amd64, k_arm64, image::Platform{"unknown", "unknown", "", "", {}}}) {
      image::Manifest manifest;
      manifest.media_type = std::string(image::media_type::k_oci_manifest);
      manifest.config = built.put_blob(image::media_type::k_oci_config, "{\"architecture\":\"" + platform.architecture + "\"}");
      image::Descriptor child = built.put_blob(image::media_type::k_oci_manifest, image::to_bytes(manifest));
      child.platform = platform;
      if (image::is_unknown(platform)) {
        child.annotations = {{"vnd.docker.reference.digest", children[1].digest.str()},
                             {"vnd.docker.reference.type", "attestation-manifest"}};
      }
      children.push_back(child);
    }
    image::Index top;
    top.media_type = std::string(image::media_type::k_oci_index);
    top.manifests = children;
    index = built.put_blob(image::media_type::k_oci_index, image::to_bytes(top));
    image::Index layout_index;
    layout_index.media_type = std::string(image::media_type::k_oci_index);
    layout_index.manifests = {index};
    built.write_index(layout_index);
    image::pack_layout(built, dir.path() / "out.tar");
  }
};

TEST(BuildxImportTest, ReturnsPlatformsInOrderThenAttestations) {
  FakeBuildxOutput fake;
  core::write_file_atomic(fake.dir.path() / "meta.json", "{\"containerimage.digest\":\"" + fake.index.digest.str() + "\"}");
  image::LayoutDir into = image::LayoutDir::create(fake.dir.path() / "into");
  std::filesystem::create_directories(fake.dir.path() / "scratch");
  auto results = import_buildx_output(fake.dir.path() / "out.tar", fake.dir.path() / "meta.json",
                                      {k_arm64, k_amd64}, into, fake.dir.path() / "scratch");
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].manifest, fake.children[1]);
  EXPECT_EQ(results[1].manifest, fake.children[0]);
  EXPECT_EQ(results[2].manifest, fake.children[2]);
  EXPECT_TRUE(image::is_unknown(results[2].platform));
  for (const auto& child : fake.children) EXPECT_TRUE(into.has_blob(child.digest));
}

TEST(BuildxImportTest, FailsOnADigestMismatchOrAMissingPlatform) {
  FakeBuildxOutput fake;
  std::string other = "sha256:" + std::string(64, '0');
  core::write_file_atomic(fake.dir.path() / "meta.json", "{\"containerimage.digest\":\"" + other + "\"}");
  image::LayoutDir into = image::LayoutDir::create(fake.dir.path() / "into");
  std::filesystem::create_directories(fake.dir.path() / "s1");
  try {
    import_buildx_output(fake.dir.path() / "out.tar", fake.dir.path() / "meta.json", {k_amd64}, into,
                         fake.dir.path() / "s1");
    FAIL() << "digest mismatch accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "buildx metadata says \"" + other + "\" but its OCI archive holds " +
                                         fake.index.digest.str());
  }
  std::filesystem::create_directories(fake.dir.path() / "s2");
  try {
    import_buildx_output(fake.dir.path() / "out.tar", fake.dir.path() / "none.json",
                         {image::Platform{"linux", "arm", "v7", "", {}}}, into, fake.dir.path() / "s2");
    FAIL() << "missing platform accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "buildx wrote no image for linux/arm/v7");
  }
}

}  // namespace
}  // namespace polyarch::build
