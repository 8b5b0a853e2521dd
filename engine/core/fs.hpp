#pragma once
// File-system helpers that report failures as polyarch::Error.

#include <filesystem>
#include <string>
#include <string_view>

namespace polyarch::core {

namespace fs = std::filesystem;

// Returns the whole file; throws failure when it can't be read.
std::string read_file(const fs::path& path);

// Writes bytes to a temporary sibling and renames it over path, so readers
// never see a partial file. Throws failure when the directory is unwritable.
void write_file_atomic(const fs::path& path, std::string_view bytes);

// A directory under the system temp dir, removed with everything in it when
// the object goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "polyarch");
  // Makes a temp dir inside parent (so a later rename stays on one device).
  TempDir(const fs::path& parent, const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return m_path; }
  // Keeps the directory after destruction.
  void release() { m_path.clear(); }

 private:
  fs::path m_path;
};

}  // namespace polyarch::core
