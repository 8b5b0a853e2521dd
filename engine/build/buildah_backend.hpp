#pragma once
// The buildah and podman backends: one class, told apart by a row of facts.
// Exposed for tests: the exact command lines each step runs.

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

// The directory, inside request.work_dir, that receives the pushed image.
inline constexpr std::string_view k_pushed_layout = "image";

// `buildah build` for one platform, writing the image's ID to id_file:
// chroot isolation (OCI isolation needs a cgroup setup CI hosts often lack),
// OCI format, layer caching, the request's cache flags last before the
// context. The image gets no name, so there is nothing to remove afterwards.
std::vector<std::string> buildah_build_argv(const BuildahTool& tool, const BuildRequest& request,
                                            const std::string& id_file);

// `buildah push` of an image ID to the OCI layout k_pushed_layout, run with
// request.work_dir as the working directory (so no path needs escaping).
std::vector<std::string> buildah_push_argv(const BuildahTool& tool, const std::string& image_id);

}  // namespace polyarch::build
