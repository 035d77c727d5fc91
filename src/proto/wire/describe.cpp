#include "proto/wire/describe.hpp"

#include <fmt/format.h>

#include <iterator>

#include "proto/wire/compression.hpp"
#include "proto/wire/field_notes.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

namespace mongowire::detail::wire {
namespace {

using out_it = std::back_insert_iterator<std::string>;

void describe_header(out_it out, const msg_header& h) {
  std::string_view name = opcode_name(h.op_code);
  fmt::format_to(out, "header (16 bytes)\n");
  fmt::format_to(out, "  messageLength {}\n  requestID     {}\n  responseTo    {}\n", h.message_length, h.request_id,
                 h.response_to);
  fmt::format_to(out, "  opCode        {} ({})\n", h.op_code, name.empty() ? "unknown" : name);
}

std::string msg_flag_names(std::uint32_t flags) {
  std::string names;
  for (int b = 0; b < 32; ++b) {
    std::uint32_t bit = 1u << b;
    if ((flags & bit) == 0) continue;
    if (!names.empty()) names += " | ";
    if (bit == msg_flag::checksum_present) names += "checksumPresent";
    else if (bit == msg_flag::more_to_come) names += "moreToCome";
    else if (bit == msg_flag::exhaust_allowed) names += "exhaustAllowed";
    else
      names += fmt::format("bit{}({})", b, (bit & msg_flag::required_bits) ? "unknown required" : "unknown optional");
  }
  return names.empty() ? "none" : names;
}

std::string reply_flag_names(std::int32_t flags) {
  static constexpr const char* names[] = {"CursorNotFound", "QueryFailure", "ShardConfigStale", "AwaitCapable"};
  std::string s;
  for (int b = 0; b < 32; ++b) {
    if ((static_cast<std::uint32_t>(flags) & (1u << b)) == 0) continue;
    if (!s.empty()) s += " | ";
    s += b < 4 ? names[b] : fmt::format("bit{}", b);
  }
  return s.empty() ? "none" : s;
}

// Each notable field with its meaning and the spec section it comes from.
void describe_notes(out_it out, bson::view body, bool reply) {
  const std::vector<field_note> notes = reply ? explain_reply(body) : explain_command(body);
  for (const field_note& n : notes)
    fmt::format_to(out, "  - {} = {}\n      {}; {}\n", n.path, n.value, n.meaning, n.source);
}

void describe_op_msg(out_it out, const op_msg_view& msg) {
  fmt::format_to(out, "flagBits 0x{:08x}: {}\n", msg.flag_bits(), msg_flag_names(msg.flag_bits()));
  std::span<const std::uint8_t> frame = msg.frame();
  std::size_t end = frame.size() - (msg.checksum_present() ? 4 : 0);
  std::size_t index = 0;
  for (std::size_t pos = header_size + 4; pos < end; ++index) {
    std::uint32_t size = load_u32le(frame.data() + pos + 1);
    if (frame[pos] == 0) {
      bson::view body(frame.data() + pos + 1, size);
      fmt::format_to(out, "section {} at byte {}: kind 0 (body), document of {} bytes\n  {}\n", index, pos, size,
                     body.to_json());
      describe_notes(out, body, msg.header().response_to != 0);
    } else {
      document_sequence seq = *op_msg_view::sequence_iterator(frame.data(), pos, end);
      fmt::format_to(out,
                     "section {} at byte {}: kind 1 (document sequence), size {}, identifier \"{}\", {} document(s): "
                     "the command's array argument \"{}\" as a payload (OP_MSG.md \"Command Arguments As Payload\")\n",
                     index, pos, size, seq.identifier(), seq.size(), seq.identifier());
      std::size_t i = 0;
      for (bson::view d : seq) fmt::format_to(out, "  [{}] {}\n", i++, d.to_json());
    }
    pos += 1 + size;
  }
  if (auto crc = msg.checksum()) fmt::format_to(out, "checksum 0x{:08x} (CRC-32C, verified)\n", *crc);
  else fmt::format_to(out, "no checksum\n");
}

void describe_op_query(out_it out, const op_query_view& q) {
  fmt::format_to(out, "flags 0x{:08x}\nfullCollectionName \"{}\"\nnumberToSkip {}\nnumberToReturn {}\nquery {}\n",
                 static_cast<std::uint32_t>(q.flags), q.full_collection_name, q.number_to_skip, q.number_to_return,
                 q.query.to_json());
  describe_notes(out, q.query, false);
  if (q.return_fields_selector) fmt::format_to(out, "returnFieldsSelector {}\n", q.return_fields_selector->to_json());
}

void describe_op_reply(out_it out, const op_reply_view& r) {
  fmt::format_to(out, "responseFlags 0x{:08x}: {}\ncursorID {}\nstartingFrom {}\nnumberReturned {}\ndocument[0] {}\n",
                 static_cast<std::uint32_t>(r.response_flags), reply_flag_names(r.response_flags), r.cursor_id,
                 r.starting_from, r.number_returned, r.first_document.to_json());
  describe_notes(out, r.first_document, true);
}

error_code describe_body(out_it out, std::span<const std::uint8_t> frame, std::int32_t op_code, std::size_t max,
                         decode_error& err);

// OP_COMPRESSED.md: the wrapped message is shown as if it had been sent uncompressed.
error_code describe_compressed(out_it out, std::span<const std::uint8_t> frame, std::size_t max, decode_error& err) {
  std::vector<std::uint8_t> inner;
  frame_codec codec;
  if (auto ec = codec.decompress(frame, inner, &err, max)) return ec;
  const msg_header h = read_header(inner.data());
  const auto id = static_cast<compressor_id>(frame[header_size + 8]);
  fmt::format_to(out, "compressorId {} ({}), {} bytes decompress to {}; the original message:\n", static_cast<int>(id),
                 compressor_name(id), frame.size() - header_size - compressed_prefix_size, inner.size() - header_size);
  describe_header(out, h);
  return describe_body(out, inner, h.op_code, max, err);
}

error_code describe_body(out_it out, std::span<const std::uint8_t> frame, std::int32_t op_code, std::size_t max,
                         decode_error& err) {
  switch (static_cast<opcode>(op_code)) {
    case opcode::msg: {
      op_msg_view msg;
      if (auto ec = op_msg_view::parse(frame, msg, &err, max)) return ec;
      describe_op_msg(out, msg);
      return {};
    }
    case opcode::query: {
      op_query_view q;
      if (auto ec = parse_op_query(frame, q, &err, max)) return ec;
      describe_op_query(out, q);
      return {};
    }
    case opcode::reply: {
      op_reply_view r;
      if (auto ec = parse_op_reply(frame, r, &err, max)) return ec;
      describe_op_reply(out, r);
      return {};
    }
    case opcode::compressed: return describe_compressed(out, frame, max, err);
  }
  return fail(&err, protocol_errc::unknown_opcode, 12, fmt::format("unknown opCode {}", op_code));
}

}  // namespace

std::string describe_frame(std::span<const std::uint8_t> frame, std::size_t max_message_size) {
  std::string text;
  out_it out(text);
  fmt::format_to(out, "frame of {} bytes\n", frame.size());
  if (frame.size() < header_size) {
    fmt::format_to(out, "error: short header: {} bytes, a message header needs 16\n", frame.size());
    return text;
  }
  msg_header h = read_header(frame.data());
  describe_header(out, h);
  decode_error err;
  if (describe_body(out, frame, h.op_code, max_message_size, err)) fmt::format_to(out, "error: {}\n", err.message());
  return text;
}

}  // namespace mongowire::detail::wire
