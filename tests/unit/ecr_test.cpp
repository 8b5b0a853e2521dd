// ECR logins: host names, region and endpoint precedence, the signed
// GetAuthorizationToken request (its Authorization values computed by
// @aws-sdk/signature-v4 for the same inputs), the token's decoding, and where
// AWS credentials come from. Network paths are in ecr_login_test.sh.
#include "engine/registry/ecr.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/registry/aws_credentials.hpp"

namespace polyarch::registry {
namespace {

constexpr std::int64_t k_time = 1440938160;  // 2015-08-30T12:36:00Z

template <typename Call>
std::string error_of(Call call, ErrorKind kind) {
  try {
    call();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
  return "no error";
}

TEST(EcrHostTest, ParsesEcrHostsOnly) {
  auto host = parse_ecr_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->account, "123456789012");
  EXPECT_EQ(host->region, "eu-west-1");
  EXPECT_FALSE(host->fips);
  EXPECT_FALSE(host->china);
  auto china = parse_ecr_host("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn");
  ASSERT_TRUE(china);
  EXPECT_TRUE(china->china);
  EXPECT_EQ(china->region, "cn-north-1");
  auto fips = parse_ecr_host("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com");
  ASSERT_TRUE(fips);
  EXPECT_TRUE(fips->fips);
  EXPECT_TRUE(parse_ecr_host("123456789012.DKR.ECR.us-east-1.AMAZONAWS.COM"));
  EXPECT_FALSE(parse_ecr_host("12345678901.dkr.ecr.eu-west-1.amazonaws.com"));
  EXPECT_FALSE(parse_ecr_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com:443"));
  EXPECT_FALSE(parse_ecr_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example"));
  EXPECT_FALSE(parse_ecr_host("public.ecr.aws"));
  EXPECT_FALSE(parse_ecr_host("ghcr.io"));
  EXPECT_FALSE(parse_ecr_host("127.0.0.1:5000"));
}

TEST(EcrEndpointTest, TheHostsRegionWinsThenTheEnvironments) {
  core::Env env = {{"AWS_REGION", "us-east-1"}, {"AWS_DEFAULT_REGION", "ap-south-1"}};
  EcrEndpoint own = ecr_endpoint(env, "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
  EXPECT_EQ(own.region, "eu-west-1");
  EXPECT_EQ(own.url.str(), "https://api.ecr.eu-west-1.amazonaws.com/");
  EXPECT_EQ(ecr_endpoint(env, "registry.example.com").region, "us-east-1");
  EXPECT_EQ(ecr_endpoint({{"AWS_DEFAULT_REGION", "ap-south-1"}}, "registry.example.com").region, "ap-south-1");
  EXPECT_EQ(ecr_endpoint({}, "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn").url.str(),
            "https://api.ecr.cn-north-1.amazonaws.com.cn/");
  EXPECT_EQ(ecr_endpoint({{"AWS_REGION", "cn-northwest-1"}}, "registry.example.com").url.str(),
            "https://api.ecr.cn-northwest-1.amazonaws.com.cn/");
  EXPECT_EQ(ecr_endpoint({}, "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com").url.str(),
            "https://ecr-fips.us-east-1.amazonaws.com/");
  EXPECT_EQ(error_of([] { ecr_endpoint({}, "registry.example.com"); }, ErrorKind::bad_input),
            "no AWS region for \"registry.example.com\": set AWS_REGION (the host is not an ECR "
            "registry ACCOUNT.dkr.ecr.REGION.amazonaws.com, which names its region)");
}

TEST(EcrEndpointTest, EndpointVariablesOverrideTheDefault) {
  core::Env env = {{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
                   {"AWS_ENDPOINT_URL_ECR", "https://ecr.internal.example:8443/base"}};
  const std::string host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
  EXPECT_EQ(ecr_endpoint(env, host).url.str(), "https://ecr.internal.example:8443/base");
  env.erase("AWS_ENDPOINT_URL_ECR");
  EXPECT_EQ(ecr_endpoint(env, host).url.str(), "http://127.0.0.1:4566/");
  EXPECT_EQ(error_of([&] { ecr_endpoint({{"AWS_ENDPOINT_URL", "ftp://x"}}, host); }, ErrorKind::bad_input),
            "AWS_ENDPOINT_URL: invalid URL \"ftp://x\": expected http:// or https://");
}

TEST(EcrRequestTest, SignsGetAuthorizationTokenAsTheAwsSdkDoes) {
  EcrEndpoint endpoint{"eu-west-1", Url::parse("https://api.ecr.eu-west-1.amazonaws.com")};
  AwsCredentials keys{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  HttpRequest request = get_authorization_token_request(endpoint, keys, k_time);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url.str(), "https://api.ecr.eu-west-1.amazonaws.com/");
  EXPECT_EQ(request.body, "{}");
  EXPECT_EQ(request.headers.find("Host")->second, "api.ecr.eu-west-1.amazonaws.com");
  EXPECT_EQ(request.headers.find("Content-Type")->second, "application/x-amz-json-1.1");
  EXPECT_EQ(request.headers.find("X-Amz-Target")->second,
            "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
  EXPECT_EQ(request.headers.find("X-Amz-Date")->second, "20150830T123600Z");
  EXPECT_EQ(request.headers.count("X-Amz-Security-Token"), 0u);
  // Computed by @aws-sdk/signature-v4 3.374.0 for the same request.
  EXPECT_EQ(request.headers.find("Authorization")->second,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/ecr/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=ce953a52a1215175c49d9a611ae10b5db817f776f0ad5d2a6ff9b0198dd390bc");
  keys.session_token = "FQoGZXIvYXdzEXAMPLETOKEN";
  HttpRequest temporary = get_authorization_token_request(endpoint, keys, k_time);
  EXPECT_EQ(temporary.headers.find("X-Amz-Security-Token")->second, "FQoGZXIvYXdzEXAMPLETOKEN");
  EXPECT_EQ(temporary.headers.find("Authorization")->second,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/ecr/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
            "Signature=d13280895c90e1f1d81dc15cde1b8b487131977a88f33484819e46a0edf44878");
}

TEST(EcrTokenTest, DecodesAwsAndThePassword) {
  // base64("AWS:pass:word") — only the first colon separates.
  Credential credential = parse_authorization_token(
      R"({"authorizationData":[{"authorizationToken":"QVdTOnBhc3M6d29yZA==","expiresAt":1.7E9,)"
      R"("proxyEndpoint":"https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"}]})");
  EXPECT_EQ(credential.username, "AWS");
  EXPECT_EQ(credential.password, "pass:word");
  EXPECT_EQ(credential.identity_token, "");
  EXPECT_EQ(error_of([] { parse_authorization_token(R"({"authorizationData":[]})"); }, ErrorKind::failure),
            "GetAuthorizationToken answered no authorizationData[0].authorizationToken");
  EXPECT_EQ(error_of([] { parse_authorization_token("not json"); }, ErrorKind::failure),
            "GetAuthorizationToken answered no authorizationData[0].authorizationToken");
  EXPECT_EQ(error_of([] { parse_authorization_token(R"({"authorizationData":[{"authorizationToken":"QVdT"}]})"); },
                     ErrorKind::failure),
            "GetAuthorizationToken answered a token that is not base64 of USER:PASSWORD");
}

TEST(AwsCredentialsTest, TheEnvironmentsKeysComeFirst) {
  core::Env env = {{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                   {"AWS_SESSION_TOKEN", "TOKEN"},
                   {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}};
  EXPECT_TRUE(has_aws_credentials(env));
  AwsCredentials credentials = aws_credentials(env, {});
  EXPECT_EQ(credentials.access_key_id, "AKID");
  EXPECT_EQ(credentials.secret_access_key, "SECRET");
  EXPECT_EQ(credentials.session_token, "TOKEN");
  EXPECT_FALSE(has_aws_credentials({{"AWS_ACCESS_KEY_ID", "AKID"}}));
  EXPECT_EQ(error_of([] { aws_credentials({{"AWS_SECRET_ACCESS_KEY", "S"}}, {}); }, ErrorKind::bad_input),
            "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or neither");
  EXPECT_FALSE(has_aws_credentials({}));
  EXPECT_EQ(error_of([] { aws_credentials({}, {}); }, ErrorKind::bad_input),
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN "
            "for temporary ones), or run where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or "
            "AWS_CONTAINER_CREDENTIALS_FULL_URI is set");
}

TEST(AwsCredentialsTest, ContainerRequestsFollowTheSdks) {
  EXPECT_FALSE(container_credentials_request({}));
  auto relative = container_credentials_request({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                                                 {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/x"}});
  ASSERT_TRUE(relative);
  EXPECT_EQ(relative->url.str(), "http://169.254.170.2/v2/credentials/abc");
  EXPECT_EQ(relative->authorization, "");
  core::TempDir dir;
  std::ofstream(dir.path() / "token") << "from-file\n";
  auto full = container_credentials_request(
      {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://localhost:8080/creds"},
       {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (dir.path() / "token").string()},
       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-env"}});
  ASSERT_TRUE(full);
  EXPECT_EQ(full->url.str(), "http://localhost:8080/creds");
  EXPECT_EQ(full->authorization, "from-file");
  EXPECT_EQ(container_credentials_request({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"},
                                           {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-env"}})
                ->authorization,
            "from-env");
  EXPECT_TRUE(container_credentials_request({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example.com/x"}}));
  EXPECT_EQ(error_of([] { container_credentials_request({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/x"}}); },
                     ErrorKind::bad_input),
            "AWS_CONTAINER_CREDENTIALS_FULL_URI \"http://10.0.0.1/x\" must use https, or http to a loopback or "
            "container credentials address (169.254.170.2, 169.254.170.23, [fd00:ec2::23])");
  EXPECT_EQ(error_of([] {
              container_credentials_request({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/x"},
                                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Evil: 1"}});
            }, ErrorKind::bad_input),
            "the container authorization token holds a line break; it must be one line");
  std::string missing = (dir.path() / "missing").string();
  EXPECT_EQ(error_of([&] {
              container_credentials_request({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/x"},
                                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", missing}});
            }, ErrorKind::bad_input),
            "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \"" + missing + "\": No such file or directory");
}

}  // namespace
}  // namespace polyarch::registry
