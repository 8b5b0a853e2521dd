// The buildx backend: `docker buildx build --platform a,b,…` builds every
// platform in one BuildKit run into an OCI archive, which polyarch imports
// into its layout (attestations included) and publishes like any backend.

#include "engine/build/buildx_backend.hpp"

#include <algorithm>

#include "engine/build/docker_backend.hpp"
#include "engine/build/run_logged.hpp"
#include "engine/core/error.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::build {

namespace {

std::string platform_list(const std::vector<image::Platform>& platforms) {
  std::string out;
  for (const auto& platform : platforms) out += (out.empty() ? "" : ",") + platform.str();
  return out;
}

}  // namespace

std::vector<std::string> buildx_argv(const BuildxBuild& build) {
  const BuildOptions& options = build.options;
  std::vector<std::string> argv = {"docker", "buildx", "build", "--progress", "plain",
                                   "--platform", platform_list(build.platforms),
                                   "-f", dockerfile_path(options)};
  if (!options.target.empty()) argv.insert(argv.end(), {"--target", options.target});
  for (const auto& [key, value] : options.build_args) argv.insert(argv.end(), {"--build-arg", key + "=" + value});
  for (const auto& [key, value] : options.labels) argv.insert(argv.end(), {"--label", key + "=" + value});
  for (const auto& [key, value] : options.annotations) {
    argv.insert(argv.end(), {"--annotation", key + "=" + value});
  }
  argv.insert(argv.end(), build.cache_args.begin(), build.cache_args.end());
  // mode=min records no build-arg values, which may hold secrets.
  argv.push_back(options.provenance ? "--provenance=mode=min" : "--provenance=false");
  argv.push_back("--sbom=false");
  for (const auto& secret : options.secrets) argv.insert(argv.end(), {"--secret", secret});
  argv.insert(argv.end(), {"--metadata-file", build.metadata_file});
  std::string output;
  if (!build.oci_dest.empty()) {
    output = "type=oci,dest=" + build.oci_dest;
  } else {
    if (options.images.empty()) throw bad_input("pushing by digest with buildx needs an image name");
    std::string names;
    for (const auto& image : options.images) names += (names.empty() ? "" : ",") + image;
    std::string name = "name=" + names;
    if (options.images.size() > 1) name = "\"" + name + "\"";
    output = "type=image," + name + ",push-by-digest=true,name-canonical=true,push=true";
  }
  argv.insert(argv.end(), {"--output", output, options.context});
  return argv;
}

std::vector<PlatformResult> import_buildx_output(const std::filesystem::path& oci_archive,
                                                 const std::filesystem::path& metadata_file,
                                                 const std::vector<image::Platform>& platforms,
                                                 image::LayoutDir& into,
                                                 const std::filesystem::path& scratch) {
  image::LayoutDir built = image::unpack_layout(oci_archive, scratch);
  image::Index top = built.read_index();
  if (top.manifests.size() != 1) {
    throw failure("buildx wrote " + std::to_string(top.manifests.size()) + " images into " +
                  quoted(oci_archive.string()) + ", expected one");
  }
  image::Descriptor root = top.manifests.front();
  if (std::filesystem::exists(metadata_file)) {
    image::Json metadata = image::parse_json(core::read_file(metadata_file), "buildx metadata file");
    if (metadata.contains("containerimage.digest") &&
        metadata["containerimage.digest"] != root.digest.str()) {
      throw failure("buildx metadata says " + metadata["containerimage.digest"].dump() +
                    " but its OCI archive holds " + root.digest.str());
    }
  }
  std::vector<image::Descriptor> children;
  if (image::media_type::is_index(root.media_type)) {
    children = image::parse_index(built.read_blob(root.digest), "buildx index").manifests;
  } else {
    if (platforms.size() == 1) root.platform = platforms.front();
    children.push_back(root);
  }
  for (const auto& entry : std::filesystem::directory_iterator(scratch / "blobs" / "sha256")) {
    into.adopt_blob(entry.path(), image::Digest{"sha256", entry.path().filename().string()});
  }

  std::vector<PlatformResult> results;
  for (const auto& platform : platforms) {
    auto child = std::find_if(children.begin(), children.end(), [&platform](const image::Descriptor& d) {
      return d.platform && image::normalize(*d.platform) == platform;
    });
    if (child == children.end()) throw failure("buildx wrote no image for " + platform.str());
    results.push_back(PlatformResult{platform, *child});
  }
  for (const auto& child : children) {
    if (child.platform && image::is_unknown(*child.platform)) results.push_back(PlatformResult{*child.platform, child});
  }
  return results;
}

namespace {

class BuildxBackend : public Backend {
 public:
  std::string name() const override { return "buildx"; }

  PlatformResult build(const BuildRequest& request, image::LayoutDir& into, const LogLine& log) override {
    return run({request.platform}, request, into, log).front();
  }

  std::vector<PlatformResult> build_all(const BuildRequest& request, image::LayoutDir& into,
                                        const LogLine& log) override {
    return run(request.options.platforms, request, into, log);
  }

 private:
  static std::vector<PlatformResult> run(const std::vector<image::Platform>& platforms,
                                         const BuildRequest& request, image::LayoutDir& into,
                                         const LogLine& log) {
    std::filesystem::path oci = request.work_dir / "image.oci.tar";
    std::filesystem::path metadata = request.work_dir / "metadata.json";
    BuildxBuild build{request.options, platforms, request.cache_args, metadata.string(), oci.string()};
    LoggedRun run = run_logged(buildx_argv(build), log);
    if (run.exit_code != 0) {
      throw failure("build for " + platform_list(platforms) + " failed (buildx exit " +
                    std::to_string(run.exit_code) + "): " + error_summary(run));
    }
    std::filesystem::path scratch = request.work_dir / "oci";
    std::filesystem::create_directories(scratch);
    std::vector<PlatformResult> results = import_buildx_output(oci, metadata, platforms, into, scratch);
    std::filesystem::remove_all(scratch);
    std::filesystem::remove(oci);
    return results;
  }
};

}  // namespace

std::unique_ptr<Backend> make_buildx_backend() { return std::make_unique<BuildxBackend>(); }

}  // namespace polyarch::build
