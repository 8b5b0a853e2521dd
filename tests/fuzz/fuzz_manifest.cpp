// Manifest, index and image config JSON as a registry or archive may hold
// them; what parses must serialize and parse back to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/image/config.hpp"
#include "engine/image/manifest.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace polyarch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  image::Manifest manifest;
  if (fuzz::expect_only_errors([&] { manifest = image::parse_manifest(bytes); })) {
    fuzz::must_hold("manifest round trip",
                    [&] { return image::parse_manifest(image::to_bytes(manifest)) == manifest; });
  }
  image::Index index;
  if (fuzz::expect_only_errors([&] { index = image::parse_index(bytes); })) {
    fuzz::must_hold("index round trip",
                    [&] { return image::parse_index(image::to_bytes(index)) == index; });
  }
  image::ImageConfig config;
  if (fuzz::expect_only_errors([&] { config = image::parse_image_config(bytes); })) {
    fuzz::must_hold("config round trip",
                    [&] { return image::parse_image_config(image::to_bytes(config)) == config; });
  }
  return 0;
}
