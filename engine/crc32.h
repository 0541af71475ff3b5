// CRC-32 (IEEE 802.3, the zlib/PNG polynomial), for model files and checkpoints.
#pragma once
#include <cstddef>
#include <cstdint>

namespace convoy {
uint32_t crc32(const void* data, std::size_t size, uint32_t crc = 0);
}
