// OCI layout archives (oci:PATH): the bytes are written to a file and
// unpacked; nothing may land outside the destination directory.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/core/fs.hpp"
#include "engine/image/layout.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace polyarch;
namespace fs = std::filesystem;

namespace {

// Entries count in the sandbox: a refused archive may leave files in dest,
// but never a file beside it.
size_t entries(const fs::path& dir) {
  size_t count = 0;
  for (auto it = fs::directory_iterator(dir); it != fs::directory_iterator(); ++it) ++count;
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static core::TempDir sandbox("polyarch-fuzz-archive");
  fs::path archive = sandbox.path() / "in.tar";
  fs::path dest = sandbox.path() / "dest";
  std::ofstream(archive, std::ios::binary)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  fs::remove_all(dest);
  fs::create_directory(dest);
  fuzz::expect_only_errors([&] {
    image::LayoutDir layout = image::unpack_layout(archive, dest);
    image::Index index = layout.read_index();
    for (const auto& child : index.manifests) {
      try {
        layout.read_blob(child.digest);
      } catch (const Error& error) {
        fuzz::check_error(error);
      }
    }
  });
  if (entries(sandbox.path()) != 2) fuzz::finding("an entry was written outside the destination");
  fs::remove_all(dest);
  return 0;
}
