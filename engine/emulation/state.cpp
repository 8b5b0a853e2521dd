#include "engine/emulation/state.hpp"

#include <algorithm>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"

namespace polyarch::emulation {

std::vector<Registered> read_registered(const std::filesystem::path& path) {
  std::vector<Registered> records;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return records;
  std::istringstream lines(core::read_file(path));
  std::string line;
  while (std::getline(lines, line)) {
    size_t space = line.find(' ');
    if (line.empty() || space == 0) continue;
    if (space == std::string::npos) {
      records.push_back({line, ""});
    } else {
      records.push_back({line.substr(0, space), line.substr(space + 1)});
    }
  }
  return records;
}

void write_registered(const std::filesystem::path& path, const std::vector<Registered>& records) {
  std::error_code ec;
  if (records.empty()) {
    std::filesystem::remove(path, ec);
    return;
  }
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) throw failure("cannot create " + path.parent_path().string() + ": " + ec.message());
  std::string text;
  for (const auto& record : records) text += record.name + " " + record.interpreter + "\n";
  core::write_file_atomic(path, text);
}

void add_registered(const std::filesystem::path& path, const Registered& record) {
  auto records = read_registered(path);
  std::erase_if(records, [&](const Registered& r) { return r.name == record.name; });
  records.push_back(record);
  write_registered(path, records);
}

}  // namespace polyarch::emulation
