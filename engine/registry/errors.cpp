#include "engine/registry/errors.hpp"

#include <nlohmann/json.hpp>

namespace polyarch::registry {

Error registry_error(const HttpResponse& response, const std::string& what) {
  std::string message = what + ": HTTP " + std::to_string(response.status);
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_object() && json.contains("errors") && json["errors"].is_array() &&
      !json["errors"].empty()) {
    const auto& first = json["errors"][0];
    if (first.contains("code") && first["code"].is_string()) {
      message += ": " + first["code"].get<std::string>();
    }
    if (first.contains("message") && first["message"].is_string()) {
      message += ": " + first["message"].get<std::string>();
    }
  }
  return failure(message);
}

}  // namespace polyarch::registry
