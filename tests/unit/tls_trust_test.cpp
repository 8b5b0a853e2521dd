// TLS trust beyond http_tls_test: a certificate that chains to a trusted CA
// but names another host is refused, and --insecure-registry relaxes
// verification for the named registry only, in the engine and through the
// binary.
#include <gtest/gtest.h>

#include <string>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/registry/http.hpp"
#include "tests/unit/hostile_util.hpp"
#include "tests/unit/http_server.hpp"

namespace polyarch::registry {
namespace {

using polyarch::testing::error_line;
using polyarch::testing::run_polyarch;
using polyarch::testing::TestServer;

// A self-signed certificate whose only name is `san` ("DNS:x" or "IP:a.b.c.d").
struct SelfSigned {
  core::TempDir dir{"tls-trust"};
  std::string cert = (dir.path() / "cert.pem").string();
  std::string key = (dir.path() / "key.pem").string();
  explicit SelfSigned(const std::string& san) {
    core::ProcessResult r = core::run_process(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=polyarch test", "-addext", "subjectAltName=" + san,
         "-keyout", key, "-out", cert});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
};

// A TLS registry that answers /v2/ and one manifest.
struct TlsRegistry {
  explicit TlsRegistry(const SelfSigned& certificate) : server(certificate.cert, certificate.key) {
    server->Get("/v2/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{}", "application/json");
    });
    server->Get("/v2/app/manifests/1", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(
          R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})",
          "application/vnd.oci.image.index.v1+json");
    });
    server.start();
  }
  TestServer server;
};

TransportOptions quick() {
  TransportOptions options;
  options.max_attempts = 1;
  options.sleep = [](std::chrono::milliseconds) {};
  return options;
}

std::string send_error(Transport& transport, const std::string& url) {
  HttpRequest request;
  request.url = Url::parse(url);
  try {
    transport.send(request);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    return e.what();
  }
  return "no error";
}

std::string verification_failed(const std::string& host) {
  return "cannot reach " + host +
         ": TLS certificate verification failed (use --ca-cert FILE, or --insecure-registry HOST "
         "if you trust it)";
}

TEST(TlsTrust, CertificateForAnotherNameIsRefusedEvenWithItsCa) {
  SelfSigned other("DNS:registry.other.example");
  TlsRegistry registry(other);
  TransportOptions options = quick();
  options.ca_file = other.cert;  // the chain is trusted; only the name is wrong
  Transport transport(options);
  std::string message = "cannot reach " + registry.server.host() +
                        ": the TLS certificate is not for 127.0.0.1 (reach the registry by a name "
                        "the certificate holds, or use --insecure-registry HOST if you trust it)";
  EXPECT_EQ(send_error(transport, registry.server.url("/v2/")), message);

  core::TempDir home("tls-trust-home");
  core::ProcessResult r = run_polyarch(
      {"manifest", "inspect", registry.server.host() + "/app:1", "--ca-cert", other.cert},
      home.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, error_line(message));
}

TEST(TlsTrust, CertificateForThisAddressIsAcceptedWithItsCa) {
  SelfSigned own("IP:127.0.0.1");
  TlsRegistry registry(own);
  TransportOptions options = quick();
  options.ca_file = own.cert;
  Transport transport(options);
  HttpRequest request;
  request.url = Url::parse(registry.server.url("/v2/"));
  EXPECT_EQ(transport.send(request).status, 200);
}

TEST(TlsTrust, InsecureRegistryIsOnlyTheNamedOne) {
  SelfSigned first_cert("IP:127.0.0.1");
  SelfSigned second_cert("IP:127.0.0.1");
  TlsRegistry named(first_cert);
  TlsRegistry other(second_cert);
  TransportOptions options = quick();
  options.insecure_hosts = {named.server.host()};
  Transport transport(options);
  HttpRequest request;
  request.url = Url::parse(named.server.url("/v2/"));
  EXPECT_EQ(transport.send(request).status, 200);
  EXPECT_EQ(send_error(transport, other.server.url("/v2/")),
            verification_failed(other.server.host()));

  core::TempDir home("tls-trust-home");
  core::ProcessResult ok = run_polyarch({"manifest", "inspect", named.server.host() + "/app:1",
                                         "--insecure-registry", named.server.host()},
                                        home.path());
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  core::ProcessResult refused = run_polyarch({"manifest", "inspect", other.server.host() + "/app:1",
                                              "--insecure-registry", named.server.host()},
                                             home.path());
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err, error_line(verification_failed(other.server.host())));
}

}  // namespace
}  // namespace polyarch::registry
