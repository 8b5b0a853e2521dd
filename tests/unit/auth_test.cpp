// Registry authentication: challenge parsing, and the token and Basic flows
// against an in-process registry + token server.
#include <httplib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "engine/core/base64.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/registry/auth.hpp"

namespace polyarch::registry {
namespace {

using namespace std::chrono_literals;

std::string parse_error(std::string_view header) {
  try {
    parse_www_authenticate(header);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::failure);
    return e.what();
  }
  return "no error";
}

TEST(WwwAuthenticate, ParsesDockerHubBearer) {
  auto challenges = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].params.at("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(challenges[0].params.at("service"), "registry.docker.io");
  EXPECT_EQ(challenges[0].params.at("scope"), "repository:library/alpine:pull");
  EXPECT_EQ(challenges[0].params.size(), 3u);
}

TEST(WwwAuthenticate, ParsesBasicWithSpacesInRealm) {
  auto challenges = parse_www_authenticate(R"(Basic realm="Registry Realm")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[0].params.at("realm"), "Registry Realm");
}

TEST(WwwAuthenticate, ParsesSeveralChallengesInOneHeader) {
  auto challenges = parse_www_authenticate(
      R"(Bearer realm="https://a/token",service="s", Basic realm="b", Negotiate)");
  ASSERT_EQ(challenges.size(), 3u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].params.at("service"), "s");
  EXPECT_EQ(challenges[1].scheme, "basic");
  EXPECT_EQ(challenges[1].params.at("realm"), "b");
  EXPECT_EQ(challenges[2].scheme, "negotiate");
  EXPECT_TRUE(challenges[2].params.empty());
}

TEST(WwwAuthenticate, UnescapesQuotedPairs) {
  auto challenges = parse_www_authenticate(R"(Basic realm="say \"hi\" \\ now, ok")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params.at("realm"), R"(say "hi" \ now, ok)");
}

TEST(WwwAuthenticate, ReadsToken68) {
  auto challenges = parse_www_authenticate("Negotiate YWJjZA==, Basic realm=\"x\"");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].scheme, "negotiate");
  EXPECT_EQ(challenges[0].params.at("token68"), "YWJjZA==");
  EXPECT_EQ(challenges[1].params.at("realm"), "x");
  EXPECT_EQ(parse_www_authenticate("Custom a/b+c")[0].params.at("token68"), "a/b+c");
}

