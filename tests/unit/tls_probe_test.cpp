// Telling TLS hosts from plain-HTTP ones with a ClientHello
// (engine/registry/tls_probe.cpp), against real servers on loopback.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "engine/core/fs.hpp"
#include "engine/core/process.hpp"
#include "engine/registry/tls_probe.hpp"
#include "tests/unit/http_server.hpp"

namespace polyarch::registry {
namespace {

using polyarch::testing::TestServer;
using std::chrono::seconds;

size_t field(const std::string& bytes, size_t at, size_t width) {
  size_t value = 0;
  for (size_t i = 0; i < width; ++i) value = value << 8 | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

// A socket listening on 127.0.0.1 and its port.
int listen_on_loopback(int& port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  EXPECT_EQ(listen(fd, 4), 0);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  return fd;
}

// A listening socket on 127.0.0.1 that answers each connection with `reply`
// (after reading what the client sends) and closes it.
class RawServer {
 public:
  explicit RawServer(std::string reply) : m_reply(std::move(reply)) {
    m_fd = listen_on_loopback(m_port);
    m_thread = std::thread([this] {
      int client = accept(m_fd, nullptr, nullptr);
      if (client < 0) return;
      char buffer[512];
      (void)recv(client, buffer, sizeof buffer, 0);
      if (!m_reply.empty()) (void)send(client, m_reply.data(), m_reply.size(), MSG_NOSIGNAL);
      close(client);
    });
  }
  ~RawServer() {
    shutdown(m_fd, SHUT_RDWR);
    close(m_fd);
    m_thread.join();
  }
  int port() const { return m_port; }

 private:
  std::string m_reply;
  int m_fd = -1;
  int m_port = 0;
  std::thread m_thread;
};

TEST(TlsProbeTest, HelloIsOneWellFramedRecordWithTheServerName) {
  std::string random(32, 'r');
  std::string hello = client_hello("registry.example", random);
  ASSERT_GT(hello.size(), 45u);
  EXPECT_EQ(hello.substr(0, 3), std::string("\x16\x03\x01", 3));  // handshake record
  EXPECT_EQ(field(hello, 3, 2), hello.size() - 5);
  EXPECT_EQ(hello[5], '\x01');  // client_hello
  EXPECT_EQ(field(hello, 6, 3), hello.size() - 9);
  EXPECT_EQ(hello.substr(9, 2), std::string("\x03\x03", 2));
  EXPECT_EQ(hello.substr(11, 32), random);
  EXPECT_NE(hello.find("registry.example"), std::string::npos);
  // Without a name: no server_name extension (4 + 2 + 1 + 2 bytes of framing).
  EXPECT_EQ(hello.size() - client_hello("", random).size(), 9 + std::string("registry.example").size());
}

TEST(TlsProbeTest, TlsServerIsTls) {
  core::TempDir dir("tls-probe");
  std::string cert = (dir.path() / "cert.pem").string(), key = (dir.path() / "key.pem").string();
  core::ProcessResult made = core::run_process(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", key, "-out", cert});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  TestServer server(cert, key);
  server.start();
  EXPECT_EQ(probe_tls("127.0.0.1", server.port(), seconds(2)), ProbeResult::tls);
  EXPECT_EQ(probe_tls("localhost", server.port(), seconds(2)), ProbeResult::tls);
}

TEST(TlsProbeTest, PlainHttpServerIsPlain) {
  TestServer server;
  server.start();
  EXPECT_EQ(probe_tls("127.0.0.1", server.port(), seconds(2)), ProbeResult::plain);
}

TEST(TlsProbeTest, AnAlertIsTlsAndAClosedConnectionIsPlain) {
  RawServer alerting(std::string("\x15\x03\x03\x00\x02\x02\x46", 7));  // protocol_version
  EXPECT_EQ(probe_tls("127.0.0.1", alerting.port(), seconds(2)), ProbeResult::tls);
  RawServer closing("");
  EXPECT_EQ(probe_tls("127.0.0.1", closing.port(), seconds(2)), ProbeResult::plain);
}

TEST(TlsProbeTest, NoListenerOrNoReplyIsUnreachable) {
  int port;
  {
    RawServer gone("");
    port = gone.port();
  }
  EXPECT_EQ(probe_tls("127.0.0.1", port, seconds(2)), ProbeResult::unreachable);
  EXPECT_EQ(probe_tls("no-such-host.invalid", 443, seconds(2)), ProbeResult::unreachable);

  // Accepted by the kernel, never answered: the deadline ends the probe.
  int silent_port = 0;
  int silent = listen_on_loopback(silent_port);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(probe_tls("127.0.0.1", silent_port, seconds(1)), ProbeResult::unreachable);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  close(silent);
}

}  // namespace
}  // namespace polyarch::registry
