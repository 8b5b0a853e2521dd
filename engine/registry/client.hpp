#pragma once
// Distribution API operations on one registry: manifests and blobs.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "engine/image/manifest.hpp"
#include "engine/image/reference.hpp"
#include "engine/registry/auth.hpp"

namespace polyarch::registry {

// A manifest or index as fetched: its exact bytes, type and verified digest.
struct FetchedManifest {
  std::string bytes;
  image::Descriptor descriptor;  // media type, digest of bytes, size
};

// Everything a command needs to reach registries; one per process.
struct RegistryContext {
  Transport& transport;
  const CredentialStore& credentials;
};

class Client {
 public:
  // A client for one registry (as in a reference: "docker.io", "localhost:5000").
  Client(RegistryContext context, std::string registry);
  ~Client();

  const std::string& registry() const { return m_registry; }

  // GET a manifest by tag or digest, with all four media types in Accept.
  // Verifies the digest when the reference is a digest or the registry sent
  // Docker-Content-Digest (asking again twice before failing "… does not
  // match its digest"). Throws failure "… not found" for a 404.
  FetchedManifest get_manifest(const std::string& repository, const std::string& reference);
  // HEAD a manifest; nullopt when it does not exist. A Docker-Content-Digest
  // other than the digest asked for is checked with get_manifest.
  std::optional<image::Descriptor> head_manifest(const std::string& repository,
                                                 const std::string& reference);
  // PUT manifest bytes under a tag or digest; returns their digest. Throws
  // failure when the registry answers with another Docker-Content-Digest
  // (after two more tries).
  image::Digest put_manifest(const std::string& repository, const std::string& reference,
                             const std::string& bytes, const std::string& media_type);

  // HEAD a blob: its size, or nullopt when absent.
  std::optional<int64_t> head_blob(const std::string& repository, const image::Digest& digest);
  // Streams a blob into sink, verifying its digest (failure on mismatch).
  void get_blob(const std::string& repository, const image::Digest& digest, const BodySink& sink);
  // Reads a small blob (configs) whole, verified; a download cut short or
  // damaged is tried again (three tries in all).
  std::string get_blob(const std::string& repository, const image::Digest& digest);
  // Tries a cross-repository mount; true when the registry mounted it (201).
  bool mount_blob(const std::string& repository, const image::Digest& digest,
                  const std::string& from_repository);
  // Uploads a blob of `size` bytes read from reader (monolithic POST+PUT,
  // chunked PATCH when the registry refuses that). Skips nothing: callers
  // HEAD first.
  void upload_blob(const std::string& repository, const image::Digest& digest, int64_t size,
                   const BodyReader& reader);
  // Uploads bytes held in memory.
  void upload_blob(const std::string& repository, const image::Digest& digest,
                   const std::string& bytes);

 private:
  HttpResponse send(HttpRequest request, const std::string& repository, bool push,
                    const std::string& mount_from = "");
  std::string url(const std::string& path);

  RegistryContext m_context;
  std::string m_registry;
  std::once_flag m_base_once;
  std::string m_base;  // "https://host" or "http://host"
  std::unique_ptr<Authenticator> m_auth;
};

}  // namespace polyarch::registry
