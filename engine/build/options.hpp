#pragma once
// What `polyarch build` is asked to do, after every source (defaults <
// polyarch.yml < CI facts < POLYARCH_* env < flags) has been applied.

#include <map>
#include <string>
#include <vector>

#include "engine/image/platform.hpp"

namespace polyarch::build {

struct BuildOptions {
  std::vector<std::string> images;      // names without tag: "ghcr.io/me/app"
  std::vector<image::Platform> platforms;
  std::string context = ".";
  std::string file;                     // Dockerfile; "" = CONTEXT/Dockerfile
  std::string target;
  std::map<std::string, std::string> build_args;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;  // "[index:|manifest:]key" -> value
  std::vector<std::string> tags;        // full references, or bare tags applied to each image
  std::string backend = "auto";         // auto|buildx|docker|buildah|podman
  std::vector<std::string> cache = {"auto"};  // cache specs, "none", or "auto"
  bool provenance = false;
  bool push = false;
  std::string output;                   // oci:PATH / oci-dir:PATH; "" = default
  int jobs = 0;                         // 0 = every platform at once
  std::vector<std::string> secrets;     // "id=NAME,src=FILE" / "id=NAME,env=VAR"
  bool push_by_digest = false;
  std::string digest_file;
};

}  // namespace polyarch::build
