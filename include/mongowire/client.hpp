// The public API: client, database, collection, session (index: docs/api.md).
//
// Every operation has two forms: `async_xxx(args..., options, results..., diagnostics& diag,
// CompletionToken&& token)` with the completion signature void(error_code) (callbacks,
// use_awaitable, use_future and deferred all work), and the awaitable `xxx(args...,
// options, results..., diag)` returning the error_code, for coroutines. The handle, the
// views passed in, the results and `diag` must outlive the operation. On error `diag`
// holds the server's code, codeName, errmsg (server_message), error labels, write errors
// and the raw reply; nothing the server said is lost.
//
// Completion of the async forms (src/client/launch.cpp): a cancellation through the
// token's cancellation slot (bind_cancellation_slot) completes the operation with
// asio::error::operation_aborted; an exception escaping it (e.g. thrown by a
// with_transaction callback) with client_errc::internal_error and its what() in
// diag.client_message; std::bad_alloc with errc::not_enough_memory. The awaitable form is
// the operation itself: an exception reaches the awaiting coroutine.
//
// Thread-safety: a client and everything obtained from it (database, collection and session
// handles) must be used from one strand (the executor given to the constructor): no call may
// run concurrently with another call on the same client or anything it handed out. Handlers
// complete on their associated executor (the client's by default); the client_options
// callbacks run on the client's executor, synchronously, and must not block. Distinct clients
// are independent (one per thread is the way to use several threads). Handles are cheap copies
// sharing the client's state; an operation through a handle whose client is gone completes
// with client_errc::client_closed.
//
// What every command carries after its own fields (client_impl.cpp build_command): $db; lsid
// (the handle's session, else an implicit session taken from the pool once a connection is
// checked out), except with w: 0 and on a server without sessions; txnNumber for a retryable
// write; the transaction's fields (below); readConcern and writeConcern when the command takes
// them and one is set; $clusterTime (the highest seen); $readPreference when the selected server
// needs it (server-selection.md: a non-primary read on a replica set or mongos;
// primaryPreferred on a direct connection to a replica-set member; never to a standalone).
//
// Kinds of operation, named in each call's comment:
// - retryable write (insert, updateOne, replaceOne, deleteOne, findAndModify): writeConcern
//   (the handle's, else the URI's w/journal/wtimeoutMS); with retryWrites (default true) on a
//   server that supports it, a txnNumber and one retry after a RetryableWriteError.
// - write (updateMany, deleteMany): the same without txnNumber, never retried.
// - read (find, aggregate without $out/$merge, count, distinct): readConcern (the handle's,
//   else readConcernLevel); the server chosen by read preference (the handle's, else the
//   URI's); with retryReads (default true) one retry after a network or retryable error.
// - enumeration (listCollections, listIndexes, listDatabases): no concern, the primary,
//   retried once like a read.
// - DDL (create, drop, createIndexes, dropIndexes; aggregate with $out/$merge, which takes a readConcern
//   too): writeConcern, the primary, never retried.
// A causally consistent explicit session (the default) adds readConcern.afterClusterTime (its
// operationTime) to reads and writes; a snapshot session sends readConcern {level: "snapshot",
// atClusterTime} with every command. Any command is retried on an overload error
// (SystemOverloadedError + RetryableError) up to maxAdaptiveRetries times, with backoff, when
// retryWrites (writes) or retryReads (reads) allow; run_command needs both.
//
// Inside a transaction (through a session, or a handle obtained from one, after
// start_transaction): every command carries lsid, txnNumber and autocommit: false; the first
// also startTransaction: true and the transaction's readConcern (with afterClusterTime); the
// handle's and the client's concerns are not sent (the transaction's writeConcern goes with
// commitTransaction and abortTransaction); everything goes to the primary; nothing is retried
// but overload errors.
//
// Errors any operation can complete with, beyond those its comment names:
// - server_category(): the code of an ok: 0 reply (e.g. 112 WriteConflict), of the first
//   write error (e.g. 11000 DuplicateKey; all in diag.write_errors) or of a writeConcernError
//   (diag.write_concern); labels in diag.labels.
// - client_errc::timeout: the operation's timeoutMS (client-side-operations-timeout.md: URI
//   timeoutMS, collection_options::timeout, session_options::default_timeout) expired; set, it
//   replaces the timeouts below (selection, checkout, socket, MaxTimeMSExpired become it, diag.cause
//   keeping the original), and a retryable error is retried until the deadline.
// - client_errc: server_selection_timeout (nothing suitable within serverSelectionTimeoutMS;
//   diag.client_message says what was seen), wire_version_unsupported, wait_queue_timeout,
//   pool_cleared, pool_closed, client_closed, authentication_failed, message_too_large,
//   invalid_reply (a reply without the fields the operation reads), session_ended,
//   session_in_use (the session runs another operation), sessions_not_supported (an explicit
//   session, a server without sessions), transactions_not_supported (a transaction on a
//   deployment that cannot run one), read_preference_not_primary (a read in a transaction
//   whose read preference is not primary), invalid_argument (w: 0 with an explicit session,
//   an invalid read preference document).
// - network_category() (connection_closed, connect_timeout, socket_timeout,
//   tls_handshake_failed, dns_failed, proxy_failed), Asio's socket errors (e.g.
//   connection_refused) and protocol_category() (bytes that break the wire protocol).
// - asio::error::operation_aborted, client_errc::internal_error, errc::not_enough_memory (above).
//
// Transactions and sessions: operations are run through a `session` or a
// `collection` handle obtained from a session (session::get_collection); such a handle always
// sends the session's lsid, and, while a transaction is active, its txnNumber and
// autocommit:false. There is no overload that takes a session as an argument, so a
// single forgotten argument cannot turn a transaction into independent writes. A
// client-level collection (client::get_collection) uses an implicit session; running it while
// the same strand has an explicit transaction open is legal but is the user's choice.
// Unacknowledged writes (w: 0) are sent without a session id; through an explicit session
// they are refused with client_errc::invalid_argument (driver-sessions.md "When using
// unacknowledged writes"). A server without sessions support gets no session id either; an
// explicit session used with one fails with client_errc::sessions_not_supported.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>
#include <chrono>

#include "mongowire/bson.hpp"
#include "mongowire/capabilities.hpp"
#include "mongowire/error.hpp"
#include "mongowire/events.hpp"
#include "mongowire/gauges.hpp"
#include "mongowire/options.hpp"
#include "mongowire/transaction_accounting.hpp"
#include "mongowire/transaction_state.hpp"

