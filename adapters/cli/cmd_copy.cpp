// polyarch copy SRC DST and polyarch push oci:PATH REF…
#include <iostream>
#include <map>

#include "adapters/cli/registry_options.hpp"
#include "engine/core/error.hpp"
#include "engine/image/reference.hpp"
#include "engine/publish/copy.hpp"

namespace polyarch::cli {

namespace {

publish::CopyOptions copy_options(const Context& context) {
  publish::CopyOptions options;
  if (context.args.has("--platform")) {
    for (const auto& text : context.args.values("--platform")) {
      for (auto& platform : image::parse_platforms(text)) options.platforms.push_back(platform);
    }
  }
  std::string jobs = context.args.value("--jobs", "4");
  try {
    options.jobs = std::stoi(jobs);
  } catch (const std::exception&) {
    options.jobs = 0;
  }
  if (options.jobs < 1 || options.jobs > 64) {
    throw bad_input("invalid --jobs " + quoted(jobs) + ": expected a number from 1 to 64");
  }
  if (context.verbosity > 0) {
    options.log = [&context](const std::string& line) { context.err << line << "\n"; };
  }
  return options;
}

void report(Context& context, const publish::CopyResult& result, const std::vector<std::string>& to) {
  if (context.format == Format::json) {
    image::Json json = image::Json::object();
    json["digest"] = result.top.digest.str();
    json["mediaType"] = result.top.media_type;
    json["size"] = result.top.size;
    json["destinations"] = to;
    json["blobs"] = {{"copied", result.blobs_copied},
                     {"mounted", result.blobs_mounted},
                     {"skipped", result.blobs_skipped}};
    context.out << json.dump(2) << "\n";
    return;
  }
  context.out << result.top.digest.str() << "\n";
  if (context.verbosity >= 0) {
    context.err << "blobs: " << result.blobs_copied << " copied, " << result.blobs_mounted
                << " mounted, " << result.blobs_skipped << " already there\n";
  }
}

// The tag a destination gets: its own, else the source's, else "latest".
std::string destination_tag(const Location& destination, const Location& source) {
  if (destination.ref) return destination.ref->digest.empty() ? destination.ref->tag : "";
  if (!destination.reference.empty()) return destination.reference;
  if (source.ref && !source.ref->tag.empty()) return source.ref->tag;
  if (!source.reference.empty() && !source.reference.starts_with("sha256:")) return source.reference;
  return "latest";
}

}  // namespace

std::vector<publish::PushTarget> push_targets(RegistrySession& session,
                                              const std::vector<image::Reference>& tags,
                                              std::vector<std::unique_ptr<publish::ImageStore>>& stores) {
  std::map<std::string, std::vector<std::string>> by_repository;
  for (const auto& tag : tags) by_repository[tag.name()].push_back(tag.tag);
  std::vector<publish::PushTarget> targets;
  for (const auto& [name, repository_tags] : by_repository) {
    image::Reference ref = image::parse_reference(name + ":" + repository_tags.front());
    stores.push_back(publish::registry_store(session.client(ref.registry), ref.repository));
    targets.push_back({stores.back().get(), repository_tags});
  }
  return targets;
}

publish::CopyResult push_to_tags(RegistrySession& session, publish::ImageStore& from,
                                 const registry::FetchedManifest& top,
                                 const std::vector<image::Reference>& tags,
                                 const publish::CopyOptions& options) {
  std::vector<std::unique_ptr<publish::ImageStore>> stores;
  publish::CopyResult result;
  for (const auto& target : push_targets(session, tags, stores)) {
    result = publish::copy_image(from, top, *target.store, target.tags, options);
  }
  return result;
}

int run_copy(Context& context) {
  const auto& positionals = context.args.positionals();
  if (positionals.size() != 2) throw bad_input("copy takes a source and a destination: copy SRC DST");
  publish::CopyOptions options = copy_options(context);
  RegistrySession session(context);
  Location source = session.open(positionals[0], false);
  Location destination = session.open(positionals[1], true);
  registry::FetchedManifest top = source.store->resolve(source.reference);
  std::string tag = destination_tag(destination, source);
  std::vector<std::string> tags;
  if (!tag.empty()) tags.push_back(tag);
  auto result = publish::copy_image(*source.store, top, *destination.store, tags, options);
  report(context, result, {positionals[1]});
  return 0;
}

int run_push(Context& context) {
  const auto& positionals = context.args.positionals();
  if (positionals.size() < 2 || !image::LayoutRef::matches(positionals[0])) {
    throw bad_input("push takes a layout and one or more references: push oci:PATH REF…");
  }
  publish::CopyOptions options = copy_options(context);
  RegistrySession session(context);
  std::vector<image::Reference> tags;
  for (size_t i = 1; i < positionals.size(); ++i) {
    tags.push_back(image::parse_reference(positionals[i]));
    if (!tags.back().digest.empty()) {
      throw bad_input("invalid push target " + quoted(positionals[i]) + ": give a tag, not a digest");
    }
  }
  Location source = session.open(positionals[0], false);
  registry::FetchedManifest top = source.store->resolve(source.reference);
  publish::CopyResult result = push_to_tags(session, *source.store, top, tags, options);
  report(context, result, {positionals.begin() + 1, positionals.end()});
  return 0;
}

}  // namespace polyarch::cli
