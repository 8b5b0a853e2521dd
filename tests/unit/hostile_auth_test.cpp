// Hostile token servers and WWW-Authenticate challenges: each a clear
// failure naming the registry, never a secret, and exit status 1 from the
// binary. The registry and token server are an in-process fake, as a real
// one never answers this way.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/registry/auth.hpp"
#include "tests/unit/hostile_util.hpp"
#include "tests/unit/http_server.hpp"

namespace polyarch::registry {
namespace {

using polyarch::testing::error_line;
using polyarch::testing::run_polyarch;
using polyarch::testing::TestServer;

// A registry whose /v2/app/manifests/1 wants `challenge`, and a /token
// endpoint that answers `token_answer`. The registry accepts "Bearer good"
// unless `refusal` is set, which it then sends as the error of a new challenge.
class HostileAuthServer {
 public:
  HostileAuthServer() {
    m_server->Get("/token", [this](const httplib::Request&, httplib::Response& res) {
      ++token_requests;
      std::lock_guard lock(m_mutex);
      res.set_content(token_answer, "application/json");
    });
    m_server->Get("/v2/app/manifests/1",
                  [this](const httplib::Request& req, httplib::Response& res) {
                    std::lock_guard lock(m_mutex);
                    std::string authorization = req.get_header_value("Authorization");
                    if (authorization == "Bearer good" && refusal.empty()) {
                      res.set_content("{}", "application/json");
                      return;
                    }
                    res.status = 401;
                    std::string header = challenge;
                    if (authorization.starts_with("Bearer ") && !refusal.empty())
                      header += "," + refusal;
                    if (!header.empty()) res.set_header("WWW-Authenticate", header);
                  });
    m_server.start();
    challenge = "Bearer realm=\"" + realm() + "\",service=\"fake\"";
  }

  std::string host() const { return m_server.host(); }
  std::string realm() const { return m_server.url("/token"); }
  HttpRequest request() const {
    HttpRequest request;
    request.url = Url::parse(m_server.url("/v2/app/manifests/1"));
    return request;
  }

  std::string challenge;
  std::string token_answer = R"({"token":"good","expires_in":300})";
  std::string refusal;
  std::atomic<int> token_requests{0};

 private:
  TestServer m_server;
  std::mutex m_mutex;
};

class HostileAuth : public ::testing::Test {
 protected:
  static TransportOptions options() {
    TransportOptions options;
    options.max_attempts = 1;
    options.sleep = [](std::chrono::milliseconds) {};
    return options;
  }
  // The message of the failure a request for repository app gives.
  std::string error_of() {
    Authenticator auth(m_transport, m_credentials, m_server.host(), [this] { return m_now; });
    try {
      auth.send(m_server.request(), {"repository:app:pull"});
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::failure);
      return e.what();
    }
    return "no error";
  }
  // The binary's `manifest inspect` fails with message and status 1.
  void expect_cli(const std::string& message) {
    core::ProcessResult r =
        run_polyarch({"manifest", "inspect", m_server.host() + "/app:1"}, m_home.path());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, error_line(message));
    EXPECT_EQ(r.out, "");
  }
  std::string token_failed(const std::string& reason) const {
    return "token server for " + m_server.host() + " failed: " + reason;
  }
  std::string from_realm() const { return "\"" + m_server.realm() + "\""; }

  core::TempDir m_home{"hostile-auth"};
  HostileAuthServer m_server;
  CredentialStore m_credentials{{{"DOCKER_CONFIG", m_home.path().string()}}};
  Transport m_transport{options()};
  std::chrono::steady_clock::time_point m_now = std::chrono::steady_clock::now();
};

TEST_F(HostileAuth, TokenThatIsNotAString) {
  m_server.token_answer = R"({"token":12345,"access_token":["x"]})";
  EXPECT_EQ(error_of(), token_failed("no token in the answer from " + from_realm()));
}

TEST_F(HostileAuth, HugeTokenIsRefused) {
  m_server.token_answer = R"({"token":")" + std::string(100 << 10, 'a') + R"("})";
  EXPECT_EQ(error_of(), token_failed("the token from " + from_realm() + " is larger than 64 KiB"));
  expect_cli(token_failed("the token from " + from_realm() + " is larger than 64 KiB"));
}

TEST_F(HostileAuth, HugeAnswerIsRefused) {
  m_server.token_answer = R"({"token":"good","padding":")" + std::string(2 << 20, ' ') + R"("})";
  EXPECT_EQ(error_of(), token_failed("the answer from " + from_realm() + " is larger than 1 MiB"));
}

