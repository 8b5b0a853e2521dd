// Registry credentials: config.json keys, lookup order, credential helpers,
// and what login/logout write.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/core/base64.hpp"
#include "engine/core/error.hpp"
#include "engine/core/fs.hpp"
#include "engine/registry/credentials.hpp"

namespace polyarch::registry {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

TEST(Base64, EncodesAndDecodesBothAlphabets) {
  EXPECT_EQ(core::base64_encode("alice:s3cret"), "YWxpY2U6czNjcmV0");
  EXPECT_EQ(core::base64_encode("ab"), "YWI=");
  EXPECT_EQ(core::base64_encode("a"), "YQ==");
  EXPECT_EQ(core::base64_decode("YWI="), "ab");
  EXPECT_EQ(core::base64_decode("YWI"), "ab");
  EXPECT_EQ(core::base64_decode("YQ=="), "a");
  EXPECT_EQ(core::base64_decode("Y"), std::nullopt);
  EXPECT_EQ(core::base64_decode("YW-_"), std::nullopt);
  EXPECT_EQ(core::base64url_decode("-_8"), "\xfb\xff");
}

TEST(ConfigKey, DockerHubNamesShareTheIndexKey) {
  EXPECT_EQ(config_key("docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(config_key("index.docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(config_key("registry-1.docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(config_key("ghcr.io"), "ghcr.io");
  EXPECT_EQ(config_key("localhost:5000"), "localhost:5000");
  EXPECT_EQ(api_host("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(api_host("ghcr.io"), "ghcr.io");
}

TEST(ConfigPath, DockerConfigWinsOverHome) {
  EXPECT_EQ(config_path({{"DOCKER_CONFIG", "/etc/dc"}, {"HOME", "/home/u"}}),
            fs::path("/etc/dc/config.json"));
  EXPECT_EQ(config_path({{"HOME", "/home/u"}}), fs::path("/home/u/.docker/config.json"));
}

// A DOCKER_CONFIG directory, and fake credential helpers on PATH.
class Credentials : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* path = std::getenv("PATH");
    m_old_path = path == nullptr ? "" : path;
    fs::create_directories(bin());
    fs::create_directories(dir() / "store");
    helper("fake", R"(input=$(cat)
key=$(printf %s "$input" | tr '/:' '__')
case "$1" in
  get) [ -f "$STORE/$key" ] && exec cat "$STORE/$key"
       echo "credentials not found in native keychain"; exit 1 ;;
  store) printf %s "$input" > "$STORE/last-store"; echo stored ;;
  erase) echo "$key" >> "$STORE/erased"
         [ -f "$STORE/$key" ] && rm "$STORE/$key" && exit 0
         echo "credentials not found in native keychain"; exit 1 ;;
esac)");
    helper("broken", "echo 'error: the keychain is locked' >&2\necho 'more detail' >&2\nexit 3");
    ::setenv("PATH", (bin().string() + ":" + m_old_path).c_str(), 1);
  }
  void TearDown() override { ::setenv("PATH", m_old_path.c_str(), 1); }

  fs::path dir() const { return m_temp.path(); }
  fs::path bin() const { return dir() / "bin"; }
  fs::path config() const { return dir() / "config.json"; }
  core::Env env() const { return {{"DOCKER_CONFIG", dir().string()}, {"HOME", "/nonexistent"}}; }
  void helper(const std::string& name, const std::string& body) {
    fs::path file = bin() / ("docker-credential-" + name);
    std::ofstream(file) << "#!/bin/sh\nSTORE='" << (dir() / "store").string() << "'\n" << body << "\n";
    fs::permissions(file, fs::perms::owner_all);
  }
  // What the fake helper holds for a server key.
  void helper_holds(const std::string& key, const std::string& json) {
    std::string name = key;
    for (char& c : name) c = c == '/' || c == ':' ? '_' : c;
    std::ofstream(dir() / "store" / name) << json;
  }
  void write_config(const Json& json) { std::ofstream(config()) << json.dump(); }
  Json read_config() { return Json::parse(core::read_file(config())); }
  std::optional<Credential> find(const std::string& registry, core::Env environment = {}) {
    if (environment.empty()) environment = env();
    return CredentialStore(environment).find(registry);
  }
  std::string find_error(const std::string& registry, core::Env environment = {}) {
    try {
      find(registry, environment);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::failure);
      return e.what();
    }
    return "no error";
  }
  static Json auth(const std::string& user, const std::string& password) {
    return {{"auth", core::base64_encode(user + ":" + password)}};
  }

 private:
  core::TempDir m_temp;
  std::string m_old_path;
};

TEST_F(Credentials, NoConfigMeansAnonymous) { EXPECT_EQ(find("ghcr.io"), std::nullopt); }

TEST_F(Credentials, ReadsAuthUsernamePasswordAndIdentityToken) {
  write_config({{"auths",
                 {{"ghcr.io", auth("bob", "pa:ss")},
                  {"quay.io", {{"username", "carol"}, {"password", "pw2"}}},
                  {"https://index.docker.io/v1/", {{"identitytoken", "refresh-tok"}}}}}});
  auto ghcr = find("ghcr.io");
  ASSERT_TRUE(ghcr);
  EXPECT_EQ(ghcr->username, "bob");
  EXPECT_EQ(ghcr->password, "pa:ss");
  auto quay = find("quay.io");
  ASSERT_TRUE(quay);
  EXPECT_EQ(quay->username, "carol");
  EXPECT_EQ(quay->password, "pw2");
  auto hub = find("docker.io");
  ASSERT_TRUE(hub);
  EXPECT_EQ(hub->identity_token, "refresh-tok");
  EXPECT_EQ(find("registry-1.docker.io")->identity_token, "refresh-tok");
  EXPECT_EQ(find("gcr.io"), std::nullopt);
}

TEST_F(Credentials, FindsKeysWrittenWithSchemeOrPath) {
  for (const char* key : {"https://reg.example.com", "http://reg.example.com",
                          "reg.example.com/v1/", "reg.example.com/v2/"}) {
    write_config({{"auths", {{key, auth("u", key)}}}});
    auto found = find("reg.example.com");
    ASSERT_TRUE(found) << key;
    EXPECT_EQ(found->password, key);
  }
  write_config({{"auths", {{"docker.io", auth("u", "p")}}}});
  EXPECT_TRUE(find("docker.io"));
}

TEST_F(Credentials, ExplicitThenDockerAuthConfigThenConfigFile) {
  write_config({{"auths", {{"ghcr.io", auth("file", "p1")}, {"quay.io", auth("file", "p2")}}}});
  core::Env environment = env();
  environment["DOCKER_AUTH_CONFIG"] = Json({{"auths", {{"ghcr.io", auth("envuser", "p3")}}}}).dump();
  EXPECT_EQ(find("ghcr.io", environment)->username, "envuser");
  EXPECT_EQ(find("quay.io", environment)->username, "file");
  CredentialStore store(environment);
  store.set_explicit({"flag", "p4", ""});
  EXPECT_EQ(store.find("ghcr.io")->username, "flag");
}

TEST_F(Credentials, InvalidJsonNamesItsSource) {
  std::ofstream(config()) << "{\"auths\": ";
  EXPECT_EQ(find_error("ghcr.io"), "invalid JSON in " + quoted(config().string()));
  core::Env environment = env();
  environment["DOCKER_AUTH_CONFIG"] = "{nope";
  EXPECT_EQ(find_error("ghcr.io", environment), "invalid JSON in DOCKER_AUTH_CONFIG");
}

TEST_F(Credentials, InvalidAuthFieldHidesItsValue) {
  write_config({{"auths", {{"ghcr.io", {{"auth", "c2VjcmV0bm9jb2xvbg=="}}}}}});  // "secretnocolon"
  std::string message = find_error("ghcr.io");
  EXPECT_EQ(message, "invalid \"auth\" for \"ghcr.io\" in " + quoted(config().string()) +
                         ": expected base64 of USER:PASSWORD");
  EXPECT_EQ(message.find("secret"), std::string::npos);
  EXPECT_EQ(message.find("c2VjcmV0"), std::string::npos);
}

TEST_F(Credentials, CredHelperBeatsCredsStoreBeatsAuths) {
  helper_holds("ghcr.io", R"({"ServerURL":"ghcr.io","Username":"from-helper","Secret":"h1"})");
  helper_holds("https://index.docker.io/v1/", R"({"Username":"<token>","Secret":"id-tok"})");
  write_config({{"credHelpers", {{"ghcr.io", "fake"}}},
                {"credsStore", "broken"},
                {"auths", {{"ghcr.io", auth("from-auths", "p")}}}});
  auto ghcr = find("ghcr.io");
  ASSERT_TRUE(ghcr);
  EXPECT_EQ(ghcr->username, "from-helper");
  EXPECT_EQ(ghcr->password, "h1");
  EXPECT_EQ(find_error("quay.io"),
            "credential helper \"docker-credential-broken\" failed for quay.io: "
            "error: the keychain is locked");

  write_config({{"credsStore", "fake"}, {"auths", {{"quay.io", auth("from-auths", "p")}}}});
  auto hub = find("docker.io");
  ASSERT_TRUE(hub);
  EXPECT_EQ(hub->identity_token, "id-tok");
  EXPECT_EQ(hub->password, "");
  EXPECT_EQ(find("quay.io")->username, "from-auths");  // the helper has none: auths next
  EXPECT_EQ(find("gcr.io"), std::nullopt);
}

TEST_F(Credentials, MissingHelperSaysItIsNotInstalled) {
  write_config({{"credsStore", "nonexistent-xyz"}});
  EXPECT_EQ(find_error("ghcr.io"),
            "credential helper \"docker-credential-nonexistent-xyz\" is not installed");
}

TEST_F(Credentials, SaveLoginKeepsOtherKeysAndIsPrivate) {
  Json original = {{"auths", {{"quay.io", auth("q", "qq")}}},
                   {"proxies", {{"default", {{"httpProxy", "http://proxy:3128"}}}}},
                   {"experimental", "enabled"}};
  write_config(original);
  save_login(env(), "ghcr.io", {"alice", "s3cret", ""});
  Json saved = read_config();
  EXPECT_EQ(saved["auths"]["ghcr.io"], Json({{"auth", core::base64_encode("alice:s3cret")}}));
  EXPECT_EQ(saved["auths"]["quay.io"], original["auths"]["quay.io"]);
  EXPECT_EQ(saved["proxies"], original["proxies"]);
  EXPECT_EQ(saved["experimental"], "enabled");
  struct stat info {};
  ASSERT_EQ(::stat(config().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(find("ghcr.io")->password, "s3cret");
  for (const auto& entry : fs::directory_iterator(dir())) {
    EXPECT_FALSE(entry.path().filename().string().starts_with("config.json.tmp"));
  }
}

TEST_F(Credentials, SaveLoginCreatesAPrivateDirectory) {
  core::Env environment = {{"DOCKER_CONFIG", (dir() / "new" / "docker").string()}};
  save_login(environment, "docker.io", {"alice", "s3cret", ""});
  struct stat info {};
  ASSERT_EQ(::stat((dir() / "new" / "docker").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  EXPECT_EQ(CredentialStore(environment).find("index.docker.io")->username, "alice");
  Json saved = Json::parse(core::read_file(dir() / "new" / "docker" / "config.json"));
  EXPECT_TRUE(saved["auths"].contains("https://index.docker.io/v1/"));
}

TEST_F(Credentials, SaveLoginUsesTheHelperWhenOneIsNamed) {
  write_config({{"credsStore", "fake"}});
  save_login(env(), "docker.io", {"alice", "s3cret", ""});
  Json stored = Json::parse(core::read_file(dir() / "store" / "last-store"));
  EXPECT_EQ(stored, Json({{"ServerURL", "https://index.docker.io/v1/"},
                          {"Username", "alice"},
                          {"Secret", "s3cret"}}));
  EXPECT_EQ(read_config(), Json({{"credsStore", "fake"}}));
}

TEST_F(Credentials, RemoveLoginRemovesOnlyThatRegistry) {
  write_config({{"auths", {{"ghcr.io", auth("a", "b")}, {"quay.io", auth("c", "d")}}},
                {"credsStore", ""}});
  EXPECT_TRUE(remove_login(env(), "ghcr.io"));
  Json left = read_config();
  EXPECT_FALSE(left["auths"].contains("ghcr.io"));
  EXPECT_TRUE(left["auths"].contains("quay.io"));
  EXPECT_EQ(left["credsStore"], "");
  EXPECT_FALSE(remove_login(env(), "ghcr.io"));
  EXPECT_FALSE(remove_login({{"DOCKER_CONFIG", (dir() / "absent").string()}}, "ghcr.io"));
}

TEST_F(Credentials, RemoveLoginErasesFromTheHelper) {
  write_config({{"credHelpers", {{"ghcr.io", "fake"}}}});
  helper_holds("ghcr.io", R"({"Username":"a","Secret":"b"})");
  EXPECT_TRUE(remove_login(env(), "ghcr.io"));
  EXPECT_EQ(find("ghcr.io"), std::nullopt);
  EXPECT_FALSE(remove_login(env(), "ghcr.io"));
  EXPECT_EQ(core::read_file(dir() / "store" / "erased"), "ghcr.io\nghcr.io\n");
}

}  // namespace
}  // namespace polyarch::registry
