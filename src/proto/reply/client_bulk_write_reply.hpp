// The reply of the client-level bulkWrite command (bulk-write.md "Handling the bulkWrite
// Server Response"): summary counts, and a cursor whose documents are per-write results and
// errors. Same contract as command_reply.hpp: validated input, views into the reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"
#include "proto/reply/cursor_reply.hpp"

namespace mongowire::detail {

struct client_bulk_write_reply {
  std::int64_t n_errors = 0;
  std::int64_t n_inserted = 0;
  std::int64_t n_upserted = 0;
  std::int64_t n_matched = 0;  // upserts excluded
  std::int64_t n_modified = 0;
  std::int64_t n_deleted = 0;
  cursor_reply cursor;  // ns "admin.$cmd.bulkWrite"
};

// parse_cursor_reply (check_command_reply first), then the six counts (non-negative integers).
error_code parse_client_bulk_write_reply(bson::view reply, client_bulk_write_reply& out, diagnostics& diag);

// One document of the results cursor: {ok, idx, n, nModified?, upserted?: {_id}} for a write
// that succeeded, {ok: 0, idx, code, codeName?, errmsg?, errInfo?} for one that failed.
struct client_bulk_write_item {
  std::int32_t idx = 0;  // the write's index in the command's ops
  bool ok = false;
  std::int64_t n = 0;  // inserted, matched (an upsert counts 1) or deleted
  std::optional<std::int64_t> n_modified{};
  std::optional<bson::element> upserted_id{};
  write_error error{};  // when !ok, with index = idx
};

// Reads `item`, entry `position` of the cursor's `batch_field` ("cursor.firstBatch" or
// "cursor.nextBatch"), which name it in error messages.
error_code parse_client_bulk_write_item(bson::view item, std::string_view batch_field, std::size_t position,
                                        client_bulk_write_item& out, diagnostics& diag);

}  // namespace mongowire::detail