TEST_F(HostileAuth, TokenThatWouldInjectAHeader) {
  m_server.token_answer = R"({"token":"good\r\nX-Injected: 1"})";
  EXPECT_EQ(error_of(), token_failed("the token from " + from_realm() +
                                     " has characters not allowed in a header"));
}

TEST_F(HostileAuth, ExpiredTokenNamesTheRegistryAndTheClock) {
  m_server.token_answer = R"({"token":"good","expires_in":-3600})";
  m_server.refusal = R"(error="invalid_token",error_description="token expired")";
  std::string message = "registry " + m_server.host() +
                        " refused the token its token server issued (invalid_token \"token "
                        "expired\"); check this machine's clock";
  EXPECT_EQ(error_of(), message);
  EXPECT_EQ(m_server.token_requests, 1);
  expect_cli(message);
}

TEST_F(HostileAuth, AbsurdExpiryIsCutToADay) {
  m_server.token_answer = R"({"token":"good","expires_in":1e300})";
  Authenticator auth(m_transport, m_credentials, m_server.host(), [this] { return m_now; });
  EXPECT_EQ(auth.send(m_server.request(), {"repository:app:pull"}).status, 200);
  m_now += std::chrono::hours(23);
  EXPECT_EQ(auth.send(m_server.request(), {"repository:app:pull"}).status, 200);
  EXPECT_EQ(m_server.token_requests, 1);
  m_now += std::chrono::hours(2);
  EXPECT_EQ(auth.send(m_server.request(), {"repository:app:pull"}).status, 200);
  EXPECT_EQ(m_server.token_requests, 2);
}

TEST_F(HostileAuth, ExpiryOfTheWrongTypeMeansAMinute) {
  m_server.token_answer = R"({"token":"good","expires_in":"3600"})";
  Authenticator auth(m_transport, m_credentials, m_server.host(), [this] { return m_now; });
  EXPECT_EQ(auth.send(m_server.request(), {"repository:app:pull"}).status, 200);
  m_now += std::chrono::seconds(50);
  EXPECT_EQ(auth.send(m_server.request(), {"repository:app:pull"}).status, 200);
  EXPECT_EQ(m_server.token_requests, 1);
  m_now += std::chrono::seconds(20);
  EXPECT_EQ(auth.send(m_server.request(), {"repository:app:pull"}).status, 200);
  EXPECT_EQ(m_server.token_requests, 2);
}

TEST_F(HostileAuth, MalformedChallengeNamesTheRegistry) {
  const std::pair<std::string, std::string> cases[] = {
      {"Bearer realm=\"" + m_server.realm(), "unterminated quoted string"},
      {"Bearer realm=,service=x", "missing value for \"realm\""},
      {"=x", "missing auth scheme"},
      {"Bearer realm=\"x\" service=\"y\"",
       "expected \",\" after a parameter of \"bearer\" challenge"},
  };
  for (const auto& [header, reason] : cases) {
    SCOPED_TRACE(header);
    m_server.challenge = header;
    EXPECT_EQ(error_of(), "registry " + m_server.host() +
                              " sent an invalid WWW-Authenticate header: " + reason);
  }
  m_server.challenge = cases[0].first;
  expect_cli("registry " + m_server.host() +
             " sent an invalid WWW-Authenticate header: unterminated quoted string");
}

// Found by fuzz_www_authenticate: the raw newline was quoted into the message.
TEST(HostileChallenge, ControlCharactersAreEscapedInMessages) {
  try {
    parse_www_authenticate(std::string("Fe\n\0\0\0,,~g", 10));
    ADD_FAILURE() << "parsed";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 R"(invalid WWW-Authenticate header: unexpected "\x0a" in "fe" challenge)");
  }
}

TEST_F(HostileAuth, UnknownSchemeIsUnsupported) {
  m_server.challenge = "Negotiate YIIGhgYJKoZIhvcSAQICAQBuggY1MIIG";
  std::string message =
      "registry " + m_server.host() + " asks for unsupported authentication \"negotiate\"";
  EXPECT_EQ(error_of(), message);
  expect_cli(message);
}

TEST_F(HostileAuth, UnauthorizedWithoutAChallenge) {
  m_server.challenge = "";
  EXPECT_EQ(error_of(),
            "registry " + m_server.host() + " answered 401 without a WWW-Authenticate challenge");
}

TEST_F(HostileAuth, RealmThatIsNoHttpUrl) {
  m_server.challenge = R"(Bearer realm="file:///etc/passwd",service="fake")";
  EXPECT_EQ(error_of(), token_failed("invalid realm \"file:///etc/passwd\""));
  m_server.challenge = R"(Bearer realm="",service="fake")";
  EXPECT_EQ(error_of(), token_failed("the Bearer challenge names no realm"));
}

}  // namespace
}  // namespace polyarch::registry
