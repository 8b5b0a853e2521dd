// Hostile answers from a registry, through the polyarch binary: each gives
// one error line and exit status 1 (2 for the user's own bad input), and
// nothing is written outside the target. The registry is a fake in-process
// server, as a real docker-registry never sends these answers.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>

#include "engine/core/fs.hpp"
#include "engine/image/digest.hpp"
#include "engine/image/manifest.hpp"
#include "engine/image/media_types.hpp"
#include "tests/unit/hostile_util.hpp"
#include "tests/unit/http_server.hpp"

namespace polyarch {
namespace {

using testing::error_line;
using testing::run_polyarch;
using testing::TestServer;
using testing::tree;
namespace fs = std::filesystem;
namespace media_type = image::media_type;

const std::string k_config_bytes =
    R"({"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}})";

// One canned answer to GET/HEAD /v2/app/manifests/REF or /v2/app/blobs/DIGEST.
struct Answer {
  std::string content_type;
  std::string body;
  std::string digest_header;  // Docker-Content-Digest, when set
};

// A registry that serves whatever the test put in `answers`, keyed by
// "manifests/REF" or "blobs/DIGEST"; anything else is a 404.
class HostileRegistry {
 public:
  HostileRegistry() {
    m_server->Get("/v2/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{}", "application/json");
    });
    m_server->Get(R"(/v2/app/(manifests|blobs)/(.+))", [this](const httplib::Request& req,
                                                              httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      auto it = answers.find(std::string(req.matches[1]) + "/" + std::string(req.matches[2]));
      if (it == answers.end()) {
        res.status = 404;
        res.set_content(R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]})",
                        "application/json");
        return;
      }
      if (!it->second.digest_header.empty()) {
        res.set_header("Docker-Content-Digest", it->second.digest_header);
      }
      res.set_content(it->second.body, it->second.content_type);
    });
    m_server.start();
  }

  std::string host() const { return m_server.host(); }
  std::string ref(const std::string& tag) const { return host() + "/app:" + tag; }
  // Serves bytes as a manifest under tag (and under its digest).
  void manifest(const std::string& tag, const std::string& bytes, std::string type) {
    std::lock_guard lock(m_mutex);
    answers["manifests/" + tag] = {type, bytes, ""};
    answers["manifests/" + image::sha256(bytes).str()] = {type, bytes, ""};
  }
  // Serves a blob by digest; returns its descriptor.
  image::Descriptor blob(const std::string& bytes, std::string_view type) {
    std::lock_guard lock(m_mutex);
    image::Descriptor d = image::describe(type, bytes);
    answers["blobs/" + d.digest.str()] = {"application/octet-stream", bytes, ""};
    return d;
  }

  std::map<std::string, Answer> answers;

 private:
  TestServer m_server;
  std::mutex m_mutex;
};

// A manifest (with its config served) for linux/amd64; returns its bytes.
std::string good_manifest(HostileRegistry& registry) {
  image::Manifest manifest;
  manifest.media_type = std::string(media_type::k_oci_manifest);
  manifest.config = registry.blob(k_config_bytes, media_type::k_oci_config);
  return image::to_bytes(manifest);
}

