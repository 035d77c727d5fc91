// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum OP_MSG carries when
// flagBits.checksumPresent is set (OP_MSG.md, "checksum").
#pragma once

#include <cstdint>
#include <span>

namespace mongowire::detail::wire {

// CRC-32C of `data`. crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(std::span<const std::uint8_t> data) noexcept;

// Continues a checksum: crc32c_extend(crc32c(a), b) == crc32c(a followed by b).
std::uint32_t crc32c_extend(std::uint32_t crc, std::span<const std::uint8_t> data) noexcept;

// The two implementations behind crc32c(), exposed so tests can check them against each other.
namespace crc32c_impl {
std::uint32_t software_extend(std::uint32_t crc, std::span<const std::uint8_t> data) noexcept;  // slice-by-8
bool hardware_available() noexcept;                                                             // SSE4.2 crc32
// Only call when hardware_available(); otherwise falls back to software_extend.
std::uint32_t hardware_extend(std::uint32_t crc, std::span<const std::uint8_t> data) noexcept;
}  // namespace crc32c_impl

}  // namespace mongowire::detail::wire
