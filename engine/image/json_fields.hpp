#pragma once
// Typed reads of JSON members, failing with the object's name in the message.

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace polyarch::image::json_fields {

using Json = nlohmann::ordered_json;

// Each returns an empty value when the key is absent or null, and throws
// failure "invalid <what>: "<key>" must be …" when it has another type.
std::string get_string(const Json& json, const char* key, std::string_view what);
std::vector<std::string> get_strings(const Json& json, const char* key, std::string_view what);
std::map<std::string, std::string> get_string_map(const Json& json, const char* key,
                                                  std::string_view what);
// Throws failure "invalid <what>: not a JSON object" unless json is an object.
void require_object(const Json& json, std::string_view what);
// Members whose keys are not in `known`, in their order.
Json extras(const Json& json, std::initializer_list<const char*> known);
// Appends every member of extra to json.
void put_extras(Json& json, const Json& extra);

}  // namespace polyarch::image::json_fields
