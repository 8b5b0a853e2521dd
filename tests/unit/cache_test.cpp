#include "engine/cache/cache.hpp"

#include <gtest/gtest.h>

#include "engine/core/error.hpp"

namespace polyarch::cache {
namespace {

using Args = std::vector<std::string>;

const image::Platform k_arm64{"linux", "arm64", "", "", {}};
const image::Platform k_armv7{"linux", "arm", "v7", "", {}};
const image::Platform k_amd64{"linux", "amd64", "", "", {}};

std::string parse_error(const std::string& text) {
  try {
    parse_cache_spec(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    return e.what();
  }
  return "no error";
}

CacheArgs args_for(const std::string& spec, std::string_view backend, const image::Platform& p) {
  return cache_args({parse_cache_spec(spec)}, backend, p);
}

TEST(CacheSpecTest, ParsesEachType) {
  CacheSpec registry = parse_cache_spec("type=registry,ref=ghcr.io/me/app:cache,mode=max");
  EXPECT_EQ(registry.type, CacheType::registry);
  EXPECT_EQ(registry.ref, "ghcr.io/me/app:cache");
  EXPECT_EQ(registry.mode, "max");
  EXPECT_EQ(parse_cache_spec("type=gha").scope, "buildkit");
  EXPECT_EQ(parse_cache_spec("type=gha,scope=web").scope, "web");
  CacheSpec local = parse_cache_spec("type=local,dest=/tmp/c");
  EXPECT_EQ(local.type, CacheType::local);
  EXPECT_EQ(local.dest, "/tmp/c");
  EXPECT_EQ(parse_cache_spec("type=inline").type, CacheType::inline_cache);
  CacheSpec bare = parse_cache_spec("ghcr.io/me/cache");
  EXPECT_EQ(bare.type, CacheType::registry);
  EXPECT_EQ(bare.ref, "ghcr.io/me/cache");
}

TEST(CacheSpecTest, RejectsBadSpecsWordForWord) {
  EXPECT_EQ(parse_error("type=foo"),
            "invalid cache spec \"type=foo\": unknown type \"foo\" (registry, local, gha, inline, none)");
  EXPECT_EQ(parse_error("ref=x"),
            "invalid cache spec \"ref=x\": missing type (registry, local, gha, inline, none)");
  EXPECT_EQ(parse_error("type=registry"), "invalid cache spec \"type=registry\": type registry needs ref=REF");
  EXPECT_EQ(parse_error("type=local"), "invalid cache spec \"type=local\": type local needs src=DIR or dest=DIR");
  EXPECT_EQ(parse_error("type=gha,ref=x"),
            "invalid cache spec \"type=gha,ref=x\": unknown key \"ref\" for type gha (scope, mode)");
  EXPECT_EQ(parse_error("type=gha,mode=all"), "invalid cache spec \"type=gha,mode=all\": mode \"all\" must be min or max");
  EXPECT_EQ(parse_error("type=gha,scope"), "invalid cache spec \"type=gha,scope\": expected KEY=VALUE, got \"scope\"");
  EXPECT_EQ(parse_error("type=gha,scope="), "invalid cache spec \"type=gha,scope=\": empty value for \"scope\"");
  EXPECT_EQ(parse_error("type=gha,scope=a,scope=b"),
            "invalid cache spec \"type=gha,scope=a,scope=b\": duplicate key \"scope\"");
  EXPECT_EQ(parse_error("type=registry,ref=r/c@sha256:00"),
            "invalid cache spec \"type=registry,ref=r/c@sha256:00\": ref \"r/c@sha256:00\" must not have a digest");
}

TEST(CacheSpecTest, ResolvesAutoAndNone) {
  EXPECT_TRUE(resolve_cache_specs({"auto"}).empty());  // a local run: no cache
  EXPECT_TRUE(resolve_cache_specs({"none"}).empty());
  auto github = resolve_cache_specs({"auto"}, "type=gha");  // what the GitHub adapter says
  ASSERT_EQ(github.size(), 1u);
  EXPECT_EQ(github[0].type, CacheType::gha);
  EXPECT_TRUE(resolve_cache_specs({"auto"}, "none").empty());
  EXPECT_EQ(resolve_cache_specs({"type=inline", "type=inline"}).size(), 1u);
  try {
    resolve_cache_specs({"none", "type=gha"});
    FAIL() << "none with gha accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "invalid cache \"none\": it cannot be combined with \"type=gha\"");
  }
}

// The form ECR stores (AWS's documented buildx cache for ECR).
TEST(CacheSpecTest, TakesTheEcrRegistryCacheForm) {
  CacheSpec ecr = parse_cache_spec(
      "type=registry,ref=123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:buildcache,mode=max,"
      "image-manifest=true,oci-mediatypes=true");
  EXPECT_EQ(ecr.type, CacheType::registry);
  EXPECT_EQ(ecr.ref, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:buildcache");
  EXPECT_EQ(ecr.image_manifest, "true");
  EXPECT_EQ(ecr.oci_mediatypes, "true");
  EXPECT_EQ(parse_cache_spec("type=registry,ref=r.io/a,oci-mediatypes=false").oci_mediatypes, "false");
  EXPECT_EQ(parse_cache_spec("type=registry,ref=r.io/a").image_manifest, "");
  EXPECT_EQ(parse_error("type=registry,ref=r.io/a,image-manifest=yes"),
            "invalid cache spec \"type=registry,ref=r.io/a,image-manifest=yes\": image-manifest \"yes\" must be true or false");
  EXPECT_EQ(parse_error("type=registry,ref=r.io/a,compression=zstd"),
            "invalid cache spec \"type=registry,ref=r.io/a,compression=zstd\": unknown key \"compression\" for type "
            "registry (ref, mode, image-manifest, oci-mediatypes)");
  EXPECT_EQ(parse_error("type=local,dest=/c,image-manifest=true"),
            "invalid cache spec \"type=local,dest=/c,image-manifest=true\": unknown key \"image-manifest\" for type "
            "local (src, dest, mode)");
}

TEST(CacheSpecTest, FindsTheRegistryHostOfARef) {
  EXPECT_EQ(registry_host("ghcr.io/me/app:cache"), "ghcr.io");
  EXPECT_EQ(registry_host("127.0.0.1:5000/app"), "127.0.0.1:5000");
  EXPECT_EQ(registry_host("localhost/app"), "localhost");
  EXPECT_EQ(registry_host("[::1]:5000/app"), "[::1]:5000");
  EXPECT_EQ(registry_host("me/app:cache"), "docker.io");
  EXPECT_EQ(registry_host("app"), "docker.io");
}

TEST(CacheSpecTest, MakesEverySpecPrivateToItsPlatform) {
  std::vector<image::Platform> one = {k_armv7};
  EXPECT_EQ(platform_suffix(one), "linux-arm-v7");
  EXPECT_EQ(for_platforms(parse_cache_spec("type=registry,ref=r.io/app"), one).ref, "r.io/app:buildcache-linux-arm-v7");
  EXPECT_EQ(for_platforms(parse_cache_spec("type=registry,ref=localhost:5000/app:cache"), one).ref,
            "localhost:5000/app:cache-linux-arm-v7");
  EXPECT_EQ(for_platforms(parse_cache_spec("type=registry,ref=localhost:5000/app"), one).ref,
            "localhost:5000/app:buildcache-linux-arm-v7");
  EXPECT_EQ(for_platforms(parse_cache_spec("type=gha,scope=web"), one).scope, "web-linux-arm-v7");
  EXPECT_EQ(for_platforms(parse_cache_spec("type=local,src=/c"), one).src, "/c/linux-arm-v7");
  std::vector<image::Platform> two = {k_amd64, k_arm64};
  EXPECT_EQ(platform_suffix(two), "linux-amd64_linux-arm64");
}

TEST(CacheArgsTest, BuildxTakesEveryKind) {
  EXPECT_EQ(args_for("type=registry,ref=r.io/app:cache,mode=max", "buildx", k_arm64).args,
            (Args{"--cache-from", "type=registry,ref=r.io/app:cache-linux-arm64", "--cache-to",
                  "type=registry,ref=r.io/app:cache-linux-arm64,mode=max"}));
  EXPECT_EQ(args_for("type=local,src=/in,dest=/out", "buildx", k_arm64).args,
            (Args{"--cache-from", "type=local,src=/in/linux-arm64", "--cache-to", "type=local,dest=/out/linux-arm64"}));
  EXPECT_EQ(args_for("type=local,dest=/c", "buildx", k_arm64).args,
            (Args{"--cache-from", "type=local,src=/c/linux-arm64", "--cache-to", "type=local,dest=/c/linux-arm64"}));
  EXPECT_EQ(args_for("type=gha", "buildx", k_arm64).args,
            (Args{"--cache-from", "type=gha,scope=buildkit-linux-arm64", "--cache-to", "type=gha,scope=buildkit-linux-arm64"}));
  EXPECT_EQ(args_for("type=inline", "buildx", k_arm64).args, (Args{"--cache-to", "type=inline"}));
  EXPECT_EQ(args_for("type=inline,ref=r.io/app:1", "buildx", k_arm64).args,
            (Args{"--cache-from", "type=registry,ref=r.io/app:1", "--cache-to", "type=inline"}));
  EXPECT_TRUE(args_for("type=gha", "buildx", k_arm64).notes.empty());
}

TEST(CacheArgsTest, BuildxWritesTheEcrFormAndReadsItPlainly) {
  const std::string spec =
      "type=registry,ref=123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:buildcache,mode=max,"
      "image-manifest=true,oci-mediatypes=true";
  CacheArgs args = args_for(spec, "buildx", k_arm64);
  EXPECT_EQ(args.args,
            (Args{"--cache-from", "type=registry,ref=123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:buildcache-linux-arm64",
                  "--cache-to",
                  "type=registry,ref=123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:buildcache-linux-arm64,mode=max,"
                  "image-manifest=true,oci-mediatypes=true"}));
  EXPECT_TRUE(args.notes.empty());
  CacheArgs buildah = args_for(spec, "buildah", k_arm64);
  EXPECT_EQ(buildah.args, (Args{"--cache-from", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app/buildcache-linux-arm64",
                                "--cache-to", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app/buildcache-linux-arm64",
                                "--layers"}));
  EXPECT_EQ(buildah.notes, (Args{"cache \"" + spec + "\": image-manifest and oci-mediatypes only apply to buildx; "
                                 "buildah ignores them"}));
  CacheArgs docker = args_for(spec, "docker", k_arm64);
  ASSERT_EQ(docker.notes.size(), 2u);
  EXPECT_EQ(docker.notes[1], "cache \"" + spec + "\": image-manifest and oci-mediatypes only apply to buildx; "
                             "docker ignores them");
}

// A loopback cache registry may speak plain HTTP, as the registry engine allows.
TEST(CacheArgsTest, LoopbackRegistriesMayBePlainHttp) {
  EXPECT_EQ(args_for("type=registry,ref=127.0.0.1:5000/g/p:buildcache,mode=max", "buildx", k_arm64).args,
            (Args{"--cache-from", "type=registry,ref=127.0.0.1:5000/g/p:buildcache-linux-arm64,registry.insecure=true",
                  "--cache-to", "type=registry,ref=127.0.0.1:5000/g/p:buildcache-linux-arm64,mode=max,registry.insecure=true"}));
  EXPECT_EQ(args_for("type=inline,ref=localhost:5000/app:1", "buildx", k_arm64).args,
            (Args{"--cache-from", "type=registry,ref=localhost:5000/app:1,registry.insecure=true", "--cache-to", "type=inline"}));
  std::vector<CacheSpec> two = {parse_cache_spec("type=registry,ref=127.0.0.1:5000/a"),
                                parse_cache_spec("type=registry,ref=127.0.0.1:5000/b")};
  EXPECT_EQ(cache_args(two, "podman", k_amd64).args,
            (Args{"--cache-from", "127.0.0.1:5000/a/buildcache-linux-amd64", "--cache-to",
                  "127.0.0.1:5000/a/buildcache-linux-amd64", "--tls-verify=false", "--cache-from",
                  "127.0.0.1:5000/b/buildcache-linux-amd64", "--cache-to", "127.0.0.1:5000/b/buildcache-linux-amd64",
                  "--layers"}));
  EXPECT_EQ(args_for("type=registry,ref=r.io/app", "buildah", k_amd64).args,
            (Args{"--cache-from", "r.io/app/buildcache-linux-amd64", "--cache-to", "r.io/app/buildcache-linux-amd64",
                  "--layers"}));
  EXPECT_EQ(args_for("type=registry,ref=127.0.0.1:5000/a", "docker", k_amd64).args,
            (Args{"--cache-from", "127.0.0.1:5000/a:buildcache-linux-amd64"}));
}

TEST(CacheArgsTest, DockerReadsRegistryAndWritesInline) {
  CacheArgs registry = args_for("type=registry,ref=r.io/app", "docker", k_arm64);
  EXPECT_EQ(registry.args, (Args{"--cache-from", "r.io/app:buildcache-linux-arm64"}));
  EXPECT_EQ(registry.notes, (Args{"cache \"type=registry,ref=r.io/app\" is only read by docker without buildx, "
                                  "which cannot write a registry cache (type=inline writes one into the image)"}));
  EXPECT_EQ(args_for("type=inline", "docker", k_arm64).args, (Args{"--build-arg", "BUILDKIT_INLINE_CACHE=1"}));
  CacheArgs gha = args_for("type=gha", "docker", k_arm64);
  EXPECT_TRUE(gha.args.empty());
  EXPECT_EQ(gha.notes, (Args{"cache \"type=gha\" is not supported by docker without buildx; building without it"}));
}

TEST(CacheArgsTest, BuildahAndPodmanUseARepositoryWithLayers) {
  EXPECT_EQ(args_for("type=registry,ref=r.io/app:Cache", "buildah", k_armv7).args,
            (Args{"--cache-from", "r.io/app/cache-linux-arm-v7", "--cache-to", "r.io/app/cache-linux-arm-v7", "--layers"}));
  EXPECT_EQ(args_for("type=registry,ref=r.io/app", "podman", k_arm64).args,
            (Args{"--cache-from", "r.io/app/buildcache-linux-arm64", "--cache-to", "r.io/app/buildcache-linux-arm64",
                  "--layers"}));
  CacheArgs gha = args_for("type=gha", "buildah", k_arm64);
  EXPECT_TRUE(gha.args.empty());
  EXPECT_EQ(gha.notes, (Args{"cache \"type=gha\" is not supported by buildah; building without it"}));
  EXPECT_EQ(args_for("type=local,dest=/c", "podman", k_arm64).notes,
            (Args{"cache \"type=local,dest=/c\" is not supported by podman; building without it"}));
}

TEST(CacheArgsTest, RejectsAnUnknownBackend) {
  try {
    args_for("type=gha", "kaniko", k_arm64);
    FAIL() << "kaniko accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown backend \"kaniko\" for build caches (buildx, docker, buildah, podman)");
  }
}

}  // namespace
}  // namespace polyarch::cache
