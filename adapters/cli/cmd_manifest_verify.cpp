// polyarch manifest verify: does each platform's content match its platform?
//
// Text output, one line per platform (and per problem):
//   linux/amd64   ok  (3 ELF files)
//   linux/arm64   MISMATCH  /bin/app is an x86-64 ELF (linux/amd64)
// JSON output (--format json), stable:
//   {"name": "REF", "digest": "sha256:…", "ok": false,
//    "platforms": [{"platform": "linux/arm64", "digest": "sha256:…", "ok": false,
//                   "elfFiles": 1, "elfChecked": true, "problems": ["…"]}]}
// Exit 1 when any platform fails (the report still goes to stdout).
#include <iostream>

#include "adapters/cli/commands.hpp"
#include "adapters/cli/registry_options.hpp"
#include "engine/core/error.hpp"
#include "engine/image/manifest.hpp"
#include "engine/verify/verify.hpp"

namespace polyarch::cli {

namespace {

// At most this many problems per platform in the text report.
constexpr size_t k_text_problems = 10;

std::string elf_count(const verify::PlatformReport& report) {
  if (!report.elf_checked) return "(no ELF facts for " + report.platform.str() + ": config only)";
  return "(" + std::to_string(report.elf_files) + (report.elf_files == 1 ? " ELF file)" : " ELF files)");
}

void print_text(std::ostream& out, const std::vector<verify::PlatformReport>& reports) {
  size_t width = 0;
  for (const auto& report : reports) width = std::max(width, report.platform.str().size());
  for (const auto& report : reports) {
    std::string name = report.platform.str();
    std::string column = name + std::string(width - name.size(), ' ');
    if (report.ok()) {
      out << column << "  ok  " << elf_count(report) << "\n";
      continue;
    }
    for (size_t i = 0; i < report.problems.size() && i < k_text_problems; ++i) {
      out << column << "  MISMATCH  " << report.problems[i] << "\n";
    }
    if (report.problems.size() > k_text_problems) {
      out << column << "  MISMATCH  … and " << report.problems.size() - k_text_problems
          << " more (see --format json)\n";
    }
  }
}

image::Json report_json(const std::string& name, const image::Descriptor& top,
                        const std::vector<verify::PlatformReport>& reports) {
  image::Json json = image::Json::object();
  json["name"] = name;
  json["digest"] = top.digest.str();
  bool ok = true;
  image::Json platforms = image::Json::array();
  for (const auto& report : reports) {
    ok = ok && report.ok();
    platforms.push_back({{"platform", report.platform.str()},
                         {"digest", report.manifest.digest.str()},
                         {"ok", report.ok()},
                         {"elfFiles", report.elf_files},
                         {"elfChecked", report.elf_checked},
                         {"problems", report.problems}});
  }
  json["ok"] = ok;
  json["platforms"] = platforms;
  return json;
}

}  // namespace

int run_manifest_verify(Context& context) {
  const Args& args = context.args;
  if (args.positionals().size() != 1) {
    throw bad_input("manifest verify takes one image: REF, oci:PATH or oci-dir:PATH");
  }
  const std::string& source = args.positionals().front();
  verify::VerifyOptions options;
  for (const auto& text : args.values("--platform")) {
    for (const auto& platform : image::parse_platforms(text)) options.platforms.push_back(platform);
  }
  RegistrySession session(context);
  Location location = session.open(source, false);
  registry::FetchedManifest top = location.store->resolve(location.reference);
  std::vector<verify::PlatformReport> reports = verify::verify_image(*location.store, top, options);
  if (reports.empty()) throw failure(quoted(source) + " has no platform images to verify");

  if (context.format == Format::json) {
    context.out << report_json(source, top.descriptor, reports).dump(2) << "\n";
  } else {
    print_text(context.out, reports);
  }
  context.out.flush();
  std::string failed = verify::failed_platforms(reports);
  if (failed.empty()) return 0;
  size_t count = 0;
  for (const auto& report : reports) count += report.ok() ? 0 : 1;
  throw failure(std::to_string(count) + " platform(s) failed verification: " + failed);
}

}  // namespace polyarch::cli
