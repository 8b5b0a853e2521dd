// Translation of per-platform cache specs into each backend's flags.

#include <algorithm>
#include <cctype>

#include "engine/cache/cache.hpp"
#include "engine/core/error.hpp"
#include "engine/registry/http.hpp"

namespace polyarch::cache {

namespace {

std::string with_mode(std::string value, const std::string& mode) {
  if (!mode.empty()) value += ",mode=" + mode;
  return value;
}

// A loopback registry may be plain HTTP, as the registry engine allows.
bool loopback_ref(const std::string& ref) { return registry::is_loopback(registry_host(ref)); }

// The attributes buildx's registry cache takes besides ref and mode.
std::string registry_attrs(const CacheSpec& spec, bool exporting) {
  std::string out;
  if (exporting && !spec.image_manifest.empty()) out += ",image-manifest=" + spec.image_manifest;
  if (exporting && !spec.oci_mediatypes.empty()) out += ",oci-mediatypes=" + spec.oci_mediatypes;
  if (loopback_ref(spec.ref)) out += ",registry.insecure=true";
  return out;
}

// A note for keys only buildx reads, or "".
std::string buildx_only_note(const CacheSpec& spec, std::string_view backend) {
  if (spec.image_manifest.empty() && spec.oci_mediatypes.empty()) return "";
  return "cache " + quoted(spec.text) + ": image-manifest and oci-mediatypes only apply to buildx; " +
         std::string(backend) + " ignores them";
}

// buildx takes every kind as --cache-from/--cache-to.
void buildx_args(const CacheSpec& spec, CacheArgs& out) {
  auto add = [&out](const std::string& from, const std::string& to) {
    if (!from.empty()) out.args.insert(out.args.end(), {"--cache-from", from});
    if (!to.empty()) out.args.insert(out.args.end(), {"--cache-to", to});
  };
  switch (spec.type) {
    case CacheType::registry:
      add("type=registry,ref=" + spec.ref + registry_attrs(spec, false),
          with_mode("type=registry,ref=" + spec.ref, spec.mode) + registry_attrs(spec, true));
      break;
    case CacheType::local: {
      std::string src = spec.src.empty() ? spec.dest : spec.src;
      std::string dest = spec.dest.empty() ? spec.src : spec.dest;
      add("type=local,src=" + src, with_mode("type=local,dest=" + dest, spec.mode));
      break;
    }
    case CacheType::gha:
      add("type=gha,scope=" + spec.scope, with_mode("type=gha,scope=" + spec.scope, spec.mode));
      break;
    case CacheType::inline_cache:
      add(spec.ref.empty() ? "" : "type=registry,ref=" + spec.ref + registry_attrs(spec, false), "type=inline");
      break;
  }
}

// docker without buildx reads a cache image (--cache-from) and writes only
// inline caches (BUILDKIT_INLINE_CACHE=1).
void docker_args(const CacheSpec& spec, CacheArgs& out) {
  switch (spec.type) {
    case CacheType::registry:
      out.args.insert(out.args.end(), {"--cache-from", spec.ref});
      out.notes.push_back("cache " + quoted(spec.text) +
                          " is only read by docker without buildx, which cannot write a "
                          "registry cache (type=inline writes one into the image)");
      if (std::string note = buildx_only_note(spec, "docker"); !note.empty()) out.notes.push_back(note);
      break;
    case CacheType::inline_cache:
      if (!spec.ref.empty()) out.args.insert(out.args.end(), {"--cache-from", spec.ref});
      out.args.insert(out.args.end(), {"--build-arg", "BUILDKIT_INLINE_CACHE=1"});
      break;
    case CacheType::local:
    case CacheType::gha:
      out.notes.push_back("cache " + quoted(spec.text) +
                          " is not supported by docker without buildx; building without it");
      break;
  }
}

// buildah and podman keep layers in a repository (a name, no tag): the
// per-platform tag becomes the last path component, lowercased. A loopback
// cache registry gets --tls-verify=false (buildah has no plain-HTTP-only
// switch), once.
void buildah_args(const CacheSpec& original, const CacheSpec& spec, std::string_view backend,
                  CacheArgs& out) {
  if (spec.type != CacheType::registry) {
    out.notes.push_back("cache " + quoted(original.text) + " is not supported by " +
                        std::string(backend) + "; building without it");
    return;
  }
  if (std::string note = buildx_only_note(original, backend); !note.empty()) out.notes.push_back(note);
  size_t slash = spec.ref.rfind('/');
  size_t colon = spec.ref.find(':', slash == std::string::npos ? 0 : slash);
  std::string tag = spec.ref.substr(colon + 1);
  std::transform(tag.begin(), tag.end(), tag.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string repository = spec.ref.substr(0, colon) + "/" + tag;
  out.args.insert(out.args.end(), {"--cache-from", repository, "--cache-to", repository});
  if (loopback_ref(spec.ref) &&
      std::find(out.args.begin(), out.args.end(), "--tls-verify=false") == out.args.end()) {
    out.args.push_back("--tls-verify=false");
  }
}

}  // namespace

CacheArgs cache_args(const std::vector<CacheSpec>& specs, std::string_view backend,
                     std::span<const image::Platform> platforms) {
  if (backend != "buildx" && backend != "docker" && backend != "buildah" && backend != "podman") {
    throw bad_input("unknown backend " + quoted(std::string(backend)) +
                    " for build caches (buildx, docker, buildah, podman)");
  }
  CacheArgs out;
  for (const CacheSpec& original : specs) {
    CacheSpec spec = for_platforms(original, platforms);
    if (backend == "buildx") {
      buildx_args(spec, out);
    } else if (backend == "docker") {
      docker_args(spec, out);
    } else {
      buildah_args(original, spec, backend, out);
    }
  }
  // buildah and podman ignore both flags without --layers.
  if ((backend == "buildah" || backend == "podman") && !out.args.empty()) {
    out.args.push_back("--layers");
  }
  return out;
}

}  // namespace polyarch::cache
