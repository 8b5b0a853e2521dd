#pragma once
// OCI image layouts: a directory (oci-dir:PATH) or a tar archive of one (oci:PATH).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "engine/core/fs.hpp"
#include "engine/image/manifest.hpp"

namespace polyarch::image {

namespace fs = std::filesystem;

// The largest index.json or blob read whole (manifests, configs), as
// registries limit manifests.
inline constexpr uintmax_t k_max_whole_read = 4 << 20;

// An OCI image layout directory: oci-layout, index.json, blobs/<alg>/<hex>.
class LayoutDir {
 public:
  explicit LayoutDir(fs::path root) : m_root(std::move(root)) {}

  // Creates root (and parents) with an oci-layout file and an empty
  // index.json unless they exist. Throws failure when root is unwritable.
  static LayoutDir create(const fs::path& root);
  // Opens an existing layout; throws failure when oci-layout or index.json is
  // missing or not valid ("… is not an OCI image layout: …").
  static LayoutDir open(const fs::path& root);

  const fs::path& root() const { return m_root; }
  // Names the layout in messages as `shown` (an archive it was unpacked
  // from, already quoted) rather than by its directory.
  void show_as(std::string shown) { m_shown = std::move(shown); }
  fs::path blob_path(const Digest& digest) const;
  bool has_blob(const Digest& digest) const;

  // Writes bytes as a blob (skipped when present) and returns its descriptor.
  Descriptor put_blob(std::string_view media_type, std::string_view bytes);
  // Moves a finished file into place as the blob with this digest.
  void adopt_blob(const fs::path& file, const Digest& digest);
  // Reads a whole blob, verifying its digest; throws failure when missing,
  // larger than k_max_whole_read, or when the bytes do not match.
  std::string read_blob(const Digest& digest) const;

  // The top-level index.json, parsed / as exact bytes.
  Index read_index() const;
  std::string read_index_bytes() const;
  void write_index(const Index& index);

  // Points ref_name (org.opencontainers.image.ref.name) at target in
  // index.json, replacing an entry of that name; `image_name` is recorded as
  // io.containerd.image.name when not empty.
  void set_ref(Descriptor target, const std::string& ref_name, const std::string& image_name);
  // The index.json entry named ref_name; with an empty name, the only image
  // in the layout. Throws failure listing the names when it is ambiguous or
  // absent.
  Descriptor resolve(const std::string& ref_name) const;

 private:
  std::string shown() const;       // the layout, for messages
  std::string index_name() const;  // its index.json, for messages

  fs::path m_root;
  std::string m_shown;
};

// Where an image layout lives, as the user wrote it.
struct LayoutRef {
  enum class Kind { archive, directory };
  Kind kind = Kind::archive;
  fs::path path;
  std::string ref_name;  // optional ":NAME" selecting one ref.name entry

  // Parses "oci:PATH[:NAME]" or "oci-dir:PATH[:NAME]". The ":NAME" suffix is
  // only taken when PATH itself does not exist and NAME has no '/'.
  // Throws bad_input for other prefixes or an empty path.
  static LayoutRef parse(std::string_view text);
  // True when text starts with "oci:" or "oci-dir:".
  static bool matches(std::string_view text);
};

// Writes the layout directory as a deterministic tar archive at `archive`
// (entries sorted, owner 0:0, mtime 0), atomically. Throws failure.
void pack_layout(const LayoutDir& layout, const fs::path& archive);

// Extracts an OCI layout archive into `dest` (an empty directory) and opens
// it. Refuses, with failure naming the entry, any entry with an absolute
// path, a ".." component, a symlink or hard link, a sparse file, a device,
// fifo or socket.
LayoutDir unpack_layout(const fs::path& archive, const fs::path& dest);

// An opened layout of either kind; archives are unpacked into a temp dir
// that lives as long as this object.
class OpenedLayout {
 public:
  // Throws failure when PATH is missing or not a layout.
  explicit OpenedLayout(const LayoutRef& ref);
  LayoutDir& layout() { return *m_layout; }
  const LayoutDir& layout() const { return *m_layout; }

 private:
  std::unique_ptr<core::TempDir> m_temp;
  std::unique_ptr<LayoutDir> m_layout;
};

// Writes a layout to its destination: the directory itself, or a tar
// archive packed from a staging directory. Use: stage(), fill, commit().
class LayoutOutput {
 public:
  explicit LayoutOutput(LayoutRef ref);
  // The directory to fill; for archives a temp dir next to the target.
  LayoutDir& layout() { return *m_layout; }
  // Finishes: packs the archive (atomically) when the target is oci:.
  void commit();

 private:
  LayoutRef m_ref;
  std::unique_ptr<core::TempDir> m_temp;
  std::unique_ptr<LayoutDir> m_layout;
};

}  // namespace polyarch::image
