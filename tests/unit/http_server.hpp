#pragma once
// A tiny in-process HTTP(S) server for unit tests: binds a free port on
// 127.0.0.1 (or a given address), serves from a thread, stops on destruction.
//
//   polyarch::testing::TestServer server;
//   server->Get("/v2/", [](const httplib::Request&, httplib::Response& res) { ... });
//   server.start();
//   transport.send({.url = Url::parse(server.url("/v2/"))});

// cpp-httplib's options (CPPHTTPLIB_*) come from the build (the engine
// target), the same for every file that includes it.
#include <httplib.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace polyarch::testing {

class TestServer {
 public:
  // A plain HTTP server on address.
  explicit TestServer(std::string address = "127.0.0.1")
      : m_server(std::make_unique<httplib::Server>()), m_address(std::move(address)) {}
  // An HTTPS server with a PEM certificate and key.
  TestServer(const std::string& cert_file, const std::string& key_file,
             std::string address = "127.0.0.1")
      : m_server(std::make_unique<httplib::SSLServer>(cert_file.c_str(), key_file.c_str())),
        m_address(std::move(address)),
        m_scheme("https") {}
  ~TestServer() { stop(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // The server, to register handlers on before start().
  httplib::Server* operator->() { return m_server.get(); }

  // Binds a free port and serves in a thread; throws when it cannot bind.
  void start() {
    if (!m_server->is_valid()) throw std::runtime_error("test server: invalid certificate");
    m_server->set_keep_alive_timeout(1);
    m_port = m_server->bind_to_any_port(m_address);
    if (m_port <= 0) throw std::runtime_error("test server: cannot bind " + m_address);
    m_thread = std::thread([this] { m_server->listen_after_bind(); });
    for (int i = 0; i < 2000 && !m_server->is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  // Stops serving; the port is closed afterwards.
  void stop() {
    if (m_thread.joinable()) {
      m_server->stop();
      m_thread.join();
    }
  }

  int port() const { return m_port; }
  // "127.0.0.1:PORT"
  std::string host() const { return m_address + ":" + std::to_string(m_port); }
  // "http://127.0.0.1:PORT/path" (https for a TLS server).
  std::string url(const std::string& path) const { return m_scheme + "://" + host() + path; }

 private:
  std::unique_ptr<httplib::Server> m_server;
  std::string m_address;
  std::string m_scheme = "http";
  int m_port = 0;
  std::thread m_thread;
};

}  // namespace polyarch::testing
