#pragma once
// Does each platform's content really match its platform? For every
// platform image: the config's os/architecture/variant against the index
// entry, and every ELF program in the image's file system against the
// platform's row of the arch table (the "arm64 image holding amd64
// binaries" bug).

#include <optional>
#include <string>
#include <vector>

#include "engine/publish/store.hpp"

namespace polyarch::verify {

// What verification found for one platform image.
struct PlatformReport {
  image::Platform platform;           // as the index entry (or, alone, the config) says
  image::Descriptor manifest;         // the image manifest checked
  int elf_files = 0;                  // ELF programs in the final file system
  bool elf_checked = false;           // false when there is no arch row for the platform
  std::vector<std::string> problems;  // one sentence each, e.g.
                                      // "/bin/app is an x86-64 ELF (linux/amd64)"

  bool ok() const { return problems.empty(); }
};

struct VerifyOptions {
  std::vector<image::Platform> platforms;  // empty: every platform of the index
};

// Verifies every platform image of top (an index or one image manifest)
// read from store, in index order, attestations left out. Throws failure
// when a requested platform is absent or a blob cannot be read.
std::vector<PlatformReport> verify_image(publish::ImageStore& store,
                                         const registry::FetchedManifest& top,
                                         const VerifyOptions& options);

// Verifies one image manifest against the platform its index entry claims
// (nullopt: the platform its config names). Layers are streamed, and only
// the first bytes of each file are looked at. Throws failure when a blob
// cannot be read or is not a tar layer.
PlatformReport verify_manifest(publish::ImageStore& store, const image::Descriptor& descriptor,
                               const std::optional<image::Platform>& claimed);

// Platform names of the reports that failed, comma-separated ("linux/arm64, linux/386").
std::string failed_platforms(const std::vector<PlatformReport>& reports);

}  // namespace polyarch::verify
