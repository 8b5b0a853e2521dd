// Image references: parse_reference and parse_name; what parses must print
// back (str()) to text that parses to the same reference.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/image/reference.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace polyarch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  image::Reference ref;
  if (fuzz::expect_only_errors([&] { ref = image::parse_reference(text); })) {
    fuzz::must_hold("str() round-trips", [&] { return image::parse_reference(ref.str()) == ref; });
    fuzz::must_hold("familiar() parses to the same reference",
                    [&] { return image::parse_reference(ref.familiar()) == ref; });
  }
  image::Reference name;
  if (fuzz::expect_only_errors([&] { name = image::parse_name(text); })) {
    fuzz::must_hold("a name has no tag or digest",
                    [&] { return name.tag.empty() && name.digest.empty(); });
  }
  return 0;
}
