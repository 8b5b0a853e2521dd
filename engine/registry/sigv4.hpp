#pragma once
// AWS Signature Version 4 (AWS4-HMAC-SHA256) with OpenSSL: the canonical
// request, the string to sign, the signing key and the Authorization header,
// for requests to AWS APIs (ECR's GetAuthorizationToken). Paths are
// normalized as for every service but S3. Secrets never leave these values.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace polyarch::registry {

// AWS credentials: an access key pair and, for temporary ones, a session token.
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" for long-term keys
};

// A request as it goes on the wire, to be signed.
struct SigV4Request {
  std::string method = "GET";
  std::string path = "/";  // as sent: "/a/../b", raw bytes are percent-encoded when signing
  std::string query;       // without "?": "b=2&a=1"
  std::vector<std::pair<std::string, std::string>> headers;  // in order; a name may repeat
  std::string body;
};

// The parts of one signature (tests compare them with AWS's published ones).
struct SigV4Signature {
  std::string amz_date;           // "20150830T123600Z"
  std::string credential_scope;   // "20150830/us-east-1/ecr/aws4_request"
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;     // "host;x-amz-date"
  std::string signature;          // 64 lowercase hex digits
  std::string authorization;      // the Authorization header's value
};

// "20150830T123600Z" for seconds since 1970, in UTC.
std::string amz_date(std::int64_t unix_seconds);

// The canonical request: method, normalized and percent-encoded path, sorted
// encoded query, canonical headers (lowercase names, sorted, values trimmed
// with inner whitespace runs as one space, repeated names joined with ","),
// the signed header names, and the hex SHA-256 of the body.
std::string canonical_request(const SigV4Request& request);

// "AWS4-HMAC-SHA256\nDATE\nSCOPE\nhex(SHA-256(canonical request))".
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

// The raw 32-byte signing key: HMAC-SHA256 chained over "AWS4" + secret,
// the date (YYYYMMDD), the region, the service and "aws4_request".
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);

// Signs request in place: sets X-Amz-Date and, with a session token,
// X-Amz-Security-Token (both signed), then Authorization. The Host header
// must be among request.headers. Returns every intermediate value.
SigV4Signature sign(SigV4Request& request, const AwsCredentials& credentials,
                    std::string_view region, std::string_view service, std::int64_t unix_seconds);

}  // namespace polyarch::registry
