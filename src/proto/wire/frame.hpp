// Message header, opcodes, OP_MSG flag bits and little-endian helpers shared by every
// wire codec (MongoDB wire protocol "Standard Message Header"; OP_MSG.md).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mongowire/error.hpp"

namespace mongowire::detail::wire {

inline constexpr std::size_t header_size = 16;
// Server default of maxMessageSizeBytes; the real value comes from the hello reply.
inline constexpr std::size_t default_max_message_size = 48'000'000;

enum class opcode : std::int32_t { reply = 1, query = 2004, compressed = 2012, msg = 2013 };

// "OP_MSG", "OP_QUERY", ... or "" for an opcode we do not know.
std::string_view opcode_name(std::int32_t op_code) noexcept;

// Smallest messageLength that can hold the fixed part of each opcode (header included):
// OP_MSG header + flagBits + one section kind byte; OP_REPLY its 20 fixed bytes;
// OP_QUERY flags + "" + skip + return + an empty document. 0 for unknown opcodes.
std::size_t minimum_message_length(std::int32_t op_code) noexcept;

struct msg_header {
  std::int32_t message_length = 0;
  std::int32_t request_id = 0;
  std::int32_t response_to = 0;
  std::int32_t op_code = 0;
  friend bool operator==(const msg_header&, const msg_header&) = default;
};

// OP_MSG flagBits (OP_MSG.md, "flagBits"). Bits 0-15 are required: a receiver must
// reject a message carrying one it does not know. Bits 16-31 are optional.
namespace msg_flag {
inline constexpr std::uint32_t checksum_present = 1u << 0;
inline constexpr std::uint32_t more_to_come = 1u << 1;
inline constexpr std::uint32_t exhaust_allowed = 1u << 16;
inline constexpr std::uint32_t required_bits = 0x0000FFFFu;
inline constexpr std::uint32_t known_required_bits = checksum_present | more_to_come;
}  // namespace msg_flag

// ---- little-endian helpers (the wire is little-endian whatever the host) ----
inline std::uint32_t load_u32le(const std::uint8_t* p) noexcept {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}
inline std::int32_t load_i32le(const std::uint8_t* p) noexcept { return static_cast<std::int32_t>(load_u32le(p)); }
inline std::int64_t load_i64le(const std::uint8_t* p) noexcept {
  return static_cast<std::int64_t>(std::uint64_t(load_u32le(p)) | std::uint64_t(load_u32le(p + 4)) << 32);
}
inline void store_u32le(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = std::uint8_t(v);
  p[1] = std::uint8_t(v >> 8);
  p[2] = std::uint8_t(v >> 16);
  p[3] = std::uint8_t(v >> 24);
}
inline void store_i32le(std::uint8_t* p, std::int32_t v) noexcept { store_u32le(p, static_cast<std::uint32_t>(v)); }
inline void append_u32le(std::vector<std::uint8_t>& out, std::uint32_t v) {
  std::uint8_t b[4];
  store_u32le(b, v);
  out.insert(out.end(), b, b + 4);
}
inline void append_i32le(std::vector<std::uint8_t>& out, std::int32_t v) {
  append_u32le(out, static_cast<std::uint32_t>(v));
}
inline void append_i64le(std::vector<std::uint8_t>& out, std::int64_t v) {
  auto u = static_cast<std::uint64_t>(v);
  append_u32le(out, static_cast<std::uint32_t>(u));
  append_u32le(out, static_cast<std::uint32_t>(u >> 32));
}
inline void append_bytes(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}
// Appends `s` and its NUL terminator (a BSON/wire "cstring").
inline void append_cstring(std::vector<std::uint8_t>& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
  out.push_back(0);
}

// Reads the 16-byte header at `p` (the caller guarantees 16 readable bytes).
msg_header read_header(const std::uint8_t* p) noexcept;
void write_header(std::uint8_t* p, const msg_header& h) noexcept;
// Appends a header whose messageLength is patched later by patch_message_length().
void append_header(std::vector<std::uint8_t>& out, std::int32_t request_id, std::int32_t response_to, opcode op);
// Sets messageLength of the frame starting at out[0] to out.size().
void patch_message_length(std::vector<std::uint8_t>& out) noexcept;

// What was wrong with a frame, and where. Building the detail string allocates, but only
// on the error path.
struct decode_error {
  error_code code;         // a protocol_errc (or client_errc for encoder misuse)
  std::size_t offset = 0;  // byte offset inside the frame where the problem was found
  std::string detail;      // human explanation, e.g. "section kind 7 is neither 0 nor 1"

  // "<category message> at byte <offset>: <detail>"
  std::string message() const;
};

// The checks every parser makes first: a whole header, the expected opcode, a plausible
// messageLength within `max`, and a frame of exactly messageLength bytes. Fills `h`.
error_code check_frame_header(std::span<const std::uint8_t> frame, opcode expected, std::size_t max, msg_header& h,
                              decode_error* err);

// Fills `err` (when given) and returns its code: the one-liner every parser uses to fail.
error_code fail(decode_error* err, error_code code, std::size_t offset, std::string detail);

}  // namespace mongowire::detail::wire
