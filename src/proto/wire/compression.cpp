#include "proto/wire/compression.hpp"

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace mongowire::detail::wire {
namespace {

constexpr std::size_t original_opcode_offset = header_size;
constexpr std::size_t uncompressed_size_offset = header_size + 4;
constexpr std::size_t compressor_offset = header_size + 8;
constexpr std::size_t payload_offset = header_size + compressed_prefix_size;

bool iequals(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

std::string bomb_detail(std::size_t declared) {
  return "payload decompresses to more than the declared uncompressedSize of " + std::to_string(declared) +
         " bytes (refused, not truncated)";
}

std::string size_mismatch_detail(std::size_t got, std::size_t declared) {
  return "payload decompresses to " + std::to_string(got) + " bytes, uncompressedSize declares " +
         std::to_string(declared);
}

}  // namespace

// The compressor contexts, created on first use and reset for every frame.
struct frame_codec::contexts {
  z_stream deflater{};
  z_stream inflater{};
  bool deflater_ready = false;
  bool inflater_ready = false;
  int deflate_level = default_zlib_level;
  ZSTD_CCtx* zstd_compressor = nullptr;
  ZSTD_DCtx* zstd_decompressor = nullptr;

  ~contexts() {
    if (deflater_ready) deflateEnd(&deflater);
    if (inflater_ready) inflateEnd(&inflater);
    ZSTD_freeCCtx(zstd_compressor);
    ZSTD_freeDCtx(zstd_decompressor);
  }

  // Compresses `in` into `dst` (room for the compressor's bound); returns the size, 0 on failure.
  std::size_t compress(compressor_id id, std::span<const std::uint8_t> in, std::uint8_t* dst, std::size_t room,
                       int zlib_level);
  std::size_t zlib_compress(std::span<const std::uint8_t> in, std::uint8_t* dst, std::size_t room, int level);
  // Decompresses into exactly `room` bytes at `dst`; an empty string on success, else why not.
  std::string decompress(compressor_id id, std::span<const std::uint8_t> in, std::uint8_t* dst, std::size_t room);
  std::string zlib_decompress(std::span<const std::uint8_t> in, std::uint8_t* dst, std::size_t room);
  std::string zstd_decompress(std::span<const std::uint8_t> in, std::uint8_t* dst, std::size_t room);
  static std::string snappy_decompress(std::span<const std::uint8_t> in, std::uint8_t* dst, std::size_t room);
};

std::string_view compressor_name(compressor_id id) noexcept {
  switch (id) {
    case compressor_id::noop: return "noop";
    case compressor_id::snappy: return "snappy";
    case compressor_id::zlib: return "zlib";
    case compressor_id::zstd: return "zstd";
  }
  return "unknown";
}

std::optional<compressor_id> compressor_from_name(std::string_view name) noexcept {
  for (auto id : {compressor_id::snappy, compressor_id::zlib, compressor_id::zstd})
    if (name == compressor_name(id)) return id;
  return std::nullopt;
}

bool may_compress(std::string_view command_name) noexcept {
  // Legacy hello is spelled isMaster or ismaster (handshake.md); command names are matched
  // without regard to case as the server does for these.
  static constexpr std::array<std::string_view, 12> never{
      "hello",      "isMaster",   "saslStart",       "saslContinue",   "getnonce", "authenticate",
      "createUser", "updateUser", "copydbSaslStart", "copydbgetnonce", "copydb",   "ismaster"};
  return std::none_of(never.begin(), never.end(), [&](std::string_view n) { return iequals(n, command_name); });
}

std::optional<compressor_id> negotiated_compressor(std::span<const compressor_id> ours, bson::view hello_reply) {
  const auto offered = hello_reply.find("compression").as_array();
  if (!offered) return std::nullopt;
  for (compressor_id id : ours)
    for (const auto& name : *offered)
      if (name.as_string() == compressor_name(id)) return id;
  return std::nullopt;
}

error_code parse_compressed_header(std::span<const std::uint8_t> frame, compressed_header& out, decode_error* err,
                                   std::size_t max_message_size) {
  if (auto ec = check_frame_header(frame, opcode::compressed, max_message_size, out.header, err)) return ec;
  out.original_opcode = load_i32le(frame.data() + original_opcode_offset);
  out.uncompressed_size = load_i32le(frame.data() + uncompressed_size_offset);
  out.compressor = frame[compressor_offset];
  if (out.original_opcode == static_cast<std::int32_t>(opcode::compressed))
    return fail(err, protocol_errc::unknown_opcode, original_opcode_offset,
                "originalOpcode is OP_COMPRESSED: a compressed message cannot wrap another");
  const std::size_t minimum = minimum_message_length(out.original_opcode);
  if (minimum == 0)
    return fail(err, protocol_errc::unknown_opcode, original_opcode_offset,
                "originalOpcode " + std::to_string(out.original_opcode) + " is not a known opcode");
  // The bound is checked before anything is inflated: a hostile size never reaches an allocation.
  const auto declared = static_cast<std::int64_t>(out.uncompressed_size);
  if (declared < static_cast<std::int64_t>(minimum - header_size))
    return fail(err, protocol_errc::message_too_short, uncompressed_size_offset,
                "uncompressedSize " + std::to_string(declared) + " is below the " +
                    std::string(opcode_name(out.original_opcode)) + " minimum of " +
                    std::to_string(minimum - header_size) + " bytes after the header");
  if (static_cast<std::size_t>(declared) + header_size > max_message_size)
    return fail(err, protocol_errc::message_too_long, uncompressed_size_offset,
                "uncompressedSize " + std::to_string(declared) + " plus the header exceeds maxMessageSizeBytes " +
                    std::to_string(max_message_size));
  if (out.compressor > static_cast<std::uint8_t>(compressor_id::zstd))
    return fail(
        err, protocol_errc::compression_unsupported, compressor_offset,
        "compressorId " + std::to_string(out.compressor) + " is not noop (0), snappy (1), zlib (2) or zstd (3)");
  return {};
}

frame_codec::frame_codec() = default;
frame_codec::~frame_codec() = default;
frame_codec::frame_codec(frame_codec&&) noexcept = default;
frame_codec& frame_codec::operator=(frame_codec&&) noexcept = default;

error_code frame_codec::compress(std::span<const std::uint8_t> frame, compressor_id id, std::vector<std::uint8_t>& out,
                                 int zlib_level, std::size_t max_message_size) {
  if (frame.size() < header_size || zlib_level < -1 || zlib_level > 9) return client_errc::invalid_argument;
  if (!ctx_) ctx_ = std::make_unique<contexts>();
  const msg_header h = read_header(frame.data());
  const auto payload = frame.subspan(header_size);
  std::size_t bound = payload.size();
  if (id == compressor_id::snappy) bound = snappy_max_compressed_length(payload.size());
  if (id == compressor_id::zlib) bound = compressBound(static_cast<uLong>(payload.size()));
  if (id == compressor_id::zstd) bound = ZSTD_compressBound(payload.size());
  out.clear();
  append_header(out, h.request_id, h.response_to, opcode::compressed);
  append_i32le(out, h.op_code);
  append_i32le(out, static_cast<std::int32_t>(payload.size()));
  out.push_back(static_cast<std::uint8_t>(id));
  out.resize(payload_offset + bound);
  const std::size_t n = ctx_->compress(id, payload, out.data() + payload_offset, bound, zlib_level);
  if (n == 0 && !payload.empty()) return client_errc::internal_error;  // the compressor's own failure
  out.resize(payload_offset + n);
  if (out.size() > max_message_size || out.size() > static_cast<std::size_t>(INT32_MAX))
    return client_errc::message_too_large;
  patch_message_length(out);
  return {};
}

error_code frame_codec::decompress(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out,
                                   decode_error* err, std::size_t max_message_size,
                                   std::span<const compressor_id> allowed) {
  compressed_header ch;
  if (auto ec = parse_compressed_header(frame, ch, err, max_message_size)) return ec;
  const auto id = static_cast<compressor_id>(ch.compressor);
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), id) == allowed.end())
    return fail(err, protocol_errc::compression_unsupported, compressor_offset,
                "compressorId " + std::to_string(ch.compressor) + " (" + std::string(compressor_name(id)) +
                    ") was not negotiated on this connection");
  if (!ctx_) ctx_ = std::make_unique<contexts>();
  const auto size = static_cast<std::size_t>(ch.uncompressed_size);
  out.clear();
  out.resize(header_size + size);
  write_header(out.data(), {static_cast<std::int32_t>(header_size + size), ch.header.request_id, ch.header.response_to,
                            ch.original_opcode});
  std::string why = ctx_->decompress(id, frame.subspan(payload_offset), out.data() + header_size, size);
  if (!why.empty()) {
    out.clear();
    return fail(err, protocol_errc::decompression_failed, payload_offset,
                std::string(compressor_name(id)) + " " + std::move(why));
  }
  return {};
}

