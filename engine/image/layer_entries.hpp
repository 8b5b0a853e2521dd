#pragma once
// The entries of a layer (internal to write_layer): what its sources hold,
// in tar order.

#include <fcntl.h>
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/image/layer.hpp"

namespace polyarch::image::layer_entries {

// Throws failure "cannot read PATH: <strerror(error)>".
[[noreturn]] void throw_unreadable(const std::filesystem::path& path, int error);

// Closes a file descriptor when it goes out of scope.
struct FdCloser {
  int fd = -1;
  ~FdCloser();
};

constexpr mode_t k_parent_mode = 0755;

enum class EntryKind { file, directory, symlink };

// One tar entry. A file is opened as `open_name` relative to `dir_fd`: its
// directory while a walk holds it open, else AT_FDCWD and the whole path.
struct Entry {
  EntryKind kind = EntryKind::directory;
  fs::path source;  // empty for a directory added as a parent
  mode_t mode = k_parent_mode;
  std::string link_target;
  int dir_fd = AT_FDCWD;
  std::string open_name;
};

// Receives each entry with its tar name ("usr/", "usr/bin/app").
using EntrySink = std::function<void(const std::string& name, const Entry& entry)>;

// The entries of a layer holding some sources, sorted by name (bytes
// compared unsigned), later sources replacing what earlier ones put at a
// path and the parents of each destination added as 0755 directories.
class Entries {
 public:
  // Checks every source and reads them, but for a single directory, which
  // is walked while for_each() runs, so that the first entries go out before
  // the whole tree is read. Throws failure when a source is missing or
  // unreadable (naming it) and bad_input for a bad destination.
  explicit Entries(const std::vector<LayerSource>& sources);
  Entries(const Entries&) = delete;
  Entries& operator=(const Entries&) = delete;

  // Calls add for each entry in order; throws failure like the constructor.
  void for_each(const EntrySink& add) const;

 private:
  std::vector<std::pair<std::string, Entry>> m_collected;
  fs::path m_tree;          // the single directory source, else empty
  std::string m_tree_dest;  // where it goes ("" for the root)
};

}  // namespace polyarch::image::layer_entries
