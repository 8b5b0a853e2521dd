#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "adapters/cli/polyarch_main.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define POLYARCH_EXIT_CHECKED 1  // the sanitizers' leak checks run at exit
#endif

int main(int argc, char** argv) {
  int status = polyarch::cli::polyarch_main(argc, argv);
#ifndef POLYARCH_EXIT_CHECKED
  // Everything polyarch made is closed and removed by now; what exit() would
  // still run is OpenSSL's and the libraries' teardown of memory the kernel
  // frees anyway (~0.3 ms). Flush and leave.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  _exit(status);
#endif
  return status;
}
