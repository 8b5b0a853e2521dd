#pragma once
// Base64 (RFC 4648): the standard alphabet for config.json "auth" fields and
// HTTP Basic, and the URL-safe alphabet for JWT parts.

#include <optional>
#include <string>
#include <string_view>

namespace polyarch::core {

// Encodes bytes with the standard alphabet and "=" padding.
std::string base64_encode(std::string_view bytes);

// Decodes standard base64; padding is optional. Returns nullopt when text
// holds a character outside the alphabet or has an impossible length.
std::optional<std::string> base64_decode(std::string_view text);

// Decodes URL-safe base64 ("-" and "_", padding optional), as in JWT parts.
// Returns nullopt on invalid input.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace polyarch::core
