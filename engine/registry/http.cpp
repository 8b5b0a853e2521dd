#include "engine/registry/http.hpp"

#include <httplib.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <iomanip>
#include <locale>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/registry/tcp.hpp"
#include "engine/registry/tls_probe.hpp"
#include "engine/registry/url_internal.hpp"

// Before cpp-httplib's own set-up (a static object in every file that
// includes it, which loads OpenSSL's error strings: ~0.3 ms per start):
// polyarch never shows them. Priority 101 runs ahead of static objects; with
// cpp-httplib's shared library, whose set-up runs first, this changes nothing.
__attribute__((constructor(101))) static void skip_openssl_error_strings() {
  OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_SSL_STRINGS | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, nullptr);
}

namespace polyarch::registry {

namespace {

using detail::all_digits;
using detail::encode_target;
using detail::equals_nocase;
using detail::split_host;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int k_max_redirects = 5;
constexpr size_t k_chunk_size = 256 * 1024;  // upload body read size
constexpr seconds k_probe_timeout{2};

bool is_retryable_status(int status) { return status == 429 || status >= 500; }

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The delay a Retry-After value asks for (seconds or an HTTP-date), if any.
std::optional<milliseconds> parse_retry_after(const std::string& value) {
  if (all_digits(value)) return seconds(std::stoll(value.substr(0, 9)));
  std::tm tm{};
  std::istringstream in(value);
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S");
  if (in.fail()) return std::nullopt;
  auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto delay = std::chrono::duration_cast<milliseconds>(when - std::chrono::system_clock::now());
  return std::max(delay, milliseconds(0));
}

// Why a TCP connection to name:port fails, as the system says it
// ("Connection refused"); httplib only reports that it failed.
std::string connect_error(const std::string& name, int port, seconds timeout) {
  std::string reason;
  int fd = connect_tcp(name, port, std::chrono::steady_clock::now() + timeout, reason);
  if (fd >= 0) close(fd);
  return reason;
}

// A human reason for an httplib error.
std::string error_text(httplib::Error error, const Url& url, const TransportOptions& options) {
  switch (error) {
    case httplib::Error::Connection: {
      auto [name, port] = split_host(url.host, url.scheme == "https");
      return connect_error(name, port, options.connect_timeout);
    }
    case httplib::Error::ConnectionTimeout:
      return "connection timed out after " + std::to_string(options.connect_timeout.count()) + "s";
    case httplib::Error::Read:
      return "connection closed or timed out while reading the response";
    case httplib::Error::Write:
      return "connection closed while sending the request";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed (if the registry speaks plain HTTP, use --insecure-registry " +
             url.host + ")";
    case httplib::Error::SSLServerVerification:
      return "TLS certificate verification failed (use --ca-cert FILE, or --insecure-registry "
             "HOST if you trust it)";
    case httplib::Error::Canceled:
      return "cancelled";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates";
    default:
      return httplib::to_string(error);
  }
}

bool is_connection_error(httplib::Error error) {
  return error == httplib::Error::Connection || error == httplib::Error::ConnectionTimeout ||
         error == httplib::Error::Read || error == httplib::Error::Write ||
         error == httplib::Error::SSLConnection;
}

// Clients for one scheme://host; at most max clients lent out at once.
struct Pool {
  std::mutex mutex;
  std::condition_variable released;
  int in_use = 0;
  std::vector<std::unique_ptr<httplib::ClientImpl>> idle;
};

// One try of a request: either a response or an httplib error.
struct Attempt {
  httplib::Error error = httplib::Error::Success;
  HttpResponse response;
  int64_t sink_bytes = 0;
  int64_t body_sent = 0;
  bool body_short = false;
  bool wrong_name = false;       // the TLS chain verified, but not for this host name
  std::exception_ptr exception;  // thrown by the caller's reader or sink
};

}  // namespace

struct Transport::Impl {
  const TransportOptions& options;
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<Pool>> pools;
  std::map<std::string, std::string> bases;  // host -> base URL
  std::mt19937_64 random{std::random_device{}()};

  explicit Impl(const TransportOptions& opts) : options(opts) {}

  // Loopback hosts may fall back to plain HTTP (as Docker allows), but
  // their certificates are verified unless the user names them insecure.
  bool may_use_http(const std::string& host) const { return is_loopback(host) || insecure(host); }

  bool insecure(const std::string& host) const {
    std::string name = split_host(host, true).first;
    return std::any_of(options.insecure_hosts.begin(), options.insecure_hosts.end(),
                       [&](const std::string& h) {
                         return equals_nocase(h, host) || equals_nocase(h, name);
                       });
  }

