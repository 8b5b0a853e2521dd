// polyarch merge: joins the legs of a split build under one index.
//
// Each leg (`polyarch build --push-by-digest --digest-file F`) writes a
// digest file: one JSON object {platform, digest, size, mediaType, image}
// or an array of them. merge reads the files (a directory: its *.json,
// sorted) — or, with --from-tags, takes each argument as an image reference
// (one platform, or an index whose platforms all join) — copies each child
// into every tag's repository by digest when it lives elsewhere (a mount on
// the same registry), then pushes the index under every tag, last. Prints
// the index digest (JSON: {digest, mediaType, size, tags, platforms}) and
// writes the CI's outputs as `build` does.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

#include "adapters/ci/outputs.hpp"
#include "adapters/cli/commands.hpp"
#include "adapters/cli/registry_options.hpp"
#include "engine/core/env.hpp"
#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"
#include "engine/core/fs.hpp"
#include "engine/image/config.hpp"
#include "engine/image/media_types.hpp"
#include "engine/image/reference.hpp"
#include "engine/publish/copy.hpp"

namespace polyarch::cli {

using namespace image;
namespace fs = std::filesystem;

namespace {

// One platform image a leg pushed, and which file named it.
struct Leg {
  Descriptor descriptor;  // media type, digest, size, platform
  std::vector<Reference> images;  // repositories holding it
  std::string file;
};

// Every digest file a word names: the file, or a directory's *.json, sorted.
std::vector<std::string> digest_files(const std::string& word) {
  std::error_code error;
  if (!fs::is_directory(word, error)) return {word};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(word)) {
    if (entry.path().extension() == ".json" && !entry.is_directory()) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw bad_input("no digest files (*.json) in directory " + quoted(word));
  return files;
}

std::string string_field(const Json& entry, const std::string& key) {
  if (!entry.contains(key)) throw bad_input("missing " + quoted(key));
  if (!entry[key].is_string()) throw bad_input(quoted(key) + " must be a string");
  return entry[key].get<std::string>();
}

// One object of a digest file; throws bad_input without the file's name.
Leg parse_leg(const Json& entry) {
  if (!entry.is_object()) throw bad_input("expected an object");
  Leg leg;
  leg.descriptor.platform = parse_platform(string_field(entry, "platform"));
  leg.descriptor.digest = Digest::parse(string_field(entry, "digest"));
  if (!entry.contains("size")) throw bad_input("missing \"size\"");
  if (!entry["size"].is_number_integer() || entry["size"].get<int64_t>() <= 0) {
    throw bad_input("\"size\" must be a positive integer");
  }
  leg.descriptor.size = entry["size"].get<int64_t>();
  leg.descriptor.media_type = string_field(entry, "mediaType");
  if (!media_type::is_manifest(leg.descriptor.media_type) && !media_type::is_index(leg.descriptor.media_type)) {
    throw bad_input("\"mediaType\" " + quoted(leg.descriptor.media_type) + " is not a manifest media type");
  }
  leg.images.push_back(parse_reference(string_field(entry, "image")));
  return leg;
}

// Every leg in one digest file; errors name the file (and the entry of an array).
std::vector<Leg> read_digest_file(const std::string& file) {
  auto invalid = [&file](const std::string& why) {
    return bad_input("invalid digest file " + quoted(file) + ": " + why);
  };
  std::error_code error;
  if (!fs::exists(file, error)) throw invalid("no such file or directory");
  Json json;
  try {
    json = Json::parse(core::read_file(file));
  } catch (const nlohmann::json::parse_error& e) {
    throw invalid("not valid JSON (at byte " + std::to_string(e.byte) + ")");
  } catch (const Error& e) {
    throw invalid(e.what());
  }
  if (!json.is_object() && !json.is_array()) throw invalid("expected an object or an array of objects");
  if (json.is_array() && json.empty()) throw invalid("the array is empty");
  std::vector<Leg> legs;
  const Json entries = json.is_array() ? json : Json::array({json});
  for (size_t i = 0; i < entries.size(); ++i) {
    try {
      legs.push_back(parse_leg(entries[i]));
      legs.back().file = file;
    } catch (const Error& e) {
      throw invalid((json.is_array() ? "entry " + std::to_string(i + 1) + ": " : "") + e.what());
    }
  }
  return legs;
}

// The legs an image reference holds: its platforms when it is an index
// (attestations left out), else the one image with the platform its config names.
std::vector<Leg> read_reference(RegistrySession& session, const std::string& text) {
  Reference ref = parse_reference(text);
  registry::Client& client = session.client(ref.registry);
  registry::FetchedManifest top = client.get_manifest(ref.repository, ref.digest.empty() ? ref.tag : ref.digest);
  Reference image = ref;
  image.tag.clear();
  image.digest.clear();
  std::vector<Leg> legs;
  if (media_type::is_index(top.descriptor.media_type)) {
    for (const auto& child : parse_index(top.bytes, text).manifests) {
      if (publish::is_attestation(child)) continue;
      if (!child.platform) throw failure("index " + quoted(text) + " has an entry with no platform: " + child.digest.str());
      legs.push_back({child, {image}, text});
    }
    if (legs.empty()) throw failure("index " + quoted(text) + " holds no platform images");
    return legs;
  }
  Manifest manifest = parse_manifest(top.bytes, text);
  ImageConfig config = parse_image_config(client.get_blob(ref.repository, manifest.config.digest), text + " config");
  Leg leg{top.descriptor, {image}, text};
  leg.descriptor.platform = config.platform;
  legs.push_back(leg);
  return legs;
}

// Joins legs of one platform pushed to several images; refuses two
// different images for one platform.
std::vector<Leg> join_legs(const std::vector<Leg>& all) {
  std::vector<Leg> legs;
  for (const auto& leg : all) {
    auto same = std::find_if(legs.begin(), legs.end(), [&](const Leg& seen) {
      return seen.descriptor.platform == leg.descriptor.platform;
    });
    if (same == legs.end()) {
      legs.push_back(leg);
    } else if (same->descriptor.digest == leg.descriptor.digest) {
      same->images.insert(same->images.end(), leg.images.begin(), leg.images.end());
    } else {
      throw bad_input("platform " + leg.descriptor.platform->str() + " is given twice: by " +
                      quoted(same->file) + " and " + quoted(leg.file));
    }
  }
  return legs;
}

// A Docker list only when every child is Docker-typed; OCI otherwise.
std::string index_media_type(const std::vector<Leg>& legs) {
  bool docker = std::all_of(legs.begin(), legs.end(),
                            [](const Leg& leg) { return media_type::is_docker(leg.descriptor.media_type); });
  return std::string(docker ? media_type::k_docker_list : media_type::k_oci_index);
}

// The image to copy a leg from into target: target itself, else one on the
// same registry (so blobs are mounted), else the first.
const Reference& source_for(const Leg& leg, const Reference& target) {
  for (const auto& image : leg.images) {
    if (image.name() == target.name()) return image;
  }
  for (const auto& image : leg.images) {
    if (image.registry == target.registry) return image;
  }
  return leg.images.front();
}

// Makes sure every leg's manifest is in target's repository, by digest.
void bring_children(RegistrySession& session, const std::vector<Leg>& legs, const Reference& target,
                    publish::ImageStore& to) {
  for (const auto& leg : legs) {
    if (to.has_manifest(leg.descriptor)) continue;
    const Reference& source = source_for(leg, target);
    if (source.name() == target.name()) {
      throw failure(leg.descriptor.platform->str() + " image " + leg.descriptor.digest.str() +
                    " named by " + quoted(leg.file) + " is not in " + target.name());
    }
    auto from = publish::registry_store(session.client(source.registry), source.repository);
    registry::FetchedManifest child{from->read_manifest(leg.descriptor), leg.descriptor};
    publish::copy_image(*from, child, to, {}, publish::CopyOptions{});
  }
}

// Every leg the arguments name: digest files, or image references.
std::vector<Leg> read_legs(const Args& args, RegistrySession& session) {
  std::vector<Leg> all;
  for (const auto& word : args.positionals()) {
    if (args.has("--from-tags")) {
      for (auto& leg : read_reference(session, word)) all.push_back(std::move(leg));
      continue;
    }
    for (const auto& file : digest_files(word)) {
      for (auto& leg : read_digest_file(file)) all.push_back(std::move(leg));
    }
  }
  return join_legs(all);
}

// The index's annotations: "index:K=V" or "K=V" (manifest: ones belong to builds).
std::map<std::string, std::string> index_annotations(const Args& args) {
  std::map<std::string, std::string> annotations;
  for (const auto& text : args.values("--annotation")) {
    auto [key, value] = core::split_key_value(text, "--annotation");
    if (key.starts_with("manifest:")) {
      throw bad_input("invalid --annotation " + quoted(text) + ": merge sets only index annotations");
    }
    annotations.insert_or_assign(key.starts_with("index:") ? key.substr(6) : key, value);
  }
  return annotations;
}

}  // namespace

int run_merge(Context& context) {
  const Args& args = context.args;
  std::vector<Reference> tags;
  for (const auto& text : args.values("--tag")) {
    tags.push_back(parse_reference(text));
    if (!tags.back().digest.empty()) throw bad_input("invalid --tag " + quoted(text) + ": give a tag, not a digest");
  }
  if (tags.empty()) throw bad_input("merge needs at least one --tag REF");
  if (args.positionals().empty()) {
    throw bad_input(args.has("--from-tags") ? "merge --from-tags needs at least one image REF"
                                            : "merge needs at least one DIGEST_FILE or directory");
  }
  Index index;
  index.annotations = index_annotations(args);
  RegistrySession session(context);
  std::vector<Leg> legs = read_legs(args, session);
  index.media_type = index.annotations.empty() ? index_media_type(legs) : std::string(media_type::k_oci_index);
  for (const auto& leg : legs) index.manifests.push_back(leg.descriptor);
  std::string bytes = to_bytes(index);
  Descriptor top = describe(index.media_type, bytes);

  std::map<std::string, std::vector<Reference>> tags_by_repository;
  for (const auto& tag : tags) tags_by_repository[tag.name()].push_back(tag);
  for (const auto& [repository, repository_tags] : tags_by_repository) {
    const Reference& target = repository_tags.front();
    auto store = publish::registry_store(session.client(target.registry), target.repository);
    bring_children(session, legs, target, *store);
    for (const auto& tag : repository_tags) store->write_manifest(top, bytes, tag.tag);
  }
  ci::BuildResult merged{top.digest.str(), {}, {}};
  for (const auto& tag : tags) merged.tags.push_back(tag.str());
  for (const auto& leg : legs) {
    merged.platforms.push_back({leg.descriptor.platform->str(), leg.descriptor.digest.str(), leg.descriptor.size});
  }
  ci::make_adapter(args.value("--ci", "auto"), core::process_env())->write_outputs(ci::build_outputs(merged));
  if (context.format == Format::json) {
    Json json = {{"digest", top.digest.str()}, {"mediaType", top.media_type}, {"size", top.size}};
    json["tags"] = Json::array();
    for (const auto& tag : tags) json["tags"].push_back(tag.str());
    json["platforms"] = Json::array();
    for (const auto& leg : legs) json["platforms"].push_back(leg.descriptor.platform->str());
    context.out << json.dump(2) << "\n";
  } else {
    context.out << top.digest.str() << "\n";
  }
  return 0;
}

}  // namespace polyarch::cli
