#include "engine/emulation/proofs.hpp"

#include <sys/stat.h>

#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/image/digest.hpp"

namespace polyarch::emulation {

namespace {

// "dev:ino:size:mtime_ns" of the file at path, or "missing".
std::string file_identity(const std::string& path) {
  struct stat info {};
  if (path.empty() || ::stat(path.c_str(), &info) != 0) return "missing";
  long long mtime_ns = static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL + info.st_mtim.tv_nsec;
  return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino) + ":" +
         std::to_string(info.st_size) + ":" + std::to_string(mtime_ns);
}

// The recorded lines of path; none when it cannot be read.
std::vector<std::string> recorded_lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return lines;
  try {
    std::istringstream text(core::read_file(path));
    for (std::string line; std::getline(text, line);) {
      if (!line.empty()) lines.push_back(line);
    }
  } catch (const Error&) {
    lines.clear();
  }
  return lines;
}

}  // namespace

std::string proof_fingerprint(const std::vector<Handler>& matching) {
  if (matching.empty()) return "";
  std::string facts;
  for (const auto& h : matching) {
    facts += h.name + '\0' + (h.enabled ? "1" : "0") + '\0' + h.interpreter + '\0' + h.flags + '\0' +
             std::to_string(h.offset) + '\0' + h.magic + '\0' + h.mask + '\0' + file_identity(h.interpreter) +
             '\n';
  }
  return image::sha256(facts).hex;
}

bool proven_before(const std::filesystem::path& path, const Arch& arch, const std::string& fingerprint) {
  if (fingerprint.empty()) return false;
  std::string wanted = std::string(arch.platform) + " " + fingerprint;
  for (const auto& line : recorded_lines(path)) {
    if (line == wanted) return true;
  }
  return false;
}

void remember_proof(const std::filesystem::path& path, const Arch& arch, const std::string& fingerprint) {
  if (fingerprint.empty()) return;
  std::string prefix = std::string(arch.platform) + " ";
  std::string text;
  for (const auto& line : recorded_lines(path)) {
    if (!line.starts_with(prefix)) text += line + "\n";
  }
  text += prefix + fingerprint + "\n";
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  try {
    core::write_file_atomic(path, text);
  } catch (const Error&) {
    // Unwritable (not root, read-only /run): the next build proves again.
  }
}

}  // namespace polyarch::emulation
