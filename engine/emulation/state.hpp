#pragma once
// The record of handlers polyarch registered, so --uninstall removes only
// those: one "NAME INTERPRETER" line each, in a file under /run/polyarch.

#include <filesystem>
#include <string>
#include <vector>

namespace polyarch::emulation {

struct Registered {
  std::string name;         // "qemu-aarch64"
  std::string interpreter;  // what polyarch registered it with
};

// The records in path; none when the file does not exist. Throws failure
// when it exists but cannot be read.
std::vector<Registered> read_registered(const std::filesystem::path& path);

// Replaces the records in path (creating its directory); removes the file
// when records is empty. Throws failure when it cannot be written.
void write_registered(const std::filesystem::path& path, const std::vector<Registered>& records);

// Adds (or replaces) the record for record.name.
void add_registered(const std::filesystem::path& path, const Registered& record);

}  // namespace polyarch::emulation
