// The public API: client, session, collection.
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
// diag.client_message; std::bad_alloc with errc::not_enough_memory.
//
// Thread-safety: a client and everything obtained from it must be used from one strand
// (the executor given to the constructor). Distinct clients are independent.
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
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>
#include <chrono>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"
#include "mongowire/events.hpp"
#include "mongowire/options.hpp"
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
};

// enumerate-databases.md "listDatabases" options.
struct list_databases_options {
  std::optional<bson::document> filter;
  std::optional<bool> authorized_databases;
  std::optional<bson_value> comment;
};

// crud.md "InsertOneOptions" (bypassDocumentValidation and comment are not sent yet).
struct insert_one_options {};

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
};

// crud.md "DistinctOptions".
struct distinct_options {
  std::optional<bson::document> collation;
};

// crud.md "FindOneAndDeleteOptions".
struct find_one_and_delete_options {
  std::optional<bson::document> projection;
  std::optional<bson::document> sort;
  std::optional<bson::document> collation;
};

// crud.md "FindOneAndReplaceOptions".
struct find_one_and_replace_options {
  std::optional<bson::document> projection;
  std::optional<bson::document> sort;
  std::optional<bson::document> collation;
  bool upsert = false;
  bool return_new = false;  // returnDocument: "After"
};

// crud.md "FindOneAndUpdateOptions".
struct find_one_and_update_options {
  std::optional<bson::document> projection;
  std::optional<bson::document> sort;
  std::optional<bson::document> collation;
  bool upsert = false;
  bool return_new = false;                      // returnDocument: "After"
  std::optional<bson::document> array_filters;  // a BSON array
};

struct aggregate_options {
  std::optional<std::int32_t> batch_size;
  std::optional<std::int64_t> max_time_ms;
};

struct index_options {
  std::string name;  // "" = the default name ("a_1_b_-1", index-management.md)
  bool unique = false;
};

// Read/write concerns and read preference of a database or collection handle, in server
// form ({level: "majority"}, {w: 1}, {mode: "primary"}). Outside transactions they replace
// the client's; inside a transaction the transaction's options win (transactions.md).
struct collection_options {
  std::optional<bson::document> read_concern;
  std::optional<bson::document> write_concern;
  std::optional<bson::document> read_preference;
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

// A collection handle. Cheap to copy.
//
// Each operation has one async form, `async_xxx(args..., options, result, diag, token)`,
// and one awaitable form for coroutine users, `co_await xxx(args..., options, result,
// diag)` returning the error_code. Views (bson::view) must outlive the operation.
class collection {
 public:
  const std::string& database_name() const noexcept { return db_; }
  const std::string& name() const noexcept { return coll_; }

  // A handle on the same collection with other concerns / read preference.
  collection with_options(collection_options options) const;
  const collection_options& options() const noexcept { return options_; }

