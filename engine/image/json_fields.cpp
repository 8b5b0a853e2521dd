#include "engine/image/json_fields.hpp"

#include "engine/core/error.hpp"

namespace polyarch::image::json_fields {

static Error type_error(std::string_view what, const char* key, const char* expected) {
  return failure("invalid " + std::string(what) + ": \"" + key + "\" must be " + expected);
}

std::string get_string(const Json& json, const char* key, std::string_view what) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return {};
  if (!it->is_string()) throw type_error(what, key, "a string");
  return it->get<std::string>();
}

std::vector<std::string> get_strings(const Json& json, const char* key, std::string_view what) {
  std::vector<std::string> out;
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return out;
  if (!it->is_array()) throw type_error(what, key, "an array of strings");
  for (const auto& item : *it) {
    if (!item.is_string()) throw type_error(what, key, "an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> get_string_map(const Json& json, const char* key,
                                                  std::string_view what) {
  std::map<std::string, std::string> out;
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return out;
  if (!it->is_object()) throw type_error(what, key, "an object of strings");
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) throw type_error(what, key, "an object of strings");
    out[name] = value.get<std::string>();
  }
  return out;
}

void require_object(const Json& json, std::string_view what) {
  if (!json.is_object()) throw failure("invalid " + std::string(what) + ": not a JSON object");
}

Json extras(const Json& json, std::initializer_list<const char*> known) {
  Json out = Json::object();
  for (const auto& [key, value] : json.items()) {
    bool is_known = false;
    for (const char* name : known) is_known = is_known || key == name;
    if (!is_known) out[key] = value;
  }
  return out;
}

void put_extras(Json& json, const Json& extra) {
  for (const auto& [key, value] : extra.items()) json[key] = value;
}

}  // namespace polyarch::image::json_fields
