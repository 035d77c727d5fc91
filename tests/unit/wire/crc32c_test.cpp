#include <doctest/doctest.h>

#include <random>
#include <string_view>
#include <vector>

#include "proto/wire/crc32c.hpp"

using namespace mongowire::detail::wire;

namespace {
std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
// Bit-at-a-time reference, independent of both table and SSE4.2 paths.
std::uint32_t bitwise_crc32c(std::span<const std::uint8_t> data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t b : data) {
    c ^= b;
    for (int i = 0; i < 8; ++i) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}
}  // namespace

TEST_CASE("crc32c: check value of \"123456789\" is 0xE3069283") {
  CHECK(crc32c(as_bytes("123456789")) == 0xE3069283u);
  CHECK(crc32c_impl::software_extend(0, as_bytes("123456789")) == 0xE3069283u);
  CHECK(crc32c_impl::hardware_extend(0, as_bytes("123456789")) == 0xE3069283u);
}

TEST_CASE("crc32c: RFC 3720 (iSCSI) B.4 test vectors") {
  std::vector<std::uint8_t> zeros(32, 0), ones(32, 0xFF), ascending(32), descending(32);
  for (std::uint8_t i = 0; i < 32; ++i) {
    ascending[i] = i;
    descending[i] = static_cast<std::uint8_t>(31 - i);
  }
  CHECK(crc32c(zeros) == 0x8A9136AAu);
  CHECK(crc32c(ones) == 0x62A8AB43u);
  CHECK(crc32c(ascending) == 0x46DD794Eu);
  CHECK(crc32c(descending) == 0x113FDB5Cu);
  CHECK(crc32c({}) == 0u);
}

TEST_CASE("crc32c: extend over split input equals one pass") {
  auto data = as_bytes("The quick brown fox jumps over the lazy dog");
  for (std::size_t cut = 0; cut <= data.size(); ++cut)
    CHECK(crc32c_extend(crc32c(data.first(cut)), data.subspan(cut)) == crc32c(data));
}

TEST_CASE("crc32c: table and hardware paths agree with a bitwise reference at every length and alignment") {
  std::mt19937 rng(12345);
  std::vector<std::uint8_t> buf(300);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  for (std::size_t start = 0; start < 8; ++start)
    for (std::size_t len = 0; len + start <= buf.size(); len += 7) {
      auto piece = std::span<const std::uint8_t>(buf).subspan(start, len);
      std::uint32_t want = bitwise_crc32c(piece);
      REQUIRE(crc32c_impl::software_extend(0, piece) == want);
      REQUIRE(crc32c_impl::hardware_extend(0, piece) == want);
    }
}
