#pragma once
// binfmt_misc: read its handlers, mount it, register, enable, disable and
// remove handlers. Everything goes through one directory (normally
// /proc/sys/fs/binfmt_misc) so tests can point it at a temp dir.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/emulation/arch_table.hpp"

namespace polyarch::emulation {

namespace fs = std::filesystem;

// The directory the kernel's binfmt_misc is mounted on.
inline const fs::path k_binfmt_dir = "/proc/sys/fs/binfmt_misc";

// One handler as its entry file shows it.
struct Handler {
  std::string name;         // entry file name: "qemu-aarch64"
  bool enabled = false;     // first line "enabled" / "disabled"
  std::string interpreter;  // "/usr/bin/qemu-aarch64-static"
  std::string flags;        // "POCF" as the kernel prints them; may be empty
  int offset = 0;           // where the magic starts in the file
  std::string magic;        // raw bytes (decoded from hex); empty for extension handlers
  std::string mask;         // raw bytes; empty means all ones
  bool interpreter_exists = false;  // filled by BinfmtDir::handlers()

  // True when the kernel would pick this handler for a file starting with header.
  bool matches(std::string_view header) const;
  // True when the 'F' flag is set (interpreter opened at registration).
  bool fix_binary() const { return flags.find('F') != std::string::npos; }
};

// Parses an entry file's text; throws failure naming the entry when it is
// not a binfmt_misc entry.
Handler parse_handler(const std::string& name, const std::string& text);

// Decodes qemu's "\x7f\x45…" text into bytes; throws failure on bad text.
std::string decode_escaped(std::string_view text);

// The line written to "register": ":NAME:M::MAGIC:MASK:INTERPRETER:FLAGS".
std::string register_line(const Arch& arch, const std::string& name,
                          const std::string& interpreter, const std::string& flags);

// Reads /usr/lib/binfmt.d-style lines ":name:type:offset:magic:mask:interp:flags";
// returns the fields (7) or nothing when the text is not such a line.
std::optional<std::vector<std::string>> parse_register_line(std::string_view line);

class BinfmtDir {
 public:
  // dir is where binfmt_misc is (or would be) mounted.
  explicit BinfmtDir(fs::path dir = k_binfmt_dir) : m_dir(std::move(dir)) {}

  const fs::path& dir() const { return m_dir; }
  // True when binfmt_misc is mounted there (the "register" file exists).
  bool mounted() const;
  // Mounts binfmt_misc on dir; throws failure with the reason (e.g. not root).
  void mount() const;
  // True when the global "status" file says enabled (or there is none).
  bool globally_enabled() const;
  // Every handler, sorted by name; unreadable entries are skipped.
  std::vector<Handler> handlers() const;
  // The handler called name, if there is one.
  std::optional<Handler> handler(const std::string& name) const;
  // Writes line to "register"; throws failure `cannot register "NAME": File exists`.
  void register_handler(const std::string& name, const std::string& line) const;
  // Writes "1" (enable), "0" (disable) or "-1" (remove) to the entry file.
  void enable(const std::string& name) const { write_entry(name, "1", "enable"); }
  void disable(const std::string& name) const { write_entry(name, "0", "disable"); }
  void remove(const std::string& name) const { write_entry(name, "-1", "remove"); }

 private:
  void write_entry(const std::string& name, const std::string& value, const char* what) const;
  fs::path m_dir;
};

}  // namespace polyarch::emulation
