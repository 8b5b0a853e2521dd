#include "adapters/ci/outputs.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"
#include "engine/image/digest.hpp"

namespace polyarch::ci {

namespace {

std::string join(const std::vector<std::string>& lines, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += separator;
    out += lines[i];
  }
  return out;
}

}  // namespace

Outputs build_outputs(const BuildResult& result) {
  Outputs outputs;
  nlohmann::json json = {{"digest", result.digest}, {"tags", result.tags}, {"platforms", nlohmann::json::array()}};
  std::vector<std::string> platforms;
  for (const auto& platform : result.platforms) {
    platforms.push_back(platform.platform);
    json["platforms"].push_back({{"platform", platform.platform}, {"digest", platform.digest}, {"size", platform.size}});
  }
  outputs.values = {{"digest", {result.digest}, false},
                    {"tags", result.tags, false},
                    {"platforms", platforms, false},
                    {"metadata", {json.dump()}, true}};
  outputs.summary = build_report(result);
  return outputs;
}

Outputs tags_outputs(const metadata::Metadata& metadata) {
  std::vector<std::string> labels;
  for (const auto& [key, value] : metadata.labels) labels.push_back(key + "=" + value);
  Outputs outputs;
  outputs.values = {{"tags", metadata.tags, false},
                    {"labels", labels, true},
                    {"version", {metadata.version}, false},
                    {"json", {metadata.json().dump()}, true}};
  return outputs;
}

std::string github_output_text(const Outputs& outputs) {
  std::string out;
  for (const auto& value : outputs.values) {
    std::string text = join(value.lines, "\n");
    if (text.find_first_of("\r\n") == std::string::npos) {
      out += value.name + "=" + text + "\n";
      continue;
    }
    std::string delimiter = "ghadelimiter_" + image::sha256(value.name + "\n" + text).hex.substr(0, 32);
    while (text.find(delimiter) != std::string::npos) delimiter += "_";
    out += value.name + "<<" + delimiter + "\n" + text + "\n" + delimiter + "\n";
  }
  return out;
}

std::string env_name(std::string_view name) {
  std::string out(k_env_prefix);
  for (char c : name) {
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : '_';
  }
  return out;
}

std::string env_value(const OutputValue& value) {
  std::string text = join(value.lines, ",");
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string merge_env_file(std::string_view existing, const Outputs& outputs, std::string_view line_prefix,
                           bool quote_values) {
  std::vector<std::string> keys;
  std::string fresh;
  for (const auto& value : outputs.values) {
    if (value.structured) continue;
    keys.push_back(env_name(value.name));
    std::string text = env_value(value);
    fresh += std::string(line_prefix) + keys.back() + "=" + (quote_values ? shell_quote(text) : text) + "\n";
  }
  std::string out;
  for (const auto& line : core::split(existing, '\n')) {
    if (line.empty()) continue;
    std::string_view body = line;
    if (body.starts_with(line_prefix)) body.remove_prefix(line_prefix.size());
    std::string key(body.substr(0, body.find('=')));
    bool replaced = false;
    for (const auto& k : keys) replaced = replaced || k == key;
    if (!replaced) out += line + "\n";
  }
  return out + fresh;
}

void append_file(const std::filesystem::path& path, std::string_view text) {
  std::ofstream file(path, std::ios::binary | std::ios::app);
  if (file) file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.flush();
  if (!file) throw failure("cannot write " + quoted(path.string()) + ": " + std::strerror(errno));
}

std::string command_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%') out += "%25";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else out += c;
  }
  return out;
}

}  // namespace polyarch::ci