TEST(WwwAuthenticate, SchemeAndParamNamesAreCaseInsensitive) {
  auto challenges = parse_www_authenticate(R"(BEARER Realm="https://r/token",SERVICE="s")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].params.at("realm"), "https://r/token");
  EXPECT_EQ(challenges[0].params.at("service"), "s");
}

TEST(WwwAuthenticate, ReadsInsufficientScopeError) {
  auto challenges = parse_www_authenticate(
      R"(Bearer realm="https://r/token",service="s",scope="repository:a:pull,push",error="insufficient_scope")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params.at("error"), "insufficient_scope");
  EXPECT_EQ(challenges[0].params.at("scope"), "repository:a:pull,push");
}

TEST(WwwAuthenticate, AcceptsTokenValuesAndOptionalWhitespace) {
  auto challenges = parse_www_authenticate("Bearer realm = x ,  service=y,,error=invalid_token");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params.at("realm"), "x");
  EXPECT_EQ(challenges[0].params.at("service"), "y");
  EXPECT_EQ(challenges[0].params.at("error"), "invalid_token");
}

TEST(WwwAuthenticate, SchemeAloneHasNoParams) {
  auto challenges = parse_www_authenticate("Basic");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_TRUE(challenges[0].params.empty());
}

TEST(WwwAuthenticate, RejectsUnterminatedQuote) {
  EXPECT_EQ(parse_error(R"(Bearer realm="https://auth.docker.io/token)"),
            "invalid WWW-Authenticate header: unterminated quoted string");
  EXPECT_EQ(parse_error(R"(Basic realm="x\)"),
            "invalid WWW-Authenticate header: unterminated quoted string");
}

TEST(WwwAuthenticate, RejectsMissingScheme) {
  EXPECT_EQ(parse_error(R"(realm="x")"), "invalid WWW-Authenticate header: missing auth scheme");
  EXPECT_EQ(parse_error(R"(="x")"), "invalid WWW-Authenticate header: missing auth scheme");
}

TEST(WwwAuthenticate, RejectsParamWithoutValue) {
  EXPECT_EQ(parse_error("Bearer realm="), "invalid WWW-Authenticate header: missing value for \"realm\"");
  EXPECT_EQ(parse_error("Bearer realm=,service=\"s\""),
            "invalid WWW-Authenticate header: missing value for \"realm\"");
}

TEST(WwwAuthenticate, RejectsEmptyAndMissingSeparators) {
  EXPECT_EQ(parse_error("  "), "invalid WWW-Authenticate header: no challenge");
  EXPECT_EQ(parse_error(R"(Bearer realm="a" service="b")"),
            "invalid WWW-Authenticate header: expected \",\" after a parameter of \"bearer\" challenge");
  EXPECT_EQ(parse_error(R"(Bearer realm "a")"),
            "invalid WWW-Authenticate header: expected \"=\" after \"realm\"");
}

TEST(RepositoryScope, NamesPullOrPullPush) {
  EXPECT_EQ(repository_scope("library/alpine", false), "repository:library/alpine:pull");
  EXPECT_EQ(repository_scope("me/app", true), "repository:me/app:pull,push");
}

// A registry and its token server on one loopback port. Tokens grant the
// scopes asked for (push only when grant_push), none while stale_tokens > 0.
class FakeRegistry {
 public:
  enum class Mode { bearer, basic };

  explicit FakeRegistry(Mode mode) : m_mode(mode) {
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_server.Get("/token", [this](const auto& req, auto& res) { token(req, res); });
    m_server.Get(R"(/v2/.*)", [this](const auto& req, auto& res) { registry(req, res); });
    m_server.Put(R"(/v2/.*)", [this](const auto& req, auto& res) { registry(req, res); });
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }
  ~FakeRegistry() {
    m_server.stop();
    m_thread.join();
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }
  std::string realm() const { return "http://" + host() + "/token"; }
  HttpRequest request(const std::string& method, const std::string& path) const {
    HttpRequest request;
    request.method = method;
    request.url = Url::parse("http://" + host() + path);
    return request;
  }
  std::string basic() const { return "Basic " + core::base64_encode(user + ":" + password); }

  // Knobs.
  std::string user = "alice";
  std::string password = "s3cret-pass";
  bool anonymous_tokens = true;
  bool grant_push = true;
  int stale_tokens = 0;
  int expires_in = 300;
  int token_status = 200;
  std::string token_body;       // replaces the JSON answer when set
  std::string realm_override;   // a realm other than ours
  // What happened.
  std::atomic<int> token_requests{0};
  std::atomic<int> registry_requests{0};
  std::mutex mutex;
  std::vector<std::string> token_targets;
  std::vector<std::string> token_authorizations;
  std::vector<std::string> bodies;  // of requests the registry accepted

 private:
  void token(const httplib::Request& req, httplib::Response& res) {
    ++token_requests;
    std::lock_guard lock(mutex);
    std::string authorization = req.get_header_value("Authorization");
    token_targets.push_back(req.target);
    token_authorizations.push_back(authorization);
    if ((authorization.empty() && !anonymous_tokens) ||
        (!authorization.empty() && authorization != basic())) {
      res.status = 401;
      return;
    }
    res.status = token_status;
    if (token_status != 200 || !token_body.empty()) {
      res.set_content(token_body, "application/json");
      return;
    }
    std::set<std::string> granted;
    for (size_t i = 0; i < req.get_param_value_count("scope"); ++i) {
      std::string scope = req.get_param_value("scope", i);
      size_t colon = scope.rfind(':');
      for (const auto& action : {std::string("pull"), std::string("push")}) {
        bool asked = scope.substr(colon + 1).find(action) != std::string::npos;
        bool allowed = action == "pull" || (grant_push && !authorization.empty());
        if (asked && allowed) granted.insert(scope.substr(0, colon + 1) + action);
      }
    }
    if (stale_tokens > 0) {
      --stale_tokens;
      granted.clear();
    }
    std::string value = "tok-" + std::to_string(m_tokens.size());
    m_tokens[value] = granted;
    res.set_content(R"({"token":")" + value + R"(","expires_in":)" + std::to_string(expires_in) + "}",
                    "application/json");
  }

  void registry(const httplib::Request& req, httplib::Response& res) {
    ++registry_requests;
    std::lock_guard lock(mutex);
    std::string authorization = req.get_header_value("Authorization");
    if (m_mode == Mode::basic) {
      if (authorization == basic()) return accept(req, res);
      res.status = 401;
      res.set_header("WWW-Authenticate", R"(Basic realm="Registry Realm")");
      return;
    }
    // "/v2/NAME/manifests/x" needs repository:NAME:pull (GET) or :push (PUT).
    std::string name;
    for (const char* kind : {"/manifests/", "/blobs/", "/tags/"}) {
      size_t at = req.path.find(kind);
      if (at != std::string::npos) name = req.path.substr(4, at - 4);
    }
    std::string action = req.method == "PUT" ? "push" : "pull";
    std::string needed = name.empty() ? "" : "repository:" + name + ":" + action;
    std::string challenge = "Bearer realm=\"" + (realm_override.empty() ? realm() : realm_override) +
                            "\",service=\"test-registry\"";
    if (!name.empty()) {
      challenge += ",scope=\"repository:" + name + (action == "push" ? ":pull,push\"" : ":pull\"");
    }
    auto token = authorization.starts_with("Bearer ") ? m_tokens.find(authorization.substr(7))
                                                      : m_tokens.end();
    if (token == m_tokens.end()) {
      res.status = 401;
      res.set_header("WWW-Authenticate", challenge);
    } else if (!needed.empty() && token->second.count(needed) == 0) {
      res.status = 401;
      res.set_header("WWW-Authenticate", challenge + ",error=\"insufficient_scope\"");
    } else if (name == "forbidden") {
      res.status = 403;
    } else {
      accept(req, res);
    }
  }

  void accept(const httplib::Request& req, httplib::Response& res) {
    bodies.push_back(req.body);
    res.status = 200;
    res.set_content("ok", "text/plain");
  }

  Mode m_mode;
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  std::map<std::string, std::set<std::string>> m_tokens;
};

class AuthFlow : public ::testing::Test {
 protected:
  AuthFlow() : m_store({{"DOCKER_CONFIG", m_dir.path().string()}}), m_transport(options()) {}

  // Starts the fake registry; it outlives the transport's keep-alive connections.
  FakeRegistry& start(FakeRegistry::Mode mode) { return m_registry.emplace(mode); }

  static TransportOptions options() {
    TransportOptions options;
    options.max_attempts = 1;
    options.sleep = [](std::chrono::milliseconds) {};
    return options;
  }
  void log_in(const std::string& user, const std::string& password) {
    m_store.set_explicit({user, password, ""});
  }
  Authenticator authenticator(const FakeRegistry& registry) {
    return Authenticator(m_transport, m_store, registry.host(), [this] { return m_now; });
  }
  // The message send throws (and checks it holds no secret).
  std::string send_error(Authenticator& auth, const HttpRequest& request,
                         const std::set<std::string>& scopes) {
    try {
      auth.send(request, scopes);
    } catch (const Error& e) {
      std::string message = e.what();
      for (const char* secret : {"s3cret-pass", "wrong-pass-123", "tok-", "Basic ", "Bearer "}) {
        EXPECT_EQ(message.find(secret), std::string::npos) << message;
      }
      return message;
    }
    return "no error";
  }

  std::chrono::steady_clock::time_point m_now = std::chrono::steady_clock::now();
  core::TempDir m_dir;
  CredentialStore m_store;
  std::optional<FakeRegistry> m_registry;
  Transport m_transport;
};

const std::string k_alpine = "repository:library/alpine:pull";

TEST_F(AuthFlow, FetchesATokenWithServiceAndEachScope) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  log_in("alice", "s3cret-pass");
  Authenticator auth = authenticator(registry);
  HttpResponse response = auth.send(registry.request("GET", "/v2/library/alpine/manifests/3"),
                                    {k_alpine, "repository:other/src:pull"});
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(registry.token_targets.size(), 1u);
  EXPECT_EQ(registry.token_targets[0],
            "/token?service=test-registry&scope=repository%3Alibrary%2Falpine%3Apull"
            "&scope=repository%3Aother%2Fsrc%3Apull");
  EXPECT_EQ(registry.token_authorizations[0], registry.basic());
  EXPECT_EQ(registry.registry_requests, 2);
}

TEST_F(AuthFlow, AnonymousTokenWorksWithoutCredentials) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  Authenticator auth = authenticator(registry);
  EXPECT_EQ(auth.send(registry.request("GET", "/v2/library/alpine/manifests/3"), {k_alpine}).status,
            200);
  ASSERT_EQ(registry.token_authorizations.size(), 1u);
  EXPECT_EQ(registry.token_authorizations[0], "");
}

