#include "engine/image/layout.hpp"

#include <system_error>

#include "engine/core/error.hpp"
#include "engine/image/media_types.hpp"

namespace polyarch::image {

static constexpr std::string_view k_layout_file = R"({"imageLayoutVersion":"1.0.0"})";

static Index empty_index() {
  Index index;
  index.media_type = std::string(media_type::k_oci_index);
  return index;
}

LayoutDir LayoutDir::create(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root / "blobs" / "sha256", ec);
  if (ec) throw failure("cannot create " + quoted(root.string()) + ": " + ec.message());
  LayoutDir layout(root);
  if (!fs::exists(root / "oci-layout")) {
    core::write_file_atomic(root / "oci-layout", k_layout_file);
  }
  if (!fs::exists(root / "index.json")) layout.write_index(empty_index());
  return layout;
}

LayoutDir LayoutDir::open(const fs::path& root) {
  if (!fs::is_directory(root)) {
    throw failure(quoted(root.string()) + " is not an OCI image layout: no such directory");
  }
  if (!fs::exists(root / "oci-layout")) {
    throw failure(quoted(root.string()) + " is not an OCI image layout: no oci-layout file");
  }
  if (!fs::exists(root / "index.json")) {
    throw failure(quoted(root.string()) + " is not an OCI image layout: no index.json");
  }
  LayoutDir layout(root);
  try {
    layout.read_index();  // validates
  } catch (const Error& e) {
    throw failure(quoted(root.string()) + " is not an OCI image layout: " + e.what());
  }
  return layout;
}

std::string LayoutDir::shown() const {
  return m_shown.empty() ? quoted(m_root.string()) : m_shown;
}

std::string LayoutDir::index_name() const {
  return m_shown.empty() ? (m_root / "index.json").string() : "index.json in " + m_shown;
}

fs::path LayoutDir::blob_path(const Digest& digest) const {
  return m_root / "blobs" / digest.algorithm / digest.hex;
}

bool LayoutDir::has_blob(const Digest& digest) const { return fs::exists(blob_path(digest)); }

Descriptor LayoutDir::put_blob(std::string_view media_type, std::string_view bytes) {
  Descriptor descriptor = describe(media_type, bytes);
  if (!has_blob(descriptor.digest)) {
    fs::create_directories(blob_path(descriptor.digest).parent_path());
    core::write_file_atomic(blob_path(descriptor.digest), bytes);
  }
  return descriptor;
}

void LayoutDir::adopt_blob(const fs::path& file, const Digest& digest) {
  fs::path target = blob_path(digest);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  fs::rename(file, target, ec);
  if (ec) throw failure("cannot write " + quoted(target.string()) + ": " + ec.message());
}

// Reads a file that is read whole (index.json, manifests, configs), refusing
// one larger than k_max_whole_read; `what` names it in the message.
static std::string read_small(const fs::path& path, const std::string& what) {
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {
    throw failure(what + " is not a file");
  }
  auto size = fs::file_size(path, ec);
  if (!ec && size > k_max_whole_read) {
    throw failure(what + " is larger than 4 MiB; refusing to read it");
  }
  return core::read_file(path);
}

std::string LayoutDir::read_blob(const Digest& digest) const {
  fs::path path = blob_path(digest);
  if (!fs::exists(path)) {
    throw failure("blob " + digest.str() + " is missing from " + shown());
  }
  std::string bytes = read_small(path, "blob " + digest.str() + " in " + shown());
  if (digest.algorithm == "sha256" && sha256(bytes) != digest) {
    throw failure("blob " + digest.str() + " in " + shown() +
                  " does not match its digest");
  }
  return bytes;
}

std::string LayoutDir::read_index_bytes() const {
  return read_small(m_root / "index.json", index_name());
}

Index LayoutDir::read_index() const {
  return parse_index(read_index_bytes(), index_name());
}

void LayoutDir::write_index(const Index& index) {
  core::write_file_atomic(m_root / "index.json", to_bytes(index));
}

void LayoutDir::set_ref(Descriptor target, const std::string& ref_name,
                        const std::string& image_name) {
  Index index = read_index();
  std::erase_if(index.manifests, [&](const Descriptor& d) {
    auto it = d.annotations.find(std::string(k_ref_name_annotation));
    return it != d.annotations.end() && it->second == ref_name;
  });
  target.platform.reset();
  target.annotations.clear();
  if (!image_name.empty()) target.annotations["io.containerd.image.name"] = image_name;
  target.annotations[std::string(k_ref_name_annotation)] = ref_name;
  index.manifests.push_back(target);
  write_index(index);
}

