// Incremental frame decoder: bytes arrive in arbitrary chunks, whole frames come out.
// Sans-I/O: the I/O layer reads into prepare(), commits, then calls next() until it
// answers need_more. Only the framing (header) is checked here; parse the returned frame
// with op_msg_view::parse / parse_op_reply / parse_op_query.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "proto/wire/frame.hpp"

namespace mongowire::detail::wire {

enum class decode_status { frame_ready, need_more, error };

class frame_decoder {
 public:
  explicit frame_decoder(std::size_t max_message_size = default_max_message_size);

  // maxMessageSizeBytes from the hello reply; applies to frames whose header is not yet
  // checked. Clamped to INT32_MAX.
  void set_max_message_size(std::size_t bytes) noexcept;
  std::size_t max_message_size() const noexcept { return max_message_size_; }
  // OP_COMPRESSED frames are framing errors (compression_unsupported) until compression was
  // offered or negotiated (OP_COMPRESSED.md); then they come out like any other frame, to be
  // unwrapped with frame_codec::decompress.
  void set_accept_compressed(bool accept) noexcept { accept_compressed_ = accept; }
  bool accepts_compressed() const noexcept { return accept_compressed_; }

  // Writable space of exactly `n` bytes after the buffered ones (may move buffered bytes
  // to the front or grow the buffer; invalidates the last frame()). Then commit() how many
  // bytes were actually written (<= n).
  std::span<std::uint8_t> prepare(std::size_t n);
  void commit(std::size_t n) noexcept;
  // prepare + copy + commit. Ignored once the decoder is in error.
  void feed(std::span<const std::uint8_t> bytes);

  // Consumes the previous frame, then: frame_ready (see frame()), need_more (see
  // bytes_needed()), or error (sticky: see error() / diagnostic()). Checks messageLength
  // against the maximum as soon as the header is complete, before the body is buffered.
  decode_status next();

  // The current frame, header included; valid until the next call to next/prepare/feed.
  std::span<const std::uint8_t> frame() const noexcept;
  // Header of the current frame (all zero when no frame is ready).
  msg_header header() const noexcept { return frame_returned_ ? read_header(buffer_.data() + begin_) : msg_header{}; }
  // Bytes still missing for the header, or for the frame once the header is known.
  std::size_t bytes_needed() const noexcept;
  // Bytes received and not yet returned as a frame (a non-zero value at EOF means the
  // peer closed mid-frame).
  std::size_t buffered() const noexcept { return end_ - begin_; }

  error_code error() const noexcept { return error_.code; }
  const decode_error& diagnostic() const noexcept { return error_; }
  // Forgets buffered bytes and any error (e.g. when the connection is re-established).
  void reset() noexcept;

 private:
  decode_status check_header();
  void consume_returned_frame() noexcept;
  decode_status set_error(protocol_errc code, std::size_t offset, std::string detail);
  void compact() noexcept;

  std::vector<std::uint8_t> buffer_;  // buffer_.size() is the capacity in use
  std::size_t begin_ = 0;             // first unconsumed byte
  std::size_t end_ = 0;               // one past the last committed byte
  std::size_t frame_size_ = 0;        // size of the frame at begin_, 0 until its header is checked
  bool frame_returned_ = false;       // frame at begin_ was handed out: consume it on next()
  std::size_t stream_offset_ = 0;     // bytes consumed since construction, for diagnostics
  std::size_t max_message_size_;
  bool accept_compressed_ = false;
  decode_error error_;
};

}  // namespace mongowire::detail::wire
