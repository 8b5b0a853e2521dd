#pragma once
// Does a host speak TLS? Asked with a TLS ClientHello over a plain socket and
// answered by the first byte back, so a plain-HTTP registry costs no TLS
// library set-up (OpenSSL's context alone takes a few milliseconds).

#include <chrono>
#include <string>

namespace polyarch::registry {

enum class ProbeResult {
  tls,          // the reply is a TLS record: a handshake or an alert
  plain,        // anything else, or the connection closed at the hello
  unreachable,  // no connection within the timeout, or no reply in time
};

// Sends one ClientHello to name:port (SNI set when name is not an address)
// and reads what comes back; never throws.
ProbeResult probe_tls(const std::string& name, int port, std::chrono::seconds timeout);

// The ClientHello probe_tls sends: TLS 1.2 framing, common ECDHE suites and
// the TLS 1.3 ones, 32 random bytes from `random`.
std::string client_hello(const std::string& server_name, const std::string& random);

}  // namespace polyarch::registry
