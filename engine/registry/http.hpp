#pragma once
// HTTP transport for registries over cpp-httplib + OpenSSL: TLS verified by
// default, timeouts, keep-alive, retries with jittered backoff, a versioned
// User-Agent, one debug line per request with secrets redacted.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace polyarch::registry {

// An absolute http(s) URL split into its parts.
struct Url {
  std::string scheme;  // "https" or "http"
  std::string host;    // "registry.example.com:5000", "[::1]:5000"
  std::string target;  // path and query: "/v2/x/blobs/uploads/?digest=…"

  std::string str() const { return scheme + "://" + host + target; }
  // Parses "scheme://host[:port][/path]"; throws failure on anything else.
  static Url parse(std::string_view text);
  // Resolves a Location header against this URL (absolute, "/path", or relative).
  Url resolve(std::string_view location) const;
};

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;

// Reads the next part of a request body into buffer; returns bytes read, 0 at the end.
// Called again from the start (offset 0) when a request is retried.
using BodyReader = std::function<size_t(int64_t offset, char* buffer, size_t size)>;
// Receives a response body chunk by chunk; return false to abort.
using BodySink = std::function<bool(const char* data, size_t size)>;

struct HttpRequest {
  std::string method = "GET";
  Url url;
  Headers headers;
  std::string body;          // a small body, sent as is
  BodyReader body_reader;    // a large body of body_size bytes, streamed
  int64_t body_size = 0;
  BodySink sink;             // when set, a 2xx body goes here instead of into body
  bool retry = true;         // retry 5xx/429/connection errors (request must be replayable)
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  // The first value of a header, or "".
  std::string header(const std::string& name) const;
};

struct TransportOptions {
  std::vector<std::string> insecure_hosts;  // host[:port]: plain HTTP or unverified TLS allowed
  std::string ca_file;                      // extra CA bundle; "" uses the system's
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds read_timeout{60};
  int max_attempts = 5;                     // first try plus retries
  std::chrono::milliseconds backoff{200};   // first retry delay; doubles, with jitter
  std::chrono::seconds max_retry_after{60}; // a longer Retry-After is an error
  int max_connections_per_host = 4;
  // Seams for tests: how to wait, and where debug lines go ("GET url -> 200").
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<void(const std::string&)> debug;
};

// True for hosts Docker treats as insecure by default: localhost and 127.0.0.0/8, ::1.
bool is_loopback(std::string_view host);

// Sends requests, keeping one connection pool per scheme://host. Thread-safe.
class Transport {
 public:
  explicit Transport(TransportOptions options = {});
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Sends the request and returns the final response (any status). Retries
  // 5xx, 429 and connection errors with jittered backoff, honouring
  // Retry-After; does not follow redirects. Throws failure, naming the
  // host, when the host cannot be reached or TLS verification fails.
  HttpResponse send(const HttpRequest& request);

  // Sends a GET following up to 5 redirects, dropping Authorization when
  // the host changes (blob downloads from a CDN).
  HttpResponse get_following(HttpRequest request);

  // The base URL for a registry host: "https://host", or "http://host" for an
  // insecure or loopback host that does not speak TLS (probed once, remembered).
  std::string base_url(const std::string& host);

  const TransportOptions& options() const { return m_options; }

 private:
  struct Impl;
  TransportOptions m_options;
  std::unique_ptr<Impl> m_impl;
};

// The User-Agent we send: "polyarch/<version>".
std::string user_agent();

// Returns text with passwords, tokens and Authorization values replaced by
// "REDACTED" (for URLs with user:pass@, ?…token=…, and header lines).
std::string redact(std::string_view text);

}  // namespace polyarch::registry
