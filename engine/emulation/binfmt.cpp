#include "engine/emulation/binfmt.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"

namespace polyarch::emulation {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes plain hex ("7f454c46…") as the kernel prints magic and mask.
std::string decode_hex(std::string_view hex, const std::string& name) {
  std::string bytes;
  if (hex.size() % 2 != 0) throw failure("binfmt_misc entry " + quoted(name) + ": odd hex " + quoted(std::string(hex)));
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = hex_value(hex[i]), low = hex_value(hex[i + 1]);
    if (high < 0 || low < 0) {
      throw failure("binfmt_misc entry " + quoted(name) + ": bad hex " + quoted(std::string(hex)));
    }
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

// Writes value with one write(2), as binfmt_misc requires.
void write_control(const fs::path& path, const std::string& value, const std::string& what) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) throw failure("cannot " + what + ": " + path.string() + ": " + std::strerror(errno));
  ssize_t written = ::write(fd, value.data(), value.size());
  int error = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(value.size())) {
    throw failure("cannot " + what + ": " + std::strerror(written < 0 ? error : EIO));
  }
}

}  // namespace

bool Handler::matches(std::string_view header) const {
  if (magic.empty()) return false;
  size_t start = static_cast<size_t>(offset);
  if (header.size() < start + magic.size()) return false;
  for (size_t i = 0; i < magic.size(); ++i) {
    unsigned char m = i < mask.size() ? static_cast<unsigned char>(mask[i]) : 0xff;
    unsigned char byte = static_cast<unsigned char>(header[start + i]);
    if ((byte & m) != (static_cast<unsigned char>(magic[i]) & m)) return false;
  }
  return true;
}

Handler parse_handler(const std::string& name, const std::string& text) {
  Handler handler;
  handler.name = name;
  std::istringstream lines(text);
  std::string line;
  bool seen_state = false;
  while (std::getline(lines, line)) {
    if (line == "enabled" || line == "disabled") {
      handler.enabled = line == "enabled";
      seen_state = true;
    } else if (line.starts_with("interpreter ")) {
      handler.interpreter = line.substr(12);
    } else if (line.starts_with("flags:")) {
      handler.flags = std::string(core::trim(line.substr(6)));
    } else if (line.starts_with("offset ")) {
      handler.offset = std::atoi(line.c_str() + 7);
    } else if (line.starts_with("magic ")) {
      handler.magic = decode_hex(core::trim(line.substr(6)), name);
    } else if (line.starts_with("mask ")) {
      handler.mask = decode_hex(core::trim(line.substr(5)), name);
    }
  }
  if (!seen_state) throw failure("binfmt_misc entry " + quoted(name) + " is not a handler");
  return handler;
}

std::string decode_escaped(std::string_view text) {
  std::string bytes;
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i, 2) == "\\x" && i + 4 <= text.size()) {
      int high = hex_value(text[i + 2]), low = hex_value(text[i + 3]);
      if (high < 0 || low < 0) throw failure("bad escape in " + quoted(std::string(text)));
      bytes.push_back(static_cast<char>(high * 16 + low));
      i += 4;
    } else if (text[i] == '\\') {
      throw failure("bad escape in " + quoted(std::string(text)));
    } else {
      bytes.push_back(text[i++]);
    }
  }
  return bytes;
}

std::string register_line(const Arch& arch, const std::string& name,
                          const std::string& interpreter, const std::string& flags) {
  return ":" + name + ":M::" + std::string(arch.magic) + ":" + std::string(arch.mask) + ":" +
         interpreter + ":" + flags;
}

std::optional<std::vector<std::string>> parse_register_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  line = core::trim(line);
  if (line.size() < 2 || line.front() != ':') return std::nullopt;
  auto fields = core::split(line.substr(1), line.front());
  if (fields.size() != 7) return std::nullopt;
  return fields;
}

bool BinfmtDir::mounted() const { return fs::exists(m_dir / "register"); }

void BinfmtDir::mount() const {
  if (::mount("binfmt_misc", m_dir.c_str(), "binfmt_misc", 0, nullptr) != 0) {
    int error = errno;
    std::string reason = error == EPERM ? "permission denied (run as root)" : std::strerror(error);
    throw failure("cannot mount binfmt_misc on " + m_dir.string() + ": " + reason);
  }
}

bool BinfmtDir::globally_enabled() const {
  std::ifstream status(m_dir / "status");
  std::string word;
  if (!(status >> word)) return true;
  return word != "disabled";
}

std::vector<Handler> BinfmtDir::handlers() const {
  std::vector<Handler> result;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(m_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name == "register" || name == "status") continue;
    std::ifstream file(entry.path());
    if (!file) continue;
    std::stringstream text;
    text << file.rdbuf();
    try {
      Handler handler = parse_handler(name, text.str());
      handler.interpreter_exists = !handler.interpreter.empty() && fs::exists(handler.interpreter, ec);
      result.push_back(std::move(handler));
    } catch (const Error&) {
      continue;
    }
  }
  std::sort(result.begin(), result.end(),
            [](const Handler& a, const Handler& b) { return a.name < b.name; });
  return result;
}

std::optional<Handler> BinfmtDir::handler(const std::string& name) const {
  for (auto& handler : handlers()) {
    if (handler.name == name) return handler;
  }
  return std::nullopt;
}

void BinfmtDir::register_handler(const std::string& name, const std::string& line) const {
  write_control(m_dir / "register", line, "register " + quoted(name));
}

void BinfmtDir::write_entry(const std::string& name, const std::string& value,
                            const char* what) const {
  write_control(m_dir / name, value, std::string(what) + " handler " + quoted(name));
}

}  // namespace polyarch::emulation