namespace mongowire {

namespace detail {
class client_impl;
class session_impl;
struct client_access;

// Runs `op` on `ex` as one Asio operation (compiled code, src/client/launch.cpp): the
// handler's cancellation slot reaches the operation, and the handler is completed on its
// associated executor. An exception escaping `op` completes it with the error it stands
// for (see launch.cpp), with diagnostics in `*diag`.
void launch(boost::asio::any_io_executor ex, boost::asio::awaitable<error_code> op, diagnostics* diag,
            boost::asio::any_completion_handler<void(error_code)> handler);

struct launch_initiation {
  template <class Handler>
  void operator()(Handler&& handler, boost::asio::any_io_executor ex, boost::asio::awaitable<error_code> op,
                  diagnostics* diag) const {
    launch(std::move(ex), std::move(op), diag,
           boost::asio::any_completion_handler<void(error_code)>(std::forward<Handler>(handler)));
  }
};

// The async_xxx form of every operation: `op` is its awaitable form.
template <class Token>
auto initiate(boost::asio::any_io_executor ex, boost::asio::awaitable<error_code> op, diagnostics* diag,
              Token&& token) {
  return boost::asio::async_initiate<Token, void(error_code)>(launch_initiation{}, token, std::move(ex), std::move(op),
                                                              diag);
}
}  // namespace detail

class client;
class session;
class collection;
class cursor;  // mongowire/cursor.hpp

// client-side-operations-timeout.md "Cursors": what a cursor's timeoutMS limits. Unset: the
// default, cursor_lifetime for non-tailable cursors (the opening command and every getMore share
// one deadline), iteration for tailable ones (the opening command, then each next() call, gets
// the whole timeoutMS). Setting it without a timeoutMS (handle or client) is invalid_argument.
enum class timeout_mode { cursor_lifetime, iteration };

// crud.md "CursorType": tailable cursors stay open at the end of a capped collection;
// tailable_await ones also make getMore wait (maxAwaitTimeMS) for new documents.
enum class cursor_type { non_tailable, tailable, tailable_await };

// Results of the writes (crud.md "InsertOneResult", "UpdateResult", ...): filled when the
// operation succeeds; insert_many_result also counts the documents inserted before a write error.
struct insert_one_result {
  bson::document inserted_id;  // {_id: <value>}
};
struct insert_many_result {
  std::int64_t inserted_count = 0;
  bson::document inserted_ids;  // {"0": <_id>, "1": <_id>, ...}: index in the input -> _id
};
struct update_result {
  std::int64_t matched_count = 0;
  std::int64_t modified_count = 0;
  std::optional<bson::document> upserted_id;  // {_id: <value>} when an upsert inserted
};
struct delete_result {
  std::int64_t deleted_count = 0;
};

// A value of any BSON type, for the options crud.md types "any" (comment): the value is
// copied in, e.g. bson_value("why"), bson_value(std::int32_t{5}), bson_value(a_document_view).
class bson_value {
 public:
  template <class T>
  explicit bson_value(const T& v) {
    holder_.append("v", v);
  }
  bson::element get() const noexcept { return holder_["v"]; }

