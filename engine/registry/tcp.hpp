#pragma once
// TCP connections with a deadline, saying why when there is none.

#include <chrono>
#include <string>

namespace polyarch::registry {

using Deadline = std::chrono::steady_clock::time_point;

// A connected non-blocking, close-on-exec socket to the first of name:port's
// addresses that answers before deadline; -1 when none does, with why in
// reason: "unknown host (…)", "connection timed out" or the system's words
// ("Connection refused").
int connect_tcp(const std::string& name, int port, Deadline deadline, std::string& reason);

// Waits until fd is ready for events (poll's POLLIN, POLLOUT) or deadline
// passes; true when ready.
bool wait_ready(int fd, short events, Deadline deadline);

}  // namespace polyarch::registry