TEST_F(AuthFlow, ReusesTheCachedTokenForTheSameScopes) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  log_in("alice", "s3cret-pass");
  Authenticator auth = authenticator(registry);
  auto request = registry.request("GET", "/v2/library/alpine/manifests/3");
  auth.send(request, {k_alpine});
  EXPECT_EQ(auth.send(request, {k_alpine}).status, 200);
  EXPECT_EQ(registry.token_requests, 1);
  EXPECT_EQ(registry.registry_requests, 3);  // 401, 200, then 200 straight away
  auth.send(registry.request("GET", "/v2/app/manifests/1"), {"repository:app:pull"});
  EXPECT_EQ(registry.token_requests, 2);
}

TEST_F(AuthFlow, RefetchesTheTokenWhenItExpires) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  Authenticator auth = authenticator(registry);
  auto request = registry.request("GET", "/v2/library/alpine/manifests/3");
  auth.send(request, {k_alpine});
  m_now += 290s;
  auth.send(request, {k_alpine});
  EXPECT_EQ(registry.token_requests, 1);
  m_now += 6s;
  auth.send(request, {k_alpine});
  EXPECT_EQ(registry.token_requests, 2);
  // A shorter expires_in counts as 60 s, as Docker does.
  registry.expires_in = 10;
  m_now += 300s;
  auth.send(request, {k_alpine});
  m_now += 50s;
  auth.send(request, {k_alpine});
  EXPECT_EQ(registry.token_requests, 3);
  m_now += 10s;
  EXPECT_EQ(auth.send(request, {k_alpine}).status, 200);
  EXPECT_EQ(registry.token_requests, 4);
}

