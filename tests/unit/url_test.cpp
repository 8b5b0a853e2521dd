// URLs, header names, loopback hosts and redaction (engine/registry/url.cpp).
#include <string>

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/registry/http.hpp"
#include "tests/unit/http_test_util.hpp"

namespace polyarch::registry {
namespace {

using test_util::error_of;

// ---- Url ---------------------------------------------------------------

TEST(UrlTest, ParsesSchemeHostAndTarget) {
  Url url = Url::parse("https://Registry.Example.com:5000/v2/x/tags/list?n=10#top");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "registry.example.com:5000");
  EXPECT_EQ(url.target, "/v2/x/tags/list?n=10");
  EXPECT_EQ(Url::parse("http://[::1]:5000").str(), "http://[::1]:5000/");
  EXPECT_EQ(Url::parse("http://[::1]").host, "[::1]");
  EXPECT_EQ(Url::parse("https://h?q=1").target, "/?q=1");
}

TEST(UrlTest, RejectsWhatIsNotAnHttpUrl) {
  EXPECT_EQ(error_of([] { Url::parse("ftp://x/y"); }),
            "invalid URL \"ftp://x/y\": expected http:// or https://");
  EXPECT_EQ(error_of([] { Url::parse("registry.example.com/v2/"); }),
            "invalid URL \"registry.example.com/v2/\": expected http:// or https://");
  EXPECT_EQ(error_of([] { Url::parse("https:///v2/"); }), "invalid URL \"https:///v2/\": no host");
  EXPECT_EQ(error_of([] { Url::parse("https://h:99999/"); }),
            "invalid URL \"https://h:99999/\": bad port \"99999\"");
  EXPECT_EQ(error_of([] { Url::parse("https://[::1/"); }),
            "invalid URL \"https://[::1/\": bad IPv6 address");
  EXPECT_EQ(error_of([] { Url::parse("https://u:pw@h/"); }),
            "invalid URL \"https://u:REDACTED@h/\": credentials in a URL are not supported");
}

TEST(UrlTest, ResolvesLocationsAgainstTheRequest) {
  Url base = Url::parse("https://reg.example/v2/app/blobs/uploads/?mount=x");
  EXPECT_EQ(base.resolve("https://cdn.example/b?sig=1").str(), "https://cdn.example/b?sig=1");
  EXPECT_EQ(base.resolve("/v2/app/blobs/uploads/abc?_state=s").str(),
            "https://reg.example/v2/app/blobs/uploads/abc?_state=s");
  EXPECT_EQ(base.resolve("abc?_state=s").str(),
            "https://reg.example/v2/app/blobs/uploads/abc?_state=s");
  EXPECT_EQ(Url::parse("https://reg.example/v2/app/blobs/uploads").resolve("abc").str(),
            "https://reg.example/v2/app/blobs/abc");
  EXPECT_EQ(base.resolve("../../x/./y").str(), "https://reg.example/v2/app/x/y");
  EXPECT_EQ(base.resolve("//cdn.example/z").str(), "https://cdn.example/z");
  EXPECT_EQ(base.resolve("?page=2").str(), "https://reg.example/v2/app/blobs/uploads/?page=2");
  EXPECT_EQ(Url::parse("http://[::1]:5000/v2/").resolve("/a").str(), "http://[::1]:5000/a");
}

TEST(UrlTest, HeadersAreCaseInsensitive) {
  HttpResponse response;
  response.headers.emplace("Docker-Content-Digest", "sha256:1");
  response.headers.emplace("docker-content-digest", "sha256:2");
  EXPECT_EQ(response.header("DOCKER-CONTENT-DIGEST"), "sha256:1");
  EXPECT_EQ(response.header("Location"), "");
  EXPECT_FALSE(CaseInsensitiveLess()("ABC", "abc"));
  EXPECT_TRUE(CaseInsensitiveLess()("abc", "ABD"));
}

// ---- Redact ------------------------------------------------------------

TEST(RedactTest, HidesPasswordsTokensAndAuthorization) {
  EXPECT_EQ(redact("https://bob:s3cret@reg.example/v2/"), "https://bob:REDACTED@reg.example/v2/");
  EXPECT_EQ(redact("GET https://auth.example/token?scope=x&access_token=abc&n=1 -> 200"),
            "GET https://auth.example/token?scope=x&access_token=REDACTED&n=1 -> 200");
  EXPECT_EQ(redact("https://s3.example/b?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff&x=1"),
            "https://s3.example/b?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&x=1");
  EXPECT_EQ(redact("grant_type=password&username=bob&password=hunter2"),
            "grant_type=password&username=bob&password=REDACTED");
  EXPECT_EQ(redact("Authorization: Bearer eyJhbGci\r\nAccept: */*"),
            "Authorization: Bearer REDACTED\r\nAccept: */*");
  EXPECT_EQ(redact("authorization: Basic Ym9iOnB3"), "authorization: Basic REDACTED");
  EXPECT_EQ(redact("Proxy-Authorization: Basic Ym9i"), "Proxy-Authorization: Basic REDACTED");
  EXPECT_EQ(redact("https://reg.example/v2/?tokens=1&n=2"), "https://reg.example/v2/?tokens=1&n=2");
}

// ---- Loopback ----------------------------------------------------------

TEST(LoopbackTest, RecognizesLoopbackHosts) {
  for (const char* host : {"localhost", "localhost:5000", "127.0.0.1", "127.1.2.3:80", "[::1]",
                           "[::1]:5000", "::1", "LOCALHOST"}) {
    EXPECT_TRUE(is_loopback(host)) << host;
  }
  for (const char* host : {"registry.example", "localhost.example:5000", "128.0.0.1",
                           "127.0.0.1.example", "[::2]:5000", "127.0.0", "localhost:x"}) {
    EXPECT_FALSE(is_loopback(host)) << host;
  }
  EXPECT_EQ(user_agent(), "polyarch/" POLYARCH_VERSION);
}

}  // namespace
}  // namespace polyarch::registry
