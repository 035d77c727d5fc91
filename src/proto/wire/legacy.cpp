#include "proto/wire/legacy.hpp"

#include <cstring>
#include <string>

namespace mongowire::detail::wire {
namespace {}  // namespace

error_code encode_op_query(std::vector<std::uint8_t>& out, std::int32_t request_id,
                           std::string_view full_collection_name, std::int32_t flags, std::int32_t number_to_skip,
                           std::int32_t number_to_return, bson::view query) {
  out.clear();
  if (full_collection_name.empty() || full_collection_name.find('\0') != std::string_view::npos)
    return client_errc::invalid_argument;
  append_header(out, request_id, 0, opcode::query);
  append_i32le(out, flags);
  append_cstring(out, full_collection_name);
  append_i32le(out, number_to_skip);
  append_i32le(out, number_to_return);
  append_bytes(out, query.bytes());
  patch_message_length(out);
  return {};
}

void encode_op_reply(std::vector<std::uint8_t>& out, std::int32_t request_id, std::int32_t response_to, bson::view doc,
                     std::int32_t response_flags) {
  out.clear();
  append_header(out, request_id, response_to, opcode::reply);
  append_i32le(out, response_flags);
  append_i64le(out, 0);  // cursorID
  append_i32le(out, 0);  // startingFrom
  append_i32le(out, 1);  // numberReturned
  append_bytes(out, doc.bytes());
  patch_message_length(out);
}

error_code parse_op_query(std::span<const std::uint8_t> frame, op_query_view& out, decode_error* err,
                          std::size_t max_message_size) {
  msg_header h;
  if (auto ec = check_frame_header(frame, opcode::query, max_message_size, h, err)) return ec;
  std::size_t pos = header_size;
  std::int32_t flags = load_i32le(frame.data() + pos);
  pos += 4;
  const void* nul = std::memchr(frame.data() + pos, 0, frame.size() - pos);
  if (nul == nullptr)
    return fail(err, protocol_errc::truncated_cstring, pos, "fullCollectionName is not NUL-terminated");
  auto name_len = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - (frame.data() + pos));
  std::string_view name(reinterpret_cast<const char*>(frame.data() + pos), name_len);
  pos += name_len + 1;
  if (frame.size() - pos < 8)
    return fail(err, protocol_errc::message_too_short, pos, "no room for numberToSkip and numberToReturn");
  std::int32_t skip = load_i32le(frame.data() + pos);
  std::int32_t nreturn = load_i32le(frame.data() + pos + 4);
  pos += 8;
  std::string why;
  auto query = bson::view::validate(frame.subspan(pos), err ? &why : nullptr);
  if (!query) return fail(err, protocol_errc::invalid_bson, pos, "query document: " + why);
  pos += query->size();
  std::optional<bson::view> selector;
  if (pos < frame.size()) {
    selector = bson::view::validate(frame.subspan(pos), err ? &why : nullptr);
    if (!selector) return fail(err, protocol_errc::invalid_bson, pos, "returnFieldsSelector document: " + why);
    pos += selector->size();
  }
  if (pos != frame.size())
    return fail(err, protocol_errc::trailing_bytes, pos,
                std::to_string(frame.size() - pos) + " bytes follow the returnFieldsSelector");
  out = {h, flags, name, skip, nreturn, *query, selector};
  return {};
}

error_code parse_op_reply(std::span<const std::uint8_t> frame, op_reply_view& out, decode_error* err,
                          std::size_t max_message_size) {
  msg_header h;
  if (auto ec = check_frame_header(frame, opcode::reply, max_message_size, h, err)) return ec;
  const std::uint8_t* p = frame.data() + header_size;
  out.header = h;
  out.response_flags = load_i32le(p);
  out.cursor_id = load_i64le(p + 4);
  out.starting_from = load_i32le(p + 12);
  out.number_returned = load_i32le(p + 16);
  std::size_t docs_at = header_size + 20;
  if (out.number_returned < 1)
    return fail(err, protocol_errc::bad_reply, header_size + 16,
                "numberReturned is " + std::to_string(out.number_returned) + ", a command reply needs 1 document");
  if (docs_at == frame.size())
    return fail(err, protocol_errc::bad_reply, docs_at,
                "numberReturned is " + std::to_string(out.number_returned) + " but the reply holds no document");
  std::string why;
  auto doc = bson::view::validate(frame.subspan(docs_at), err ? &why : nullptr);
  if (!doc) return fail(err, protocol_errc::bad_reply, docs_at, "first document is invalid: " + why);
  out.first_document = *doc;
  return {};
}

}  // namespace mongowire::detail::wire
