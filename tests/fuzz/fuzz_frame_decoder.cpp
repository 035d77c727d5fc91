// libFuzzer target: arbitrary bytes through the incremental frame decoder, in chunk sizes
// taken from the input itself, then every frame through its parser and describe_frame.
#include <cstddef>
#include <cstdint>
#include <span>

#include "proto/wire/describe.hpp"
#include "proto/wire/frame_decoder.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

namespace wire = mongowire::detail::wire;

namespace {

void parse_frame(std::span<const std::uint8_t> frame) {
  wire::decode_error err;
  switch (static_cast<wire::opcode>(wire::read_header(frame.data()).op_code)) {
    case wire::opcode::msg: {
      wire::op_msg_view msg;
      if (!wire::op_msg_view::parse(frame, msg, &err)) {
        // Walk everything a consumer would read, to catch over-reads in the trusted paths.
        (void)msg.body().count();
        for (wire::document_sequence seq : msg.sequences())
          for (mongowire::bson::view doc : seq) (void)doc.count();
      }
      break;
    }
    case wire::opcode::reply: {
      wire::op_reply_view r;
      if (!wire::parse_op_reply(frame, r, &err)) (void)r.first_document.count();
      break;
    }
    case wire::opcode::query: {
      wire::op_query_view q;
      if (!wire::parse_op_query(frame, q, &err)) (void)q.query.count();
      break;
    }
    default: break;
  }
  (void)wire::describe_frame(frame, 1 << 20);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the chunk size, so that split headers and bodies are explored.
  std::size_t chunk = 1 + data[0] % 64;
  std::span<const std::uint8_t> input(data + 1, size - 1);
  wire::frame_decoder decoder(1 << 20);
  (void)wire::describe_frame(input, 1 << 20);  // the raw input as if it were one frame
  for (std::size_t pos = 0; pos < input.size(); pos += chunk) {
    decoder.feed(input.subspan(pos, chunk < input.size() - pos ? chunk : input.size() - pos));
    wire::decode_status status;
    while ((status = decoder.next()) == wire::decode_status::frame_ready) parse_frame(decoder.frame());
    if (status == wire::decode_status::error) break;
  }
  return 0;
}