// ---------------------------------------------------------------- compressors

std::size_t frame_codec::contexts::compress(compressor_id id, std::span<const std::uint8_t> in, std::uint8_t* dst,
                                            std::size_t room, int zlib_level) {
  switch (id) {
    case compressor_id::noop:
      if (!in.empty()) std::memcpy(dst, in.data(), in.size());
      return in.size();
    case compressor_id::snappy: {
      std::size_t n = room;
      const bool ok = snappy_compress(reinterpret_cast<const char*>(in.data()), in.size(), reinterpret_cast<char*>(dst),
                                      &n) == SNAPPY_OK;
      return ok ? n : 0;
    }
    case compressor_id::zlib: return zlib_compress(in, dst, room, zlib_level);
    case compressor_id::zstd: {
      if (!zstd_compressor && !(zstd_compressor = ZSTD_createCCtx())) return 0;
      const std::size_t n = ZSTD_compressCCtx(zstd_compressor, dst, room, in.data(), in.size(), ZSTD_CLEVEL_DEFAULT);
      return ZSTD_isError(n) ? 0 : n;
    }
  }
  return 0;
}

std::size_t frame_codec::contexts::zlib_compress(std::span<const std::uint8_t> in, std::uint8_t* dst, std::size_t room,
                                                 int level) {
  if (!deflater_ready) {
    if (deflateInit(&deflater, level) != Z_OK) return 0;
    deflater_ready = true;
    deflate_level = level;
  } else if (deflateReset(&deflater) != Z_OK) {
    return 0;
  }
  if (level != deflate_level) {
    if (deflateParams(&deflater, level, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    deflate_level = level;
  }
  deflater.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct
  deflater.avail_in = static_cast<uInt>(in.size());
  deflater.next_out = dst;
  deflater.avail_out = static_cast<uInt>(room);
  return deflate(&deflater, Z_FINISH) == Z_STREAM_END ? static_cast<std::size_t>(deflater.total_out) : 0;
}

std::string frame_codec::contexts::decompress(compressor_id id, std::span<const std::uint8_t> in, std::uint8_t* dst,
                                              std::size_t room) {
  switch (id) {
    case compressor_id::noop:
      if (in.size() != room) return size_mismatch_detail(in.size(), room);
      if (room != 0) std::memcpy(dst, in.data(), room);
      return {};
    case compressor_id::snappy: return snappy_decompress(in, dst, room);
    case compressor_id::zlib: return zlib_decompress(in, dst, room);
    case compressor_id::zstd: return zstd_decompress(in, dst, room);
  }
  return "is not a known compressor";
}

std::string frame_codec::contexts::snappy_decompress(std::span<const std::uint8_t> in, std::uint8_t* dst,
                                                     std::size_t room) {
  const auto* src = reinterpret_cast<const char*>(in.data());
  std::size_t length = 0;
  if (snappy_uncompressed_length(src, in.size(), &length) != SNAPPY_OK)
    return "payload is corrupt (no valid uncompressed length)";
  if (length > room) return bomb_detail(room);
  if (length != room) return size_mismatch_detail(length, room);
  if (snappy_uncompress(src, in.size(), reinterpret_cast<char*>(dst), &length) != SNAPPY_OK)
    return "payload is corrupt";
  return {};
}

std::string frame_codec::contexts::zlib_decompress(std::span<const std::uint8_t> in, std::uint8_t* dst,
                                                   std::size_t room) {
  if (!inflater_ready) {
    if (inflateInit(&inflater) != Z_OK) return "cannot initialise zlib";
    inflater_ready = true;
  } else if (inflateReset(&inflater) != Z_OK) {
    return "cannot reset zlib";
  }
  inflater.next_in = const_cast<Bytef*>(in.data());
  inflater.avail_in = static_cast<uInt>(in.size());
  inflater.next_out = dst;
  inflater.avail_out = static_cast<uInt>(room);
  const int rc = inflate(&inflater, Z_FINISH);
  const auto produced = static_cast<std::size_t>(inflater.total_out);
  if (rc == Z_STREAM_END) {
    if (inflater.avail_in != 0) return std::to_string(inflater.avail_in) + " bytes follow the end of the zlib stream";
    return produced == room ? std::string() : size_mismatch_detail(produced, room);
  }
  if (rc == Z_BUF_ERROR && inflater.avail_out == 0) return bomb_detail(room);
  if (rc == Z_BUF_ERROR) return "payload is truncated after " + std::to_string(produced) + " decompressed bytes";
  return std::string("payload is corrupt (") + (inflater.msg ? inflater.msg : zError(rc)) + ")";
}

std::string frame_codec::contexts::zstd_decompress(std::span<const std::uint8_t> in, std::uint8_t* dst,
                                                   std::size_t room) {
  if (!zstd_decompressor && !(zstd_decompressor = ZSTD_createDCtx())) return "cannot create a zstd context";
  const std::size_t n = ZSTD_decompressDCtx(zstd_decompressor, dst, room, in.data(), in.size());
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall) return bomb_detail(room);
    return std::string("payload is corrupt (") + ZSTD_getErrorName(n) + ")";
  }
  return n == room ? std::string() : size_mismatch_detail(n, room);
}

}  // namespace mongowire::detail::wire