 private:
  bson::document holder_;
};

// crud.md "hint": an index name ("a_1") or an index key pattern ({a: 1}).
using index_hint = std::variant<std::string, bson::document>;

// crud.md "FindOptions". Unset options are not sent.
struct find_options {
  std::optional<bson::document> projection;
  std::optional<bson::document> sort;
  std::optional<std::int64_t> skip;
  std::optional<std::int64_t> limit;
  std::optional<std::int32_t> batch_size;
  std::optional<index_hint> hint;
  std::optional<bson::document> min;  // inclusive lower bound of the hinted index's keys
  std::optional<bson::document> max;  // exclusive upper bound
  std::optional<std::int64_t> max_time_ms;
  std::optional<bson_value> comment;
  std::optional<bool> return_key;      // only the keys of the index used
  std::optional<bool> show_record_id;  // adds $recordId to each document
  std::optional<bson::document> collation;
  std::optional<bool> allow_disk_use;
  std::optional<bson::document> let;
  // Cursor options (find_cursor; find drains the cursor, so they apply to it too: a tailable
  // find returns the documents up to the end of the collection, then closes the cursor).
  cursor_type type = cursor_type::non_tailable;
  std::optional<std::int64_t> max_await_time_ms;  // tailable_await: getMore's maxTimeMS
  std::optional<mongowire::timeout_mode> timeout_mode;
};

// crud.md "EstimatedDocumentCountOptions".
struct estimated_document_count_options {
  std::optional<std::int64_t> max_time_ms;
  std::optional<bson_value> comment;
};

// enumerate-collections.md "listCollections" options.
struct list_collections_options {
  std::optional<bson::document> filter;
  std::optional<bool> authorized_collections;
  std::optional<std::int32_t> batch_size;
  std::optional<bson_value> comment;
  std::optional<mongowire::timeout_mode> timeout_mode;  // see timeout_mode
};

// index-management.md "ListIndexesOptions": batchSize goes in `cursor`.
struct list_indexes_options {
  std::optional<std::int32_t> batch_size;
  std::optional<bson_value> comment;
  std::optional<mongowire::timeout_mode> timeout_mode;  // see timeout_mode
};

// run-command.md "runCursorCommand" options. The command is sent as given; batch_size and
// max_await_time_ms go on its getMores only (maxAwaitTimeMS as their maxTimeMS).
struct run_cursor_command_options {
  std::optional<bson::document> read_preference;  // {mode, tags?, ...}; none: the primary
  std::optional<std::int32_t> batch_size;
  cursor_type type = cursor_type::non_tailable;
  std::optional<std::int64_t> max_await_time_ms;
  std::optional<mongowire::timeout_mode> timeout_mode;
  // run-command.md "runCursorCommand": sent with every getMore (the command carries its own).
  std::optional<bson_value> comment;
};

// enumerate-databases.md "listDatabases" options.
struct list_databases_options {
  std::optional<bson::document> filter;
  std::optional<bool> authorized_databases;
  std::optional<bson_value> comment;
  std::optional<std::chrono::milliseconds> timeout;  // timeoutMS of this call (collection_options::timeout)
};

// crud.md "InsertOneOptions" (bypassDocumentValidation and comment are not sent yet).
struct insert_one_options {};

// crud.md "InsertManyOptions".
struct insert_many_options {
  bool ordered = true;
};

// updateOne / updateMany (crud.md "UpdateOptions").
struct update_options {
  bool upsert = false;
  std::optional<bson::document> array_filters;  // a BSON array
  std::optional<bson::document> collation;
};

// crud.md "ReplaceOptions".
struct replace_options {
  bool upsert = false;
  std::optional<bson::document> collation;
};

// deleteOne / deleteMany (crud.md "DeleteOptions"): which of the two deletes how many.
struct delete_options {
  std::optional<bson::document> collation;
};

// countDocuments and the legacy count (crud.md "CountOptions").
struct count_options {
  std::optional<std::int64_t> skip;
  std::optional<std::int64_t> limit;  // counts at most this many documents
  std::optional<index_hint> hint;
  std::optional<bson::document> collation;
  std::optional<std::int64_t> max_time_ms;  // the legacy count command only (deprecated: timeoutMS)
};

// crud.md "DistinctOptions".
struct distinct_options {
  std::optional<bson::document> collation;
  std::optional<std::int64_t> max_time_ms;  // deprecated: collection_options::timeout
  std::optional<bson_value> comment;
};

// crud.md "FindOneAndDeleteOptions".
struct find_one_and_delete_options {
  std::optional<bson::document> projection;
  std::optional<bson::document> sort;
  std::optional<bson::document> collation;
  std::optional<std::int64_t> max_time_ms;  // deprecated: collection_options::timeout
};

// crud.md "FindOneAndReplaceOptions".
struct find_one_and_replace_options {
  std::optional<bson::document> projection;
  std::optional<bson::document> sort;
  std::optional<bson::document> collation;
  bool upsert = false;
  bool return_new = false;                  // returnDocument: "After"
  std::optional<std::int64_t> max_time_ms;  // deprecated: collection_options::timeout
};

// crud.md "FindOneAndUpdateOptions".
struct find_one_and_update_options {
  std::optional<bson::document> projection;
  std::optional<bson::document> sort;
  std::optional<bson::document> collation;
  bool upsert = false;
  bool return_new = false;                      // returnDocument: "After"
  std::optional<bson::document> array_filters;  // a BSON array
  std::optional<std::int64_t> max_time_ms;      // deprecated: collection_options::timeout
};

// crud.md "AggregateOptions" (collection and database aggregate): batchSize goes in `cursor`.
struct aggregate_options {
  std::optional<std::int32_t> batch_size;
  std::optional<std::int64_t> max_time_ms;
  std::optional<std::int64_t> max_await_time_ms;        // getMore's maxTimeMS (e.g. a $changeStream)
  std::optional<mongowire::timeout_mode> timeout_mode;  // iteration is refused with $out/$merge
  std::optional<bool> allow_disk_use;
  std::optional<index_hint> hint;
  std::optional<bson::document> collation;
  std::optional<bson::document> let;
  std::optional<bson_value> comment;  // sent with the aggregate and each of its getMores
};

// index-management.md "IndexOptions" (create_index).
struct index_options {
  std::string name;  // "" = the default name ("a_1_b_-1", index-management.md)
  bool unique = false;
  // "CreateIndexOptions", merged in as the spec allows ("Deviations").
  std::optional<std::int64_t> max_time_ms;  // deprecated: collection_options::timeout
  std::optional<bson_value> comment;
};

// index-management.md "DropIndexOptions" (drop_index) and "DropIndexesOptions" (drop_indexes).
struct drop_index_options {
  std::optional<std::int64_t> max_time_ms;  // deprecated: collection_options::timeout
  std::optional<bson_value> comment;
};

// Read/write concerns and read preference of a database or collection handle, in server
// form ({level: "majority"}, {w: 1}, {mode: "primary"}). Outside transactions they replace
// the client's; inside a transaction the transaction's options win (transactions.md).
struct collection_options {
  std::optional<bson::document> read_concern;
  std::optional<bson::document> write_concern;
  std::optional<bson::document> read_preference;
  // client-side-operations-timeout.md "timeoutMS": the limit of each operation run through the
  // handle, from server selection to the reply, retries included; unset: the database's, else
  // the client's (URI timeoutMS). 0: no limit (still with timeoutMS semantics: maxTimeMS, wTimeoutMS
  // and socketTimeoutMS are ignored, retries are not counted). Set it for one operation with
  // with_options (no I/O). A handle with timeout set ignores the deprecated maxTimeMS options,
  // the write concern's wtimeout and socketTimeoutMS, sends maxTimeMS = remaining time - the
  // server's minimum RTT, and fails with client_errc::timeout when the time is up.
  // Negative: the operation fails with invalid_argument.
  std::optional<std::chrono::milliseconds> timeout;
};

// One request of a bulk write (crud.md "WriteModel").
struct write_model {
  enum class kind { insert_one, update_one, update_many, replace_one, delete_one, delete_many };
  kind type = kind::insert_one;
  bson::document document;  // insert_one
  bson::document filter;    // all others
  bson::document update;    // update_* (a document or, with update_is_pipeline, an array) / replace_one
  bool update_is_pipeline = false;
  update_options options;                   // update_* / replace_one
  std::optional<bson::document> collation;  // delete_*
};

// crud.md "BulkWriteOptions": ordered stops at the first write error.
struct bulk_write_options {
  bool ordered = true;
};

// crud.md "BulkWriteResult". Filled as far as the writes went, also when an error is returned.
struct bulk_write_result {
  std::int64_t inserted_count = 0;
  std::int64_t matched_count = 0;
  std::int64_t modified_count = 0;
  std::int64_t deleted_count = 0;
  std::int64_t upserted_count = 0;
  bson::document inserted_ids;  // {"<request index>": <_id>, ...}
  bson::document upserted_ids;  // {"<request index>": <_id>, ...}
};

// bulk-write.md "Write Models": one write of client::bulk_write / session::bulk_write and the
// namespace it goes to (any database and collection; MongoDB 8.0+).
struct client_write_model {
  std::string ns;                  // "database.collection"
  write_model model;               // as for collection::bulk_write
  std::optional<index_hint> hint;  // update_*, replace_one, delete_*: the index to use
};

// bulk-write.md "BulkWriteOptions" (the client-level one: its own type, as that spec requires).
struct client_bulk_write_options {
  bool ordered = true;
  std::optional<bool> bypass_document_validation;  // sent whenever set, false included
  std::optional<bson::document> let;
  // {w: ...}; none: the client's. Refused inside a transaction. w: 0 is refused with ordered
  // writes or verbose results (the client could not report them).
  std::optional<bson::document> write_concern;
  std::optional<bson_value> comment;
  bool verbose_results = false;  // per-write results below (the command's errorsOnly: false)
};

// bulk-write.md "BulkWriteResult", and what its "BulkWriteException" adds beyond the
// error_code and diagnostics: on error, write errors are in diag.write_errors (index: the
// model's), and this holds the partial result and every write concern error.
struct client_bulk_write_result {
  bool acknowledged = true;          // false with w: 0: nothing below is known
  bool has_verbose_results = false;  // verbose_results was asked: the three maps are filled
  bool has_partial_result = false;   // on error: at least one write is known to have succeeded
  std::int64_t inserted_count = 0;
  std::int64_t upserted_count = 0;
  std::int64_t matched_count = 0;  // upserts excluded
  std::int64_t modified_count = 0;
  std::int64_t deleted_count = 0;
  std::map<std::size_t, insert_one_result> insert_results;  // by model index, successful writes only
  std::map<std::size_t, update_result> update_results;
  std::map<std::size_t, delete_result> delete_results;
  std::vector<write_concern_error> write_concern_errors;  // one per bulkWrite command that had one
};

// A collection handle (client::get_collection, database::get_collection or
// session::get_collection). Cheap to copy; no I/O until an operation runs. One obtained from a
// session runs every operation with that session (and its transaction), else each operation
// takes an implicit session. Its collection_options replace the client's concerns and read
// preference outside transactions.
//
// Each operation has one async form, `async_xxx(args..., options, result, diag, token)`
// completing with void(error_code), and one awaitable form for coroutine users, `co_await
// xxx(args..., options, result, diag)` returning the error_code. Views (bson::view) must
// outlive the operation. Kinds of operation, the fields every command carries and the errors
// every operation can complete with: top of this file. Same strand as the client.
class collection {
 public:
  const std::string& database_name() const noexcept { return db_; }
  const std::string& name() const noexcept { return coll_; }

