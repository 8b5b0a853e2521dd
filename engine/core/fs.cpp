#include "engine/core/fs.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <unistd.h>

#include "engine/core/error.hpp"

namespace polyarch::core {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw failure("cannot read " + quoted(path.string()) + ": " + std::strerror(errno));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw failure("cannot write " + quoted(path.string()) + ": " + std::strerror(errno));
    }
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw failure("cannot write " + quoted(path.string()) + ": " + std::strerror(errno));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw failure("cannot write " + quoted(path.string()) + ": " + ec.message());
  }
}

static fs::path make_temp_dir(const fs::path& parent, const std::string& prefix) {
  std::string pattern = (parent / (prefix + ".XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw failure("cannot create a temporary directory in " + quoted(parent.string()) +
                  ": " + std::strerror(errno));
  }
  return pattern;
}

TempDir::TempDir(const std::string& prefix)
    : m_path(make_temp_dir(fs::temp_directory_path(), prefix)) {}

TempDir::TempDir(const fs::path& parent, const std::string& prefix)
    : m_path(make_temp_dir(parent, prefix)) {}

TempDir::~TempDir() {
  if (!m_path.empty()) {
    std::error_code ignored;
    fs::remove_all(m_path, ignored);
  }
}

}  // namespace polyarch::core
