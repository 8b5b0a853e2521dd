#include "engine/verify/verify.hpp"

#include <map>

#include "engine/core/error.hpp"
#include "engine/image/config.hpp"
#include "engine/image/media_types.hpp"
#include "engine/publish/copy.hpp"
#include "engine/verify/elf.hpp"
#include "engine/verify/layer_scan.hpp"

namespace polyarch::verify {

namespace {

using image::Platform;
namespace media_type = image::media_type;

// os/architecture/variant only: os.version and os.features are not checked.
std::string platform_name(const Platform& platform) {
  Platform normalized = image::normalize(platform);
  return Platform{normalized.os, normalized.architecture, normalized.variant, "", {}}.str();
}

// An ELF program found in the image's file system, and what is wrong with it.
struct Finding {
  size_t layer = 0;
  std::string problem;  // empty when it matches the platform
};

// The image's file system as layers stack up, reduced to its ELF programs.
class ElfTree {
 public:
  explicit ElfTree(const emulation::Arch& arch) : m_arch(arch) {}

  void add(size_t layer, const LayerEntry& entry) {
    switch (entry.kind) {
      case LayerEntry::Kind::directory:
        return;
      case LayerEntry::Kind::opaque:
        erase_under(entry.path, layer);
        return;
      case LayerEntry::Kind::whiteout:
      case LayerEntry::Kind::other:
        m_findings.erase(entry.path);
        erase_under(entry.path, layer + 1);
        return;
      case LayerEntry::Kind::file:
        m_findings.erase(entry.path);
        erase_under(entry.path, layer + 1);
        if (auto identity = read_elf_identity(entry.head); identity && is_program(*identity)) {
          m_findings[entry.path] = {layer, matches(*identity, m_arch)
                                               ? std::string()
                                               : entry.path + " is " + describe(*identity)};
        }
        return;
    }
  }

  const std::map<std::string, Finding>& findings() const { return m_findings; }

 private:
  // Removes what lies below directory dir and came from layers before `before`.
  void erase_under(const std::string& dir, size_t before) {
    std::string prefix = dir == "/" ? "/" : dir + "/";
    for (auto it = m_findings.lower_bound(prefix);
         it != m_findings.end() && it->first.starts_with(prefix);) {
      it = it->second.layer < before ? m_findings.erase(it) : std::next(it);
    }
  }

  const emulation::Arch& m_arch;
  std::map<std::string, Finding> m_findings;
};

bool is_tar_layer(const image::Descriptor& layer) {
  return layer.urls.empty() && layer.media_type.find("tar") != std::string::npos;
}

}  // namespace

PlatformReport verify_manifest(publish::ImageStore& store, const image::Descriptor& descriptor,
                               const std::optional<Platform>& claimed) {
  PlatformReport report;
  report.manifest = descriptor;
  if (media_type::is_index(descriptor.media_type)) {
    report.platform = claimed.value_or(Platform{});
    report.problems.push_back(descriptor.digest.str() + " is an index, not an image manifest");
    return report;
  }
  std::string what = "manifest " + descriptor.digest.str();
  image::Manifest manifest = image::parse_manifest(store.read_manifest(descriptor), what);
  image::ImageConfig config = image::parse_image_config(store.read_small_blob(manifest.config),
                                                        "config of " + what);
  report.platform = image::normalize(claimed.value_or(config.platform));
  if (platform_name(config.platform) != platform_name(report.platform)) {
    report.problems.push_back("config platform is " + platform_name(config.platform) +
                              ", not " + platform_name(report.platform));
  }
  const emulation::Arch* arch = emulation::find_arch(report.platform);
  if (arch == nullptr) return report;
  report.elf_checked = true;
  ElfTree tree(*arch);
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    if (!is_tar_layer(manifest.layers[i])) continue;
    scan_layer(store, manifest.layers[i], k_elf_head_size,
               [&](const LayerEntry& entry) { tree.add(i, entry); });
  }
  report.elf_files = static_cast<int>(tree.findings().size());
  for (const auto& [path, finding] : tree.findings()) {
    if (!finding.problem.empty()) report.problems.push_back(finding.problem);
  }
  return report;
}

std::vector<PlatformReport> verify_image(publish::ImageStore& store,
                                         const registry::FetchedManifest& top,
                                         const VerifyOptions& options) {
  if (!media_type::is_index(top.descriptor.media_type)) {
    PlatformReport report = verify_manifest(store, top.descriptor, std::nullopt);
    bool wanted = options.platforms.empty();
    for (const auto& platform : options.platforms) {
      wanted = wanted || platform_name(platform) == platform_name(report.platform);
    }
    if (!wanted) {
      throw failure(store.name() + " has no " + options.platforms.front().str() +
                    " image (it has: " + report.platform.str() + ")");
    }
    return {report};
  }
  image::Index index = image::parse_index(top.bytes, "index " + top.descriptor.digest.str());
  std::vector<PlatformReport> reports;
  for (const auto& entry : publish::select_platforms(index, options.platforms, store.name())) {
    if (publish::is_attestation(entry)) continue;
    reports.push_back(verify_manifest(store, entry, entry.platform));
  }
  return reports;
}

std::string failed_platforms(const std::vector<PlatformReport>& reports) {
  std::string names;
  for (const auto& report : reports) {
    if (!report.ok()) names += (names.empty() ? "" : ", ") + platform_name(report.platform);
  }
  return names;
}

}  // namespace polyarch::verify
