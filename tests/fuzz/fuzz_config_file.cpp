// polyarch.yml: any text gives options or a bad_input "polyarch.yml:L:C: …".
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/core/config.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace polyarch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    build::BuildOptions options;
    core::apply_config_text("polyarch.yml", text, options);
  } catch (const Error& error) {
    fuzz::check_error(error);
    if (error.kind() != ErrorKind::bad_input)
      fuzz::finding("not bad input: " + std::string(error.what()));
    if (!std::string_view(error.what()).starts_with("polyarch.yml:")) {
      fuzz::finding("message does not name the file: " + std::string(error.what()));
    }
  } catch (const std::exception& other) {
    fuzz::finding(std::string("non-polyarch exception: ") + other.what());
  }
  return 0;
}
