#include "proto/wire/frame_decoder.hpp"

#include <climits>
#include <cstring>

namespace mongowire::detail::wire {

frame_decoder::frame_decoder(std::size_t max_message_size) { set_max_message_size(max_message_size); }

void frame_decoder::set_max_message_size(std::size_t bytes) noexcept {
  max_message_size_ = bytes > static_cast<std::size_t>(INT32_MAX) ? static_cast<std::size_t>(INT32_MAX) : bytes;
}

void frame_decoder::consume_returned_frame() noexcept {
  if (!frame_returned_) return;
  begin_ += frame_size_;
  stream_offset_ += frame_size_;
  frame_size_ = 0;
  frame_returned_ = false;
}

void frame_decoder::compact() noexcept {
  if (begin_ == 0) return;
  std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
}

std::span<std::uint8_t> frame_decoder::prepare(std::size_t n) {
  // The caller is done with the frame once it asks for room: its bytes can be reused.
  consume_returned_frame();
  if (begin_ == end_) begin_ = end_ = 0;
  if (buffer_.size() - end_ < n) compact();
  if (buffer_.size() - end_ < n) buffer_.resize(end_ + n);
  return {buffer_.data() + end_, n};
}

void frame_decoder::commit(std::size_t n) noexcept {
  std::size_t room = buffer_.size() - end_;
  end_ += n < room ? n : room;
}

void frame_decoder::feed(std::span<const std::uint8_t> bytes) {
  if (error_.code || bytes.empty()) return;
  auto room = prepare(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

decode_status frame_decoder::set_error(protocol_errc code, std::size_t offset, std::string detail) {
  fail(&error_, code, offset, "frame at stream byte " + std::to_string(stream_offset_) + ": " + std::move(detail));
  return decode_status::error;
}

// Runs as soon as 16 bytes are buffered, so that a hostile length is refused before the
// body is read.
decode_status frame_decoder::check_header() {
  msg_header h = read_header(buffer_.data() + begin_);
  if (h.message_length < static_cast<std::int32_t>(header_size))
    return set_error(protocol_errc::message_too_short, 0,
                     "messageLength " + std::to_string(h.message_length) + " is smaller than the 16-byte header");
  auto length = static_cast<std::size_t>(h.message_length);
  if (length > max_message_size_)
    return set_error(protocol_errc::message_too_long, 0,
                     "messageLength " + std::to_string(length) + " exceeds maxMessageSizeBytes " +
                         std::to_string(max_message_size_));
  // OP_COMPRESSED needs a compressor offered in the handshake.
  if (h.op_code == static_cast<std::int32_t>(opcode::compressed) && !accept_compressed_)
    return set_error(protocol_errc::compression_unsupported, 12,
                     "OP_COMPRESSED received but no compressor was negotiated");
  std::size_t minimum = minimum_message_length(h.op_code);
  if (minimum == 0) return set_error(protocol_errc::unknown_opcode, 12, "unknown opCode " + std::to_string(h.op_code));
  if (length < minimum)
    return set_error(protocol_errc::message_too_short, 0,
                     "messageLength " + std::to_string(length) + " is below the " +
                         std::string(opcode_name(h.op_code)) + " minimum of " + std::to_string(minimum));
  frame_size_ = length;
  return decode_status::need_more;
}

decode_status frame_decoder::next() {
  if (error_.code) return decode_status::error;
  consume_returned_frame();
  if (frame_size_ == 0) {
    if (buffered() < header_size) return decode_status::need_more;
    if (check_header() == decode_status::error) return decode_status::error;
  }
  if (buffered() < frame_size_) return decode_status::need_more;
  frame_returned_ = true;
  return decode_status::frame_ready;
}

std::span<const std::uint8_t> frame_decoder::frame() const noexcept {
  if (!frame_returned_) return {};
  return {buffer_.data() + begin_, frame_size_};
}

std::size_t frame_decoder::bytes_needed() const noexcept {
  if (error_.code) return 0;
  std::size_t have = frame_returned_ ? buffered() - frame_size_ : buffered();
  std::size_t want = (frame_size_ == 0 || frame_returned_) ? header_size : frame_size_;
  return have >= want ? 0 : want - have;
}

void frame_decoder::reset() noexcept {
  begin_ = end_ = frame_size_ = stream_offset_ = 0;
  frame_returned_ = false;
  error_ = {};
}

}  // namespace mongowire::detail::wire
