#include "engine/image/config.hpp"

#include "engine/core/error.hpp"
#include "engine/image/json_fields.hpp"

namespace polyarch::image {

using namespace json_fields;

static Json to_json(const RuntimeConfig& config) {
  Json json = Json::object();
  if (!config.user.empty()) json["User"] = config.user;
  if (!config.env.empty()) json["Env"] = config.env;
  if (!config.entrypoint.empty()) json["Entrypoint"] = config.entrypoint;
  if (!config.cmd.empty()) json["Cmd"] = config.cmd;
  if (!config.working_dir.empty()) json["WorkingDir"] = config.working_dir;
  if (!config.labels.empty()) json["Labels"] = config.labels;
  if (!config.stop_signal.empty()) json["StopSignal"] = config.stop_signal;
  put_extras(json, config.extra);
  return json;
}

static RuntimeConfig runtime_config_from_json(const Json& json, std::string_view what) {
  require_object(json, what);
  RuntimeConfig config;
  config.user = get_string(json, "User", what);
  config.env = get_strings(json, "Env", what);
  config.entrypoint = get_strings(json, "Entrypoint", what);
  config.cmd = get_strings(json, "Cmd", what);
  config.working_dir = get_string(json, "WorkingDir", what);
  config.labels = get_string_map(json, "Labels", what);
  config.stop_signal = get_string(json, "StopSignal", what);
  config.extra = extras(json, {"User", "Env", "Entrypoint", "Cmd", "WorkingDir", "Labels",
                               "StopSignal"});
  return config;
}

static Json to_json(const HistoryEntry& entry) {
  Json json = Json::object();
  if (!entry.created.empty()) json["created"] = entry.created;
  if (!entry.created_by.empty()) json["created_by"] = entry.created_by;
  if (!entry.comment.empty()) json["comment"] = entry.comment;
  if (entry.empty_layer) json["empty_layer"] = true;
  return json;
}

Json to_json(const ImageConfig& config) {
  Json json = Json::object();
  if (!config.created.empty()) json["created"] = config.created;
  if (!config.author.empty()) json["author"] = config.author;
  Json platform = to_json(config.platform);
  for (const auto& [key, value] : platform.items()) json[key] = value;
  json["config"] = to_json(config.config);
  json["rootfs"] = Json{{"type", "layers"}, {"diff_ids", config.diff_ids}};
  if (!config.history.empty()) {
    json["history"] = Json::array();
    for (const auto& entry : config.history) json["history"].push_back(to_json(entry));
  }
  put_extras(json, config.extra);
  return json;
}

ImageConfig parse_image_config(std::string_view bytes, std::string_view what) {
  Json json = parse_json(bytes, what);
  require_object(json, what);
  ImageConfig config;
  config.created = get_string(json, "created", what);
  config.author = get_string(json, "author", what);
  config.platform = platform_from_json(json, what);
  if (auto it = json.find("config"); it != json.end() && !it->is_null()) {
    config.config = runtime_config_from_json(*it, what);
  }
  auto rootfs = json.find("rootfs");
  if (rootfs == json.end() || !rootfs->is_object()) {
    throw failure("invalid " + std::string(what) + ": \"rootfs\" must be an object");
  }
  config.diff_ids = get_strings(*rootfs, "diff_ids", what);
  if (auto it = json.find("history"); it != json.end() && !it->is_null()) {
    if (!it->is_array()) throw failure("invalid " + std::string(what) + ": \"history\" must be an array");
    for (const auto& item : *it) {
      require_object(item, what);
      HistoryEntry entry;
      entry.created = get_string(item, "created", what);
      entry.created_by = get_string(item, "created_by", what);
      entry.comment = get_string(item, "comment", what);
      auto empty = item.find("empty_layer");
      entry.empty_layer = empty != item.end() && empty->is_boolean() && empty->get<bool>();
      config.history.push_back(entry);
    }
  }
  config.extra = extras(json, {"created", "author", "architecture", "os", "os.version",
                               "os.features", "variant", "config", "rootfs", "history"});
  return config;
}

}  // namespace polyarch::image
