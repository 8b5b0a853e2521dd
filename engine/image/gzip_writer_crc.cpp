#include "engine/image/gzip_writer_crc.hpp"

#include <zlib.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace polyarch::image::gzip_blocks {

namespace {

uint32_t zlib_crc32(uint32_t crc, const unsigned char* data, size_t size) {
  return static_cast<uint32_t>(crc32_z(crc, data, size));
}

#if defined(__x86_64__)

// Folding: a 16-byte lane L stands for the polynomial V(L) whose highest
// term is the first byte's lowest bit (CRC-32 is bit-reflected), so
// V(L) = v(lo)·x^64 + v(hi) for its two 64-bit halves, where v(q) puts bit j
// of q at x^(63-j). A carry-less product of two halves gives a lane with
// V = x·v(a)·v(b). Moving a lane D bits further on (L·x^D mod P) is then
// lo × k(63+D) + hi × k(D-1), where k(n) holds x^n mod P in the top 32 bits.

constexpr uint64_t k_polynomial = 0x104C11DB7;  // CRC-32's P, x^32 included

// x^n mod P, bit d standing for x^d.
constexpr uint64_t x_power_mod(unsigned n) {
  uint64_t r = 1;
  for (unsigned i = 0; i < n; ++i) {
    r <<= 1;
    if ((r >> 32) & 1) r ^= k_polynomial;
  }
  return r;
}

// x^n mod P as a 64-bit half: x^d at bit 63 - d.
constexpr uint64_t k(unsigned n) {
  uint64_t r = x_power_mod(n);
  uint64_t out = 0;
  for (int d = 0; d < 32; ++d) {
    if ((r >> d) & 1) out |= uint64_t{1} << (63 - d);
  }
  return out;
}

// The constants that move a lane on by `bits`: low half for lo, high for hi.
template <unsigned bits>
__attribute__((target("pclmul,sse2"))) __m128i fold_by() {
  constexpr uint64_t for_lo = k(63 + bits);
  constexpr uint64_t for_hi = k(bits - 1);
  return _mm_set_epi64x(static_cast<long long>(for_hi), static_cast<long long>(for_lo));
}

__attribute__((target("pclmul,sse2"))) inline __m128i fold(__m128i lane, __m128i by, __m128i next) {
  __m128i low = _mm_clmulepi64_si128(lane, by, 0x00);
  __m128i high = _mm_clmulepi64_si128(lane, by, 0x11);
  return _mm_xor_si128(_mm_xor_si128(low, high), next);
}

__attribute__((target("pclmul,sse2"))) uint32_t clmul_crc32(uint32_t crc,
                                                            const unsigned char* data,
                                                            size_t size) {
  auto load = [](const unsigned char* at) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
  };
  // The register's start value (~crc) goes into the first four bytes; from
  // then on the message's polynomial is all that counts.
  __m128i l0 = _mm_xor_si128(load(data), _mm_cvtsi32_si128(static_cast<int>(~crc)));
  __m128i l1 = load(data + 16);
  __m128i l2 = load(data + 32);
  __m128i l3 = load(data + 48);
  data += 64;
  size -= 64;
  const __m128i by512 = fold_by<512>();
  while (size >= 64) {
    l0 = fold(l0, by512, load(data));
    l1 = fold(l1, by512, load(data + 16));
    l2 = fold(l2, by512, load(data + 32));
    l3 = fold(l3, by512, load(data + 48));
    data += 64;
    size -= 64;
  }
  const __m128i by128 = fold_by<128>();
  l1 = fold(l0, by128, l1);
  l2 = fold(l1, by128, l2);
  l3 = fold(l2, by128, l3);
  while (size >= 16) {
    l3 = fold(l3, by128, load(data));
    data += 16;
    size -= 16;
  }
  // These 16 bytes and the rest have the message's CRC from a zero register.
  alignas(16) unsigned char lane[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(lane), l3);
  return zlib_crc32(zlib_crc32(0xffffffff, lane, sizeof lane), data, size);
}

bool has_clmul() {
  static const bool has = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
  return has;
}

#endif

}  // namespace

uint32_t crc32(uint32_t crc, const unsigned char* data, size_t size) {
#if defined(__x86_64__)
  if (size >= 64 && has_clmul()) return clmul_crc32(crc, data, size);
#endif
  return zlib_crc32(crc, data, size);
}

}  // namespace polyarch::image::gzip_blocks