  template <class Token>
  auto async_insert_one(bson::view doc, insert_one_options options, insert_one_result& result, diagnostics& diag,
                        Token&& token) {
    return detail::initiate(executor(), insert_one(doc, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> insert_one(bson::view doc, insert_one_options options, insert_one_result& result,
                                                diagnostics& diag);

  // crud.md "insertMany": a bulk write of inserts.
  template <class Token>
  auto async_insert_many(std::vector<bson::document> docs, insert_many_options options, insert_many_result& result,
                         diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), insert_many(std::move(docs), std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> insert_many(std::vector<bson::document> docs, insert_many_options options,
                                                 insert_many_result& result, diagnostics& diag);

  // crud.md "Update vs. Replacement Validation": `update_doc` must consist of update
  // operators ($set, ...) and a replacement must have none (client_errc::invalid_argument).
  template <class Token>
  auto async_update_one(bson::view filter, bson::view update_doc, update_options options, update_result& result,
                        diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), update_one(filter, update_doc, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> update_one(bson::view filter, bson::view update_doc, update_options options,
                                                update_result& result, diagnostics& diag);

  template <class Token>
  auto async_update_many(bson::view filter, bson::view update_doc, update_options options, update_result& result,
                         diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), update_many(filter, update_doc, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> update_many(bson::view filter, bson::view update_doc, update_options options,
                                                 update_result& result, diagnostics& diag);

  template <class Token>
  auto async_replace_one(bson::view filter, bson::view replacement, replace_options options, update_result& result,
                         diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), replace_one(filter, replacement, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> replace_one(bson::view filter, bson::view replacement, replace_options options,
                                                 update_result& result, diagnostics& diag);

  template <class Token>
  auto async_delete_one(bson::view filter, delete_options options, delete_result& result, diagnostics& diag,
                        Token&& token) {
    return detail::initiate(executor(), delete_one(filter, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> delete_one(bson::view filter, delete_options options, delete_result& result,
                                                diagnostics& diag);

  template <class Token>
  auto async_delete_many(bson::view filter, delete_options options, delete_result& result, diagnostics& diag,
                         Token&& token) {
    return detail::initiate(executor(), delete_many(filter, std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> delete_many(bson::view filter, delete_options options, delete_result& result,
                                                 diagnostics& diag);

  // All matching documents (the cursor is drained with getMore).
  template <class Token>
  auto async_find(bson::view filter, find_options options, std::vector<bson::document>& out, diagnostics& diag,
                  Token&& token) {
    return detail::initiate(executor(), find(filter, std::move(options), out, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find(bson::view filter, find_options options, std::vector<bson::document>& out,
                                          diagnostics& diag);

  // crud.md "findOne": find with limit 1 and singleBatch; `options.limit` is ignored.
  template <class Token>
  auto async_find_one(bson::view filter, find_options options, std::optional<bson::document>& out, diagnostics& diag,
                      Token&& token) {
    return detail::initiate(executor(), find_one(filter, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find_one(bson::view filter, find_options options,
                                              std::optional<bson::document>& out, diagnostics& diag);

  template <class Token>
  auto async_aggregate(bson::view pipeline, aggregate_options options, std::vector<bson::document>& out,
                       diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), aggregate(pipeline, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> aggregate(bson::view pipeline, aggregate_options options,
                                               std::vector<bson::document>& out, diagnostics& diag);

  template <class Token>
  auto async_count_documents(bson::view filter, count_options options, std::int64_t& out, diagnostics& diag,
                             Token&& token) {
    return detail::initiate(executor(), count_documents(filter, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> count_documents(bson::view filter, count_options options, std::int64_t& out,
                                                     diagnostics& diag);

  // The legacy count command (crud.md "count", deprecated in favour of countDocuments).
  template <class Token>
  auto async_count(bson::view filter, count_options options, std::int64_t& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), count(filter, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> count(bson::view filter, count_options options, std::int64_t& out,
                                           diagnostics& diag);

  // crud.md "estimatedDocumentCount": the count command without a filter (collection metadata).
  template <class Token>
  auto async_estimated_document_count(estimated_document_count_options options, std::int64_t& out, diagnostics& diag,
                                      Token&& token) {
    return detail::initiate(executor(), estimated_document_count(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> estimated_document_count(estimated_document_count_options options,
                                                              std::int64_t& out, diagnostics& diag);

  // `values` receives the distinct values as a BSON array.
  template <class Token>
  auto async_distinct(std::string_view field, bson::view filter, distinct_options options, bson::document& values,
                      diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), distinct(std::string(field), filter, std::move(options), values, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> distinct(std::string field, bson::view filter, distinct_options options,
                                              bson::document& values, diagnostics& diag);

  // findAndModify (crud.md "findOneAndUpdate", ...): `out` receives the document before
  // (or, with return_new, after) the change; nullopt when nothing matched.
  template <class Token>
  auto async_find_one_and_update(bson::view filter, bson::view update_doc, find_one_and_update_options options,
                                 std::optional<bson::document>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), find_one_and_update(filter, update_doc, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find_one_and_update(bson::view filter, bson::view update_doc,
                                                         find_one_and_update_options options,
                                                         std::optional<bson::document>& out, diagnostics& diag);

  template <class Token>
  auto async_find_one_and_replace(bson::view filter, bson::view replacement, find_one_and_replace_options options,
                                  std::optional<bson::document>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), find_one_and_replace(filter, replacement, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find_one_and_replace(bson::view filter, bson::view replacement,
                                                          find_one_and_replace_options options,
                                                          std::optional<bson::document>& out, diagnostics& diag);

  template <class Token>
  auto async_find_one_and_delete(bson::view filter, find_one_and_delete_options options,
                                 std::optional<bson::document>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), find_one_and_delete(filter, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> find_one_and_delete(bson::view filter, find_one_and_delete_options options,
                                                         std::optional<bson::document>& out, diagnostics& diag);

  // Runs the requests as insert/update/delete commands of consecutive requests of one kind
  // (ordered) or grouped by kind (unordered); crud.md "Bulk Write". On a write error
  // diag.write_errors carry the index of the request in `requests`.
  template <class Token>
  auto async_bulk_write(std::vector<write_model> requests, bulk_write_options options, bulk_write_result& result,
                        diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), bulk_write(std::move(requests), std::move(options), result, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> bulk_write(std::vector<write_model> requests, bulk_write_options options,
                                                bulk_write_result& result, diagnostics& diag);

  // index-management.md "createIndexes": `name` receives the index's name.
  template <class Token>
  auto async_create_index(bson::view keys, index_options options, std::string& name, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), create_index(keys, std::move(options), name, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> create_index(bson::view keys, index_options options, std::string& name,
                                                  diagnostics& diag);

  template <class Token>
  auto async_list_indexes(std::vector<bson::document>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), list_indexes(out, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_indexes(std::vector<bson::document>& out, diagnostics& diag);

  // index-management.md "listIndexNames": the names of listIndexes' documents.
  template <class Token>
  auto async_list_index_names(std::vector<std::string>& out, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), list_index_names(out, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_index_names(std::vector<std::string>& out, diagnostics& diag);

  // crud.md "drop": a collection that does not exist is not an error.
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

// A database handle. Cheap to copy. Like collection, one obtained from a session runs
// everything with that session.
class database {
 public:
  const std::string& name() const noexcept { return db_; }
  // The collection inherits this handle's session and options.
  collection get_collection(std::string_view coll) const;
  database with_options(collection_options options) const;
  const collection_options& options() const noexcept { return options_; }

  // Runs `command` as given (run-command.md: no read concern or write concern is added
  // outside transactions). `read_preference` ({mode: ...}) must be primary inside a
  // transaction. `reply` receives the server's reply, also on server errors.
  template <class Token>
  auto async_run_command(bson::view command, std::optional<bson::document> read_preference, bson::document& reply,
                         diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), run_command(bson::document(command), std::move(read_preference), reply, diag),
                            &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> run_command(bson::document command, std::optional<bson::document> read_preference,
                                                 bson::document& reply, diagnostics& diag);

  // `options` are the create command's fields (capped, validator, ...).
  template <class Token>
  auto async_create_collection(std::string_view coll, bson::view options, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), create_collection(std::string(coll), bson::document(options), diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> create_collection(std::string coll, bson::document options, diagnostics& diag);

  // NamespaceNotFound is not an error (the collection is already gone).
  template <class Token>
  auto async_drop_collection(std::string_view coll, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), drop_collection(std::string(coll), diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> drop_collection(std::string coll, diagnostics& diag);

  template <class Token>
  auto async_list_collections(list_collections_options options, std::vector<bson::document>& out, diagnostics& diag,
                              Token&& token) {
    return detail::initiate(executor(), list_collections(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_collections(list_collections_options options,
                                                      std::vector<bson::document>& out, diagnostics& diag);

  // crud.md "Database-level aggregation": {aggregate: 1, pipeline} (e.g. $currentOp,
  // $listLocalSessions, $documents); the cursor is drained like a collection's aggregate.
  template <class Token>
  auto async_aggregate(bson::view pipeline, aggregate_options options, std::vector<bson::document>& out,
                       diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), aggregate(pipeline, std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> aggregate(bson::view pipeline, aggregate_options options,
                                               std::vector<bson::document>& out, diagnostics& diag);

  // enumerate-collections.md "listCollectionNames": listCollections with nameOnly: true.
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

// An explicit client session (driver-sessions.md). Not copyable; movable.
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

class session {
 public:
  session(session&&) noexcept;
  session& operator=(session&&) noexcept;
  ~session();  // ends the session (aborting a transaction in progress)

  collection get_collection(std::string_view db, std::string_view coll) const;
  database get_database(std::string_view db) const;

  // transactions.md "startTransaction": no I/O; the first operation sends startTransaction.
  error_code start_transaction(const std::optional<transaction_options>& options, diagnostics& diag);
  error_code start_transaction() {
    diagnostics ignored;
    return start_transaction(std::nullopt, ignored);
  }

  template <class Token>
  auto async_commit_transaction(diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), commit_transaction(diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> commit_transaction(diagnostics& diag);

  template <class Token>
  auto async_abort_transaction(diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), abort_transaction(diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> abort_transaction(diagnostics& diag);

  // The outcome of this session's last commit and its evidence. While it is `unknown` the
  // session keeps its server session (same lsid and txnNumber); ending the session then
  // discards that server session instead of pooling it.
  const commit_result& last_commit() const noexcept;
  // Learns an unknown outcome: commits again (w: "majority", transactions.md "Retrying
  // commitTransaction") until the server answers with anything but
  // UnknownTransactionCommitResult or `deadline` has passed; never reruns the transaction's
  // statements. Completes with the last commit's error ({} when committed).
  template <class Token>
  auto async_resolve_commit(std::chrono::milliseconds deadline, diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), resolve_commit(deadline, diag), &diag, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> resolve_commit(std::chrono::milliseconds deadline, diagnostics& diag);

  // Runs a command with this session's fields (and transaction fields when one is active).
  template <class Token>
  auto async_run_command(std::string_view db, bson::view command, bson::document& reply, diagnostics& diag,
                         Token&& token) {
    return detail::initiate(executor(), run_command(std::string(db), bson::document(command), reply, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> run_command(std::string db, bson::document command, bson::document& reply,
                                                 diagnostics& diag);

  // transactions-convenient-api.md "withTransaction": runs `callback` in a transaction,
  // retrying it on TransientTransactionError and the commit on
  // UnknownTransactionCommitResult until 120 seconds have passed. An exception thrown by
  // the callback aborts the transaction and completes the async form with
  // client_errc::internal_error (its what() in diag.client_message).
  using transaction_callback = std::function<boost::asio::awaitable<error_code>(session&, diagnostics&)>;
  template <class Token>
  auto async_with_transaction(transaction_callback callback, std::optional<transaction_options> options,
                              diagnostics& diag, Token&& token) {
    return detail::initiate(executor(), with_transaction(std::move(callback), std::move(options), diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> with_transaction(transaction_callback callback,
                                                      std::optional<transaction_options> options, diagnostics& diag);

  // Ends the session now (spec "endSession"): aborts a transaction in progress.
  boost::asio::awaitable<void> end();

  // driver-sessions.md "ClientSession": the client that started this session (throws
  // mongowire::error with client_errc::client_closed once that client is destroyed) and the
  // options it was started with.
  mongowire::client& client() const;
  const session_options& options() const noexcept;

  transaction_state current_transaction_state() const noexcept;
  bool in_transaction() const noexcept;
  bool is_dirty() const noexcept;
  // {id: <UUID>} as sent in lsid.
  bson::document id() const;
  std::optional<bson::document> cluster_time() const;
  std::optional<bson::timestamp> operation_time() const;
  void advance_cluster_time(bson::view cluster_time);
  void advance_operation_time(bson::timestamp t);
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

class client {
 public:
  // Parses the connection string (throws mongowire::error with client_errc::invalid_uri
  // naming the bad option) and starts monitoring. No I/O happens before the first operation
  // needs a server.
  client(boost::asio::any_io_executor ex, std::string_view uri, client_options options = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  boost::asio::any_io_executor get_executor() const;

  collection get_collection(std::string_view db, std::string_view coll) const;
  database get_database(std::string_view db) const;
  // Throws mongowire::error (client_errc::invalid_argument) when the options contradict
  // each other (snapshot-sessions.md: snapshot with causalConsistency).
  session start_session(const session_options& options = {});

  // enumerate-databases.md: listDatabases on admin with an implicit session, a retryable
  // read: one document per database ({name, sizeOnDisk, empty}).
  template <class Token>
  auto async_list_databases(list_databases_options options, std::vector<bson::document>& out, diagnostics& diag,
                            Token&& token) {
    return detail::initiate(get_executor(), list_databases(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_databases(list_databases_options options, std::vector<bson::document>& out,
                                                    diagnostics& diag);

  // enumerate-databases.md "listDatabaseNames": listDatabases with nameOnly: true.
  template <class Token>
  auto async_list_database_names(list_databases_options options, std::vector<std::string>& out, diagnostics& diag,
                                 Token&& token) {
    return detail::initiate(get_executor(), list_database_names(std::move(options), out, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> list_database_names(list_databases_options options, std::vector<std::string>& out,
                                                         diagnostics& diag);

  // Runs a command on the primary with an implicit session; `reply` receives the server's
  // reply on success and on server errors (also in diag.reply).
  template <class Token>
  auto async_run_command(std::string_view db, bson::view command, bson::document& reply, diagnostics& diag,
                         Token&& token) {
    return detail::initiate(get_executor(), run_command(std::string(db), bson::document(command), reply, diag), &diag,
                            std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> run_command(std::string db, bson::document command, bson::document& reply,
                                                 diagnostics& diag);

  // Ends pooled server sessions (endSessions, batches of 10,000), closes pools and monitors.
  template <class Token>
  auto async_close(Token&& token) {
    return detail::initiate(get_executor(), close(), nullptr, std::forward<Token>(token));
  }
  boost::asio::awaitable<error_code> close();

  // Statistics for benchmarks.
  struct stats {
    std::uint64_t commands = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t retries = 0;
  };
  stats get_stats() const noexcept;

 private:
  friend struct detail::client_access;  // tests reach the internals through src/client/client_access.hpp
  std::shared_ptr<detail::client_impl> impl_;
};

}  // namespace mongowire
