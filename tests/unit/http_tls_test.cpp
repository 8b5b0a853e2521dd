// The transport over TLS: verification against the system store, a given CA,
// and hosts named insecure (engine/registry/http.cpp).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/registry/http.hpp"
#include "tests/unit/http_test_util.hpp"
#include "tests/unit/http_server.hpp"

namespace polyarch::registry {
namespace {

using polyarch::testing::TestServer;
using std::chrono::milliseconds;

using test_util::error_of;
using test_util::get;
using test_util::Recorder;

// ---- TLS ---------------------------------------------------------------

// A self-signed certificate for `name` (also valid for 127.0.0.1).
struct Certificate {
  core::TempDir dir{"http-test"};
  std::string cert = (dir.path() / "cert.pem").string();
  std::string key = (dir.path() / "key.pem").string();
  explicit Certificate(const std::string& name) {
    core::ProcessResult r = core::run_process(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=" + name, "-addext",
         "subjectAltName=DNS:" + name + ",IP:127.0.0.1", "-keyout", key, "-out", cert});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
};

TEST(TransportTest, TlsToLoopbackIsVerifiedUnlessNamedInsecure) {
  Certificate certificate("localhost");
  TestServer server(certificate.cert, certificate.key);
  server->Get("/v2/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  server.start();
  Recorder quiet;
  Transport strict(quiet.options());
  EXPECT_EQ(strict.base_url(server.host()), "https://" + server.host());
  EXPECT_EQ(error_of([&] { strict.send(get(server.url("/v2/"))); }),
            "cannot reach " + server.host() +
                ": TLS certificate verification failed (use --ca-cert FILE, or "
                "--insecure-registry HOST if you trust it)");

  TransportOptions options = quiet.options();
  options.ca_file = certificate.cert;
  Transport with_ca(options);
  HttpResponse response = with_ca.send(get(server.url("/v2/")));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "{}");

  options.ca_file.clear();
  options.insecure_hosts = {server.host()};
  EXPECT_EQ(Transport(options).send(get(server.url("/v2/"))).status, 200);
}

// This machine's name when it resolves to an IPv4 address, else "".
std::pair<std::string, std::string> own_name_and_address() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || is_loopback(name)) return {};
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* list = nullptr;
  if (getaddrinfo(name, nullptr, &hints, &list) != 0) return {};
  char address[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(list->ai_addr)->sin_addr, address,
            sizeof address);
  freeaddrinfo(list);
  return {name, address};
}

TEST(TransportTest, TlsVerifiesOtherHostsAgainstTheGivenCa) {
  auto [name, address] = own_name_and_address();
  if (name.empty()) GTEST_SKIP() << "this machine's host name does not resolve";
  Certificate certificate(name);
  TestServer server(certificate.cert, certificate.key, address);
  server->Get("/v2/", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  server.start();
  std::string host = name + ":" + std::to_string(server.port());
  std::string url = "https://" + host + "/v2/";

  Recorder recorder;
  Transport strict(recorder.options());
  EXPECT_EQ(strict.base_url(host), "https://" + host);
  EXPECT_EQ(error_of([&] { strict.send(get(url)); }),
            "cannot reach " + host +
                ": TLS certificate verification failed (use --ca-cert FILE, or "
                "--insecure-registry HOST if you trust it)");
  EXPECT_TRUE(recorder.sleeps.empty());

  Recorder quiet;
  TransportOptions options = quiet.options();
  options.ca_file = certificate.cert;
  EXPECT_EQ(Transport(options).send(get(url)).status, 200);

  options.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(error_of([&] { Transport(options).send(get(url)); }),
            "cannot read CA certificates from \"/nonexistent/ca.pem\"");

  options.ca_file = "";
  options.insecure_hosts = {host};
  EXPECT_EQ(Transport(options).send(get(url)).status, 200);
}

}  // namespace
}  // namespace polyarch::registry
