// Replies that return documents: cursor replies (find, aggregate, getMore, listX),
// count, countDocuments and distinct. Same contract as command_reply.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"

namespace mongowire::detail {

// `cursor: {id, ns, firstBatch | nextBatch, postBatchResumeToken?}`, as views into the
// reply (find_getmore_killcursors.md).
struct cursor_reply {
  std::int64_t id = 0;                                  // 0: the server closed the cursor (no getMore needed)
  std::string_view ns{};                                // "db.collection" for getMore and killCursors
  bson::view batch{};                                   // BSON array of documents
  std::size_t batch_count = 0;                          // number of documents in `batch`
  bool is_first_batch = true;                           // firstBatch (find/aggregate) or nextBatch (getMore)
  std::optional<bson::view> post_batch_resume_token{};  // change streams
};

// check_command_reply, then the cursor document. Every batch entry must be a document;
// `id` must be an int64 (the server always sends a long), `ns` a string.
error_code parse_cursor_reply(bson::view reply, cursor_reply& out, diagnostics& diag);

// The count command: `n` (any integral number).
error_code parse_count_reply(bson::view reply, std::int64_t& n, diagnostics& diag);

// countDocuments (crud.md): a cursor reply whose first batch is empty (count 0) or holds
// one document {_id: 1, n: <count>}.
error_code parse_count_documents_reply(bson::view reply, std::int64_t& n, diagnostics& diag);

// distinct: `values` (an array).
error_code parse_distinct_reply(bson::view reply, bson::view& values, diagnostics& diag);

}  // namespace mongowire::detail
