// WWW-Authenticate headers as a registry may send them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/registry/auth.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace polyarch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_only_errors([&] {
    for (const registry::Challenge& challenge : registry::parse_www_authenticate(text)) {
      if (challenge.scheme.empty()) fuzz::finding("a challenge without a scheme");
    }
  });
  return 0;
}
