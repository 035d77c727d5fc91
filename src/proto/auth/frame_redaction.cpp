#include "proto/auth/frame_redaction.hpp"

#include <bson/bson.h>

#include <algorithm>
#include <cstring>

#include "proto/command/redaction.hpp"
#include "proto/wire/crc32c.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

namespace mongowire::detail::auth {
namespace {

// Zeroes the string and binary values of the BSON document at `doc` (inside a buffer the
// caller owns), recursing into documents and arrays.
void zero_values(std::uint8_t* doc, std::size_t size) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, doc, size)) return;
  while (bson_iter_next(&it)) {
    const auto type = bson_iter_type(&it);
    if (type == BSON_TYPE_UTF8) {
      std::uint32_t len = 0;
      const char* s = bson_iter_utf8(&it, &len);
      std::memset(const_cast<char*>(s), 0, len);
    } else if (type == BSON_TYPE_BINARY) {
      bson_subtype_t subtype;
      std::uint32_t len = 0;
      const std::uint8_t* data = nullptr;
      bson_iter_binary(&it, &subtype, &len, &data);
      if (data) std::memset(const_cast<std::uint8_t*>(data), 0, len);
    } else if (type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY) {
      std::uint32_t len = 0;
      const std::uint8_t* data = nullptr;
      if (type == BSON_TYPE_DOCUMENT) bson_iter_document(&it, &len, &data);
      else bson_iter_array(&it, &len, &data);
      if (data) zero_values(const_cast<std::uint8_t*>(data), len);
    }
  }
}

void zero_view(std::vector<std::uint8_t>& copy, std::span<const std::uint8_t> original, bson::view doc) {
  const auto offset = static_cast<std::size_t>(doc.data() - original.data());
  zero_values(copy.data() + offset, doc.size());
}

bool redact_op_msg(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& copy) {
  wire::op_msg_view msg;
  if (wire::op_msg_view::parse(frame, msg)) return false;
  zero_view(copy, frame, msg.body());
  for (const auto& seq : msg.sequences())
    for (auto doc : seq) zero_view(copy, frame, doc);
  if (msg.checksum_present()) {
    const auto crc = wire::crc32c(std::span<const std::uint8_t>(copy.data(), copy.size() - 4));
    for (int i = 0; i < 4; ++i) copy[copy.size() - 4 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
  }
  return true;
}

}  // namespace

bool is_sensitive_request(std::span<const std::uint8_t> frame) {
  bson::view body;
  wire::op_msg_view msg;
  wire::op_query_view query;
  if (!wire::op_msg_view::parse(frame, msg)) body = msg.body();
  else if (!wire::parse_op_query(frame, query)) body = query.query;
  else return false;
  return !body.empty() && is_sensitive_command(body.first_key(), body);
}

std::vector<std::uint8_t> redacted_frame(std::span<const std::uint8_t> frame) {
  std::vector<std::uint8_t> copy(frame.begin(), frame.end());
  if (redact_op_msg(frame, copy)) return copy;
  wire::op_query_view query;
  wire::op_reply_view reply;
  if (!wire::parse_op_query(frame, query)) {
    zero_view(copy, frame, query.query);
  } else if (!wire::parse_op_reply(frame, reply)) {
    zero_view(copy, frame, reply.first_document);
  } else {
    std::fill(copy.begin() + std::min<std::size_t>(copy.size(), 16), copy.end(), std::uint8_t{0});
  }
  return copy;
}

}  // namespace mongowire::detail::auth
