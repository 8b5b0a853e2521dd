#include "engine/core/children.hpp"

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

namespace polyarch::core {

// The parent pid field of /proc/PID/stat (the 4th, after "(comm)").
static pid_t parent_of(const std::filesystem::path& stat_file) {
  std::string text;
  try {
    text = read_file(stat_file);
  } catch (const Error&) {
    return -1;  // the process is gone
  }
  auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  char state;
  pid_t parent = -1;
  fields >> state >> parent;
  return parent;
}

int terminate_children() {
  pid_t self = ::getpid();
  int signalled = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (parent_of(entry.path() / "stat") != self) continue;
    if (::getpgid(pid) == pid) ::kill(-pid, SIGTERM);
    ::kill(pid, SIGTERM);
    ++signalled;
  }
  return signalled;
}

}  // namespace polyarch::core
