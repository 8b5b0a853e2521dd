/* hello: prints the platform it was compiled for, e.g. "hello from linux/arm64".
   The architecture comes from the compiler's predefined macros, so each
   cross-compiled binary names its own platform; run under QEMU it proves
   that the right binary landed in the right platform's image. */
#include <stdio.h>

#if defined(__x86_64__)
#define HELLO_ARCH "amd64"
#elif defined(__aarch64__)
#define HELLO_ARCH "arm64"
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH == 7
#define HELLO_ARCH "arm/v7"
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH == 6
#define HELLO_ARCH "arm/v6"
#elif defined(__i386__)
#define HELLO_ARCH "386"
#elif defined(__riscv) && defined(__riscv_xlen) && __riscv_xlen == 64
#define HELLO_ARCH "riscv64"
#elif defined(__powerpc64__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HELLO_ARCH "ppc64le"
#elif defined(__s390x__)
#define HELLO_ARCH "s390x"
#else
#define HELLO_ARCH "unknown"
#endif

int main(void) {
  puts("hello from linux/" HELLO_ARCH);
  return 0;
}