TEST_F(AuthFlow, RefetchesOnceOnInsufficientScope) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  log_in("alice", "s3cret-pass");
  registry.stale_tokens = 1;
  Authenticator auth = authenticator(registry);
  EXPECT_EQ(auth.send(registry.request("GET", "/v2/library/alpine/manifests/3"), {k_alpine}).status,
            200);
  EXPECT_EQ(registry.token_requests, 2);
}

TEST_F(AuthFlow, StillInsufficientScopeIsAccessDenied) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  log_in("alice", "s3cret-pass");
  registry.grant_push = false;
  Authenticator auth = authenticator(registry);
  EXPECT_EQ(send_error(auth, registry.request("PUT", "/v2/app/manifests/1"),
                       {"repository:app:pull,push"}),
            "access denied by " + registry.host() +
                " for \"repository:app:pull,push\": the credentials lack that permission");
  EXPECT_EQ(registry.token_requests, 2);
}

TEST_F(AuthFlow, ForbiddenWithAValidTokenIsAccessDenied) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  log_in("alice", "s3cret-pass");
  Authenticator auth = authenticator(registry);
  EXPECT_EQ(send_error(auth, registry.request("GET", "/v2/forbidden/manifests/1"),
                       {"repository:forbidden:pull"}),
            "access denied by " + registry.host() +
                " for \"repository:forbidden:pull\": the credentials lack that permission");
}

