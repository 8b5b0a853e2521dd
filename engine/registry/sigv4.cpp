#include "engine/registry/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <map>

#include "engine/core/error.hpp"
#include "engine/core/strings.hpp"
#include "engine/image/digest.hpp"

namespace polyarch::registry {

namespace {

constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Percent-encodes every byte but the unreserved ones (and "/" when keep_slash).
std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; a "%" not followed by two hex digits stays as it is.
std::string uri_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// RFC 3986 dot segments removed and empty segments dropped; a trailing "/"
// (or a last "." or "..") is kept as a trailing "/".
std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> kept;
  bool trailing = false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view segment = path.substr(start, end - start);
    trailing = segment.empty() || segment == "." || segment == "..";
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!segment.empty() && segment != ".") {
      kept.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (auto segment : kept) out += "/" + std::string(segment);
  if (out.empty() || trailing) out += "/";
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = std::min(query.find('&', start), query.size());
    std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      size_t equals = piece.find('=');
      std::string_view key = piece.substr(0, equals);
      std::string_view value = equals == std::string_view::npos ? "" : piece.substr(equals + 1);
      pairs.emplace_back(uri_encode(uri_decode(key), false), uri_encode(uri_decode(value), false));
    }
    start = end + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [key, value] : pairs) out += (out.empty() ? "" : "&") + key + "=" + value;
  return out;
}

// Trimmed, with every run of whitespace (folded lines too) as one space.
std::string header_value(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

// Lowercase name → its values joined with ",", in request order.
std::map<std::string, std::string> canonical_headers(const SigV4Request& request) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    auto [it, added] = headers.emplace(lower(name), header_value(value));
    if (!added) it->second += "," + header_value(value);
  }
  return headers;
}

std::string signed_header_names(const std::map<std::string, std::string>& headers) {
  std::string out;
  for (const auto& [name, value] : headers) out += (out.empty() ? "" : ";") + name;
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length) == nullptr) {
    throw failure("cannot compute HMAC-SHA256 (OpenSSL failed)");
  }
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string hex(std::string_view bytes) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += k_hex[c >> 4];
    out += k_hex[c & 15];
  }
  return out;
}

// Replaces every header called name (any case) by one with value.
void set_header(SigV4Request& request, std::string_view name, const std::string& value) {
  std::erase_if(request.headers, [&](const auto& header) { return lower(header.first) == lower(name); });
  request.headers.emplace_back(std::string(name), value);
}

}  // namespace

std::string amz_date(std::int64_t unix_seconds) { return core::format_utc(unix_seconds, "%Y%m%dT%H%M%SZ"); }

std::string canonical_request(const SigV4Request& request) {
  auto headers = canonical_headers(request);
  std::string out = request.method + "\n" + uri_encode(normalize_path(request.path), true) + "\n" +
                    canonical_query(request.query) + "\n";
  for (const auto& [name, value] : headers) out += name + ":" + value + "\n";
  out += "\n" + signed_header_names(headers) + "\n" + image::sha256(request.body).hex;
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  return std::string(k_algorithm) + "\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" +
         image::sha256(canonical_request).hex;
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  std::string key = hmac("AWS4" + std::string(secret), date);
  key = hmac(key, region);
  key = hmac(key, service);
  return hmac(key, "aws4_request");
}

SigV4Signature sign(SigV4Request& request, const AwsCredentials& credentials, std::string_view region,
                    std::string_view service, std::int64_t unix_seconds) {
  if (!canonical_headers(request).contains("host")) {
    throw failure("cannot sign an AWS request without a Host header");
  }
  std::erase_if(request.headers, [](const auto& header) { return lower(header.first) == "authorization"; });
  SigV4Signature result;
  result.amz_date = amz_date(unix_seconds);
  std::string date = result.amz_date.substr(0, 8);
  set_header(request, "X-Amz-Date", result.amz_date);
  if (!credentials.session_token.empty()) {
    set_header(request, "X-Amz-Security-Token", credentials.session_token);
  }
  result.credential_scope = date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  result.canonical_request = canonical_request(request);
  result.signed_headers = signed_header_names(canonical_headers(request));
  result.string_to_sign = string_to_sign(result.amz_date, result.credential_scope, result.canonical_request);
  result.signature =
      hex(hmac(signing_key(credentials.secret_access_key, date, region, service), result.string_to_sign));
  result.authorization = std::string(k_algorithm) + " Credential=" + credentials.access_key_id + "/" +
                         result.credential_scope + ", SignedHeaders=" + result.signed_headers +
                         ", Signature=" + result.signature;
  set_header(request, "Authorization", result.authorization);
  return result;
}

}  // namespace polyarch::registry
