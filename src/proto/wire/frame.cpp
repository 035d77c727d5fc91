#include "proto/wire/frame.hpp"

namespace mongowire::detail::wire {

std::string_view opcode_name(std::int32_t op_code) noexcept {
  switch (static_cast<opcode>(op_code)) {
    case opcode::reply: return "OP_REPLY";
    case opcode::query: return "OP_QUERY";
    case opcode::compressed: return "OP_COMPRESSED";
    case opcode::msg: return "OP_MSG";
  }
  return {};
}

std::size_t minimum_message_length(std::int32_t op_code) noexcept {
  switch (static_cast<opcode>(op_code)) {
    case opcode::msg: return header_size + 4 + 1;
    case opcode::reply: return header_size + 4 + 8 + 4 + 4;
    case opcode::query: return header_size + 4 + 1 + 4 + 4 + 5;
    case opcode::compressed: return header_size + 4 + 4 + 1;  // originalOpcode, uncompressedSize, compressorId
  }
  return 0;
}

msg_header read_header(const std::uint8_t* p) noexcept {
  return {load_i32le(p), load_i32le(p + 4), load_i32le(p + 8), load_i32le(p + 12)};
}

void write_header(std::uint8_t* p, const msg_header& h) noexcept {
  store_i32le(p, h.message_length);
  store_i32le(p + 4, h.request_id);
  store_i32le(p + 8, h.response_to);
  store_i32le(p + 12, h.op_code);
}

void append_header(std::vector<std::uint8_t>& out, std::int32_t request_id, std::int32_t response_to, opcode op) {
  std::uint8_t h[header_size];
  write_header(h, {0, request_id, response_to, static_cast<std::int32_t>(op)});
  out.insert(out.end(), h, h + header_size);
}

void patch_message_length(std::vector<std::uint8_t>& out) noexcept {
  store_i32le(out.data(), static_cast<std::int32_t>(out.size()));
}

std::string decode_error::message() const {
  return code.message() + " at byte " + std::to_string(offset) + ": " + detail;
}

error_code fail(decode_error* err, error_code code, std::size_t offset, std::string detail) {
  if (err != nullptr) {
    err->code = code;
    err->offset = offset;
    err->detail = std::move(detail);
  }
  return code;
}

error_code check_frame_header(std::span<const std::uint8_t> frame, opcode expected, std::size_t max, msg_header& h,
                              decode_error* err) {
  if (frame.size() < header_size)
    return fail(err, protocol_errc::short_header, frame.size(),
                "only " + std::to_string(frame.size()) + " bytes, a message header needs 16");
  h = read_header(frame.data());
  auto want = static_cast<std::int32_t>(expected);
  if (h.op_code != want)
    return fail(err, protocol_errc::unknown_opcode, 12,
                "opCode " + std::to_string(h.op_code) + " is not " + std::string(opcode_name(want)));
  std::size_t minimum = minimum_message_length(want);
  if (h.message_length < static_cast<std::int32_t>(minimum))
    return fail(err, protocol_errc::message_too_short, 0,
                "messageLength " + std::to_string(h.message_length) + " is below the " +
                    std::string(opcode_name(want)) + " minimum of " + std::to_string(minimum));
  auto length = static_cast<std::size_t>(h.message_length);
  if (length > max)
    return fail(err, protocol_errc::message_too_long, 0,
                "messageLength " + std::to_string(length) + " exceeds maxMessageSizeBytes " + std::to_string(max));
  if (frame.size() < length)
    return fail(err, protocol_errc::message_too_short, frame.size(),
                "frame holds " + std::to_string(frame.size()) + " of the " + std::to_string(length) +
                    " bytes messageLength declares");
  if (frame.size() > length)
    return fail(err, protocol_errc::trailing_bytes, length,
                std::to_string(frame.size() - length) + " bytes follow the end declared by messageLength");
  return {};
}

}  // namespace mongowire::detail::wire