  // A configured client for url's scheme://host. TLS is verified against the
  // system store (OpenSSL's default paths: /etc/ssl/certs) plus options.ca_file,
  // unless the host is insecure.
  std::unique_ptr<httplib::ClientImpl> make_client(const Url& url, seconds timeout) const {
    auto [name, port] = split_host(url.host, url.scheme == "https");
    std::unique_ptr<httplib::ClientImpl> client;
    if (url.scheme == "https") {
      auto tls = std::make_unique<httplib::SSLClient>(name, port);
      bool verify = !insecure(url.host);
      tls->enable_server_certificate_verification(verify);
      if (verify && !options.ca_file.empty() &&
          X509_STORE_load_file(SSL_CTX_get_cert_store(tls->ssl_context()),
                               options.ca_file.c_str()) != 1) {
        throw failure("cannot read CA certificates from " + quoted(options.ca_file));
      }
      client = std::move(tls);
    } else {
      client = std::make_unique<httplib::ClientImpl>(name, port);
    }
    client->set_keep_alive(true);
    // Headers and body go out in separate writes: without this, Nagle holds
    // the body until the server's delayed ACK, ~40 ms per manifest PUT.
    client->set_tcp_nodelay(true);
    client->set_follow_location(false);
    client->set_url_encode(false);
    client->set_decompress(false);
    client->set_connection_timeout(std::min(timeout, options.connect_timeout));
    client->set_read_timeout(std::min(timeout, options.read_timeout));
    client->set_write_timeout(std::min(timeout, options.read_timeout));
    return client;
  }

  Pool& pool(const std::string& key) {
    std::lock_guard lock(mutex);
    auto& slot = pools[key];
    if (!slot) slot = std::make_unique<Pool>();
    return *slot;
  }

  milliseconds backoff(int retry) {
    auto base = options.backoff * (int64_t{1} << std::min(retry, 20));
    std::lock_guard lock(mutex);
    std::uniform_int_distribution<int64_t> jitter(0, base.count() / 2);
    return base + milliseconds(jitter(random));
  }

