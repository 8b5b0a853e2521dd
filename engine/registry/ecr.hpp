#pragma once
// Amazon ECR logins without the AWS CLI: ecr:GetAuthorizationToken (the
// JSON 1.1 protocol, signed with Signature Version 4) gives a token that is
// base64("AWS:" + password), a registry password valid for 12 hours.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/env.hpp"
#include "engine/registry/credentials.hpp"
#include "engine/registry/http.hpp"
#include "engine/registry/sigv4.hpp"

namespace polyarch::registry {

// An ECR registry host: ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn].
struct EcrHost {
  std::string account;  // 12 digits
  std::string region;   // "eu-west-1"
  bool fips = false;
  bool china = false;   // amazonaws.com.cn
};

// The parts of an ECR registry host, or nullopt for any other host.
std::optional<EcrHost> parse_ecr_host(std::string_view registry);

// Where GetAuthorizationToken goes for a registry.
struct EcrEndpoint {
  std::string region;  // the signing region
  Url url;
};

// The region is the ECR host's own (its tokens only work there), else
// AWS_REGION, else AWS_DEFAULT_REGION. The URL is AWS_ENDPOINT_URL_ECR, else
// AWS_ENDPOINT_URL, else https://api.ecr.REGION.amazonaws.com (".com.cn" in
// China, ecr-fips.REGION for FIPS hosts). Throws bad_input when no region
// is known or an endpoint variable is not an http(s) URL.
EcrEndpoint ecr_endpoint(const core::Env& env, const std::string& registry);

// The signed POST of GetAuthorizationToken to endpoint at unix_seconds.
HttpRequest get_authorization_token_request(const EcrEndpoint& endpoint,
                                            const AwsCredentials& credentials,
                                            std::int64_t unix_seconds);

// The registry credential in a GetAuthorizationToken answer: the first
// authorizationData's token decoded into user ("AWS") and password. Throws
// failure when the answer holds none.
Credential parse_authorization_token(std::string_view body);

// Seconds since 1970, injectable for tests.
using UnixClock = std::function<std::int64_t()>;

// The system clock in seconds.
std::int64_t unix_now();

// Logs in to registry through AWS: credentials (aws_credentials), the
// endpoint, the signed request, the decoded token. Throws bad_input for
// missing credentials or region, failure (one line, naming the registry,
// the endpoint and AWS's error code and message; never a secret) when AWS
// refuses or cannot be reached.
Credential ecr_login(const core::Env& env, const std::string& registry, const TransportOptions& options,
                     const UnixClock& now = unix_now);

}  // namespace polyarch::registry
