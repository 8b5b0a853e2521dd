// CodeBuild and ECR: the registry cache in ECR when the image goes there,
// which registries get an AWS login, and apply_aws_logins against a local
// GetAuthorizationToken endpoint (the signature itself is checked by an
// independent implementation in ecr_login_test.sh).
#include <gtest/gtest.h>

#include <sstream>

#include "adapters/ci/adapter.hpp"
#include "adapters/ci/apply.hpp"
#include "engine/core/fs.hpp"
#include "tests/unit/http_server.hpp"

namespace polyarch::ci {
namespace {

using Strings = std::vector<std::string>;

std::int64_t fixed_clock() { return 1700000000000; }

const std::string k_ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

core::Env codebuild(core::Env extra) {
  core::Env env = {{"CODEBUILD_BUILD_ID", "rocket:6f1f3b2e-0000-4000-8000-000000000001"},
                   {"CODEBUILD_BUILD_ARN", "arn:aws:codebuild:eu-west-1:123456789012:build/rocket:6f1f3b2e"},
                   {"AWS_REGION", "eu-west-1"}};
  for (auto& [key, value] : extra) env[key] = value;
  return env;
}

TEST(CodebuildEcrTest, CachesInEcrNextToAnEcrImage) {
  auto adapter = make_adapter("codebuild", codebuild({}), fixed_clock);
  EXPECT_EQ(adapter->cache_convention("buildx", k_ecr + "/rocket"),
            "type=registry,ref=" + k_ecr + "/rocket:buildcache,mode=max,image-manifest=true,oci-mediatypes=true");
  EXPECT_EQ(adapter->cache_convention("buildah", k_ecr + "/team/rocket"),
            "type=registry,ref=" + k_ecr + "/team/rocket:buildcache,mode=max,image-manifest=true,oci-mediatypes=true");
  EXPECT_EQ(adapter->cache_convention("buildx", "ghcr.io/acme/rocket"), "type=local,dest=.polyarch-cache");
  EXPECT_EQ(adapter->cache_convention("buildx"), "type=local,dest=.polyarch-cache");
}

TEST(CodebuildEcrTest, LogsInToEcrHostsOnlyWithAwsCredentials) {
  Strings registries = {"ghcr.io", k_ecr, "docker.io", k_ecr, "999999999999.dkr.ecr.us-east-1.amazonaws.com"};
  auto role = make_adapter("codebuild", codebuild({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}),
                           fixed_clock);
  EXPECT_EQ(role->aws_logins(registries), (Strings{k_ecr, "999999999999.dkr.ecr.us-east-1.amazonaws.com"}));
  auto keys = make_adapter("codebuild", codebuild({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "S"}}),
                           fixed_clock);
  EXPECT_EQ(keys->aws_logins({k_ecr}), Strings{k_ecr});
  EXPECT_TRUE(make_adapter("codebuild", codebuild({}), fixed_clock)->aws_logins(registries).empty());
  core::Env github = {{"GITHUB_ACTIONS", "true"}, {"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "S"}};
  EXPECT_TRUE(make_adapter("github", github, fixed_clock)->aws_logins(registries).empty());
}

TEST(CodebuildEcrTest, AddsTheLoginsAwsGivesAndWarnsForTheOthers) {
  polyarch::testing::TestServer ecr;
  ecr->Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    std::string authorization = req.get_header_value("Authorization");
    if (authorization.find("/us-east-1/ecr/aws4_request") != std::string::npos) {
      res.status = 403;
      res.set_content(R"({"__type":"AccessDeniedException","message":"not allowed in us-east-1"})",
                      "application/x-amz-json-1.1");
      return;
    }
    // base64("AWS:ecr-password")
    res.set_content(R"({"authorizationData":[{"authorizationToken":"QVdTOmVjci1wYXNzd29yZA=="}]})",
                    "application/x-amz-json-1.1");
  });
  ecr.start();
  auto adapter = make_adapter("codebuild",
                              codebuild({{"AWS_ACCESS_KEY_ID", "AKID"},
                                         {"AWS_SECRET_ACCESS_KEY", "the-secret"},
                                         {"AWS_ENDPOINT_URL_ECR", ecr.url("")}}),
                              fixed_clock);
  core::TempDir docker_config;  // no config.json: only what apply_aws_logins adds
  registry::CredentialStore store({{"DOCKER_CONFIG", docker_config.path().string()}});
  std::ostringstream log;
  std::string refused = "999999999999.dkr.ecr.us-east-1.amazonaws.com";
  EXPECT_EQ(apply_aws_logins(*adapter, {k_ecr, "ghcr.io", refused}, store, log), 1);
  auto found = store.find(k_ecr);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "AWS");
  EXPECT_EQ(found->password, "ecr-password");
  EXPECT_FALSE(store.find(refused));
  EXPECT_EQ(log.str(), "warning: cannot log in to " + refused + " through AWS: GetAuthorizationToken at " +
                           ecr.url("/") + " answered HTTP 403 (AccessDeniedException: not allowed in us-east-1)\n");
  EXPECT_EQ(log.str().find("the-secret"), std::string::npos);
}

}  // namespace
}  // namespace polyarch::ci
