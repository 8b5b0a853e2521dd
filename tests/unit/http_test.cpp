#include "engine/registry/http.hpp"
#include "tests/unit/http_test_util.hpp"

#include "tests/unit/http_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"

namespace polyarch::registry {
namespace {

using polyarch::testing::TestServer;
using std::chrono::milliseconds;

using test_util::error_of;
using test_util::get;
using test_util::Recorder;

// ---- Transport ---------------------------------------------------------

TEST(TransportTest, RoundTripsStatusHeadersAndBodies) {
  TestServer server;
  std::string agent;
  std::string content_type;
  server->Post("/echo", [&](const httplib::Request& req, httplib::Response& res) {
    agent = req.get_header_value("User-Agent");
    content_type = req.get_header_value("Content-Type");
    res.status = 201;
    res.set_header("Location", "/v2/done");
    res.set_content("got " + req.body, "text/plain");
  });
  server->Get("/missing", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("{\"errors\":[]}", "application/json");
  });
  server.start();
  Recorder recorder;
  Transport transport(recorder.options());

  HttpRequest post = get(server.url("/echo"));
  post.method = "POST";
  post.body = "hello";
  post.headers.emplace("Content-Type", "application/json");
  HttpResponse response = transport.send(post);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, "got hello");
  EXPECT_EQ(response.header("location"), "/v2/done");
  EXPECT_EQ(agent, "polyarch/" POLYARCH_VERSION);
  EXPECT_EQ(content_type, "application/json");

  response = transport.send(get(server.url("/missing")));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "{\"errors\":[]}");
  EXPECT_TRUE(recorder.sleeps.empty());
  std::vector<std::string> expected = {"POST " + server.url("/echo") + " -> 201",
                                       "GET " + server.url("/missing") + " -> 404"};
  EXPECT_EQ(recorder.lines, expected);
}

std::string pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
  return bytes;
}

TEST(TransportTest, StreamsUploadsFromAReaderAndDownloadsIntoASink) {
  const std::string blob = pattern(300000);
  TestServer server;
  std::string received;
  std::string length;
  server->Put("/upload", [&](const httplib::Request& req, httplib::Response& res) {
    received = req.body;
    length = req.get_header_value("Content-Length");
    res.status = 201;
  });
  server->Get("/blob", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(blob, "application/octet-stream");
  });
  server->Get("/absent", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("unknown blob", "text/plain");
  });
  server.start();
  Recorder quiet;
  Transport transport(quiet.options());

  HttpRequest put = get(server.url("/upload"));
  put.method = "PUT";
  put.body_size = static_cast<int64_t>(blob.size());
  put.body_reader = [&](int64_t offset, char* buffer, size_t size) {
    size_t n = std::min(size, blob.size() - static_cast<size_t>(offset));
    std::copy_n(blob.data() + offset, n, buffer);
    return n;
  };
  EXPECT_EQ(transport.send(put).status, 201);
  EXPECT_EQ(length, "300000");
  EXPECT_TRUE(received == blob) << received.size();

  std::string sunk;
  HttpRequest download = get(server.url("/blob"));
  download.sink = [&](const char* data, size_t size) {
    sunk.append(data, size);
    return true;
  };
  HttpResponse response = transport.send(download);
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(sunk == blob) << sunk.size();
  EXPECT_EQ(response.body, "");

  // Only a 2xx body goes to the sink; an error body stays readable.
  sunk.clear();
  download.url = Url::parse(server.url("/absent"));
  response = transport.send(download);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "unknown blob");
  EXPECT_EQ(sunk, "");
}

TEST(TransportTest, ShortBodyReaderFails) {
  TestServer server;
  server->Put("/upload", [](const httplib::Request&, httplib::Response& res) { res.status = 201; });
  server.start();
  Recorder quiet;
  Transport transport(quiet.options());
  HttpRequest put = get(server.url("/upload"));
  put.method = "PUT";
  put.body_size = 20;
  put.body_reader = [](int64_t offset, char* buffer, size_t) -> size_t {
    if (offset >= 10) return 0;
    std::fill_n(buffer, 10, 'x');
    return 10;
  };
  EXPECT_EQ(error_of([&] { transport.send(put); }),
            "cannot send PUT " + server.url("/upload") +
                ": the request body ended after 10 of 20 bytes");
}

