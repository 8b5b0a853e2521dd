#include "engine/core/config.hpp"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>
#include <vector>

#include "engine/core/config_keys.hpp"
#include "engine/core/error.hpp"

namespace polyarch::core {

namespace {

namespace fs = std::filesystem;

// The file's bytes; bad_input when it cannot be read or is too big.
std::string read_config(const fs::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  fs::file_status status = fs::status(file, ec);
  if (status.type() == fs::file_type::not_found) {
    throw bad_input("cannot read " + quoted(name) + ": " + std::strerror(ENOENT));
  }
  if (ec) throw bad_input("cannot read " + quoted(name) + ": " + ec.message());
  if (fs::is_directory(status)) {
    throw bad_input("cannot read " + quoted(name) + ": " + std::strerror(EISDIR));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw bad_input("cannot read " + quoted(name) + ": " + std::strerror(errno));
  std::string bytes(k_max_config_bytes + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.bad()) throw bad_input("cannot read " + quoted(name) + ": " + std::strerror(errno));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (bytes.size() > k_max_config_bytes) {
    throw bad_input(name + ": larger than 1 MiB; refusing it");
  }
  return bytes;
}

}  // namespace

void apply_config_file(const std::filesystem::path& file, build::BuildOptions& options) {
  const std::string name = file.string();
  const std::string bytes = read_config(file);

  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(bytes);
  } catch (const YAML::Exception& error) {
    throw bad_input(ConfigField::location(name, error.mark) + "invalid YAML: " + error.msg);
  }
  if (documents.size() > 1) {
    throw bad_input(ConfigField::location(name, documents[1].Mark()) +
                    "only one YAML document is allowed; found a second one");
  }
  if (documents.empty() || documents[0].IsNull()) return;  // empty or only comments
  const YAML::Node& top = documents[0];
  if (!top.IsMap()) {
    throw bad_input(ConfigField::location(name, top.Mark()) + "the top level must be a mapping of keys");
  }

  std::set<std::string> seen;
  for (auto it = top.begin(); it != top.end(); ++it) {
    ConfigField field{name, "", it->first, it->second};
    if (!it->first.IsScalar()) {
      throw field.error(it->first, "keys must be plain names, not " + shown(it->first));
    }
    field.key = it->first.Scalar();
    if (!seen.insert(field.key).second) {
      throw field.error(it->first, field.name() + " is given twice");
    }
    apply_key(field, options);
  }
}

std::filesystem::path find_config_file(const std::string& flag_value) {
  namespace fs = std::filesystem;
  if (!flag_value.empty()) {
    std::error_code ec;
    if (fs::status(flag_value, ec).type() == fs::file_type::not_found) {
      throw bad_input("cannot read " + quoted(flag_value) + ": " + std::strerror(ENOENT));
    }
    return flag_value;
  }
  std::error_code ec;
  if (fs::exists("polyarch.yml", ec)) return "polyarch.yml";
  return {};
}

}  // namespace polyarch::core
