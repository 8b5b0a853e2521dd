// bench/sha256_rate.cpp: times polyarch's own Sha256 (engine/image/digest.cpp)
// over N MiB fed in 1 MiB updates, as a layer is hashed, and prints
// {"MiB": N, "seconds": S, "MBps": R} (R in 10^6 bytes per second, as openssl
// speed counts). S is user CPU time, the divisor `openssl speed` uses unless
// given -elapsed, so other work on the machine does not skew the comparison.
// Built and run by bench/run; not part of the product.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "engine/image/digest.hpp"

int main(int argc, char** argv) {
  const long mib = argc > 1 ? std::atol(argv[1]) : 256;
  std::vector<unsigned char> block(size_t{1} << 20);
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<unsigned char>(i * 131 + 7);
  polyarch::image::Sha256 warm;
  warm.update(block.data(), block.size());
  (void)warm.finish();
  auto user_seconds = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec) + static_cast<double>(usage.ru_utime.tv_usec) / 1e6;
  };
  double start = user_seconds();
  polyarch::image::Sha256 hash;
  for (long i = 0; i < mib; ++i) hash.update(block.data(), block.size());
  polyarch::image::Digest digest = hash.finish();
  double seconds = user_seconds() - start;
  double rate = static_cast<double>(mib) * static_cast<double>(block.size()) / seconds / 1e6;
  std::printf("{\"MiB\": %ld, \"seconds\": %.4f, \"MBps\": %.1f, \"digest\": \"%s\"}\n", mib,
              seconds, rate, digest.str().c_str());
  return 0;
}
