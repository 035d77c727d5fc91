// Test helper: sends a command through the one kind-1 path the connection uses
// (find_document_sequence + op_msg_encoder::body_without), then reads the frame back.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "proto/command/command_builder.hpp"
#include "proto/wire/op_msg.hpp"

namespace mongowire::detail {

// `rest` receives the kind-0 body as it went on the wire; the result is the sequence taken
// out of `body` (viewing into it), nullopt when the command has none.
inline std::optional<document_sequence_ref> encode_with_sequence(bson::view body, bson::document& rest) {
  std::vector<std::uint8_t> frame;
  wire::op_msg_encoder enc(frame);
  enc.begin(1);
  auto seq = find_document_sequence(body);
  if (seq) {
    enc.body_without(body, seq->identifier);
    enc.add_sequence_from_array(seq->identifier, seq->array);
  } else {
    enc.body(body);
  }
  rest.clear();
  wire::op_msg_view msg;
  if (enc.finish() || wire::op_msg_view::parse(enc.frame(), msg)) return std::nullopt;
  rest.concat(msg.body());
  return seq;
}

}  // namespace mongowire::detail
