#include "proto/wire/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define MW_CRC32C_X86 1
#endif

namespace mongowire::detail::wire {
namespace {

constexpr std::uint32_t castagnoli_reflected = 0x82F63B78u;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC of byte b followed
// by k zero bytes, which lets slice-by-8 fold eight input bytes per step.
using slice_tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr slice_tables make_tables() {
  slice_tables t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t c = b;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? (c >> 1) ^ castagnoli_reflected : c >> 1;
    t[0][b] = c;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  return t;
}

constexpr slice_tables tables = make_tables();

std::uint32_t load_le32(const std::uint8_t* p) noexcept {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

#ifdef MW_CRC32C_X86
__attribute__((target("sse4.2"))) std::uint32_t sse42_extend(std::uint32_t crc, const std::uint8_t* p,
                                                             std::size_t n) noexcept {
  std::uint64_t c = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // x86 is little-endian, as the CRC expects
    c = _mm_crc32_u64(c, word);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}
#endif

}  // namespace

namespace crc32c_impl {

std::uint32_t software_extend(std::uint32_t crc, std::span<const std::uint8_t> data) noexcept {
  std::uint32_t c = ~crc;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint32_t lo = load_le32(p) ^ c;
    std::uint32_t hi = load_le32(p + 4);
    c = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^ tables[4][lo >> 24] ^
        tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^ tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
  }
  for (; n > 0; ++p, --n) c = (c >> 8) ^ tables[0][(c ^ *p) & 0xFF];
  return ~c;
}

bool hardware_available() noexcept {
#ifdef MW_CRC32C_X86
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

std::uint32_t hardware_extend(std::uint32_t crc, std::span<const std::uint8_t> data) noexcept {
#ifdef MW_CRC32C_X86
  if (hardware_available()) return sse42_extend(crc, data.data(), data.size());
#endif
  return software_extend(crc, data);
}

}  // namespace crc32c_impl

std::uint32_t crc32c_extend(std::uint32_t crc, std::span<const std::uint8_t> data) noexcept {
  return crc32c_impl::hardware_extend(crc, data);
}

std::uint32_t crc32c(std::span<const std::uint8_t> data) noexcept { return crc32c_extend(0, data); }

}  // namespace mongowire::detail::wire
