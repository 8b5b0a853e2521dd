#include "engine/image/digest.hpp"

// Before any OpenSSL header: SHA256_Init and friends are deprecated in 3.0.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/image/shown.hpp"

namespace polyarch::image {

static bool is_lower_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Digest Digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw bad_input("invalid digest " + shown(text, 200, 100) +
                    ": expected ALGORITHM:HEX, e.g. sha256:<64 hex digits>");
  }
  std::string algorithm(text.substr(0, colon));
  std::string hex(text.substr(colon + 1));
  // OCI grammar: [a-z0-9]+ components joined by single [+._-] separators.
  bool after_separator = true;
  for (char c : algorithm) {
    bool is_component = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    bool is_separator = c == '+' || c == '.' || c == '_' || c == '-';
    if (!is_component && !(is_separator && !after_separator)) {
      throw bad_input("invalid digest " + shown(text, 200, 100) +
                      ": bad algorithm " + shown(algorithm));
    }
    after_separator = is_separator;
  }
  if (after_separator) {
    throw bad_input("invalid digest " + shown(text, 200, 100) +
                    ": bad algorithm " + shown(algorithm));
  }
  if (algorithm == "sha256" && (hex.size() != 64 || !is_lower_hex(hex))) {
    throw bad_input("invalid digest " + shown(text, 200, 100) +
                    ": sha256 needs 64 lowercase hex digits");
  }
  if (algorithm == "sha512" && (hex.size() != 128 || !is_lower_hex(hex))) {
    throw bad_input("invalid digest " + shown(text, 200, 100) +
                    ": sha512 needs 128 lowercase hex digits");
  }
  if (hex.size() < 32 || !is_lower_hex(hex)) {
    throw bad_input("invalid digest " + shown(text, 200, 100) +
                    ": expected at least 32 lowercase hex digits");
  }
  return Digest{algorithm, hex};
}

// The one-shot SHA-256 functions, not EVP: EVP's first use builds OpenSSL's
// provider tables (~0.5 ms, a tenth of a short command's run), and both
// reach the same assembly. They are deprecated in OpenSSL 3, not removed.
struct Sha256::State {
  SHA256_CTX ctx;
};

Sha256::Sha256() : m_state(std::make_unique<State>()) {
  if (SHA256_Init(&m_state->ctx) != 1) throw failure("cannot initialise SHA-256");
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t size) { SHA256_Update(&m_state->ctx, data, size); }

Digest Sha256::finish() {
  unsigned char hash[SHA256_DIGEST_LENGTH];
  constexpr unsigned int length = SHA256_DIGEST_LENGTH;
  SHA256_Final(hash, &m_state->ctx);
  static const char* k_hex = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += k_hex[hash[i] >> 4];
    hex += k_hex[hash[i] & 0xf];
  }
  return Digest{"sha256", hex};
}

Digest sha256(std::string_view bytes) {
  Sha256 hasher;
  hasher.update(bytes);
  return hasher.finish();
}

Digest sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw failure("cannot read " + quoted(path) + ": " + std::strerror(errno));
  Sha256 hasher;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hasher.update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw failure("cannot read " + quoted(path));
  return hasher.finish();
}

}  // namespace polyarch::image
