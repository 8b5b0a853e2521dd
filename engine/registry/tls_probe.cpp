#include "engine/registry/tls_probe.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <random>

#include "engine/registry/tcp.hpp"

namespace polyarch::registry {

namespace {

void put16(std::string& out, size_t value) {
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

void put16s(std::string& out, std::initializer_list<uint16_t> values) {
  put16(out, 2 * values.size());
  for (uint16_t v : values) put16(out, v);
}

// An extension: type, then its body's length and body.
void put_extension(std::string& out, uint16_t type, const std::string& body) {
  put16(out, type);
  put16(out, body.size());
  out += body;
}

bool is_address(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

}  // namespace

std::string client_hello(const std::string& server_name, const std::string& random) {
  std::string body = "\x03\x03" + random.substr(0, 32);
  body.push_back('\0');  // no session id
  put16s(body, {0xc02f, 0xc02b, 0xc030, 0xc02c, 0xcca8, 0xcca9, 0x009c, 0x1301, 0x1302, 0x1303});
  body += std::string("\x01\x00", 2);  // compression: null only
  std::string extensions;
  if (!server_name.empty()) {
    std::string entry(1, '\0');  // host_name
    put16(entry, server_name.size());
    entry += server_name;
    std::string list;
    put16(list, entry.size());
    put_extension(extensions, 0x0000, list + entry);
  }
  std::string groups;
  put16s(groups, {0x001d, 0x0017, 0x0018});
  put_extension(extensions, 0x000a, groups);
  put_extension(extensions, 0x000b, std::string("\x01\x00", 2));  // uncompressed points
  std::string signatures;
  put16s(signatures, {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601});
  put_extension(extensions, 0x000d, signatures);
  put16(body, extensions.size());
  body += extensions;

  std::string handshake(1, '\x01');  // client_hello
  handshake.push_back('\0');
  put16(handshake, body.size());
  std::string record("\x16\x03\x01", 3);
  put16(record, handshake.size() + body.size());
  return record + handshake + body;
}

ProbeResult probe_tls(const std::string& name, int port, std::chrono::seconds timeout) {
  Deadline deadline = std::chrono::steady_clock::now() + timeout;
  std::string unused;
  int fd = connect_tcp(name, port, deadline, unused);
  if (fd < 0) return ProbeResult::unreachable;
  std::string random(32, '\0');
  std::random_device device;
  for (char& c : random) c = static_cast<char>(device());
  std::string hello = client_hello(is_address(name) ? "" : name, random);
  ProbeResult result = ProbeResult::unreachable;
  size_t sent = 0;
  while (sent < hello.size() && wait_ready(fd, POLLOUT, deadline)) {
    ssize_t n = send(fd, hello.data() + sent, hello.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    if (n > 0) sent += static_cast<size_t>(n);
  }
  unsigned char first = 0;
  while (wait_ready(fd, POLLIN, deadline)) {
    ssize_t n = recv(fd, &first, 1, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    // A TLS record starts with its content type: 0x16 handshake, 0x15 alert.
    result = n == 1 && (first == 0x16 || first == 0x15) ? ProbeResult::tls : ProbeResult::plain;
    break;
  }
  close(fd);
  return result;
}

}  // namespace polyarch::registry