  void sleep(milliseconds delay) const {
    if (options.sleep) {
      options.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
  }

  Attempt attempt(const HttpRequest& request);
};

Attempt Transport::Impl::attempt(const HttpRequest& request) {
  Pool& lender = pool(request.url.scheme + "://" + request.url.host);
  std::unique_ptr<httplib::ClientImpl> client;
  {
    std::unique_lock lock(lender.mutex);
    int limit = std::max(1, options.max_connections_per_host);
    lender.released.wait(lock, [&] { return lender.in_use < limit; });
    ++lender.in_use;
    if (!lender.idle.empty()) {
      client = std::move(lender.idle.back());
      lender.idle.pop_back();
    }
  }
  Attempt result;
  auto give_back = [&](bool reusable) {
    std::lock_guard lock(lender.mutex);
    --lender.in_use;
    if (reusable && client) lender.idle.push_back(std::move(client));
    lender.released.notify_one();
  };
  try {
    if (!client) client = make_client(request.url, options.read_timeout);
  } catch (...) {
    give_back(false);
    throw;
  }

  httplib::Request req;
  req.method = request.method;
  req.path = encode_target(request.url.target);
  for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
  if (!req.has_header("User-Agent")) req.headers.emplace("User-Agent", user_agent());
  bool has_body = !request.body.empty() || request.body_reader;
  if (has_body && !req.has_header("Content-Type")) {
    req.headers.emplace("Content-Type", "application/octet-stream");
  }
  if (!request.body.empty()) {
    req.body = request.body;
  } else if (request.body_reader) {
    req.content_length_ = static_cast<size_t>(request.body_size);
    req.content_provider_ = [&, buffer = std::vector<char>()](
                                size_t offset, size_t length, httplib::DataSink& sink) mutable {
      buffer.resize(std::min(length, k_chunk_size));  // allocated once per attempt
      try {
        size_t n = request.body_reader(static_cast<int64_t>(offset), buffer.data(), buffer.size());
        if (n == 0) {
          result.body_short = true;
          return false;
        }
        result.body_sent += static_cast<int64_t>(n);
        return sink.write(buffer.data(), std::min(n, buffer.size()));
      } catch (...) {
        result.exception = std::current_exception();
        return false;
      }
    };
  }
  bool to_sink = false;
  req.response_handler = [&](const httplib::Response& res) {
    to_sink = request.sink && res.status >= 200 && res.status < 300;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (!to_sink) {
      result.response.body.append(data, size);
      return true;
    }
    result.sink_bytes += static_cast<int64_t>(size);
    try {
      return request.sink(data, size);
    } catch (...) {
      result.exception = std::current_exception();
      return false;
    }
  };

  httplib::Response res;
  if (client->send(req, res, result.error)) {
    result.error = httplib::Error::Success;
    result.response.status = res.status;
    for (const auto& [name, value] : res.headers) result.response.headers.emplace(name, value);
  } else if (result.error == httplib::Error::Success) {
    result.error = httplib::Error::Unknown;
  } else if (result.error == httplib::Error::SSLServerVerification) {
    // httplib checks the name only after the chain verified.
    auto* tls = dynamic_cast<httplib::SSLClient*>(client.get());
    result.wrong_name = tls != nullptr && tls->get_openssl_verify_result() == X509_V_OK;
  }
  give_back(result.error == httplib::Error::Success);
  return result;
}

Transport::Transport(TransportOptions options)
    : m_options(std::move(options)), m_impl(std::make_unique<Impl>(m_options)) {}

Transport::~Transport() = default;

HttpResponse Transport::send(const HttpRequest& request) {
  const int attempts = request.retry ? std::max(1, m_options.max_attempts) : 1;
  const std::string where = request.method + " " + redact(request.url.str());
  for (int attempt = 1;; ++attempt) {
    Attempt result = m_impl->attempt(request);
    if (result.exception) std::rethrow_exception(result.exception);
    bool last = attempt >= attempts;
    if (result.error != httplib::Error::Success) {
      std::string reason = error_text(result.error, request.url, m_options);
      if (result.wrong_name) {
        reason = "the TLS certificate is not for " + split_host(request.url.host, true).first +
                 " (reach the registry by a name the certificate holds, or use "
                 "--insecure-registry HOST if you trust it)";
      }
      if (m_options.debug) m_options.debug(where + " -> " + reason);
      if (result.body_short) {
        throw failure("cannot send " + where + ": the request body ended after " +
                      std::to_string(result.body_sent) + " of " +
                      std::to_string(request.body_size) + " bytes");
      }
      if (result.error == httplib::Error::Canceled) {
        throw failure("download from " + request.url.host + " was cancelled");
      }
      if (result.sink_bytes > 0) {
        throw failure("download from " + request.url.host + " interrupted after " +
                      std::to_string(result.sink_bytes) + " bytes: " + reason);
      }
      if (last || !is_connection_error(result.error)) {
        bool refused = reason == "Connection refused";
        throw failure("cannot reach " + request.url.host + ": " + reason +
                      (refused ? " (is the registry running at that address?)" : ""));
      }
      m_impl->sleep(m_impl->backoff(attempt - 1));
      continue;
    }
    HttpResponse& response = result.response;
    if (m_options.debug) m_options.debug(where + " -> " + std::to_string(response.status));
    if (last || !is_retryable_status(response.status)) return response;
    milliseconds delay = m_impl->backoff(attempt - 1);
    if (auto asked = parse_retry_after(response.header("Retry-After"))) {
      if (*asked > m_options.max_retry_after) return response;
      delay = *asked;
    }
    m_impl->sleep(delay);
  }
}

HttpResponse Transport::get_following(HttpRequest request) {
  request.method = "GET";
  for (int redirects = 0;; ++redirects) {
    HttpResponse response = send(request);
    std::string location = response.header("Location");
    if (!is_redirect(response.status) || location.empty()) return response;
    if (redirects == k_max_redirects) {
      throw failure("too many redirects from " + redact(request.url.str()));
    }
    Url next = request.url.resolve(location);
    if (next.scheme != request.url.scheme || next.host != request.url.host) {
      request.headers.erase("Authorization");
    }
    request.url = next;
  }
}

std::string Transport::base_url(const std::string& host) {
  (void)Url::parse("https://" + host + "/v2/");  // throws on a malformed host
  if (!m_impl->may_use_http(host)) return "https://" + host;
  {
    std::lock_guard lock(m_impl->mutex);
    if (auto it = m_impl->bases.find(host); it != m_impl->bases.end()) return it->second;
  }
  // Probe: does the host speak TLS? Only the first reply byte to a
  // ClientHello matters, so no certificate is looked at.
  auto [name, port] = split_host(host, true);
  ProbeResult probed = probe_tls(name, port, k_probe_timeout);
  if (probed == ProbeResult::unreachable) return "https://" + host;  // the real request says why
  std::string base = (probed == ProbeResult::tls ? "https://" : "http://") + host;
  std::lock_guard lock(m_impl->mutex);
  m_impl->bases[host] = base;
  return base;
}

}  // namespace polyarch::registry
