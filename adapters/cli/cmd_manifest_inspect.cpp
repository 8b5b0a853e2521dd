// polyarch manifest inspect: what an image holds, per platform.
#include <iomanip>
#include <iostream>

#include "adapters/cli/commands.hpp"
#include "adapters/cli/registry_options.hpp"
#include "engine/core/error.hpp"
#include "engine/image/config.hpp"
#include "engine/image/media_types.hpp"
#include "engine/publish/copy.hpp"

namespace polyarch::cli {

using namespace image;

namespace {

constexpr std::string_view k_reference_digest = "vnd.docker.reference.digest";

// One row of the table: a platform image or an attestation.
struct Row {
  std::string platform;  // "linux/arm64", or "attestation" for attestation manifests
  Descriptor descriptor;
};

std::vector<Row> rows_of_index(const Index& index) {
  std::vector<Row> rows;
  for (const auto& child : index.manifests) {
    std::string platform = publish::is_attestation(child) ? "attestation"
                           : child.platform ? child.platform->str() : "-";
    rows.push_back({platform, child});
  }
  return rows;
}

// A single-platform manifest's platform comes from its config.
std::string platform_of_manifest(publish::ImageStore& store, const Descriptor& top,
                                 const std::string& bytes) {
  Manifest manifest = parse_manifest(bytes, "manifest " + top.digest.str());
  ImageConfig config = parse_image_config(store.read_small_blob(manifest.config),
                                          "image config " + manifest.config.digest.str());
  return config.platform.str();
}

Json row_json(const Row& row) {
  Json json = Json::object();
  json["platform"] = row.platform;
  json["digest"] = row.descriptor.digest.str();
  json["size"] = row.descriptor.size;
  json["mediaType"] = row.descriptor.media_type;
  auto target = row.descriptor.annotations.find(std::string(k_reference_digest));
  if (target != row.descriptor.annotations.end()) json["attestationFor"] = target->second;
  if (!row.descriptor.annotations.empty()) json["annotations"] = row.descriptor.annotations;
  return json;
}

void print_table(std::ostream& out, const std::vector<Row>& rows) {
  size_t width = 8;
  for (const auto& row : rows) width = std::max(width, row.platform.size());
  out << std::left << std::setw(static_cast<int>(width + 2)) << "PLATFORM" << std::setw(73)
      << "DIGEST" << std::right << std::setw(10) << "SIZE" << "  MEDIA TYPE\n";
  for (const auto& row : rows) {
    out << std::left << std::setw(static_cast<int>(width + 2)) << row.platform << std::setw(73)
        << row.descriptor.digest.str() << std::right << std::setw(10) << row.descriptor.size
        << "  " << row.descriptor.media_type << "\n";
  }
}

}  // namespace

int run_manifest_inspect(Context& context) {
  const Args& args = context.args;
  if (args.positionals().size() != 1) {
    throw bad_input("manifest inspect takes one image: REF, oci:PATH or oci-dir:PATH");
  }
  const std::string& source = args.positionals().front();
  RegistrySession session(context);
  Location location = session.open(source, false);
  registry::FetchedManifest fetched = location.store->resolve(location.reference);
  const Descriptor& top = fetched.descriptor;
  const std::string& bytes = fetched.bytes;
  if (args.has("--raw")) {
    context.out << bytes;
    return 0;
  }
  std::vector<Row> rows;
  if (media_type::is_index(top.media_type)) {
    rows = rows_of_index(parse_index(bytes, "index " + top.digest.str()));
  } else {
    rows.push_back({platform_of_manifest(*location.store, top, bytes), top});
  }
  if (context.format == Format::json) {
    Json json = Json::object();
    json["name"] = source;
    json["mediaType"] = top.media_type;
    json["digest"] = top.digest.str();
    json["size"] = top.size;
    json["manifests"] = Json::array();
    for (const auto& row : rows) json["manifests"].push_back(row_json(row));
    context.out << json.dump(2) << "\n";
    return 0;
  }
  context.out << "Name:      " << source << "\n"
              << "MediaType: " << top.media_type << "\n"
              << "Digest:    " << top.digest.str() << "\n\n";
  print_table(context.out, rows);
  return 0;
}

}  // namespace polyarch::cli
