#pragma once
// CRC-32 (gzip's) for GzipWriter's blocks (internal to it): carry-less
// multiplication where the CPU has it, zlib's crc32_z elsewhere.

#include <cstddef>
#include <cstdint>

namespace polyarch::image::gzip_blocks {

// Returns the CRC-32 of data following a CRC of `crc` (0 to start), as
// zlib's crc32_z() does, with the same result on every CPU.
uint32_t crc32(uint32_t crc, const unsigned char* data, size_t size);

}  // namespace polyarch::image::gzip_blocks
