// An ImageStore over one repository of a registry.
#include <algorithm>
#include <thread>

#include "engine/core/error.hpp"
#include "engine/publish/blob_pipe.hpp"
#include "engine/publish/store.hpp"

namespace polyarch::publish {

namespace {

class RegistryStore : public ImageStore {
 public:
  RegistryStore(registry::Client& client, std::string repository)
      : m_client(client), m_repository(std::move(repository)) {}

  std::string name() const override { return m_client.registry() + "/" + m_repository; }
  registry::Client& client() { return m_client; }
  const std::string& repository() const { return m_repository; }

  FetchedManifest resolve(const std::string& reference) override {
    return m_client.get_manifest(m_repository, reference.empty() ? "latest" : reference);
  }

  std::string read_manifest(const Descriptor& d) override {
    return m_client.get_manifest(m_repository, d.digest.str()).bytes;
  }

  std::string read_small_blob(const Descriptor& d) override {
    return m_client.get_blob(m_repository, d.digest);
  }

  void read_blob(const Descriptor& d, const registry::BodySink& sink) override {
    m_client.get_blob(m_repository, d.digest, sink);
  }

  bool has_blob(const Descriptor& d) override {
    return m_client.head_blob(m_repository, d.digest).has_value();
  }

  bool mount_blob(const Descriptor& d, ImageStore& from) override {
    auto* same = dynamic_cast<RegistryStore*>(&from);
    return same != nullptr && same->m_client.registry() == m_client.registry() &&
           same->m_repository != m_repository &&
           m_client.mount_blob(m_repository, d.digest, same->m_repository);
  }

  bool concurrent_manifests() const override { return true; }

  bool write_blob(const Descriptor& d, ImageStore& from) override {
    if (mount_blob(d, from)) return true;
    if (auto reader = from.blob_reader(d)) {
      m_client.upload_blob(m_repository, d.digest, d.size, reader);
      return false;
    }
    stream_blob(d, from);
    return false;
  }

  bool has_manifest(const Descriptor& d) override {
    return m_client.head_manifest(m_repository, d.digest.str()).has_value();
  }

  void write_manifest(const Descriptor& d, const std::string& bytes, const std::string& tag) override {
    m_client.put_manifest(m_repository, tag.empty() ? d.digest.str() : tag, bytes, d.media_type);
  }

 private:
  // Downloads on a second thread straight into the upload's body.
  void stream_blob(const Descriptor& d, ImageStore& from) {
    // A ring as large as the blob, up to 4 MiB: a config needs no more
    // than its own size, and a layer's upload reads large pieces.
    BlobPipe pipe(static_cast<size_t>(std::clamp<int64_t>(d.size, 1, 4 << 20)));
    std::thread download([&] {
      try {
        from.read_blob(d, [&pipe](const char* data, size_t size) { return pipe.write(data, size); });
        pipe.close();
      } catch (const std::exception& e) {
        pipe.close(e.what());
      }
    });
    try {
      m_client.upload_blob(m_repository, d.digest, d.size,
                           [&pipe](int64_t offset, char* buffer, size_t size) {
                             return pipe.read(offset, buffer, size);
                           });
    } catch (...) {
      pipe.abandon();
      download.join();
      throw;
    }
    pipe.abandon();
    download.join();
  }

  registry::Client& m_client;
  std::string m_repository;
};

}  // namespace

std::unique_ptr<ImageStore> registry_store(registry::Client& client, std::string repository) {
  return std::make_unique<RegistryStore>(client, std::move(repository));
}

}  // namespace polyarch::publish
