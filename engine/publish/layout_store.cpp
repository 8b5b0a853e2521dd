// An ImageStore over an OCI image layout (oci: archive or oci-dir: directory).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/core/error.hpp"
#include "engine/image/reference.hpp"
#include "engine/publish/store.hpp"

namespace polyarch::publish {

namespace {

using image::Digest;
using image::LayoutDir;
namespace fs = std::filesystem;

// A file descriptor closed with the last reader that holds it.
struct OpenFile {
  explicit OpenFile(int descriptor) : fd(descriptor) {}
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
  int fd;
};

class LayoutStore : public ImageStore {
 public:
  LayoutStore(const image::LayoutRef& ref, bool for_writing) : m_ref(ref) {
    if (for_writing) {
      m_output = std::make_unique<image::LayoutOutput>(ref);
      m_layout = &m_output->layout();
    } else {
      m_input = std::make_unique<image::OpenedLayout>(ref);
      m_layout = &m_input->layout();
    }
  }

  std::string name() const override {
    return (m_ref.kind == image::LayoutRef::Kind::archive ? "oci:" : "oci-dir:") + m_ref.path.string();
  }

  FetchedManifest resolve(const std::string& reference) override {
    Descriptor top = m_layout->resolve(reference.empty() ? m_ref.ref_name : reference);
    FetchedManifest fetched{m_layout->read_blob(top.digest), top};
    fetched.descriptor.annotations.clear();
    return fetched;
  }

  std::string read_manifest(const Descriptor& d) override { return m_layout->read_blob(d.digest); }
  std::string read_small_blob(const Descriptor& d) override { return m_layout->read_blob(d.digest); }

  void read_blob(const Descriptor& d, const registry::BodySink& sink) override {
    auto reader = blob_reader(d);
    std::vector<char> buffer(1 << 20);
    image::Sha256 hasher;
    int64_t offset = 0;
    while (size_t n = reader(offset, buffer.data(), buffer.size())) {
      hasher.update(buffer.data(), n);
      if (!sink(buffer.data(), n)) throw failure("copy of " + d.digest.str() + " was cancelled");
      offset += static_cast<int64_t>(n);
    }
    if (hasher.finish() != d.digest) {
      throw failure("blob " + d.digest.str() + " in " + name() + " does not match its digest");
    }
  }

  registry::BodyReader blob_reader(const Descriptor& d) override {
    fs::path path = m_layout->blob_path(d.digest);
    auto file = std::make_shared<OpenFile>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (file->fd < 0) throw failure("blob " + d.digest.str() + " is missing from " + name());
    return [file, path](int64_t offset, char* buffer, size_t size) -> size_t {
      ssize_t n = ::pread(file->fd, buffer, size, offset);
      if (n < 0) throw failure("cannot read " + quoted(path.string()) + ": " + std::strerror(errno));
      return static_cast<size_t>(n);
    };
  }

  bool has_blob(const Descriptor& d) override { return m_layout->has_blob(d.digest); }

  bool write_blob(const Descriptor& d, ImageStore& from) override {
    download_blob(from, d, *m_layout);
    return false;
  }

  bool has_manifest(const Descriptor& d) override { return m_layout->has_blob(d.digest); }

  void write_manifest(const Descriptor& d, const std::string& bytes, const std::string& tag) override {
    m_layout->put_blob(d.media_type, bytes);
    if (tag.empty()) return;
    Descriptor entry = d;
    entry.platform.reset();
    m_layout->set_ref(entry, tag, "");
  }

  void commit() override {
    if (m_output) m_output->commit();
  }

 private:
  image::LayoutRef m_ref;
  std::unique_ptr<image::OpenedLayout> m_input;
  std::unique_ptr<image::LayoutOutput> m_output;
  LayoutDir* m_layout = nullptr;
};

}  // namespace

void download_blob(ImageStore& from, const Descriptor& d, image::LayoutDir& into) {
  fs::path tmp = into.root() / "blobs" / (".incoming-" + d.digest.hex);
  fs::create_directories(tmp.parent_path());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw failure("cannot write " + quoted(tmp.string()) + ": " + std::strerror(errno));
  OpenFile file(fd);
  try {
    from.read_blob(d, [fd](const char* data, size_t size) {
      return ::write(fd, data, size) == static_cast<ssize_t>(size);
    });
  } catch (...) {
    fs::remove(tmp);
    throw;
  }
  into.adopt_blob(tmp, d.digest);
}

std::unique_ptr<ImageStore> open_layout_store(const image::LayoutRef& ref, bool for_writing) {
  return std::make_unique<LayoutStore>(ref, for_writing);
}

}  // namespace polyarch::publish
