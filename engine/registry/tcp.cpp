#include "engine/registry/tcp.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace polyarch::registry {

bool wait_ready(int fd, short events, Deadline deadline) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    rc = poll(&p, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
  } while (rc < 0 && errno == EINTR);
  return rc == 1;
}

int connect_tcp(const std::string& name, int port, Deadline deadline, std::string& reason) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  if (int rc = getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &list); rc != 0) {
    reason = std::string("unknown host (") + gai_strerror(rc) + ")";
    return -1;
  }
  reason = "connection failed";
  int connected = -1;
  for (addrinfo* a = list; a != nullptr && connected < 0; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int error = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (error == EINPROGRESS) {
      socklen_t length = sizeof error;
      if (!wait_ready(fd, POLLOUT, deadline)) {
        error = ETIMEDOUT;
      } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
      }
    }
    if (error == 0) {
      connected = fd;
    } else {
      close(fd);
      reason = error == ETIMEDOUT ? "connection timed out" : std::generic_category().message(error);
    }
  }
  freeaddrinfo(list);
  return connected;
}

}  // namespace polyarch::registry
