// libFuzzer target: arbitrary bytes as an OP_COMPRESSED frame (header patched so that the
// fuzzer spends its time in the payload), decompressed with the compressorId it names; a
// frame that decompresses is parsed as its original opcode and compressed back again.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "proto/wire/compression.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

namespace wire = mongowire::detail::wire;

namespace {

constexpr std::size_t max_message = 1 << 20;

void parse_original(std::span<const std::uint8_t> frame) {
  wire::decode_error err;
  const auto op = static_cast<wire::opcode>(wire::read_header(frame.data()).op_code);
  if (op == wire::opcode::msg) {
    wire::op_msg_view msg;
    if (!wire::op_msg_view::parse(frame, msg, &err, max_message)) (void)msg.body().count();
  } else if (op == wire::opcode::reply) {
    wire::op_reply_view r;
    if (!wire::parse_op_reply(frame, r, &err, max_message)) (void)r.first_document.count();
  } else if (op == wire::opcode::query) {
    wire::op_query_view q;
    if (!wire::parse_op_query(frame, q, &err, max_message)) (void)q.query.count();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static wire::frame_codec codec;  // reused like a connection's, to exercise the context resets
  std::vector<std::uint8_t> frame(data, data + size);
  if (frame.size() >= wire::header_size) {
    // The first byte decides whether the header is kept as given or made consistent.
    if (frame[0] & 1) {
      wire::store_i32le(frame.data(), static_cast<std::int32_t>(frame.size()));
      wire::store_i32le(frame.data() + 12, static_cast<std::int32_t>(wire::opcode::compressed));
    }
  }
  std::vector<std::uint8_t> original, again;
  wire::decode_error err;
  if (codec.decompress(frame, original, &err, max_message)) return 0;
  parse_original(original);
  const auto id = static_cast<wire::compressor_id>(frame[wire::header_size + 8]);
  if (codec.compress(original, id, again, wire::default_zlib_level, max_message)) return 0;
  std::vector<std::uint8_t> round_trip;
  if (codec.decompress(again, round_trip, &err, max_message) || round_trip != original) __builtin_trap();
  return 0;
}
