// Replies of the write commands (insert, update, delete) and of findAndModify.
// Same contract as command_reply.hpp: validated input, views on success, diagnostics
// (expected empty on entry) filled on failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"

namespace mongowire::detail {

// One entry of `upserted`: {index, _id}.
struct upserted_entry {
  std::int32_t index = 0;
  bson::element id{};
};

struct write_result {
  std::int64_t n = 0;                        // inserted / matched / deleted
  std::optional<std::int64_t> n_modified{};  // update replies only
  bson::view upserted{};                     // array of {index, _id}; empty when absent
  std::size_t upserted_count = 0;
};

// Reads an entry of write_result::upserted (already checked by parse_write_reply).
upserted_entry upserted_entry_of(const bson::element& entry) noexcept;

// Parses an insert/update/delete reply: check_command_reply, then n, nModified,
// upserted, writeErrors ({index, code, codeName?, errmsg?, errInfo?} into
// diag.write_errors) and writeConcernError. `out` is filled whenever the reply is ok:1,
// even when a write error is returned, so partial counts stay available.
// Returns write_reply_error(diag) for ok:1 replies.
error_code parse_write_reply(bson::view reply, write_result& out, diagnostics& diag);

// The error an ok:1 write reply represents: the first write error's code (the error of a
// single-statement operation; multi-statement callers read every diag.write_errors),
// else the write concern error's code, else {}. Write errors win because the statement
// itself failed; the write concern error only concerns what was written (PyMongo's
// _check_write_command_response has the same order).
error_code write_reply_error(const diagnostics& diag) noexcept;

// findAndModify: `value` and `lastErrorObject` {n, updatedExisting?, upserted?}.
struct find_and_modify_result {
  std::optional<bson::view> value{};  // nullopt when `value` is null or absent
  std::int64_t n = 0;
  std::optional<bool> updated_existing{};
  std::optional<bson::element> upserted_id{};
};

// check_command_reply, the fields above, then writeConcernError (its code is returned;
// `out` is still filled).
error_code parse_find_and_modify_reply(bson::view reply, find_and_modify_result& out, diagnostics& diag);

}  // namespace mongowire::detail
