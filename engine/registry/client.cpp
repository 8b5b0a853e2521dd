#include "engine/registry/client.hpp"

#include "engine/core/error.hpp"
#include "engine/image/media_types.hpp"
#include "engine/registry/errors.hpp"

namespace polyarch::registry {

using image::Descriptor;
using image::Digest;
namespace media_type = image::media_type;

namespace {

constexpr size_t k_max_manifest_size = 4 << 20;  // what distribution accepts
constexpr size_t k_chunk_size = 16 << 20;
// Tries of a request whose answer fails verification (damaged on the way).
constexpr int k_verify_attempts = 3;

std::string accept_manifests() {
  return std::string(media_type::k_oci_index) + ", " + std::string(media_type::k_oci_manifest) +
         ", " + std::string(media_type::k_docker_list) + ", " +
         std::string(media_type::k_docker_manifest);
}

bool is_success(int status) { return status >= 200 && status < 300; }

// "application/json; charset=utf-8" -> "application/json".
std::string bare_media_type(const std::string& content_type) {
  auto semicolon = content_type.find(';');
  std::string type = content_type.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type;
}

// The media type a manifest declares, else the Content-Type the registry sent.
std::string manifest_media_type(const std::string& bytes, const std::string& content_type) {
  auto json = image::Json::parse(bytes, nullptr, false);
  if (json.is_object() && json.contains("mediaType") && json["mediaType"].is_string()) {
    return json["mediaType"].get<std::string>();
  }
  if (json.is_object() && json.contains("manifests")) return std::string(media_type::k_oci_index);
  std::string type = bare_media_type(content_type);
  return type.empty() || type == "application/json" ? std::string(media_type::k_oci_manifest)
                                                    : type;
}

std::string with_query(const Url& url, const std::string& query) {
  return url.str() + (url.target.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string encoded_digest(const Digest& digest) { return digest.algorithm + "%3A" + digest.hex; }

// The Content-Length a registry sent (0 when absent); failure when it is not a number.
int64_t content_length(const HttpResponse& response, const std::string& registry) {
  std::string text = response.header("Content-Length");
  if (text.empty()) return 0;
  if (text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw failure("registry " + registry + " sent an invalid Content-Length");
  }
  return std::stoll(text);
}

}  // namespace

Client::Client(RegistryContext context, std::string registry)
    : m_context(context),
      m_registry(std::move(registry)),
      m_auth(std::make_unique<Authenticator>(context.transport, context.credentials, m_registry)) {}

Client::~Client() = default;

std::string Client::url(const std::string& path) {
  // Blobs and manifests go from several threads: the first one probes.
  std::call_once(m_base_once, [this] { m_base = m_context.transport.base_url(api_host(m_registry)); });
  return m_base + path;
}

HttpResponse Client::send(HttpRequest request, const std::string& repository, bool push,
                          const std::string& mount_from) {
  std::set<std::string> scopes = {repository_scope(repository, push)};
  if (!mount_from.empty()) scopes.insert(repository_scope(mount_from, false));
  return m_auth->send(std::move(request), scopes);
}

FetchedManifest Client::get_manifest(const std::string& repository, const std::string& reference) {
  HttpRequest request;
  request.url = Url::parse(url("/v2/" + repository + "/manifests/" + reference));
  request.headers.emplace("Accept", accept_manifests());
  std::string what = "manifest " + m_registry + "/" + repository + (reference.starts_with("sha256:") ? "@" : ":") + reference;
  for (int attempt = 1;; ++attempt) {
    HttpResponse response = send(request, repository, false);
    if (response.status == 404) throw failure(what + " not found");
    if (!is_success(response.status)) throw registry_error(response, "cannot get " + what);
    if (response.body.size() > k_max_manifest_size) {
      throw failure(what + " is larger than 4 MiB; refusing it");
    }
    FetchedManifest fetched;
    fetched.bytes = std::move(response.body);
    fetched.descriptor = image::describe(manifest_media_type(fetched.bytes, response.header("Content-Type")),
                                         fetched.bytes);
    std::string expected = reference.starts_with("sha256:") ? reference
                                                            : response.header("Docker-Content-Digest");
    if (expected.starts_with("sha256:") && expected != fetched.descriptor.digest.str()) {
      if (attempt < k_verify_attempts) continue;  // damaged on the way? ask again
      throw failure(what + " does not match its digest: expected " + expected + ", got " +
                    fetched.descriptor.digest.str());
    }
    return fetched;
  }
}

std::optional<Descriptor> Client::head_manifest(const std::string& repository,
                                                const std::string& reference) {
  HttpRequest request;
  request.method = "HEAD";
  request.url = Url::parse(url("/v2/" + repository + "/manifests/" + reference));
  request.headers.emplace("Accept", accept_manifests());
  HttpResponse response = send(request, repository, false);
  if (response.status == 404) return std::nullopt;
  if (!is_success(response.status)) {
    throw registry_error(response, "cannot check manifest " + repository + ":" + reference +
                                       " on " + m_registry);
  }
  std::string digest = response.header("Docker-Content-Digest");
  // No digest, or not the one asked for: the GET verifies the bytes.
  bool other = reference.starts_with("sha256:") && digest != reference;
  if (digest.empty() || other) return get_manifest(repository, reference).descriptor;
  Descriptor descriptor;
  descriptor.media_type = bare_media_type(response.header("Content-Type"));
  try {
    descriptor.digest = Digest::parse(digest);
  } catch (const Error& e) {
    throw failure("registry " + m_registry + " sent an " + e.what());
  }
  descriptor.size = content_length(response, m_registry);
  return descriptor;
}

Digest Client::put_manifest(const std::string& repository, const std::string& reference,
                            const std::string& bytes, const std::string& media_type) {
  HttpRequest request;
  request.method = "PUT";
  request.url = Url::parse(url("/v2/" + repository + "/manifests/" + reference));
  request.headers.emplace("Content-Type", media_type);
  request.body = bytes;
  Digest sent = image::sha256(bytes);
  for (int attempt = 1;; ++attempt) {
    HttpResponse response = send(request, repository, true);
    if (!is_success(response.status)) {
      throw registry_error(response, "cannot push manifest " + repository + ":" + reference +
                                         " to " + m_registry);
    }
    // The registry names the digest it stored; it must be that of our bytes.
    std::string stored = response.header("Docker-Content-Digest");
    if (stored.empty() || stored == sent.str()) return sent;
    if (attempt < k_verify_attempts) continue;  // a PUT of the same bytes is safe to repeat
    std::string at = reference.starts_with("sha256:") ? "@" : ":";
    throw failure("registry " + m_registry + " answered the push of manifest " + repository + at +
                  reference + " with digest " + stored + ", not " + sent.str() +
                  " (the digest of the bytes sent)");
  }
}

std::optional<int64_t> Client::head_blob(const std::string& repository, const Digest& digest) {
  HttpRequest request;
  request.method = "HEAD";
  request.url = Url::parse(url("/v2/" + repository + "/blobs/" + digest.str()));
  HttpResponse response = send(request, repository, false);
  if (response.status == 404) return std::nullopt;
  if (!is_success(response.status)) {
    throw registry_error(response, "cannot check blob " + digest.str() + " in " + m_registry +
                                       "/" + repository);
  }
  return content_length(response, m_registry);
}

void Client::get_blob(const std::string& repository, const Digest& digest, const BodySink& sink) {
  image::Sha256 hasher;
  BodySink hashing = [&](const char* data, size_t size) {
    hasher.update(data, size);
    return sink(data, size);
  };
  HttpRequest request;
  request.url = Url::parse(url("/v2/" + repository + "/blobs/" + digest.str()));
  request.sink = hashing;
  HttpResponse response = send(request, repository, false);
  if (response.status >= 300 && response.status < 400 && !response.header("Location").empty()) {
    HttpRequest redirected;
    redirected.url = request.url.resolve(response.header("Location"));
    redirected.sink = hashing;
    response = m_context.transport.get_following(redirected);
  }
  std::string what = "blob " + digest.str() + " in " + m_registry + "/" + repository;
  if (response.status == 404) throw failure(what + " not found");
  if (!is_success(response.status)) throw registry_error(response, "cannot get " + what);
  if (digest.algorithm == "sha256" && hasher.finish() != digest) {
    throw failure(what + " does not match its digest");
  }
}

std::string Client::get_blob(const std::string& repository, const Digest& digest) {
  for (int attempt = 1;; ++attempt) {
    std::string bytes;
    bool received = false;  // some bytes came: a cut or damaged body is worth a new try
    bool too_large = false;
    try {
      get_blob(repository, digest, [&](const char* data, size_t size) {
        received = true;
        if (bytes.size() + size > k_max_manifest_size) {
          too_large = true;
          throw failure("blob " + digest.str() + " in " + m_registry + "/" + repository +
                        " is larger than 4 MiB; refusing it");
        }
        bytes.append(data, size);
        return true;
      });
      return bytes;
    } catch (const Error&) {
      if (!received || too_large || attempt >= k_verify_attempts) throw;
    }
  }
}

bool Client::mount_blob(const std::string& repository, const Digest& digest,
                        const std::string& from_repository) {
  HttpRequest request;
  request.method = "POST";
  request.url = Url::parse(url("/v2/" + repository + "/blobs/uploads/?mount=" +
                               encoded_digest(digest) + "&from=" + from_repository));
  try {
    return send(request, repository, true, from_repository).status == 201;
  } catch (const Error&) {
    return false;  // any mount error falls back to an upload
  }
}

void Client::upload_blob(const std::string& repository, const Digest& digest, int64_t size,
                         const BodyReader& reader) {
  std::string what = "blob " + digest.str() + " to " + m_registry + "/" + repository;
  HttpRequest start;
  start.method = "POST";
  start.url = Url::parse(url("/v2/" + repository + "/blobs/uploads/"));
  HttpResponse started = send(start, repository, true);
  if (!is_success(started.status) || started.header("Location").empty()) {
    throw registry_error(started, "cannot upload " + what);
  }
  Url location = start.url.resolve(started.header("Location"));

  HttpRequest put;
  put.method = "PUT";
  put.url = Url::parse(with_query(location, "digest=" + encoded_digest(digest)));
  put.headers.emplace("Content-Type", "application/octet-stream");
  put.body_reader = reader;
  put.body_size = size;
  HttpResponse done = send(put, repository, true);
  if (is_success(done.status)) return;
  if (done.status != 400 && done.status != 405 && done.status != 413 && done.status != 416) {
    throw registry_error(done, "cannot upload " + what);
  }
  // The registry refused a monolithic upload: start again in chunks.
  started = send(start, repository, true);
  if (!is_success(started.status)) throw registry_error(started, "cannot upload " + what);
  location = start.url.resolve(started.header("Location"));
  for (int64_t offset = 0; offset < size;) {
    int64_t length = std::min<int64_t>(static_cast<int64_t>(k_chunk_size), size - offset);
    HttpRequest patch;
    patch.method = "PATCH";
    patch.url = location;
    patch.headers.emplace("Content-Type", "application/octet-stream");
    patch.headers.emplace("Content-Range", std::to_string(offset) + "-" + std::to_string(offset + length - 1));
    patch.body_reader = [reader, offset](int64_t at, char* buffer, size_t n) {
      return reader(offset + at, buffer, n);
    };
    patch.body_size = length;
    HttpResponse chunk = send(patch, repository, true);
    if (!is_success(chunk.status)) throw registry_error(chunk, "cannot upload " + what);
    if (!chunk.header("Location").empty()) location = location.resolve(chunk.header("Location"));
    offset += length;
  }
  HttpRequest finish;
  finish.method = "PUT";
  finish.url = Url::parse(with_query(location, "digest=" + encoded_digest(digest)));
  done = send(finish, repository, true);
  if (!is_success(done.status)) throw registry_error(done, "cannot upload " + what);
}

void Client::upload_blob(const std::string& repository, const Digest& digest,
                         const std::string& bytes) {
  upload_blob(repository, digest, static_cast<int64_t>(bytes.size()),
              [&bytes](int64_t offset, char* buffer, size_t size) {
                size_t start = static_cast<size_t>(offset);
                if (start >= bytes.size()) return size_t{0};
                size_t n = std::min(size, bytes.size() - start);
                bytes.copy(buffer, n, start);
                return n;
              });
}

}  // namespace polyarch::registry