TEST(TransportTest, RetriesServerErrorsWithGrowingBackoff) {
  TestServer server;
  std::atomic<int> attempts = 0;
  server->Get("/flaky", [&](const httplib::Request&, httplib::Response& res) {
    res.status = ++attempts < 3 ? 503 : 200;
    res.set_content(std::to_string(attempts), "text/plain");
  });
  server.start();
  Recorder recorder;
  TransportOptions options = recorder.options();
  options.backoff = milliseconds(100);
  Transport transport(options);
  HttpResponse response = transport.send(get(server.url("/flaky")));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "3");
  EXPECT_EQ(attempts, 3);
  ASSERT_EQ(recorder.sleeps.size(), 2u);
  EXPECT_GE(recorder.sleeps[0], milliseconds(100));
  EXPECT_LE(recorder.sleeps[0], milliseconds(150));
  EXPECT_GE(recorder.sleeps[1], milliseconds(200));
  EXPECT_LE(recorder.sleeps[1], milliseconds(300));
}

TEST(TransportTest, HonoursRetryAfter) {
  TestServer server;
  std::atomic<int> attempts = 0;
  std::string wait = "2";
  server->Get("/busy", [&](const httplib::Request&, httplib::Response& res) {
    if (++attempts == 1) {
      res.status = 429;
      res.set_header("Retry-After", wait);
    }
  });
  server.start();
  Recorder recorder;
  Transport transport(recorder.options());
  EXPECT_EQ(transport.send(get(server.url("/busy"))).status, 200);
  EXPECT_EQ(recorder.sleeps, std::vector<milliseconds>{milliseconds(2000)});

  // Longer than max_retry_after: the 429 comes back at once.
  attempts = 0;
  wait = "120";
  recorder.sleeps.clear();
  HttpResponse response = transport.send(get(server.url("/busy")));
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.header("Retry-After"), "120");
  EXPECT_EQ(attempts, 1);
  EXPECT_TRUE(recorder.sleeps.empty());

  // An HTTP-date in the past: retry at once.
  attempts = 0;
  wait = "Wed, 21 Oct 2015 07:28:00 GMT";
  EXPECT_EQ(transport.send(get(server.url("/busy"))).status, 200);
  EXPECT_EQ(recorder.sleeps, std::vector<milliseconds>{milliseconds(0)});
}

TEST(TransportTest, StopsRetryingWhenToldOrAfterMaxAttempts) {
  TestServer server;
  std::atomic<int> attempts = 0;
  server->Get("/down", [&](const httplib::Request&, httplib::Response& res) {
    ++attempts;
    res.status = 500;
  });
  server.start();
  Recorder recorder;
  TransportOptions options = recorder.options();
  options.max_attempts = 3;
  Transport transport(options);

  HttpRequest once = get(server.url("/down"));
  once.retry = false;
  EXPECT_EQ(transport.send(once).status, 500);
  EXPECT_EQ(attempts, 1);
  EXPECT_TRUE(recorder.sleeps.empty());

  attempts = 0;
  EXPECT_EQ(transport.send(get(server.url("/down"))).status, 500);
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(recorder.sleeps.size(), 2u);
  EXPECT_EQ(recorder.lines.size(), 4u);
}

TEST(TransportTest, RefusedConnectionNamesTheHost) {
  int port = 0;
  {
    TestServer closed;
    closed.start();
    port = closed.port();
  }
  Recorder recorder;
  Transport transport(recorder.options());
  std::string host = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(error_of([&] { transport.send(get("http://" + host + "/v2/")); }),
            "cannot reach " + host +
                ": Connection refused (is the registry running at that address?)");
  EXPECT_EQ(recorder.sleeps.size(), 4u);  // five attempts
  EXPECT_EQ(recorder.lines.back(), "GET http://" + host + "/v2/ -> Connection refused");
}

