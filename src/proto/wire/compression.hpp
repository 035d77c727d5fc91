// OP_COMPRESSED (compression/OP_COMPRESSED.md): compressor ids and names, the commands that
// must never be compressed, and a sans-I/O codec that wraps a whole frame into OP_COMPRESSED
// and unwraps it again. Decompression trusts nothing: the declared uncompressedSize is bounded
// by maxMessageSizeBytes before any byte is inflated, and the payload must decompress to
// exactly that many bytes (a payload that would grow larger is refused, not truncated).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/wire/frame.hpp"

namespace mongowire::detail::wire {

// OP_COMPRESSED.md "Compressor IDs".
enum class compressor_id : std::uint8_t { noop = 0, snappy = 1, zlib = 2, zstd = 3 };

// "noop", "snappy", "zlib", "zstd".
std::string_view compressor_name(compressor_id id) noexcept;
// The handshake value of a compressor this build can negotiate (snappy, zlib, zstd; exact
// lower-case names as the spec's table gives them), or nullopt.
std::optional<compressor_id> compressor_from_name(std::string_view name) noexcept;

// OP_COMPRESSED.md "Messages not allowed to be compressed": hello, legacy hello and the
// authentication and user management commands. `command_name` is the body's first key.
bool may_compress(std::string_view command_name) noexcept;

// OP_COMPRESSED.md "MongoDB Handshake Amendment": the first of `ours` (the client's
// priority order) that the hello reply's `compression` array names; nullopt when the reply
// has none in common (not an error).
std::optional<compressor_id> negotiated_compressor(std::span<const compressor_id> ours, bson::view hello_reply);

// zlibCompressionLevel: -1 (zlib's default) to 9.
inline constexpr int default_zlib_level = -1;

// Size of the OP_COMPRESSED fields after the header: originalOpcode, uncompressedSize, compressorId.
inline constexpr std::size_t compressed_prefix_size = 4 + 4 + 1;

struct compressed_header {
  msg_header header;
  std::int32_t original_opcode = 0;
  std::int32_t uncompressed_size = 0;
  std::uint8_t compressor = 0;
};

// Checks the fixed part of an OP_COMPRESSED frame (header, originalOpcode, uncompressedSize
// within max_message_size, a known compressorId) without decompressing anything.
error_code parse_compressed_header(std::span<const std::uint8_t> frame, compressed_header& out, decode_error* err,
                                   std::size_t max_message_size = default_max_message_size);

// Keeps the zlib and zstd contexts between frames, so that a warm connection compresses and
// decompresses without allocating. One per connection; not thread-safe.
class frame_codec {
 public:
  frame_codec();
  ~frame_codec();
  frame_codec(frame_codec&&) noexcept;
  frame_codec& operator=(frame_codec&&) noexcept;

  // Clears `out` (keeping its capacity) and writes `frame` (a whole message, header
  // included) as OP_COMPRESSED with the same requestID and responseTo.
  // client_errc::message_too_large when the result exceeds max_message_size.
  error_code compress(std::span<const std::uint8_t> frame, compressor_id id, std::vector<std::uint8_t>& out,
                      int zlib_level = default_zlib_level, std::size_t max_message_size = default_max_message_size);

  // Clears `out` and writes the original message of the OP_COMPRESSED `frame`: a 16-byte
  // header (messageLength 16 + uncompressedSize, the same requestID and responseTo,
  // opCode = originalOpcode) then the decompressed bytes. `allowed` non-empty: a compressorId
  // outside it is compression_unsupported (a server accepts only what it negotiated).
  error_code decompress(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out,
                        decode_error* err = nullptr, std::size_t max_message_size = default_max_message_size,
                        std::span<const compressor_id> allowed = {});

 private:
  struct contexts;
  std::unique_ptr<contexts> ctx_;
};

}  // namespace mongowire::detail::wire
