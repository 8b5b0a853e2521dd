#include "adapters/cli/polyarch_main.hpp"

int main(int argc, char** argv) { return polyarch::cli::polyarch_main(argc, argv); }
