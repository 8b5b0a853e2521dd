#pragma once
// Remembered proofs: a platform proven once stays proven while the
// binfmt_misc handlers that match it and their interpreters are unchanged,
// so `polyarch build` does not run a probe under QEMU every time. One
// "PLATFORM FINGERPRINT" line per platform, in a file under /run/polyarch
// (gone at reboot, like the handlers themselves).

#include <filesystem>
#include <string>
#include <vector>

#include "engine/emulation/arch_table.hpp"
#include "engine/emulation/binfmt.hpp"

namespace polyarch::emulation {

// What a proof of a platform rests on: every handler that matches it (entry
// fields, enabled or not) and its interpreter file's identity (device, inode,
// size, modification time), hashed; "" when no handler matches.
std::string proof_fingerprint(const std::vector<Handler>& matching);

// True when path records fingerprint for arch (never for an empty fingerprint).
bool proven_before(const std::filesystem::path& path, const Arch& arch, const std::string& fingerprint);

// Records fingerprint for arch in path, replacing its earlier line; does
// nothing when path cannot be written (e.g. not root): the proof just runs again.
void remember_proof(const std::filesystem::path& path, const Arch& arch, const std::string& fingerprint);

}  // namespace polyarch::emulation
