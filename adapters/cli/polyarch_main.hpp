#pragma once
// The one place that turns errors into "polyarch: error: …" and an exit status.

namespace polyarch::cli {

// Runs the command line; returns 0 on success, 1 on failure, 2 on bad input.
int polyarch_main(int argc, char** argv);

}  // namespace polyarch::cli