TEST_F(AuthFlow, WrongPasswordSaysSoAndWhatToRun) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  log_in("alice", "wrong-pass-123");
  Authenticator auth = authenticator(registry);
  EXPECT_EQ(send_error(auth, registry.request("GET", "/v2/"), {}),
            "authentication to " + registry.host() +
                " failed: wrong username or password (run 'polyarch login " + registry.host() +
                "')");
}

TEST_F(AuthFlow, MissingCredentialsSaySoAndWhatToRun) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  registry.anonymous_tokens = false;
  Authenticator auth = authenticator(registry);
  EXPECT_EQ(send_error(auth, registry.request("GET", "/v2/library/alpine/manifests/3"), {k_alpine}),
            "authentication to " + registry.host() +
                " required: no credentials found (run 'polyarch login " + registry.host() + "')");
}

TEST_F(AuthFlow, TokenServerFailuresNameTheRegistry) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  auto request = registry.request("GET", "/v2/library/alpine/manifests/3");
  std::string prefix = "token server for " + registry.host() + " failed: ";
  registry.token_status = 500;
  Authenticator first = authenticator(registry);
  EXPECT_EQ(send_error(first, request, {k_alpine}),
            prefix + "\"" + registry.realm() + "\" answered HTTP 500");
  registry.token_status = 200;
  registry.token_body = "<html>";
  Authenticator second = authenticator(registry);
  EXPECT_EQ(send_error(second, request, {k_alpine}),
            prefix + "invalid JSON from \"" + registry.realm() + "\"");
  registry.token_body = R"({"expires_in":60})";
  Authenticator third = authenticator(registry);
  EXPECT_EQ(send_error(third, request, {k_alpine}),
            prefix + "no token in the answer from \"" + registry.realm() + "\"");
  registry.token_body = "";
  registry.realm_override = "http://127.0.0.1:1/token";
  Authenticator fourth = authenticator(registry);
  EXPECT_TRUE(send_error(fourth, request, {k_alpine}).starts_with(prefix));
}

TEST_F(AuthFlow, ReplaysTheRequestBodyAfterTheChallenge) {
  FakeRegistry& registry = start(FakeRegistry::Mode::bearer);
  log_in("alice", "s3cret-pass");
  Authenticator auth = authenticator(registry);
  HttpRequest request = registry.request("PUT", "/v2/app/manifests/1");
  request.body = "manifest bytes";
  EXPECT_EQ(auth.send(request, {"repository:app:pull,push"}).status, 200);
  ASSERT_EQ(registry.bodies.size(), 1u);
  EXPECT_EQ(registry.bodies[0], "manifest bytes");
}

TEST_F(AuthFlow, BasicRegistryGetsBasicFromTheSecondRequestOn) {
  FakeRegistry& registry = start(FakeRegistry::Mode::basic);
  log_in("alice", "s3cret-pass");
  Authenticator auth = authenticator(registry);
  auto request = registry.request("GET", "/v2/");
  EXPECT_EQ(auth.send(request, {}).status, 200);
  EXPECT_EQ(auth.send(request, {}).status, 200);
  EXPECT_EQ(registry.registry_requests, 3);  // 401, 200, 200
  EXPECT_EQ(registry.token_requests, 0);
}

TEST_F(AuthFlow, BasicRegistryWithWrongOrNoPassword) {
  FakeRegistry& registry = start(FakeRegistry::Mode::basic);
  Authenticator anonymous = authenticator(registry);
  EXPECT_EQ(send_error(anonymous, registry.request("GET", "/v2/"), {}),
            "authentication to " + registry.host() +
                " required: no credentials found (run 'polyarch login " + registry.host() + "')");
  log_in("alice", "wrong-pass-123");
  Authenticator wrong = authenticator(registry);
  EXPECT_EQ(send_error(wrong, registry.request("GET", "/v2/"), {}),
            "authentication to " + registry.host() +
                " failed: wrong username or password (run 'polyarch login " + registry.host() +
                "')");
}

}  // namespace
}  // namespace polyarch::registry