TEST(TransportTest, DoesNotRetryOnceTheSinkHasBytes) {
  // A raw server that promises 1000 bytes, sends 10 and hangs up.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string host = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  std::thread serve([listener] {
    int conn = accept(listener, nullptr, nullptr);
    close(listener);
    char buffer[4096];
    std::string request;
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = read(conn, buffer, sizeof buffer);
      if (n <= 0) break;
      request.append(buffer, static_cast<size_t>(n));
    }
    std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
    EXPECT_EQ(write(conn, reply.data(), reply.size()), static_cast<ssize_t>(reply.size()));
    close(conn);
  });
  Recorder quiet;
  Transport transport(quiet.options());
  HttpRequest download = get("http://" + host + "/blob");
  std::string sunk;
  download.sink = [&](const char* data, size_t size) {
    sunk.append(data, size);
    return true;
  };
  EXPECT_EQ(error_of([&] { transport.send(download); }),
            "download from " + host +
                " interrupted after 10 bytes: connection closed or timed out while reading the "
                "response");
  EXPECT_EQ(sunk, "0123456789");
  serve.join();
}

TEST(TransportTest, RedirectsDropAuthorizationOnlyForAnotherHost) {
  TestServer cdn;
  TestServer registry;
  std::string cdn_auth = "unset";
  std::string registry_auth = "unset";
  cdn->Get("/blob", [&](const httplib::Request& req, httplib::Response& res) {
    cdn_auth = req.get_header_value("Authorization");
    res.set_content("blob bytes", "application/octet-stream");
  });
  cdn.start();
  registry->Get("/v2/app/blobs/a", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 307;
    res.set_header("Location", cdn.url("/blob"));
  });
  registry->Get("/v2/app/blobs/b", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "c?x=1");
  });
  registry->Get("/v2/app/blobs/c", [&](const httplib::Request& req, httplib::Response& res) {
    registry_auth = req.get_header_value("Authorization");
    res.set_content("same host " + req.get_param_value("x"), "text/plain");
  });
  registry->Get("/loop", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 301;
    res.set_header("Location", "/loop");
  });
  registry.start();
  Recorder quiet;
  Transport transport(quiet.options());

  HttpRequest request = get(registry.url("/v2/app/blobs/a"));
  request.headers.emplace("Authorization", "Bearer abc");
  HttpResponse response = transport.get_following(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "blob bytes");
  EXPECT_EQ(cdn_auth, "");

  request.url = Url::parse(registry.url("/v2/app/blobs/b"));
  response = transport.get_following(request);
  EXPECT_EQ(response.body, "same host 1");
  EXPECT_EQ(registry_auth, "Bearer abc");

  // A plain send does not follow.
  EXPECT_EQ(transport.send(request).status, 302);
  EXPECT_EQ(error_of([&] { transport.get_following(get(registry.url("/loop"))); }),
            "too many redirects from " + registry.url("/loop"));
}

TEST(TransportTest, DebugLinesRedactSecrets) {
  TestServer server;
  server->Get("/token", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  server.start();
  Recorder recorder;
  Transport transport(recorder.options());
  transport.send(get(server.url("/token?service=reg&token=s3cret&n=1")));
  EXPECT_EQ(recorder.lines, std::vector<std::string>{"GET " + server.url("/token") +
                                                     "?service=reg&token=REDACTED&n=1 -> 200"});
}

TEST(TransportTest, LimitsConnectionsPerHost) {
  TestServer server;
  std::atomic<int> active = 0;
  std::atomic<int> most = 0;
  server->Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    int now = ++active;
    most = std::max(most.load(), now);
    std::this_thread::sleep_for(milliseconds(30));
    --active;
    res.status = 200;
  });
  server.start();
  Recorder quiet;
  TransportOptions options = quiet.options();
  options.debug = nullptr;
  options.sleep = nullptr;
  options.max_connections_per_host = 1;
  Transport transport(options);
  std::vector<std::thread> threads;
  std::atomic<int> ok = 0;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 2; ++j) ok += transport.send(get(server.url("/slow"))).status == 200;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 6);
  EXPECT_EQ(most, 1);
}

TEST(TransportTest, BaseUrlFallsBackToHttpForPlainLoopback) {
  TestServer server;
  server.start();
  Recorder quiet;
  Transport transport(quiet.options());
  EXPECT_EQ(transport.base_url(server.host()), "http://" + server.host());
  EXPECT_EQ(transport.base_url(server.host()), "http://" + server.host());
  EXPECT_EQ(transport.base_url("registry.example.com"), "https://registry.example.com");
  EXPECT_EQ(error_of([&] { transport.base_url("bad host"); }),
            "invalid URL \"https://bad host/v2/\": bad host \"bad host\"");
}

}  // namespace
}  // namespace polyarch::registry
