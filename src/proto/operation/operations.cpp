#include "proto/operation/operations.hpp"

#include <algorithm>

#include "proto/retry/retryable_codes.hpp"

#include "proto/reply/command_reply.hpp"

namespace mongowire::detail {
namespace {

// The three shapes of traits, named after what they are.
constexpr operation_traits write_traits(std::string_view name, bool retryable) noexcept {
  return {.name = name,
          .takes_write_concern = true,
          .takes_after_cluster_time = true,
          .retryability = retryable ? retry_family::write : retry_family::other};
}

// read-write-concern.md: find, aggregate, distinct and count take a read concern.
constexpr operation_traits read_traits(std::string_view name) noexcept {
  return {.name = name,
          .takes_read_concern = true,
          .takes_after_cluster_time = true,
          .selects_by_read_preference = true,
          .retryability = retry_family::read};
}

// retryable-reads.md: the enumeration commands are retryable reads without a read concern.
constexpr operation_traits enumeration_traits(std::string_view name) noexcept {
  return {.name = name, .selects_by_read_preference = true, .retryability = retry_family::read};
}

// DDL takes a write concern (read-write-concern.md) and is never retried.
constexpr operation_traits ddl_traits(std::string_view name) noexcept {
  return {.name = name, .takes_write_concern = true};
}

// An operation's own maxTimeMS (deprecated: the executor drops it when timeoutMS applies,
// client-side-operations-timeout.md "Validation and Overrides") and comment.
void append_max_time_and_comment(bson::document& body, std::optional<std::int64_t> max_time_ms,
                                 const std::optional<bson::element>& comment) {
  if (max_time_ms) body.append("maxTimeMS", *max_time_ms);
  if (comment) body.append("comment", *comment);
}

}  // namespace

bool pipeline_writes(bson::view pipeline) noexcept {
  bson::element last;
  for (const auto& stage : pipeline) last = stage;
  auto d = last.as_document();
  return d && (d->first_key() == "$out" || d->first_key() == "$merge");
}

error_code parse_result(bson::view reply, write_result& out, diagnostics& diag) {
  return parse_write_reply(reply, out, diag);
}

error_code parse_result(bson::view reply, cursor_reply& out, diagnostics& diag) {
  return parse_cursor_reply(reply, out, diag);
}

// ---------------------------------------------------------------- writes

operation_traits insert_op::traits() const noexcept { return write_traits("insert", true); }
error_code insert_op::build(bson::document& body) const {
  build_insert(body, coll, documents, ordered);
  return {};
}

operation_traits update_op::traits() const noexcept {
  const bool multi = std::any_of(updates.begin(), updates.end(), [](const auto& u) { return u.multi.value_or(false); });
  return write_traits("update", !multi);
}
error_code update_op::build(bson::document& body) const {
  build_update(body, coll, updates, ordered);
  return {};
}

operation_traits delete_op::traits() const noexcept {
  const bool multi = std::any_of(deletes.begin(), deletes.end(), [](const auto& d) { return d.limit != 1; });
  return write_traits("delete", !multi);
}
error_code delete_op::build(bson::document& body) const {
  build_delete(body, coll, deletes, ordered);
  return {};
}

operation_traits bulk_batch_traits(bson::view command) noexcept {
  const std::string_view name = command.empty() ? std::string_view() : command.first_key();
  const std::string_view field = sequence_field_for(name);
  bool multi = false;
  for (const auto& e : command[field].as_array().value_or(bson::view()))
    if (auto d = e.as_document(); d && is_multi_document_statement(name, *d)) multi = true;
  return write_traits(name, !multi);
}

operation_traits client_bulk_write_op::traits() const noexcept {
  const bool multi = std::any_of(writes.begin(), writes.end(), [](const client_write& w) { return w.multi; });
  return write_traits("bulkWrite", !multi);
}
error_code client_bulk_write_op::build(bson::document& body) const {
  build_client_bulk_write(body, writes, fields);
  return {};
}
error_code client_bulk_write_op::parse(bson::view reply, result& out, diagnostics& diag) const {
  return parse_client_bulk_write_reply(reply, out, diag);
}

operation_traits find_and_modify_op::traits() const noexcept { return write_traits("findAndModify", true); }
error_code find_and_modify_op::build(bson::document& body) const { return build_find_and_modify(body, coll, options); }
error_code find_and_modify_op::parse(bson::view reply, result& out, diagnostics& diag) const {
  return parse_find_and_modify_reply(reply, out, diag);
}

// ---------------------------------------------------------------- reads and cursors

operation_traits find_op::traits() const noexcept { return read_traits("find"); }
error_code find_op::build(bson::document& body) const {
  build_find(body, coll, filter, options);
  return {};
}

operation_traits aggregate_op::traits() const noexcept {
  if (!pipeline_writes(pipeline)) return read_traits("aggregate");
  return {
      .name = "aggregate", .takes_read_concern = true, .takes_write_concern = true, .takes_after_cluster_time = true};
}
error_code aggregate_op::build(bson::document& body) const {
  build_aggregate(body, coll, pipeline, options);
  return {};
}

operation_traits get_more_op::traits() const noexcept { return {.name = "getMore"}; }
error_code get_more_op::build(bson::document& body) const {
  build_get_more(body, cursor_id, coll, batch_size);
  append_max_time_and_comment(body, std::nullopt, comment);
  return {};
}

operation_traits kill_cursors_op::traits() const noexcept { return {.name = "killCursors"}; }
error_code kill_cursors_op::build(bson::document& body) const {
  build_kill_cursors(body, coll, cursor_ids);
  return {};
}

operation_traits distinct_op::traits() const noexcept { return read_traits("distinct"); }
error_code distinct_op::build(bson::document& body) const {
  build_distinct(body, coll, key, filter, collation);
  append_max_time_and_comment(body, max_time_ms, comment);
  return {};
}
error_code distinct_op::parse(bson::view reply, result& out, diagnostics& diag) const {
  return parse_distinct_reply(reply, out, diag);
}

operation_traits count_op::traits() const noexcept { return read_traits("count"); }
error_code count_op::build(bson::document& body) const {
  build_count(body, coll, filter, options);
  return {};
}
error_code count_op::parse(bson::view reply, result& out, diagnostics& diag) const {
  return parse_count_reply(reply, out, diag);
}

operation_traits estimated_document_count_op::traits() const noexcept { return read_traits("count"); }
error_code estimated_document_count_op::build(bson::document& body) const {
  body.clear();
  body.append("count", coll);
  append_max_time_and_comment(body, max_time_ms, comment);
  return {};
}
error_code estimated_document_count_op::parse(bson::view reply, result& out, diagnostics& diag) const {
  return parse_count_reply(reply, out, diag);
}

operation_traits count_documents_op::traits() const noexcept { return read_traits("aggregate"); }
error_code count_documents_op::build(bson::document& body) const {
  build_count_documents(body, coll, filter, options);
  return {};
}
error_code count_documents_op::parse(bson::view reply, result& out, diagnostics& diag) const {
  return parse_count_documents_reply(reply, out, diag);
}

// ---------------------------------------------------------------- enumeration

operation_traits list_databases_op::traits() const noexcept { return enumeration_traits("listDatabases"); }
error_code list_databases_op::build(bson::document& body) const {
  body.clear();
  body.append("listDatabases", 1);
  if (filter) body.append("filter", *filter);
  if (name_only) body.append("nameOnly", true);
  if (authorized_databases) body.append("authorizedDatabases", *authorized_databases);
  if (comment) body.append("comment", *comment);
  return {};
}
error_code list_databases_op::parse(bson::view reply, result& out, diagnostics& diag) const {
  auto databases = reply["databases"].as_array();
  if (!databases) {
    diag.client_message = "listDatabases reply has no `databases` array";
    return client_errc::invalid_reply;
  }
  out = *databases;
  return {};
}

operation_traits list_collections_op::traits() const noexcept { return enumeration_traits("listCollections"); }
error_code list_collections_op::build(bson::document& body) const {
  body.clear();
  body.append("listCollections", 1);
  if (filter) body.append("filter", *filter);
  if (name_only) body.append("nameOnly", true);
  if (authorized_collections) body.append("authorizedCollections", *authorized_collections);
  body.append_document("cursor", [&](bson::document& c) {
    if (batch_size) c.append("batchSize", *batch_size);
  });
  if (comment) body.append("comment", *comment);
  return {};
}

operation_traits list_indexes_op::traits() const noexcept { return enumeration_traits("listIndexes"); }
error_code list_indexes_op::build(bson::document& body) const {
  body.clear();
  body.append("listIndexes", coll);
  if (batch_size) body.append_document("cursor", [&](bson::document& c) { c.append("batchSize", *batch_size); });
  if (comment) body.append("comment", *comment);
  return {};
}

// ---------------------------------------------------------------- collections and indexes

operation_traits create_collection_op::traits() const noexcept { return ddl_traits("create"); }
error_code create_collection_op::build(bson::document& body) const {
  build_create(body, coll, options);
  return {};
}

operation_traits drop_collection_op::traits() const noexcept { return ddl_traits("drop"); }
error_code drop_collection_op::build(bson::document& body) const {
  build_drop(body, coll);
  return {};
}

operation_traits create_indexes_op::traits() const noexcept { return ddl_traits("createIndexes"); }
error_code create_indexes_op::build(bson::document& body) const {
  build_create_indexes(body, coll, indexes);
  append_max_time_and_comment(body, max_time_ms, comment);
  return {};
}

operation_traits drop_indexes_op::traits() const noexcept { return ddl_traits("dropIndexes"); }
error_code drop_indexes_op::build(bson::document& body) const {
  body.clear();
  body.append("dropIndexes", coll);
  body.append("index", index);
  append_max_time_and_comment(body, max_time_ms, comment);
  return {};
}

// ---------------------------------------------------------------- sessions and transactions

operation_traits commit_transaction_op::traits() const noexcept {
  return {.name = "commitTransaction", .retryability = retry_family::commit};
}
error_code commit_transaction_op::build(bson::document& body) const {
  build_commit_transaction(body);
  return {};
}

operation_traits abort_transaction_op::traits() const noexcept {
  return {.name = "abortTransaction", .retryability = retry_family::abort};
}
error_code abort_transaction_op::build(bson::document& body) const {
  build_abort_transaction(body);
  return {};
}

operation_traits end_sessions_op::traits() const noexcept { return {.name = "endSessions"}; }
error_code end_sessions_op::build(bson::document& body) const {
  build_end_sessions(body, ids);
  return {};
}

operation_traits run_command_op::traits() const noexcept {
  // run-command.md: its own read preference (primary by default), never the client's; inside
  // a transaction it is held to the transaction's (transactions.md "readPreference").
  return {.name = command.empty() ? std::string_view() : command.first_key(),
          .selects_by_read_preference = true,
          .sent_as_given = true};
}
error_code run_command_op::build(bson::document& body) const {
  build_user_command(body, command);
  return {};
}

}  // namespace mongowire::detail
