#pragma once
// The buildah and podman backends: one class, told apart by a row of facts.
// Exposed for tests: the exact command lines each step runs.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/build/backend.hpp"

namespace polyarch::build {

// What differs between buildah and podman.
struct BuildahTool {
  std::string_view name;     // the backend's name, also used in messages
  std::string_view program;  // the binary, looked up in PATH
};

inline constexpr BuildahTool k_buildah_tool{"buildah", "buildah"};
inline constexpr BuildahTool k_podman_tool{"podman", "podman"};

// The directory, inside request.work_dir, that receives the built image.
inline constexpr std::string_view k_built_layout = "image";

// `buildah build` for one platform, writing the result to `destination`
// ("oci:PATH"): chroot isolation (OCI isolation needs a cgroup setup CI hosts
// often lack), OCI format, layer caching, gzip'd layers, the request's cache
// flags last before the context.
std::vector<std::string> buildah_build_argv(const BuildahTool& tool, const BuildRequest& request,
                                            const std::string& destination);

// "oci:<work_dir>/image"; an error when work_dir holds a ':', which ends
// the path in that transport.
std::string oci_destination(const std::filesystem::path& work_dir);

}  // namespace polyarch::build
