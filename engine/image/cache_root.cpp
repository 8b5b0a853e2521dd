#include "engine/image/cache_root.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <system_error>

namespace polyarch::image {

std::filesystem::path cache_root(const core::Env& env) {
  std::string base = core::get(env, "XDG_CACHE_HOME");
  if (base.empty() && !core::get(env, "HOME").empty()) base = core::get(env, "HOME") + "/.cache";
  if (base.empty()) return {};
  return std::filesystem::path(base) / "polyarch";
}

bool make_private_dirs(const std::filesystem::path& dir) {
  if (dir.empty()) return false;
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return true;
  std::filesystem::path parent = dir.parent_path();
  if (parent != dir && !parent.empty() && !make_private_dirs(parent)) return false;
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    return std::filesystem::is_directory(dir, ec);
  }
  return false;
}

}  // namespace polyarch::image