class HostileRegistryTest : public ::testing::Test {
 protected:
  // Runs polyarch; checks stdout is empty and nothing was written in home
  // (where out/ is the empty directory copies write into).
  core::ProcessResult run(std::vector<std::string> args) {
    fs::create_directories(m_home.path() / "out");
    core::ProcessResult r = run_polyarch(std::move(args), m_home.path());
    EXPECT_EQ(r.out, "");
    std::set<std::string> left = tree(m_home.path());
    left.erase(".docker/");
    EXPECT_EQ(left, std::set<std::string>{"out/"});
    return r;
  }
  // `manifest inspect REF` fails with message and status.
  void expect_inspect(const std::string& ref, const std::string& message, int status = 1) {
    SCOPED_TRACE(ref);
    core::ProcessResult r = run({"manifest", "inspect", ref});
    EXPECT_EQ(r.exit_code, status);
    EXPECT_EQ(r.err, error_line(message));
  }
  // `copy REF oci:OUT` fails with message and writes nothing.
  void expect_copy(const std::string& ref, const std::string& message) {
    SCOPED_TRACE(ref);
    core::ProcessResult r = run({"copy", ref, "oci:" + (m_home.path() / "out" / "x.tar").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, error_line(message));
  }

  HostileRegistry m_registry;
  core::TempDir m_home{"hostile-registry"};
};

TEST_F(HostileRegistryTest, InvalidJsonManifest) {
  std::string bytes = R"({"schemaVersion":2,"config":{)";
  m_registry.manifest("broken", bytes, std::string(media_type::k_oci_manifest));
  std::string what = "manifest " + image::sha256(bytes).str();
  std::string detail =
      "parse error at line 1, column 30: syntax error while parsing object key - unexpected end "
      "of input; expected string literal";
  expect_inspect(m_registry.ref("broken"), "invalid JSON in " + what + ": " + detail);
  expect_copy(m_registry.ref("broken"), "invalid JSON in " + what + ": " + detail);
}

TEST_F(HostileRegistryTest, InvalidUtf8InAManifest) {
  std::string bytes = "{\"schemaVersion\":2,\"annotations\":{\"a\":\"\xff\"}}";
  m_registry.manifest("utf8", bytes, std::string(media_type::k_oci_manifest));
  expect_inspect(m_registry.ref("utf8"),
                 "invalid JSON in manifest " + image::sha256(bytes).str() +
                     ": parse error at line 1, column 40: syntax error while parsing value - "
                     "invalid string: ill-formed UTF-8 byte; last read: '\"\xff'");
}

TEST_F(HostileRegistryTest, ManifestThatIsNotAnObject) {
  std::string bytes = "[1,2,3]";
  m_registry.manifest("array", bytes, std::string(media_type::k_oci_manifest));
  expect_inspect(m_registry.ref("array"),
                 "invalid manifest " + image::sha256(bytes).str() + ": not a JSON object");
}

TEST_F(HostileRegistryTest, TenMebibyteManifestIsRefused) {
  std::string bytes = good_manifest(m_registry);
  bytes.insert(bytes.size() - 1, ",\"padding\":\"" + std::string(10 << 20, 'x') + "\"");
  m_registry.manifest("huge", bytes, std::string(media_type::k_oci_manifest));
  std::string message =
      "manifest " + m_registry.host() + "/app:huge is larger than 4 MiB; refusing it";
  expect_inspect(m_registry.ref("huge"), message);
  expect_copy(m_registry.ref("huge"), message);
}

TEST_F(HostileRegistryTest, DeeplyNestedManifestIsRefused) {
  std::string bytes = R"({"schemaVersion":2,"manifests":[],"x":)" + std::string(100000, '[') +
                      std::string(100000, ']') + "}";
  m_registry.manifest("deep", bytes, std::string(media_type::k_oci_index));
  std::string message =
      "invalid JSON in index " + image::sha256(bytes).str() + ": nested deeper than 64 levels";
  expect_inspect(m_registry.ref("deep"), message);
  expect_copy(m_registry.ref("deep"), message);
}

TEST_F(HostileRegistryTest, UnknownMediaTypeIsNotAnImage) {
  std::string type = "application/vnd.example.unknown+json";
  std::string bytes = R"({"schemaVersion":2,"mediaType":")" + type + R"(","config":{}})";
  m_registry.manifest("unknown", bytes, type);
  std::string message = "invalid manifest " + image::sha256(bytes).str() + ": media type \"" +
                        type + "\" is not an image manifest";
  expect_inspect(m_registry.ref("unknown"), message);
  expect_copy(m_registry.ref("unknown"), message);
}

TEST_F(HostileRegistryTest, SchemaOneManifestIsRefused) {
  std::string bytes = R"({"schemaVersion":1,"name":"app","tag":"old","fsLayers":[]})";
  m_registry.manifest("v1", bytes, "application/vnd.docker.distribution.manifest.v1+prettyjws");
  expect_inspect(m_registry.ref("v1"), "invalid manifest " + image::sha256(bytes).str() +
                                           ": \"schemaVersion\" must be 2");
}

TEST_F(HostileRegistryTest, IndexWhoseChildIsTheIndexItself) {
  // The registry answers every manifest request with the same index, so the
  // child it names (by a digest the index cannot have) comes back as the index.
  image::Index index;
  index.media_type = std::string(media_type::k_oci_index);
  image::Descriptor child = image::describe(media_type::k_oci_index, "{}");
  child.platform = image::Platform{"linux", "amd64", "", "", {}};
  index.manifests.push_back(child);
  std::string bytes = image::to_bytes(index);
  m_registry.manifest("loop", bytes, std::string(media_type::k_oci_index));
  m_registry.answers["manifests/" + child.digest.str()] = {std::string(media_type::k_oci_index),
                                                           bytes, ""};
  expect_copy(m_registry.ref("loop"),
              "manifest " + m_registry.host() + "/app@" + child.digest.str() +
                  " does not match its digest: expected " + child.digest.str() + ", got " +
                  image::sha256(bytes).str());
}

TEST_F(HostileRegistryTest, WrongDigestHeaderIsRefused) {
  std::string bytes = good_manifest(m_registry);
  std::string claimed = image::sha256("something else").str();
  m_registry.answers["manifests/lying"] = {std::string(media_type::k_oci_manifest), bytes, claimed};
  expect_inspect(m_registry.ref("lying"), "manifest " + m_registry.host() +
                                              "/app:lying does not match its digest: expected " +
                                              claimed + ", got " + image::sha256(bytes).str());
}

TEST_F(HostileRegistryTest, DuplicatePlatformsInAnIndex) {
  std::string manifest = good_manifest(m_registry);
  m_registry.manifest("one", manifest, std::string(media_type::k_oci_manifest));
  image::Index index;
  index.media_type = std::string(media_type::k_oci_index);
  image::Descriptor child = image::describe(media_type::k_oci_manifest, manifest);
  child.platform = image::Platform{"linux", "amd64", "", "", {}};
  index.manifests = {child, child};
  m_registry.manifest("dup", image::to_bytes(index), std::string(media_type::k_oci_index));
  core::ProcessResult r = run(
      {"manifest", "create", "--dry-run", "--tag", m_registry.ref("new"), m_registry.ref("dup")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, error_line("platform linux/amd64 is given twice: by \"" + m_registry.ref("dup") +
                              "\" and \"" + m_registry.ref("dup") + "\""));
}

TEST_F(HostileRegistryTest, ChildDescriptorsWithBadFields) {
  std::string manifest = good_manifest(m_registry);
  std::string digest = image::sha256(manifest).str();
  const std::pair<std::string, std::string> cases[] = {
      {R"({"mediaType":"x","digest":")" + digest + R"(","size":-1})",
       "\"size\" must be a non-negative integer"},
      {R"({"mediaType":"x","digest":"sha256:xyz","size":1})",
       "invalid digest \"sha256:xyz\": sha256 needs 64 lowercase hex digits"},
      {R"({"mediaType":"x","digest":")" + digest + R"(","size":"12"})",
       "\"size\" must be a non-negative integer"},
      {R"({"mediaType":"x","digest":")" + digest + R"(","size":1,"platform":"linux/amd64"})",
       "not a JSON object"},
  };
  int n = 0;
  for (const auto& [child, reason] : cases) {
    std::string bytes = R"({"schemaVersion":2,"mediaType":")" +
                        std::string(media_type::k_oci_index) + R"(","manifests":[)" + child + "]}";
    std::string tag = "bad" + std::to_string(n++);
    m_registry.manifest(tag, bytes, std::string(media_type::k_oci_index));
    expect_inspect(m_registry.ref(tag),
                   "invalid index " + image::sha256(bytes).str() + ": " + reason);
  }
}

TEST_F(HostileRegistryTest, HugeConfigBlobIsRefused) {
  image::Manifest manifest;
  manifest.media_type = std::string(media_type::k_oci_manifest);
  manifest.config =
      m_registry.blob(std::string(5 << 20, ' ') + k_config_bytes, media_type::k_oci_config);
  m_registry.manifest("bigconfig", image::to_bytes(manifest),
                      std::string(media_type::k_oci_manifest));
  expect_inspect(m_registry.ref("bigconfig"), "blob " + manifest.config.digest.str() + " in " +
                                                  m_registry.host() +
                                                  "/app is larger than 4 MiB; refusing it");
}

TEST_F(HostileRegistryTest, MissingManifestIsNotFound) {
  expect_inspect(m_registry.ref("absent"),
                 "manifest " + m_registry.host() + "/app:absent not found");
}

}  // namespace
}  // namespace polyarch