  // A handle on the same collection and session with other concerns / read preference
  // (no I/O; `options` replaces this handle's).
  collection with_options(collection_options options) const;
  const collection_options& options() const noexcept { return options_; }

  // crud.md "insertOne". Sends {insert: coll, documents: [doc], ordered: true}, the documents as an
  // OP_MSG kind-1 sequence; a retryable write. A `doc` without _id is sent with an ObjectId _id
  // first; result.inserted_id holds the _id. invalid_argument: `doc` is larger than the server's
  // maxBsonObjectSize (nothing sent). A rejected document fails with the write error's code.
  template <class Token>
  auto async_insert_one(bson::view doc, insert_one_options options, insert_one_result& result, diagnostics& diag,
                        Token&& token) {
    return detail::initiate(executor(), insert_one(doc, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> insert_one(bson::view doc, insert_one_options options, insert_one_result& result,
                                                diagnostics& diag);

  // crud.md "insertMany": a bulk write of inserts (see bulk_write): {insert: coll, documents,
  // ordered} commands within the server's limits, each a retryable write; missing _ids are
  // generated. invalid_argument: `docs` is empty or a document is too large (nothing sent).
  template <class Token>
  auto async_insert_many(std::vector<bson::document> docs, insert_many_options options, insert_many_result& result,
                         diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), insert_many(std::move(docs), std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> insert_many(std::vector<bson::document> docs, insert_many_options options,
                                                 insert_many_result& result, diagnostics& diag);

  // crud.md "updateOne". Sends {update: coll, updates: [{q: filter, u: update_doc, upsert?,
  // arrayFilters?, collation?}], ordered: true} (a kind-1 sequence); a retryable write.
  // invalid_argument (nothing sent): `update_doc`'s first key is not an update operator
  // ($set, ...), crud.md "Update vs. Replacement Validation".
  template <class Token>
  auto async_update_one(bson::view filter, bson::view update_doc, update_options options, update_result& result,
                        diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), update_one(filter, update_doc, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> update_one(bson::view filter, bson::view update_doc, update_options options,
                                                update_result& result, diagnostics& diag);

  // crud.md "updateMany": as update_one with multi: true in the statement; a write, not retried.
  template <class Token>
  auto async_update_many(bson::view filter, bson::view update_doc, update_options options, update_result& result,
                         diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), update_many(filter, update_doc, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> update_many(bson::view filter, bson::view update_doc, update_options options,
                                                 update_result& result, diagnostics& diag);

  // crud.md "replaceOne": as update_one with `replacement` as u; invalid_argument when its first
  // key is an update operator.
  template <class Token>
  auto async_replace_one(bson::view filter, bson::view replacement, replace_options options, update_result& result,
                         diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), replace_one(filter, replacement, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> replace_one(bson::view filter, bson::view replacement, replace_options options,
                                                 update_result& result, diagnostics& diag);

  // crud.md "deleteOne". Sends {delete: coll, deletes: [{q: filter, limit: 1, collation?}],
  // ordered: true} (a kind-1 sequence); a retryable write.
  template <class Token>
  auto async_delete_one(bson::view filter, delete_options options, delete_result& result, diagnostics& diag,
                        Token&& token) {
    return detail::initiate(executor(), delete_one(filter, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> delete_one(bson::view filter, delete_options options, delete_result& result,
                                                diagnostics& diag);

  // crud.md "deleteMany": as delete_one with limit: 0; a write, not retried.
  template <class Token>
  auto async_delete_many(bson::view filter, delete_options options, delete_result& result, diagnostics& diag,
                         Token&& token) {
    return detail::initiate(executor(), delete_many(filter, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> delete_many(bson::view filter, delete_options options, delete_result& result,
                                                 diagnostics& diag);

  // crud.md "find". Sends {find: coll, filter, <find_options as the command's fields>}; a read.
  // Appends every matching document to `out`: the cursor is drained with {getMore: id,
  // collection, batchSize?} sent to the same server with the same session and never retried.
  // A failed getMore completes with its error, `out` holding the batches before it.
  template <class Token>
  auto async_find(bson::view filter, find_options options, std::vector<bson::document>& out, diagnostics& diag,
                  Token&& token) {
    return detail::initiate(executor(), find(filter, std::move(options), out, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find(bson::view filter, find_options options, std::vector<bson::document>& out,
                                          diagnostics& diag);

  // crud.md "find" returning the cursor (mongowire/cursor.hpp) instead of draining it: `out`
  // holds the first batch, its server, its session (an implicit one lives as long as the
  // cursor) and, in load-balanced mode, its pinned connection. Tailable cursors need a capped
  // collection. invalid_argument (nothing sent): timeout_mode without a timeoutMS,
  // cursor_lifetime on a tailable cursor, max_await_time_ms >= a non-zero timeoutMS.
  template <class Token>
  auto async_find_cursor(bson::view filter, find_options options, cursor& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), find_cursor(filter, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find_cursor(bson::view filter, find_options options, cursor& out,
                                                 diagnostics& diag);

  // crud.md "findOne": find with limit: 1 and singleBatch: true (no cursor is left open);
  // `options.limit` and `batch_size` are ignored. `out` is nullopt when nothing matched.
  template <class Token>
  auto async_find_one(bson::view filter, find_options options, std::optional<bson::document>& out, diagnostics& diag,
                      Token&& token) {
    return detail::initiate(executor(), find_one(filter, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find_one(bson::view filter, find_options options,
                                              std::optional<bson::document>& out, diagnostics& diag);

  // crud.md "aggregate". Sends {aggregate: coll, pipeline, cursor: {batchSize?}, maxTimeMS?}: a
  // read, or with a last stage $out/$merge a DDL-like write (writeConcern, primary, not retried).
  // Appends the results to `out`, draining the cursor as find does.
  template <class Token>
  auto async_aggregate(bson::view pipeline, aggregate_options options, std::vector<bson::document>& out,
                       diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), aggregate(pipeline, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> aggregate(bson::view pipeline, aggregate_options options,
                                               std::vector<bson::document>& out, diagnostics& diag);

  // crud.md "aggregate" returning its cursor (see find_cursor). invalid_argument also for
  // timeout_mode iteration with $out/$merge (client-side-operations-timeout.md "Non-tailable Cursors").
  template <class Token>
  auto async_aggregate_cursor(bson::view pipeline, aggregate_options options, cursor& out, diagnostics& diag,
                              Token&& token) {
    return detail::initiate(executor(), aggregate_cursor(pipeline, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> aggregate_cursor(bson::view pipeline, aggregate_options options, cursor& out,
                                                      diagnostics& diag);

  // crud.md "countDocuments". Sends {aggregate: coll, pipeline: [{$match: filter}, {$skip}?,
  // {$limit}?, {$group: {_id: 1, n: {$sum: 1}}}], cursor: {}, hint?, collation?}; a read.
  template <class Token>
  auto async_count_documents(bson::view filter, count_options options, std::int64_t& out, diagnostics& diag,
                             Token&& token) {
    return detail::initiate(executor(), count_documents(filter, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> count_documents(bson::view filter, count_options options, std::int64_t& out,
                                                     diagnostics& diag);

  // The legacy count command (crud.md "count", deprecated in favour of countDocuments):
  // {count: coll, query: filter, limit?, skip?, hint?, collation?}; a read.
  template <class Token>
  auto async_count(bson::view filter, count_options options, std::int64_t& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), count(filter, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> count(bson::view filter, count_options options, std::int64_t& out,
                                           diagnostics& diag);

  // crud.md "estimatedDocumentCount": {count: coll, maxTimeMS?, comment?} without a query (the
  // server reads the collection's metadata); a read.
  template <class Token>
  auto async_estimated_document_count(estimated_document_count_options options, std::int64_t& out, diagnostics& diag,
                                      Token&& token) {
    return detail::initiate(executor(), estimated_document_count(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> estimated_document_count(estimated_document_count_options options,
                                                              std::int64_t& out, diagnostics& diag);

  // crud.md "distinct": {distinct: coll, key: field, query: filter, collation?, maxTimeMS?,
  // comment?}; a read.
  // `values` receives the distinct values as a BSON array.
  template <class Token>
  auto async_distinct(std::string_view field, bson::view filter, distinct_options options, bson::document& values,
                      diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), distinct(std::string(field), filter, std::move(options), values, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> distinct(std::string field, bson::view filter, distinct_options options,
                                              bson::document& values, diagnostics& diag);

  // crud.md "findOneAndUpdate". Sends {findAndModify: coll, query: filter, update: update_doc,
  // sort?, fields (projection)?, collation?, new?, upsert?, arrayFilters?}; a retryable write.
  // `out` receives the document before (or, with return_new, after) the change; nullopt when
  // nothing matched. invalid_argument: `update_doc`'s first key is not an update operator.
  template <class Token>
  auto async_find_one_and_update(bson::view filter, bson::view update_doc, find_one_and_update_options options,
                                 std::optional<bson::document>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), find_one_and_update(filter, update_doc, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find_one_and_update(bson::view filter, bson::view update_doc,
                                                         find_one_and_update_options options,
                                                         std::optional<bson::document>& out, diagnostics& diag);

  // crud.md "findOneAndReplace": findAndModify with `replacement` as update; invalid_argument when
  // its first key is an update operator.
  template <class Token>
  auto async_find_one_and_replace(bson::view filter, bson::view replacement, find_one_and_replace_options options,
                                  std::optional<bson::document>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), find_one_and_replace(filter, replacement, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find_one_and_replace(bson::view filter, bson::view replacement,
                                                          find_one_and_replace_options options,
                                                          std::optional<bson::document>& out, diagnostics& diag);

  // crud.md "findOneAndDelete": findAndModify with remove: true; `out` is the deleted document.
  template <class Token>
  auto async_find_one_and_delete(bson::view filter, find_one_and_delete_options options,
                                 std::optional<bson::document>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), find_one_and_delete(filter, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find_one_and_delete(bson::view filter, find_one_and_delete_options options,
                                                         std::optional<bson::document>& out, diagnostics& diag);

  // crud.md "Bulk Write": the requests as insert/update/delete commands (statements as kind-1
  // sequences) of consecutive requests of one kind (ordered) or grouped by kind (unordered),
  // split at maxWriteBatchSize and maxMessageSizeBytes. Each command is a retryable write
  // unless it holds an updateMany/deleteMany statement. Every request is validated and given
  // its _id before anything is sent (invalid_argument: no request, an update document without
  // operators or a replacement with them, a statement above the size limit). Write errors
  // complete with the first one's code, all of them in diag.write_errors with the index of the
  // request in `requests`; an ordered write stops at the first. A command that fails outright
  // completes with its error, `result` holding what the earlier commands did.
  template <class Token>
  auto async_bulk_write(std::vector<write_model> requests, bulk_write_options options, bulk_write_result& result,
                        diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), bulk_write(std::move(requests), std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> bulk_write(std::vector<write_model> requests, bulk_write_options options,
                                                bulk_write_result& result, diagnostics& diag);

  // index-management.md "createIndexes": {createIndexes: coll, indexes: [{key: keys, name,
  // unique?}], maxTimeMS?, comment?}; DDL. `name` receives the index's name (options.name, else generated: "a_1_b_-1").
  template <class Token>
  auto async_create_index(bson::view keys, index_options options, std::string& name, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), create_index(keys, std::move(options), name, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> create_index(bson::view keys, index_options options, std::string& name,
                                                  diagnostics& diag);

  // index-management.md "listIndexes": {listIndexes: coll}; an enumeration. Appends one document
  // per index ({v, key, name, ...}) to `out`, draining the cursor.
  template <class Token>
  auto async_list_indexes(std::vector<bson::document>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), list_indexes(out, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_indexes(std::vector<bson::document>& out, diagnostics& diag);
  // With options: {listIndexes: coll, cursor: {batchSize?}, comment?}.
  template <class Token>
  auto async_list_indexes(list_indexes_options options, std::vector<bson::document>& out, diagnostics& diag,
                          Token&& token) {
    return detail::initiate(executor(), list_indexes(std::move(options), out, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_indexes(list_indexes_options options, std::vector<bson::document>& out,
                                                  diagnostics& diag);
  // listIndexes returning its cursor (see find_cursor).
  template <class Token>
  auto async_list_indexes_cursor(list_indexes_options options, cursor& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), list_indexes_cursor(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_indexes_cursor(list_indexes_options options, cursor& out, diagnostics& diag);

  // index-management.md "listIndexNames": appends the names of listIndexes' documents to `out`.
  template <class Token>
  auto async_list_index_names(std::vector<std::string>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), list_index_names(out, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_index_names(std::vector<std::string>& out, diagnostics& diag);

  // index-management.md "dropIndex": {dropIndexes: coll, index: name, maxTimeMS?, comment?}; DDL.
  // invalid_argument for "*" (the spec: it would drop more than one index; see drop_indexes).
  // The server refuses "_id_" (InvalidOptions) and an unknown name (IndexNotFound).
  template <class Token>
  auto async_drop_index(std::string_view name, drop_index_options options, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), drop_index(std::string(name), std::move(options), diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> drop_index(std::string name, drop_index_options options, diagnostics& diag);

  // index-management.md "dropIndexes": {dropIndexes: coll, index: "*", ...}: every index but _id_.
  template <class Token>
  auto async_drop_indexes(drop_index_options options, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), drop_indexes(std::move(options), diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> drop_indexes(drop_index_options options, diagnostics& diag);

  // crud.md "drop": {drop: coll}; DDL. A collection that does not exist (NamespaceNotFound) is
  // not an error.
  template <class Token>
  auto async_drop(diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), drop(diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> drop(diagnostics& diag);

 private:
  friend class client;
  friend class session;
  friend class database;
  collection(std::shared_ptr<detail::client_impl> c, std::shared_ptr<detail::session_impl> s, std::string db,
             std::string coll);
  boost::asio::any_io_executor executor() const;

  std::shared_ptr<detail::client_impl> client_;
  std::shared_ptr<detail::session_impl> session_;  // null: implicit session per operation
  std::string db_;
  std::string coll_;
  collection_options options_;
};

// A database handle (client::get_database or session::get_database). Cheap to copy; no I/O
// until an operation runs. Like collection, one obtained from a session runs everything with
// that session; async forms complete with void(error_code); kinds, common fields and errors:
// top of this file. Same strand as the client.
class database {
 public:
  const std::string& name() const noexcept { return db_; }
  // The collection inherits this handle's session and options (no I/O).
  collection get_collection(std::string_view coll) const;
  // A handle on the same database and session with other concerns / read preference (no I/O).
  database with_options(collection_options options) const;
  const collection_options& options() const noexcept { return options_; }

  // run-command.md: sends `command` as given, plus $db, lsid, $clusterTime, the transaction's
  // fields inside one and $readPreference when needed; no readConcern or writeConcern is added,
  // and it is never retried (overload errors excepted). The server is chosen by
  // `read_preference` ({mode, tags?, maxStalenessSeconds?}; none: the primary), never by the
  // handle's or the client's; inside a transaction it must be primary
  // (read_preference_not_primary). `reply` receives the server's reply, also on server errors.
  template <class Token>
  auto async_run_command(bson::view command, std::optional<bson::document> read_preference, bson::document& reply,
                         diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), run_command(bson::document(command), std::move(read_preference), reply, diag),
                            &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> run_command(bson::document command, std::optional<bson::document> read_preference,
                                                 bson::document& reply, diagnostics& diag);

  // {create: coll, <options' fields>} (capped, validator, ...); DDL.
  template <class Token>
  auto async_create_collection(std::string_view coll, bson::view options, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), create_collection(std::string(coll), bson::document(options), diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> create_collection(std::string coll, bson::document options, diagnostics& diag);

  // {drop: coll}; DDL. NamespaceNotFound is not an error (the collection is already gone).
  template <class Token>
  auto async_drop_collection(std::string_view coll, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), drop_collection(std::string(coll), diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> drop_collection(std::string coll, diagnostics& diag);

  // enumerate-collections.md "listCollections": {listCollections: 1, filter?,
  // authorizedCollections?, cursor: {batchSize?}, comment?}; an enumeration. Appends one document
  // per collection ({name, type, options, info, idIndex}) to `out`, draining the cursor.
  template <class Token>
  auto async_list_collections(list_collections_options options, std::vector<bson::document>& out, diagnostics& diag,
                              Token&& token) {
    return detail::initiate(executor(), list_collections(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_collections(list_collections_options options,
                                                      std::vector<bson::document>& out, diagnostics& diag);
  // listCollections returning its cursor (see collection::find_cursor).
  template <class Token>
  auto async_list_collections_cursor(list_collections_options options, cursor& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), list_collections_cursor(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_collections_cursor(list_collections_options options, cursor& out,
                                                             diagnostics& diag);

  // crud.md "Database-level aggregation": {aggregate: 1, pipeline, cursor: {batchSize?},
  // maxTimeMS?} (e.g. $currentOp, $listLocalSessions, $documents); kind and results as
  // collection::aggregate.
  template <class Token>
  auto async_aggregate(bson::view pipeline, aggregate_options options, std::vector<bson::document>& out,
                       diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), aggregate(pipeline, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> aggregate(bson::view pipeline, aggregate_options options,
                                               std::vector<bson::document>& out, diagnostics& diag);
  // Database aggregation returning its cursor (see collection::aggregate_cursor).
  template <class Token>
  auto async_aggregate_cursor(bson::view pipeline, aggregate_options options, cursor& out, diagnostics& diag,
                              Token&& token) {
    return detail::initiate(executor(), aggregate_cursor(pipeline, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> aggregate_cursor(bson::view pipeline, aggregate_options options, cursor& out,
                                                      diagnostics& diag);

  // run-command.md "runCursorCommand": sends `command` as run_command does (never retried) and
  // keeps the cursor its reply describes; its getMores carry options.batch_size and
  // max_await_time_ms (as maxTimeMS, for a tailable_await cursor). The timeoutMS rules are those of find_cursor.
  // A reply without a cursor document fails with protocol_errc (see cursor_reply).
  template <class Token>
  auto async_run_cursor_command(bson::view command, run_cursor_command_options options, cursor& out, diagnostics& diag,
                                Token&& token) {
    return detail::initiate(executor(), run_cursor_command(bson::document(command), std::move(options), out, diag),
                            &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> run_cursor_command(bson::document command, run_cursor_command_options options,
                                                        cursor& out, diagnostics& diag);

  // enumerate-collections.md "listCollectionNames": listCollections with nameOnly: true;
  // appends the names to `out`.
  template <class Token>
  auto async_list_collection_names(list_collections_options options, std::vector<std::string>& out, diagnostics& diag,
                                   Token&& token) {
    return detail::initiate(executor(), list_collection_names(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_collection_names(list_collections_options options,
                                                           std::vector<std::string>& out, diagnostics& diag);

 private:
  friend class client;
  friend class session;
  database(std::shared_ptr<detail::client_impl> c, std::shared_ptr<detail::session_impl> s, std::string db);
  boost::asio::any_io_executor executor() const;

  std::shared_ptr<detail::client_impl> client_;
  std::shared_ptr<detail::session_impl> session_;
  std::string db_;
  collection_options options_;
};

// What the server did with the last commitTransaction of a session (issue 16 "known commit
// outcomes"): `unknown` after UnknownTransactionCommitResult, until resolve_commit() learns it.
enum class commit_outcome { none, committed, aborted, unknown };
std::string_view to_string(commit_outcome o) noexcept;

struct commit_result {
  commit_outcome outcome = commit_outcome::none;
  int attempts = 0;                 // commit calls for this transaction (refusals that sent nothing excluded)
  error_code error;                 // of the last call ({} once committed)
  std::vector<std::string> labels;  // of the last call
};

// An explicit client session (driver-sessions.md), from client::start_session. Not copyable;
// movable. It holds one server session (its lsid) from the pool for its whole life and runs one
// operation at a time: a second one started while one is in flight completes with
// client_errc::session_in_use, nothing sent. Used from the client's strand like the client.
// Handles from get_collection/get_database run every operation with this session, and inside
// a transaction with its fields (top of this file). Async forms complete with void(error_code).
class session {
 public:
  session(session&&) noexcept;
  session& operator=(session&&) noexcept;
  // Ends the session: a transaction in progress is aborted by a detached abortTransaction on
  // the client's executor (errors ignored), then the server session goes back to the pool.
  ~session();

  // Handles bound to this session (no I/O).
  collection get_collection(std::string_view db, std::string_view coll) const;
  database get_database(std::string_view db) const;

  // transactions.md "startTransaction": no I/O; the next command sends startTransaction.
  // Increments the txnNumber. Each option comes from `options`, else the session's
  // default_transaction_options, else the client's URI (readConcernLevel, w, readPreference).
  // Returns session_ended, transaction_already_in_progress,
  // unacknowledged_write_in_transaction (w: 0) or invalid_argument (a snapshot session).
  error_code start_transaction(const std::optional<transaction_options>& options, diagnostics& diag);
  error_code start_transaction() {
    diagnostics ignored;
    return start_transaction(std::nullopt, ignored);
  }

  // transactions.md "commitTransaction". Sends {commitTransaction: 1} to admin with lsid,
  // txnNumber, autocommit: false, the transaction's writeConcern, maxTimeMS (max_commit_time_ms),
  // recoveryToken and $clusterTime; nothing when the transaction ran no command. Retried once
  // like a retryable write (even with retryWrites=false); a retry (after anything but an
  // overload error) or a second call after a commit uses w: "majority" (wtimeout 10000 unless
  // given). Refusals, nothing sent:
  // no_transaction_started, commit_after_abort, session_ended, session_in_use. Errors carry the
  // labels UnknownTransactionCommitResult (outcome unknown: commit again, see last_commit) or
  // TransientTransactionError (rerun the transaction).
  template <class Token>
  auto async_commit_transaction(diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), commit_transaction(diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> commit_transaction(diagnostics& diag);

  // transactions.md "abortTransaction": {abortTransaction: 1} to admin with the commit's fields
  // but maxTimeMS; nothing when the transaction ran no command. Retried once; the server's and the
  // network's errors are then ignored (it completes with success). Refusals, nothing sent:
  // no_transaction_started, abort_after_commit, abort_twice, session_ended, session_in_use.
  template <class Token>
  auto async_abort_transaction(diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), abort_transaction(diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> abort_transaction(diagnostics& diag);
  // client-side-operations-timeout.md: commit_transaction and abort_transaction with their own
  // timeoutMS instead of the session's defaultTimeoutMS (0: no limit).
  template <class Token>
  auto async_commit_transaction(std::chrono::milliseconds timeout, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), commit_transaction(timeout, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> commit_transaction(std::chrono::milliseconds timeout, diagnostics& diag);
  template <class Token>
  auto async_abort_transaction(std::chrono::milliseconds timeout, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), abort_transaction(timeout, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> abort_transaction(std::chrono::milliseconds timeout, diagnostics& diag);

  // The outcome of this session's last commit and its evidence. While it is `unknown` the
  // session keeps its server session (same lsid and txnNumber); ending the session then
  // discards that server session instead of pooling it.
  const commit_result& last_commit() const noexcept;
  // On a sharded cluster, the mongos ("host:port") this session's transaction is pinned to
  // (transactions.md "Mongos Pinning"): set by the transaction's first command, kept through
  // commit (a repeated commit goes there too), cleared by an abort, a TransientTransactionError,
  // an UnknownTransactionCommitResult before its retry, a new transaction, an operation outside
  // a transaction and the session's end. nullopt otherwise (replica sets pin nothing).
  std::optional<std::string> pinned_server() const;
  // Learns an unknown outcome: commits again (w: "majority", transactions.md "Retrying
  // commitTransaction") until the server answers with anything but
  // UnknownTransactionCommitResult or `deadline` has passed; never reruns the transaction's
  // statements. Completes with the last commit's error ({} when committed).
  template <class Token>
  auto async_resolve_commit(std::chrono::milliseconds deadline, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), resolve_commit(deadline, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> resolve_commit(std::chrono::milliseconds deadline, diagnostics& diag);

  // What the current or last transaction cost (transaction_accounting.hpp): reset by
  // start_transaction, complete once its commit or abort has returned. with_transaction sums
  // all its attempts (callback reruns, commit retries) into one.
  const transaction_accounting& last_transaction_accounting() const noexcept;

  // database::run_command on `db` with this session (its lsid, and the transaction's fields
  // while one is active), on the primary.
  template <class Token>
  auto async_run_command(std::string_view db, bson::view command, bson::document& reply, diagnostics& diag,
                         Token&& token) {
    return detail::initiate(executor(), run_command(std::string(db), bson::document(command), reply, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> run_command(std::string db, bson::document command, bson::document& reply,
                                                 diagnostics& diag);

  // client::bulk_write with this session: inside a transaction its writes are statements of
  // it (no write concern of their own: options.write_concern is refused).
  template <class Token>
  auto async_bulk_write(std::vector<client_write_model> models, client_bulk_write_options options,
                        client_bulk_write_result& result, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), bulk_write(std::move(models), std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> bulk_write(std::vector<client_write_model> models,
                                                client_bulk_write_options options, client_bulk_write_result& result,
                                                diagnostics& diag);

  // transactions-convenient-api.md "withTransaction": start_transaction(options), the
  // callback (run its operations through the session it is given), commit_transaction. A
  // callback error aborts the transaction; TransientTransactionError reruns the callback (after
  // a jittered backoff) and UnknownTransactionCommitResult commits again, until 120 seconds
  // have passed: then client_errc::with_transaction_timeout, the last error in diag.cause. With
  // timeoutMS (the session's defaultTimeoutMS, else the client's) see the overload below.
  // A callback that returns success after one of its statements failed on the server gets
  // that statement's error (the server aborted the transaction). An exception thrown by the
  // callback aborts the transaction and completes the async form with
  // client_errc::internal_error (its what() in diag.client_message); the awaitable form
  // rethrows it. Otherwise completes with the first error that is not retried.
  using transaction_callback = std::function<boost::asio::awaitable<error_code>(session&, diagnostics&)>;
  template <class Token>
  auto async_with_transaction(transaction_callback callback, std::optional<transaction_options> options,
                              diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), with_transaction(std::move(callback), std::move(options), diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> with_transaction(transaction_callback callback,
                                                      std::optional<transaction_options> options, diagnostics& diag);
  // client-side-operations-timeout.md "Convenient Transactions API": with_transaction with its
  // own timeoutMS for the whole call (instead of the session's defaultTimeoutMS); its callback's
  // operations through this session get what remains of it and must not set their own
  // (invalid_argument); a callback error's abort gets a fresh `timeout`; the limit replaces the
  // 120 s, and running out of it completes with client_errc::timeout (cause: the last error).
  template <class Token>
  auto async_with_transaction(transaction_callback callback, std::optional<transaction_options> options,
                              std::chrono::milliseconds timeout, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), with_transaction(std::move(callback), std::move(options), timeout, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> with_transaction(transaction_callback callback,
                                                      std::optional<transaction_options> options,
                                                      std::chrono::milliseconds timeout, diagnostics& diag);

  // Ends the session now (spec "endSession"): aborts a transaction in progress (errors
  // ignored) and returns the server session to the pool (not when dirty or its commit is
  // unknown). Later operations fail with session_ended. Idempotent.
  boost::asio::awaitable<void> end();

  // driver-sessions.md "ClientSession": the client that started this session (throws
  // mongowire::error with client_errc::client_closed once that client is destroyed) and the
  // options it was started with.
  mongowire::client& client() const;
  const session_options& options() const noexcept;

  // State, no I/O. in_transaction: starting or in_progress. is_dirty: a network error hit a
  // command of this session, so its server session is discarded when it ends.
  transaction_state current_transaction_state() const noexcept;
  bool in_transaction() const noexcept;
  bool is_dirty() const noexcept;
  // {id: <UUID>} as sent in lsid.
  bson::document id() const;
  // causal-consistency.md: the highest $clusterTime and operationTime this session has seen;
  // the advance_ calls raise them (never lower), e.g. to order this session after another.
  std::optional<bson::document> cluster_time() const;
  std::optional<bson::timestamp> operation_time() const;
  void advance_cluster_time(bson::view cluster_time);
  void advance_operation_time(bson::timestamp t);
  // The server session's txnNumber: of the current or last transaction or retryable write.
  std::int64_t txn_number() const noexcept;
  // snapshot-sessions.md: the atClusterTime of the first snapshot read (or the snapshotTime
  // option); nullopt before it is known or in a session that is not a snapshot session.
  std::optional<bson::timestamp> snapshot_time() const noexcept;

 private:
  friend class client;
  friend class detail::client_impl;
  explicit session(std::shared_ptr<detail::session_impl> impl);
  boost::asio::any_io_executor executor() const;
  std::shared_ptr<detail::session_impl> impl_;
};

// A connection to a deployment: its topology (monitors, server selection), one connection
// pool per server, the server session pool and the cluster time. Not copyable or movable:
// the handles it gives out refer to its state. Everything runs on the executor given to the
// constructor, from one strand (top of this file); async forms complete with void(error_code).
class client {
 public:
  // Parses the connection string and starts monitoring at once: a monitor per seed
  // connects and sends hello (SDAM); application connections are opened when an operation
  // needs one (and for minPoolSize). Throws mongowire::error with client_errc::invalid_uri
  // naming the bad option (or an unusable credential, auth.md "Errors"), and
  // boost::system::system_error when a TLS file cannot be read.
  client(boost::asio::any_io_executor ex, std::string_view uri, client_options options = {});
  // Stops the monitors and pools (timers cancelled, sockets closed) without sending anything,
  // and silences the client_options callbacks. Handles and sessions that outlive the client
  // complete their operations with client_errc::client_closed.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // The executor given to the constructor (unchanged afterwards: any thread may read it).
  boost::asio::any_io_executor get_executor() const;

  // Handles with an implicit session per operation and the client's concerns (no I/O).
  collection get_collection(std::string_view db, std::string_view coll) const;
  database get_database(std::string_view db) const;
  // driver-sessions.md "startSession": takes a server session from the pool (no I/O).
  // Throws mongowire::error (client_errc::invalid_argument) when the options contradict
  // each other (snapshot-sessions.md: snapshot with causalConsistency).
  session start_session(const session_options& options = {});

  // enumerate-databases.md: {listDatabases: 1, filter?, authorizedDatabases?, comment?} on
  // admin with an implicit session; an enumeration. Appends one document per database
  // ({name, sizeOnDisk, empty}) to `out`.
  template <class Token>
  auto async_list_databases(list_databases_options options, std::vector<bson::document>& out, diagnostics& diag,
                            Token&& token) {
    return detail::initiate(get_executor(), list_databases(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_databases(list_databases_options options, std::vector<bson::document>& out,
                                                    diagnostics& diag);

  // enumerate-databases.md "listDatabaseNames": listDatabases with nameOnly: true; appends the
  // names to `out`.
  template <class Token>
  auto async_list_database_names(list_databases_options options, std::vector<std::string>& out, diagnostics& diag,
                                 Token&& token) {
    return detail::initiate(get_executor(), list_database_names(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_database_names(list_databases_options options, std::vector<std::string>& out,
                                                         diagnostics& diag);

  // bulk-write.md "MongoClient.bulkWrite" (MongoDB 8.0+): inserts, updates, replaces and deletes
  // on any namespaces, sent as bulkWrite commands on admin (ops and nsInfo as document
  // sequences), as few as maxWriteBatchSize and maxMessageSizeBytes allow, with an implicit
  // session; each command is a retryable write unless one of its writes is multi. Ordered
  // writes stop at the first write error. Completes with the top-level error (a command or
  // network error; the partial result and earlier write errors are kept), else the first write
  // error's code, else the first write concern error's; see client_bulk_write_result.
  template <class Token>
  auto async_bulk_write(std::vector<client_write_model> models, client_bulk_write_options options,
                        client_bulk_write_result& result, diagnostics& diag, Token&& token) {
    return detail::initiate(get_executor(), bulk_write(std::move(models), std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> bulk_write(std::vector<client_write_model> models,
                                                client_bulk_write_options options, client_bulk_write_result& result,
                                                diagnostics& diag);

  // database::run_command on `db` with an implicit session, on the primary: `command` as
  // given, no concern added, not retried. `reply` receives the server's reply on success and
  // on server errors (also in diag.reply).
  template <class Token>
  auto async_run_command(std::string_view db, bson::view command, bson::document& reply, diagnostics& diag,
                         Token&& token) {
    return detail::initiate(get_executor(), run_command(std::string(db), bson::document(command), reply, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> run_command(std::string db, bson::document command, bson::document& reply,
                                                 diagnostics& diag);

  // driver-sessions.md "Client close": sends {endSessions: [lsid...]} for the pooled server
  // sessions (batches of 10,000) to admin on the primary, else a secondary, if one is
  // available (errors ignored), then closes pools and monitors. Always completes with success;
  // later operations complete with client_errc::client_closed. Idempotent.
  template <class Token>
  auto async_close(Token&& token) {
    return detail::initiate(get_executor(), close(), nullptr, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> close();

  // Whether this deployment can run sessions, retryable writes, transactions and sharded
  // transactions, and why not (capabilities.hpp): judged on the server writes go to, selected
  // as an operation would (waiting for discovery up to serverSelectionTimeoutMS). The same rule
  // refuses an operation before sending it. A deployment this client cannot use (wire version
  // outside its range) is reported with `compatible` false, not as an error; the error is a
  // failed selection (client_errc::server_selection_timeout, diag says why).
  template <class Token>
  auto async_capabilities(deployment_capabilities& out, diagnostics& diag, Token&& token) {
    return detail::initiate(get_executor(), capabilities(out, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> capabilities(deployment_capabilities& out, diagnostics& diag);

  // Live gauges (gauges.hpp): server sessions, each pool's connections, wait queue, generation
  // and recent clears, write conflicts per namespace. A snapshot copied from counters the
  // client keeps anyway; call it on the client's strand like everything else (no lock). The
  // second form fills `out` in place and allocates nothing once `out` is warm (for sampling).
  client_gauges gauges() const;
  void gauges(client_gauges& out) const;

  // Statistics for benchmarks (no I/O; on the client's strand).
  struct stats {
    std::uint64_t commands = 0;        // commands sent, every attempt (handshakes and monitors excluded)
    std::uint64_t bytes_sent = 0;      // their bytes on the wire
    std::uint64_t bytes_received = 0;  // their replies' bytes
    std::uint64_t retries = 0;         // attempts the executor made again
  };
  stats get_stats() const noexcept;

 private:
  friend struct detail::client_access;  // tests reach the internals through src/client/client_access.hpp
  std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace mongowire

#include "mongowire/cursor.hpp"  // collection and database return cursors
