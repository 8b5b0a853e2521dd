#include "engine/core/config.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <set>
#include <system_error>
#include <vector>

#include "engine/core/config_keys.hpp"
#include "engine/core/error.hpp"
#include "engine/image/shown.hpp"

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

// Deeper flow nesting ([ and {) than any polyarch.yml needs; more is
// refused before yaml-cpp, which recurses once per level.
constexpr int k_max_nesting = 100;

// Throws bad_input "FILE:LINE:COL: nested deeper than 100 levels" at the
// bracket that goes too deep; quoted strings and comments are skipped.
void check_nesting(const std::string& name, std::string_view bytes) {
  int depth = 0;
  int line = 1;
  int column = 0;
  char quote = 0;
  bool comment = false;
  char previous = '\n';
  for (char c : bytes) {
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
      comment = false;
    } else if (comment) {
    } else if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' && (previous == ' ' || previous == '\t' || previous == '\n')) {
      comment = true;
    } else if (c == '[' || c == '{') {
      if (++depth > k_max_nesting) {
        throw bad_input(name + ":" + std::to_string(line) + ":" + std::to_string(column) +
                        ": nested deeper than " + std::to_string(k_max_nesting) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    previous = c;
  }
}

// Notes where documents and the first node of the second one start.
class DocumentMarks : public YAML::EventHandler {
 public:
  int documents = 0;
  YAML::Mark first;   // where the first document starts
  YAML::Mark second;  // where the second starts
  std::optional<YAML::Mark> second_node;

  void OnDocumentStart(const YAML::Mark& mark) override {
    (++documents == 1 ? first : second) = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (documents == 2 && !second_node) second_node = mark;
  }
};

// Throws bad_input when the text holds a second YAML document. Reads at most
// two: yaml-cpp's LoadAll never ends on some stray tokens (a lone ","),
// which start document after document without moving on.
void check_one_document(const std::string& name, std::string_view bytes) {
  std::istringstream in{std::string(bytes)};
  YAML::Parser parser(in);
  DocumentMarks marks;
  if (!parser.HandleNextDocument(marks) || !parser.HandleNextDocument(marks)) return;
  if (marks.second.pos == marks.first.pos) {
    size_t at = static_cast<size_t>(std::max(0, marks.second.pos));
    std::string_view token = at < bytes.size() ? bytes.substr(at, 1) : std::string_view();
    throw bad_input(ConfigField::location(name, marks.second) + "invalid YAML: unexpected " +
                    quoted(std::string(token)));
  }
  throw bad_input(ConfigField::location(name, marks.second_node.value_or(marks.second)) +
                  "only one YAML document is allowed; found a second one");
}

// Applies the YAML text; messages may hold raw bytes of the file.
void apply_text(const std::string& name, std::string_view bytes, build::BuildOptions& options) {
  if (bytes.size() > k_max_config_bytes) {
    throw bad_input(name + ": larger than 1 MiB; refusing it");
  }
  check_nesting(name, bytes);
  YAML::Node top;
  try {
    check_one_document(name, bytes);
    top = YAML::Load(std::string(bytes));
  } catch (const YAML::Exception& error) {
    throw bad_input(ConfigField::location(name, error.mark) + "invalid YAML: " + error.msg);
  }
  if (top.IsNull()) return;  // empty or only comments
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

}  // namespace

void apply_config_file(const std::filesystem::path& file, build::BuildOptions& options) {
  apply_config_text(file.string(), read_config(file), options);
}

void apply_config_text(const std::string& name, std::string_view bytes,
                       build::BuildOptions& options) {
  try {
    apply_text(name, bytes, options);
  } catch (const Error& error) {
    // A value or a YAML parser message may quote control characters.
    throw bad_input(image::escape_controls(error.what()));
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
