// polyarch manifest create: one index over images that already exist.
#include <algorithm>
#include <iostream>
#include <map>

#include "adapters/cli/registry_options.hpp"
#include "engine/core/env.hpp"
#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"
#include "engine/image/config.hpp"
#include "engine/image/media_types.hpp"
#include "engine/image/platform_cache.hpp"
#include "engine/image/reference.hpp"
#include "engine/publish/copy.hpp"
#include "engine/publish/parallel.hpp"

namespace polyarch::cli {

using namespace image;

namespace {

// One index entry and where its manifest lives.
struct Entry {
  Descriptor descriptor;
  std::string source;             // as the user wrote it
  publish::ImageStore* store;
  bool fetched = false;           // its manifest was just read from store itself
};

// A source named by digest whose platform is remembered: one HEAD proves it
// is there (and the same size and type), instead of reading the manifest and
// its config.
std::optional<Entry> remembered_entry(const std::string& text, Location& location,
                                      registry::Client* client, const PlatformCache& cache) {
  if (!client || !location.ref || location.ref->digest.empty()) return std::nullopt;
  std::optional<Descriptor> known = cache.find(Digest::parse(location.ref->digest));
  if (!known) return std::nullopt;
  std::optional<Descriptor> head = client->head_manifest(location.ref->repository, location.ref->digest);
  if (!head || head->size != known->size || head->media_type != known->media_type) return std::nullopt;
  return Entry{*known, text, location.store.get(), true};
}

// The entries a source contributes: an index's children, or one manifest.
std::vector<Entry> entries_of(const std::string& text, Location& location, registry::Client* client,
                              const PlatformCache& cache) {
  if (std::optional<Entry> entry = remembered_entry(text, location, client, cache)) return {*entry};
  registry::FetchedManifest top = location.store->resolve(location.reference);
  std::vector<Entry> entries;
  if (media_type::is_index(top.descriptor.media_type)) {
    for (const auto& child : parse_index(top.bytes, text).manifests) {
      entries.push_back({child, text, location.store.get()});
    }
    return entries;
  }
  Manifest manifest = parse_manifest(top.bytes, text);
  ImageConfig config = parse_image_config(location.store->read_small_blob(manifest.config), text);
  Descriptor descriptor = top.descriptor;
  descriptor.platform = normalize(config.platform);
  cache.remember(descriptor);
  entries.push_back({descriptor, text, location.store.get(), true});
  return entries;
}

void refuse_duplicate_platforms(const std::vector<Entry>& entries) {
  std::map<std::string, std::string> seen;
  for (const auto& entry : entries) {
    if (publish::is_attestation(entry.descriptor) || !entry.descriptor.platform) continue;
    std::string platform = normalize(*entry.descriptor.platform).str();
    auto [it, fresh] = seen.emplace(platform, entry.source);
    if (!fresh) {
      throw bad_input("platform " + platform + " is given twice: by " + quoted(it->second) +
                      " and " + quoted(entry.source));
    }
  }
}

// OCI unless the user asks for a Docker list and nothing needs OCI.
std::string index_media_type(const std::string& wanted, const std::vector<Entry>& entries,
                             const Annotations& annotations) {
  bool needs_oci = false;
  for (const auto& entry : entries) {
    needs_oci = needs_oci || !media_type::is_docker(entry.descriptor.media_type) ||
                publish::is_attestation(entry.descriptor);
  }
  if (wanted == "oci") return std::string(media_type::k_oci_index);
  if (wanted != "docker") {
    throw bad_input("invalid --media-type " + quoted(wanted) + ": expected oci or docker");
  }
  if (!annotations.empty()) {
    throw bad_input("a Docker manifest list cannot carry annotations; drop --annotation or use --media-type oci");
  }
  if (needs_oci) {
    throw bad_input("a Docker manifest list can only hold Docker manifests; use --media-type oci");
  }
  return std::string(media_type::k_docker_list);
}

}  // namespace

int run_manifest_create(Context& context) {
  const Args& args = context.args;
  std::vector<Reference> tags;
  for (const auto& text : args.values("--tag")) {
    tags.push_back(parse_reference(text));
    if (!tags.back().digest.empty()) throw bad_input("invalid --tag " + quoted(text) + ": give a tag, not a digest");
  }
  if (tags.empty()) throw bad_input("manifest create needs at least one --tag REF");
  if (args.positionals().empty()) throw bad_input("manifest create needs at least one SOURCE");
  Annotations annotations;
  for (const auto& text : args.values("--annotation")) {
    std::string pair = text.starts_with("index:") ? text.substr(6) : text;
    auto [key, value] = core::split_key_value(pair, "--annotation");
    annotations[key] = value;
  }

  RegistrySession session(context);
  std::vector<Location> sources;
  std::vector<Entry> entries;
  std::vector<registry::Client*> clients;  // per source; nullptr for a layout
  for (const auto& text : args.positionals()) {
    sources.push_back(session.open(text, false));
    clients.push_back(sources.back().ref ? &session.client(sources.back().ref->registry) : nullptr);
  }
  PlatformCache cache = PlatformCache::from_env(core::process_env());
  // Every source is read at once (manifest, then config); entries keep their order.
  std::vector<std::vector<Entry>> found(sources.size());
  bool concurrent = std::all_of(sources.begin(), sources.end(), [](const Location& source) {
    return source.store->concurrent_manifests();
  });
  publish::parallel_for(sources.size(), concurrent ? 8 : 1, [&](size_t i) {
    found[i] = entries_of(args.positionals()[i], sources[i], clients[i], cache);
  });
  for (auto& some : found) entries.insert(entries.end(), some.begin(), some.end());
  refuse_duplicate_platforms(entries);
  Index index;
  index.media_type = index_media_type(args.value("--media-type", "oci"), entries, annotations);
  for (const auto& entry : entries) index.manifests.push_back(entry.descriptor);
  index.annotations = annotations;
  std::string bytes = to_bytes(index);
  Descriptor top = describe(index.media_type, bytes);
  if (args.has("--dry-run")) {
    context.out << bytes << "\n";
    return 0;
  }

  std::map<std::string, std::vector<std::string>> tags_by_repository;
  for (const auto& tag : tags) tags_by_repository[tag.name()].push_back(tag.tag);
  publish::CopyOptions options;
  for (const auto& [name, repository_tags] : tags_by_repository) {
    Reference target = parse_reference(name + ":" + repository_tags.front());
    auto store = publish::registry_store(session.client(target.registry), target.repository);
    // Children first, by digest, into the target repository (at once); one
    // just read from that repository is known to be there.
    publish::parallel_for(entries.size(), concurrent ? 4 : 1, [&](size_t i) {
      const Entry& entry = entries[i];
      if (entry.store->name() == store->name() && (entry.fetched || store->has_manifest(entry.descriptor))) {
        return;
      }
      registry::FetchedManifest child{entry.store->read_manifest(entry.descriptor), entry.descriptor};
      publish::copy_image(*entry.store, child, *store, {}, options);
    });
    for (const auto& tag : repository_tags) store->write_manifest(top, bytes, tag);
  }
  context.out << top.digest.str() << "\n";
  return 0;
}

}  // namespace polyarch::cli
