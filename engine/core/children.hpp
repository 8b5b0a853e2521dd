#pragma once
// Stopping this process's running children (builders) when one build fails.

namespace polyarch::core {

// Sends SIGTERM to every direct child process of this process, and to their
// process groups when they lead one. Returns how many were signalled.
int terminate_children();

}  // namespace polyarch::core
