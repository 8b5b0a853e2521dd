// Platforms: parse_platforms (and each item); what parses is normalized, so
// parsing its str() again gives it back unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/image/platform.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace polyarch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<image::Platform> platforms;
  if (fuzz::expect_only_errors([&] { platforms = image::parse_platforms(text); })) {
    for (const image::Platform& platform : platforms) {
      fuzz::must_hold("str() round-trips",
                      [&] { return image::parse_platform(platform.str()) == platform; });
      fuzz::must_hold("a parsed platform is normal",
                      [&] { return image::normalize(platform) == platform; });
    }
  }
  return 0;
}
