#pragma once
// OCI and Docker media types, and what kind of object each names.

#include <string_view>

namespace polyarch::image::media_type {

inline constexpr std::string_view k_oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view k_oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view k_oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view k_oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view k_oci_layer_tar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view k_docker_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view k_docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view k_docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view k_docker_layer_gzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";

// True for an OCI index or a Docker manifest list.
inline bool is_index(std::string_view type) {
  return type == k_oci_index || type == k_docker_list;
}

// True for an OCI image manifest or a Docker v2 schema 2 manifest.
inline bool is_manifest(std::string_view type) {
  return type == k_oci_manifest || type == k_docker_manifest;
}

// True for a Docker-specific (not OCI) media type.
inline bool is_docker(std::string_view type) {
  return type.starts_with("application/vnd.docker.");
}

}  // namespace polyarch::image::media_type