// The ref names in index.json, for messages: "a", "b".
static std::string ref_names(const Index& index) {
  std::string names;
  for (const auto& d : index.manifests) {
    auto it = d.annotations.find(std::string(k_ref_name_annotation));
    if (it == d.annotations.end()) continue;
    names += (names.empty() ? "" : ", ") + quoted(it->second);
  }
  return names.empty() ? "none" : names;
}

Descriptor LayoutDir::resolve(const std::string& ref_name) const {
  Index index = read_index();
  if (ref_name.empty()) {
    if (index.manifests.empty()) {
      throw failure(shown() + " holds no image");
    }
    for (const auto& d : index.manifests) {
      if (d.digest != index.manifests.front().digest) {
        throw failure(shown() + " holds several images; name one with :NAME (" +
                      ref_names(index) + ")");
      }
    }
    return index.manifests.front();
  }
  for (const auto& d : index.manifests) {
    auto it = d.annotations.find(std::string(k_ref_name_annotation));
    if (it != d.annotations.end() && it->second == ref_name) return d;
  }
  throw failure("no image named " + quoted(ref_name) + " in " + shown() +
                " (names: " + ref_names(index) + ")");
}

bool LayoutRef::matches(std::string_view text) {
  return text.starts_with("oci:") || text.starts_with("oci-dir:");
}

LayoutRef LayoutRef::parse(std::string_view text) {
  LayoutRef ref;
  std::string_view rest;
  if (text.starts_with("oci:")) {
    ref.kind = Kind::archive;
    rest = text.substr(4);
  } else if (text.starts_with("oci-dir:")) {
    ref.kind = Kind::directory;
    rest = text.substr(8);
  } else {
    throw bad_input("invalid layout " + quoted(std::string(text)) +
                    ": expected oci:PATH or oci-dir:PATH");
  }
  if (rest.empty()) {
    throw bad_input("invalid layout " + quoted(std::string(text)) + ": empty path");
  }
  ref.path = std::string(rest);
  auto colon = rest.rfind(':');
  if (!fs::exists(ref.path) && colon != std::string_view::npos && colon > 0 &&
      rest.substr(colon + 1).find('/') == std::string_view::npos) {
    ref.path = std::string(rest.substr(0, colon));
    ref.ref_name = std::string(rest.substr(colon + 1));
  }
  return ref;
}

OpenedLayout::OpenedLayout(const LayoutRef& ref) {
  if (ref.kind == LayoutRef::Kind::directory) {
    m_layout = std::make_unique<LayoutDir>(LayoutDir::open(ref.path));
    return;
  }
  if (!fs::is_regular_file(ref.path)) {
    throw failure("cannot read " + quoted(ref.path.string()) + ": " +
                  (fs::exists(ref.path) ? "not a file" : "No such file or directory"));
  }
  m_temp = std::make_unique<core::TempDir>("polyarch-layout");
  m_layout = std::make_unique<LayoutDir>(unpack_layout(ref.path, m_temp->path()));
}

// Creates the output's directory, turning an unwritable path into bad input.
static fs::path prepare_parent(const fs::path& target) {
  fs::path parent = target.parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw bad_input("cannot write " + quoted(target.string()) + ": " + ec.message());
  return parent;
}

LayoutOutput::LayoutOutput(LayoutRef ref) : m_ref(std::move(ref)) {
  fs::path parent = prepare_parent(m_ref.path);
  if (m_ref.kind == LayoutRef::Kind::directory) {
    try {
      m_layout = std::make_unique<LayoutDir>(LayoutDir::create(m_ref.path));
    } catch (const Error& e) {
      throw bad_input(e.what());
    }
    return;
  }
  if (fs::is_directory(m_ref.path)) {
    throw bad_input("cannot write " + quoted(m_ref.path.string()) + ": Is a directory");
  }
  try {
    m_temp = std::make_unique<core::TempDir>(parent, ".polyarch-stage");
  } catch (const Error& e) {
    std::string message = e.what();
    throw bad_input("cannot write " + quoted(m_ref.path.string()) +
                    message.substr(message.rfind(": ")));
  }
  m_layout = std::make_unique<LayoutDir>(LayoutDir::create(m_temp->path()));
}

void LayoutOutput::commit() {
  if (m_ref.kind == LayoutRef::Kind::archive) pack_layout(*m_layout, m_ref.path);
}

}  // namespace polyarch::image
