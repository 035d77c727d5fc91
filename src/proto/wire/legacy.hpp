// Legacy OP_QUERY / OP_REPLY, needed only for the initial handshake with servers when no
// API version is declared (OP_MSG.md "Usage"; MongoDB wire protocol "Legacy Opcodes").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/wire/frame.hpp"

namespace mongowire::detail::wire {

// OP_QUERY flags (wire protocol, "OP_QUERY").
namespace query_flag {
inline constexpr std::int32_t tailable_cursor = 1 << 1;
inline constexpr std::int32_t secondary_ok = 1 << 2;
inline constexpr std::int32_t no_cursor_timeout = 1 << 4;
inline constexpr std::int32_t await_data = 1 << 5;
inline constexpr std::int32_t exhaust = 1 << 6;
inline constexpr std::int32_t partial = 1 << 7;
}  // namespace query_flag

// OP_REPLY responseFlags (wire protocol, "OP_REPLY").
namespace reply_flag {
inline constexpr std::int32_t cursor_not_found = 1 << 0;
inline constexpr std::int32_t query_failure = 1 << 1;
inline constexpr std::int32_t shard_config_stale = 1 << 2;
inline constexpr std::int32_t await_capable = 1 << 3;
}  // namespace reply_flag

// Clears `out` (keeping capacity) and writes a whole OP_QUERY frame:
// header, flags, fullCollectionName ("admin.$cmd"), numberToSkip, numberToReturn, query.
// client_errc::invalid_argument when the name is empty or holds a NUL.
error_code encode_op_query(std::vector<std::uint8_t>& out, std::int32_t request_id,
                           std::string_view full_collection_name, std::int32_t flags, std::int32_t number_to_skip,
                           std::int32_t number_to_return, bson::view query);

// Clears `out` and writes an OP_REPLY holding exactly one document (cursorID 0,
// startingFrom 0, numberReturned 1), as a server answers a command sent by OP_QUERY.
void encode_op_reply(std::vector<std::uint8_t>& out, std::int32_t request_id, std::int32_t response_to, bson::view doc,
                     std::int32_t response_flags = reply_flag::await_capable);

struct op_query_view {
  msg_header header;
  std::int32_t flags = 0;
  std::string_view full_collection_name;
  std::int32_t number_to_skip = 0;
  std::int32_t number_to_return = 0;
  bson::view query;
  std::optional<bson::view> return_fields_selector;
};

struct op_reply_view {
  msg_header header;
  std::int32_t response_flags = 0;
  std::int64_t cursor_id = 0;
  std::int32_t starting_from = 0;
  std::int32_t number_returned = 0;
  bson::view first_document;  // a command reply has exactly one
};

// Parse a complete frame (exactly messageLength bytes). Non-owning, no allocation unless
// an error is reported through `err`.
error_code parse_op_query(std::span<const std::uint8_t> frame, op_query_view& out, decode_error* err = nullptr,
                          std::size_t max_message_size = default_max_message_size);
// bad_reply when numberReturned < 1 or the first document is missing or invalid.
error_code parse_op_reply(std::span<const std::uint8_t> frame, op_reply_view& out, decode_error* err = nullptr,
                          std::size_t max_message_size = default_max_message_size);

}  // namespace mongowire::detail::wire
