#pragma once
// AWS credentials the way the AWS SDKs find them without a profile: the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
// else the container credentials endpoint that ECS, EKS Pod Identity and
// CodeBuild provide (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI under
// http://169.254.170.2, or AWS_CONTAINER_CREDENTIALS_FULL_URI, with
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN as Authorization).

#include <optional>
#include <string>

#include "engine/core/env.hpp"
#include "engine/registry/http.hpp"
#include "engine/registry/sigv4.hpp"

namespace polyarch::registry {

// The host the relative container credentials URI is resolved against.
inline constexpr std::string_view k_container_credentials_host = "http://169.254.170.2";

// True when env names AWS credentials: both access key variables, or a
// container credentials URI.
bool has_aws_credentials(const core::Env& env);

// What to ask the container credentials endpoint.
struct ContainerCredentialsRequest {
  Url url;
  std::string authorization;  // the Authorization header's value; "" for none
};

// The container credentials request env describes (RELATIVE_URI wins over
// FULL_URI, the token file over the token), or nullopt when neither URI is
// set. Throws bad_input for a FULL_URI over plain http to a host that is
// neither loopback nor a container credentials address (169.254.170.2,
// 169.254.170.23, fd00:ec2::23), an unreadable token file, or a token with
// a line break.
std::optional<ContainerCredentialsRequest> container_credentials_request(const core::Env& env);

// The credentials: the environment's access key pair (with its session
// token), else the container endpoint's answer. Throws bad_input when env
// has none (or only half a key pair), failure when the endpoint cannot be
// reached or answers anything but credentials.
AwsCredentials aws_credentials(const core::Env& env, const TransportOptions& options);

}  // namespace polyarch::registry
