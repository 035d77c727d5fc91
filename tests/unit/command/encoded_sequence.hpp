// Test helper: sends a command through the kind-1 path the connection uses
// (find_document_sequences + add_command_sections), then reads the frame back.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "proto/command/command_builder.hpp"
#include "proto/wire/op_msg.hpp"

namespace mongowire::detail {

// `rest` receives the kind-0 body as it went on the wire; the result is the first sequence
// taken out of `body` (viewing into it), nullopt when the command has none.
inline std::optional<document_sequence_ref> encode_with_sequence(bson::view body, bson::document& rest) {
  std::vector<std::uint8_t> frame;
  wire::op_msg_encoder enc(frame);
  enc.begin(1);
  auto seqs = find_document_sequences(body);
  add_command_sections(enc, body, seqs);
  rest.clear();
  wire::op_msg_view msg;
  if (enc.finish() || wire::op_msg_view::parse(enc.frame(), msg)) return std::nullopt;
  rest.concat(msg.body());
  if (!seqs) return std::nullopt;
  return seqs->items[0];
}

}  // namespace mongowire::detail
