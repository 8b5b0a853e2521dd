#include "engine/registry/aws_credentials.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::registry {

namespace {

constexpr std::string_view k_full_uri = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
constexpr std::string_view k_relative_uri = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";

std::string env_value(const core::Env& env, std::string_view key) {
  return std::string(core::trim(core::get(env, std::string(key))));
}

// Plain http is only for the container's own credential addresses.
bool may_use_http(const std::string& host) {
  std::string name = host;
  if (name.starts_with("[")) {
    name = name.substr(0, name.find(']') + 1);
  } else {
    name = name.substr(0, name.find(':'));
  }
  return is_loopback(name) || name == "169.254.170.2" || name == "169.254.170.23" ||
         name == "[fd00:ec2::23]";
}

std::string authorization_token(const core::Env& env) {
  std::string file = env_value(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  std::string token;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      throw bad_input("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + quoted(file) + ": " +
                      std::strerror(errno));
    }
    token.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  } else {
    token = core::get(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    throw bad_input("the container authorization token holds a line break; it must be one line");
  }
  return token;
}

std::string string_field(const nlohmann::json& json, const char* key) {
  auto it = json.find(key);
  return it != json.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

bool has_aws_credentials(const core::Env& env) {
  return (!env_value(env, "AWS_ACCESS_KEY_ID").empty() && !env_value(env, "AWS_SECRET_ACCESS_KEY").empty()) ||
         !env_value(env, k_relative_uri).empty() || !env_value(env, k_full_uri).empty();
}

std::optional<ContainerCredentialsRequest> container_credentials_request(const core::Env& env) {
  std::string relative = env_value(env, k_relative_uri);
  std::string full = env_value(env, k_full_uri);
  if (relative.empty() && full.empty()) return std::nullopt;
  ContainerCredentialsRequest request;
  if (!relative.empty()) {
    if (!relative.starts_with("/")) relative = "/" + relative;
    request.url = Url::parse(std::string(k_container_credentials_host) + relative);
  } else {
    try {
      request.url = Url::parse(full);
    } catch (const Error& error) {
      throw bad_input(std::string(k_full_uri) + ": " + error.what());
    }
    if (request.url.scheme == "http" && !may_use_http(request.url.host)) {
      throw bad_input(std::string(k_full_uri) + " " + quoted(redact(full)) +
                      " must use https, or http to a loopback or container credentials address "
                      "(169.254.170.2, 169.254.170.23, [fd00:ec2::23])");
    }
  }
  request.authorization = authorization_token(env);
  return request;
}

AwsCredentials aws_credentials(const core::Env& env, const TransportOptions& options) {
  std::string key = env_value(env, "AWS_ACCESS_KEY_ID");
  std::string secret = core::get(env, "AWS_SECRET_ACCESS_KEY");
  if (!key.empty() && !secret.empty()) return {key, secret, core::get(env, "AWS_SESSION_TOKEN")};
  if (!key.empty() || !secret.empty()) {
    throw bad_input(std::string(key.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
                    " is set but " + (key.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
                    " is not: set both, or neither");
  }
  auto wanted = container_credentials_request(env);
  if (!wanted) {
    throw bad_input(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for "
        "temporary ones), or run where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or "
        "AWS_CONTAINER_CREDENTIALS_FULL_URI is set");
  }
  // The endpoint is local to the container: fail fast rather than retry for long.
  TransportOptions quick = options;
  quick.connect_timeout = std::chrono::seconds(5);
  quick.read_timeout = std::chrono::seconds(10);
  quick.max_attempts = 3;
  Transport transport(quick);
  HttpRequest request;
  request.url = wanted->url;
  request.headers.emplace("Accept", "application/json");
  if (!wanted->authorization.empty()) request.headers.emplace("Authorization", wanted->authorization);
  std::string where = "the container credentials endpoint " + redact(wanted->url.str());
  HttpResponse response;
  try {
    response = transport.send(request);
  } catch (const Error& error) {
    throw failure("cannot get AWS credentials from " + where + ": " + error.what());
  }
  if (response.status != 200) {
    throw failure("cannot get AWS credentials from " + where + ": HTTP " + std::to_string(response.status));
  }
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  AwsCredentials credentials;
  if (json.is_object()) {
    credentials = {string_field(json, "AccessKeyId"), string_field(json, "SecretAccessKey"),
                   string_field(json, "Token")};
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    throw failure(where + " answered no AccessKeyId and SecretAccessKey");
  }
  return credentials;
}

}  // namespace polyarch::registry
