#pragma once
// Content digests ("sha256:<64 hex>") computed with OpenSSL.

#include <memory>
#include <string>
#include <string_view>

namespace polyarch::image {

// A parsed content digest; only sha256 is computed, others are only parsed.
struct Digest {
  std::string algorithm;  // "sha256"
  std::string hex;        // lowercase hex of the hash

  std::string str() const { return algorithm + ":" + hex; }
  bool operator==(const Digest&) const = default;

  // Parses "algo:hex"; throws bad_input naming what is wrong.
  static Digest parse(std::string_view text);
};

// Incremental SHA-256, for hashing a stream as it is written or read.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // Returns the digest of everything given so far; call once.
  Digest finish();

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

// Returns the sha256 digest of bytes.
Digest sha256(std::string_view bytes);

// Returns the sha256 digest of a file's content; throws failure if unreadable.
Digest sha256_file(const std::string& path);

}  // namespace polyarch::image
