#include "engine/publish/counting_store.hpp"

#include <algorithm>

namespace polyarch::publish {

void BlobTally::add(const image::Digest& digest, int64_t bytes) {
  if (bytes <= 0) return;
  std::lock_guard lock(m_mutex);
  m_bytes[digest.str()] += bytes;
}

int64_t BlobTally::bytes(const image::Digest& digest) const {
  std::lock_guard lock(m_mutex);
  auto found = m_bytes.find(digest.str());
  return found == m_bytes.end() ? 0 : found->second;
}

namespace {

class CountingStore : public ImageStore {
 public:
  CountingStore(std::unique_ptr<ImageStore> inner, BlobTally& tally)
      : m_inner(std::move(inner)), m_tally(tally) {}

  std::string name() const override { return m_inner->name(); }
  FetchedManifest resolve(const std::string& reference) override { return m_inner->resolve(reference); }
  std::string read_manifest(const Descriptor& d) override { return m_inner->read_manifest(d); }
  std::string read_small_blob(const Descriptor& d) override { return m_inner->read_small_blob(d); }

  void read_blob(const Descriptor& d, const registry::BodySink& sink) override {
    m_inner->read_blob(d, [this, &d, &sink](const char* data, size_t size) {
      m_tally.add(d.digest, static_cast<int64_t>(size));
      return sink(data, size);
    });
  }

  registry::BodyReader blob_reader(const Descriptor& d) override {
    registry::BodyReader reader = m_inner->blob_reader(d);
    if (!reader) return reader;
    // Only bytes past the furthest point this reader reached are new.
    auto furthest = std::make_shared<int64_t>(0);
    auto mutex = std::make_shared<std::mutex>();
    return [reader, furthest, mutex, digest = d.digest, &tally = m_tally](int64_t offset, char* buffer,
                                                                          size_t size) {
      size_t n = reader(offset, buffer, size);
      int64_t end = offset + static_cast<int64_t>(n);
      int64_t added = 0;
      {
        std::lock_guard lock(*mutex);
        added = std::max<int64_t>(0, end - *furthest);
        *furthest = std::max(*furthest, end);
      }
      tally.add(digest, added);
      return n;
    };
  }

  // A blob the destination has or mounts is not read: it counts whole.
  bool has_blob(const Descriptor& d) override { return whole_if(m_inner->has_blob(d), d); }
  bool mount_blob(const Descriptor& d, ImageStore& from) override {
    return whole_if(m_inner->mount_blob(d, from), d);
  }
  bool concurrent_manifests() const override { return m_inner->concurrent_manifests(); }
  bool write_blob(const Descriptor& d, ImageStore& from) override { return m_inner->write_blob(d, from); }
  bool has_manifest(const Descriptor& d) override { return m_inner->has_manifest(d); }
  void write_manifest(const Descriptor& d, const std::string& bytes, const std::string& tag) override {
    m_inner->write_manifest(d, bytes, tag);
  }
  void commit() override { m_inner->commit(); }

 private:
  bool whole_if(bool present, const Descriptor& d) {
    if (present) m_tally.add(d.digest, d.size);
    return present;
  }

  std::unique_ptr<ImageStore> m_inner;
  BlobTally& m_tally;
};

}  // namespace

std::unique_ptr<ImageStore> counting_store(std::unique_ptr<ImageStore> inner, BlobTally& tally) {
  return std::make_unique<CountingStore>(std::move(inner), tally);
}

}  // namespace polyarch::publish
