#include "engine/registry/ecr.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <regex>

#include "engine/core/base64.hpp"
#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"
#include "engine/registry/aws_credentials.hpp"

namespace polyarch::registry {

namespace {

constexpr std::string_view k_target = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
constexpr std::string_view k_content_type = "application/x-amz-json-1.1";
constexpr size_t k_max_message = 300;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

Url endpoint_url(const std::string& variable, const std::string& text) {
  try {
    return Url::parse(text);
  } catch (const Error& error) {
    throw bad_input(variable + ": " + error.what());
  }
}

// One line of AWS's error answer: "Code: message", without control
// characters or secrets, cut to a readable length.
std::string aws_error(const HttpResponse& response, const AwsCredentials& credentials) {
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  std::string code;
  std::string message;
  if (json.is_object()) {
    for (const char* key : {"__type", "code", "Code"}) {
      if (json.contains(key) && json[key].is_string() && code.empty()) code = json[key].get<std::string>();
    }
    for (const char* key : {"message", "Message"}) {
      if (json.contains(key) && json[key].is_string() && message.empty()) message = json[key].get<std::string>();
    }
  }
  if (code.empty()) code = response.header("x-amzn-ErrorType");
  code = code.substr(0, code.find(':'));           // "Code:http://internal…"
  if (code.find('#') != std::string::npos) code = code.substr(code.find('#') + 1);  // "ns#Code"
  std::string text = code.empty() ? message : message.empty() ? code : code + ": " + message;
  for (const std::string* secret : {&credentials.secret_access_key, &credentials.session_token}) {
    for (size_t at; !secret->empty() && (at = text.find(*secret)) != std::string::npos;) {
      text.replace(at, secret->size(), "REDACTED");
    }
  }
  for (char& c : text) c = static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  if (text.size() > k_max_message) text = text.substr(0, k_max_message) + "…";
  return text;
}

}  // namespace

std::optional<EcrHost> parse_ecr_host(std::string_view registry) {
  static const std::regex k_host(
      R"(^([0-9]{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9][a-z0-9-]*)\.amazonaws\.com(\.cn)?$)");
  std::string host = lower(registry);
  std::smatch match;
  if (!std::regex_match(host, match, k_host)) return std::nullopt;
  return EcrHost{match[1].str(), match[3].str(), match[2].matched, match[4].matched};
}

EcrEndpoint ecr_endpoint(const core::Env& env, const std::string& registry) {
  EcrEndpoint endpoint;
  auto host = parse_ecr_host(registry);
  endpoint.region = host ? host->region : std::string(core::trim(core::get(env, "AWS_REGION")));
  if (endpoint.region.empty()) endpoint.region = core::trim(core::get(env, "AWS_DEFAULT_REGION"));
  if (endpoint.region.empty()) {
    throw bad_input("no AWS region for " + quoted(registry) +
                    ": set AWS_REGION (the host is not an ECR registry "
                    "ACCOUNT.dkr.ecr.REGION.amazonaws.com, which names its region)");
  }
  for (const char* variable : {"AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL"}) {
    std::string text(core::trim(core::get(env, variable)));
    if (!text.empty()) {
      endpoint.url = endpoint_url(variable, text);
      return endpoint;
    }
  }
  bool china = host ? host->china : endpoint.region.starts_with("cn-");
  std::string name = host && host->fips ? "ecr-fips." : "api.ecr.";
  endpoint.url = Url::parse("https://" + name + endpoint.region + ".amazonaws.com" + (china ? ".cn" : ""));
  return endpoint;
}

HttpRequest get_authorization_token_request(const EcrEndpoint& endpoint,
                                            const AwsCredentials& credentials,
                                            std::int64_t unix_seconds) {
  const std::string& target = endpoint.url.target;
  size_t question = target.find('?');
  SigV4Request signing{"POST", target.substr(0, question),
                       question == std::string::npos ? "" : target.substr(question + 1),
                       {{"Host", endpoint.url.host},
                        {"Content-Type", std::string(k_content_type)},
                        {"X-Amz-Target", std::string(k_target)}},
                       "{}"};
  sign(signing, credentials, endpoint.region, "ecr", unix_seconds);
  HttpRequest request;
  request.method = "POST";
  request.url = endpoint.url;
  request.body = signing.body;
  for (const auto& [name, value] : signing.headers) request.headers.emplace(name, value);
  request.headers.emplace("Accept", "application/json");
  return request;
}

Credential parse_authorization_token(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  const nlohmann::json* data = nullptr;
  if (json.is_object() && json.contains("authorizationData") && json["authorizationData"].is_array() &&
      !json["authorizationData"].empty() && json["authorizationData"][0].is_object()) {
    data = &json["authorizationData"][0];
  }
  if (data == nullptr || !data->contains("authorizationToken") || !(*data)["authorizationToken"].is_string()) {
    throw failure("GetAuthorizationToken answered no authorizationData[0].authorizationToken");
  }
  auto decoded = core::base64_decode((*data)["authorizationToken"].get<std::string>());
  size_t colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos || colon == 0 || colon + 1 == decoded->size()) {
    throw failure("GetAuthorizationToken answered a token that is not base64 of USER:PASSWORD");
  }
  return Credential{decoded->substr(0, colon), decoded->substr(colon + 1), ""};
}

std::int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

Credential ecr_login(const core::Env& env, const std::string& registry, const TransportOptions& options,
                     const UnixClock& now) {
  EcrEndpoint endpoint = ecr_endpoint(env, registry);
  AwsCredentials credentials;
  try {
    credentials = aws_credentials(env, options);
  } catch (const Error& error) {
    throw Error(error.kind(), "cannot log in to " + registry + " through AWS: " + error.what());
  }
  std::string where = "GetAuthorizationToken at " + redact(endpoint.url.str());
  Transport transport(options);
  HttpResponse response;
  try {
    response = transport.send(get_authorization_token_request(endpoint, credentials, now()));
  } catch (const Error& error) {
    throw failure("cannot log in to " + registry + " through AWS: " + where + ": " + error.what());
  }
  if (response.status != 200) {
    std::string detail = aws_error(response, credentials);
    throw failure("cannot log in to " + registry + " through AWS: " + where + " answered HTTP " +
                  std::to_string(response.status) + (detail.empty() ? "" : " (" + detail + ")"));
  }
  try {
    return parse_authorization_token(response.body);
  } catch (const Error& error) {
    throw failure("cannot log in to " + registry + " through AWS: " + error.what());
  }
}

}  // namespace polyarch::registry
