// The operations of the API, one type per command (see operation.hpp for the shape). Each
// holds views that must outlive build() and, for results that view into the reply, the
// reply must outlive the result. A collection's bulk write is not a type of its own: it is a
// sequence of insert_op, update_op and delete_op planned by proto/command/write_batches.hpp;
// a client's is a sequence of client_bulk_write_op planned there too.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "proto/command/command_builder.hpp"
#include "proto/operation/operation.hpp"
#include "proto/reply/client_bulk_write_reply.hpp"
#include "proto/reply/cursor_reply.hpp"
#include "proto/reply/write_reply.hpp"

namespace mongowire::detail {

// The replies whose result type says how to read them (an operation type with one of these
// results needs no parse() of its own; see parse_reply).
error_code parse_result(bson::view reply, write_result& out, diagnostics& diag);
error_code parse_result(bson::view reply, cursor_reply& out, diagnostics& diag);
// The executor has checked ok and the write concern error: nothing else to read.
inline error_code parse_result(bson::view, no_result&, diagnostics&) { return {}; }

// `op`'s own parse() when it has one, else the one of its result type.
template <class Op>
error_code parse_reply(const Op& op, bson::view reply, typename Op::result& out, diagnostics& diag) {
  if constexpr (requires { op.parse(reply, out, diag); }) return op.parse(reply, out, diag);
  else return parse_result(reply, out, diag);
}

// ---------------------------------------------------------------- writes (crud.md)

// retryable-writes.md: an insert is a retryable write whatever its number of documents.
struct insert_op {
  using result = write_result;
  std::string_view coll;
  std::span<const bson::view> documents;
  bool ordered = true;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// retryable-writes.md: retryable unless a statement is multi: true.
struct update_op {
  using result = write_result;
  std::string_view coll;
  std::span<const update_statement> updates;
  bool ordered = true;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// retryable-writes.md: retryable only when every statement has limit 1 (deleteOne).
struct delete_op {
  using result = write_result;
  std::string_view coll;
  std::span<const delete_statement> deletes;
  bool ordered = true;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// One command of a bulk write (an insert, update or delete whose statements array is
// already built, see write_batches.hpp): the traits of the matching type, judged on the
// statements this command carries.
operation_traits bulk_batch_traits(bson::view command) noexcept;

// bulk-write.md: one bulkWrite command of MongoClient.bulkWrite (a batch, after splitting),
// sent to admin with ops and nsInfo as document sequences. retryable-writes.md: retryable
// unless one of its writes is multi (updateMany, deleteMany).
struct client_bulk_write_op {
  using result = client_bulk_write_reply;
  std::span<const client_write> writes;
  client_bulk_write_fields fields;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
  error_code parse(bson::view reply, result& out, diagnostics& diag) const;
};

struct find_and_modify_op {
  std::string_view coll;
  find_and_modify_options options;
  using result = find_and_modify_result;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;  // invalid_argument unless remove xor update
  error_code parse(bson::view reply, result& out, diagnostics& diag) const;
};

// ---------------------------------------------------------------- reads and cursors

struct find_op {
  using result = cursor_reply;
  std::string_view coll;
  bson::view filter;
  find_options options;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// An aggregate pipeline ending in $out or $merge writes (crud.md "aggregate").
bool pipeline_writes(bson::view pipeline) noexcept;

// An aggregate ending in $out or $merge writes: it takes a write concern, goes to the
// primary and is not a retryable read (crud.md "aggregate", retryable-reads.md).
struct aggregate_op {
  using result = cursor_reply;
  std::string_view coll;  // "" = a database aggregation ({aggregate: 1})
  bson::view pipeline;
  aggregate_options options;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// find_getmore_killcursors.md: never retried, no concern (the cursor has them). `comment`: the
// find's or aggregate's, inherited (DRIVERS-2189; servers since 4.4), or runCursorCommand's.
struct get_more_op {
  using result = cursor_reply;
  std::int64_t cursor_id = 0;
  std::string_view coll;
  std::optional<std::int32_t> batch_size;
  std::optional<bson::element> comment{};
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

struct kill_cursors_op {
  using result = no_result;
  std::string_view coll;
  std::span<const std::int64_t> cursor_ids;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

struct distinct_op {
  std::string_view coll;
  std::string_view key;
  bson::view filter;
  std::optional<bson::view> collation;
  std::optional<std::int64_t> max_time_ms;  // deprecated; dropped when timeoutMS applies
  std::optional<bson::element> comment;
  using result = bson::view;  // the `values` array
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
  error_code parse(bson::view reply, result& out, diagnostics& diag) const;
};

// The legacy count command (crud.md "count").
struct count_op {
  std::string_view coll;
  bson::view filter;
  count_options options;
  using result = std::int64_t;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
  error_code parse(bson::view reply, result& out, diagnostics& diag) const;
};

// crud.md "estimatedDocumentCount": the count command without a query reads the
// collection's metadata.
struct estimated_document_count_op {
  std::string_view coll;
  std::optional<std::int64_t> max_time_ms;
  std::optional<bson::element> comment;
  using result = std::int64_t;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
  error_code parse(bson::view reply, result& out, diagnostics& diag) const;
};

// crud.md "countDocuments": an aggregate with $match/$skip/$limit/$group.
struct count_documents_op {
  std::string_view coll;
  bson::view filter;
  count_options options;
  using result = std::int64_t;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
  error_code parse(bson::view reply, result& out, diagnostics& diag) const;
};

// ---------------------------------------------------------------- enumeration

// enumerate-databases.md: {listDatabases: 1, filter?, nameOnly?, authorizedDatabases?, comment?}
struct list_databases_op {
  std::optional<bson::view> filter;
  bool name_only = false;
  std::optional<bool> authorized_databases;
  std::optional<bson::element> comment;
  using result = bson::view;  // the `databases` array
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
  error_code parse(bson::view reply, result& out, diagnostics& diag) const;
};

// enumerate-collections.md: {listCollections: 1, filter?, nameOnly?, authorizedCollections?,
// cursor: {batchSize?}, comment?}
struct list_collections_op {
  using result = cursor_reply;
  std::optional<bson::view> filter;
  bool name_only = false;
  std::optional<bool> authorized_collections;
  std::optional<std::int32_t> batch_size;
  std::optional<bson::element> comment;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// index-management.md "listIndexes".
struct list_indexes_op {
  using result = cursor_reply;
  std::string_view coll;
  std::optional<std::int32_t> batch_size{};  // inside `cursor: {}`
  std::optional<bson::element> comment{};
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// ---------------------------------------------------------------- collections and indexes

struct create_collection_op {
  using result = no_result;
  std::string_view coll;
  bson::view options;  // capped, validator, ...
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

struct drop_collection_op {
  using result = no_result;
  std::string_view coll;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

struct create_indexes_op {
  using result = no_result;
  std::string_view coll;
  std::span<const index_model> indexes;
  std::optional<std::int64_t> max_time_ms;  // index-management.md "CreateIndexOptions"
  std::optional<bson::element> comment;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// index-management.md "dropIndex" / "dropIndexes": {dropIndexes: coll, index: name or "*",
// maxTimeMS?, comment?}; DDL.
struct drop_indexes_op {
  using result = no_result;
  std::string_view coll;
  std::string_view index;                   // an index name, or "*": every index but _id_
  std::optional<std::int64_t> max_time_ms;  // "DropIndexOptions"; dropped when timeoutMS applies
  std::optional<bson::element> comment;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// ---------------------------------------------------------------- sessions and transactions

// transactions.md "Server Commands": to admin, with the transaction's fields.
struct commit_transaction_op {
  using result = no_result;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

struct abort_transaction_op {
  using result = no_result;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// driver-sessions.md "endSession": at most max_end_sessions_per_command ids.
struct end_sessions_op {
  using result = no_result;
  std::span<const session_id> ids;
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

// run-command.md: the user's command, sent as given and never classified.
struct run_command_op {
  bson::view command;
  using result = no_result;  // the caller keeps the whole reply
  operation_traits traits() const noexcept;
  error_code build(bson::document& body) const;
};

}  // namespace mongowire::detail
