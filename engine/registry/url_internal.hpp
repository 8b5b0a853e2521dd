#pragma once
// Helpers shared by the URL code (url.cpp) and the transport (http.cpp);
// not part of the registry module's interface.

#include <string>
#include <string_view>
#include <utility>

namespace polyarch::registry::detail {

// ASCII lowercase copy of text.
std::string lower(std::string_view text);
// True when a and b are equal ignoring ASCII case.
bool equals_nocase(std::string_view a, std::string_view b);
// True when text is non-empty and only decimal digits.
bool all_digits(std::string_view text);
// Splits "name[:port]" / "[v6][:port]" into the name to connect to and the
// port (443 or 80 by scheme when absent). The host must come from Url::parse.
std::pair<std::string, int> split_host(const std::string& host, bool https);
// Percent-encodes what may not appear raw in a request line (controls,
// space, non-ASCII); leaves everything else as is.
std::string encode_target(const std::string& target);

}  // namespace polyarch::registry::detail
