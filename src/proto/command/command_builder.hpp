// Command builders: each build_* writes one command body into a caller-provided, reused
// bson::document (cleared first; its buffer is kept, so no allocation once warm). The
// command name comes first, then the operation's own fields. The caller may append more
// operation fields (comment, let, ...) and then calls append_command_fields() for the
// session/transaction fields, and finally find_document_sequences() for OP_MSG.
//
// All inputs are non-owning views that only need to live for the duration of the call.
// Field names and shapes follow crud.md, transactions.md, driver-sessions.md,
// index-management.md and mongodb-handshake/handshake.md (mongodb/specifications).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"
#include "proto/command/command_fields.hpp"
#include "proto/wire/op_msg.hpp"

namespace mongowire::detail {

// ---------------------------------------------------------------- session fields

// Appends, each only when set and in this order: $db, lsid, txnNumber (int64),
// startTransaction: true, autocommit: false, readConcern, writeConcern, maxTimeMS,
// $clusterTime, recoveryToken.
void append_command_fields(bson::document& body, const command_fields& fields);

// ---------------------------------------------------------------- OP_MSG kind 1

// The field a command may move to a kind-1 section: insert -> "documents",
// update -> "updates", delete -> "deletes"; "" for every other command.
std::string_view sequence_field_for(std::string_view command_name) noexcept;

// The document sequences `body` sends as kind-1 sections: its sequence_field_for() array, or
// bulkWrite's ops and nsInfo, viewed in place. nullopt when the command has no such field or
// one of them is not an array.
std::optional<document_sequences> find_document_sequences(bson::view body) noexcept;

// The kind-0 section `body` without the sequences' fields, then one kind-1 section per
// sequence (OP_MSG.md "Document Sequences"); `body` alone when there is none.
void add_command_sections(wire::op_msg_encoder& enc, bson::view body, const std::optional<document_sequences>& seqs);

// ---------------------------------------------------------------- shared option types

// `hint`: an index name or an index key pattern; monostate = not sent.
using hint_value = std::variant<std::monostate, std::string_view, bson::view>;

// ---------------------------------------------------------------- generic

// runCommand: the user's document as the body (its first key is the command name).
void build_user_command(bson::document& out, bson::view command);

// ---------------------------------------------------------------- writes (crud.md)

// {insert: coll, documents: [...], ordered}
void build_insert(bson::document& out, std::string_view coll, std::span<const bson::view> documents,
                  bool ordered = true);

struct update_statement {
  bson::view q{};              // filter
  bson::view u{};              // update document, or a pipeline array
  bool u_is_pipeline = false;  // `u` is an aggregation pipeline (array)
  std::optional<bool> upsert{};
  std::optional<bool> multi{};                // updateMany: true
  std::optional<bson::view> array_filters{};  // array
  hint_value hint{};
  std::optional<bson::view> collation{};
};
// {update: coll, updates: [{q, u, upsert?, multi?, arrayFilters?, hint?, collation?}], ordered}
void build_update(bson::document& out, std::string_view coll, std::span<const update_statement> updates,
                  bool ordered = true);

struct delete_statement {
  bson::view q{};
  std::int32_t limit = 0;  // 1 = deleteOne, 0 = deleteMany
  hint_value hint{};
  std::optional<bson::view> collation{};
};
// {delete: coll, deletes: [{q, limit, hint?, collation?}], ordered}
void build_delete(bson::document& out, std::string_view coll, std::span<const delete_statement> deletes,
                  bool ordered = true);

// ---------------------------------------------------------------- client bulk write (bulk-write.md)

// One write of MongoClient.bulkWrite, viewing into the caller's model.
struct client_write {
  enum class kind : std::uint8_t { insert, update, remove };
  kind type = kind::insert;
  std::string_view ns{};     // "db.collection"
  bson::view document{};     // insert: the document, _id first
  bson::view filter{};       // update, remove
  bson::view update_mods{};  // update: update operators, a replacement, or a pipeline (array)
  bool update_is_pipeline = false;
  bool multi = false;                         // updateMany, deleteMany
  std::optional<bool> upsert{};               // update
  std::optional<bson::view> array_filters{};  // update: array
  hint_value hint{};
  std::optional<bson::view> collation{};
};

// The command's own fields (bulk-write.md "Options"); errorsOnly is !verboseResults.
struct client_bulk_write_fields {
  bool errors_only = true;
  bool ordered = true;                               // "Drivers MUST explicitly define ordered as true" when not given
  std::optional<bool> bypass_document_validation{};  // sent whenever given, false included
  std::optional<bson::view> let{};
  std::optional<bson::element> comment{};
};

// {bulkWrite: 1, errorsOnly, ordered, bypassDocumentValidation?, comment?, let?}: the body
// without ops and nsInfo, which batch splitting measures.
void build_client_bulk_write_head(bson::document& out, const client_bulk_write_fields& fields);
// The `ops` entry of `w` on the namespace nsInfo[ns_index] ("Operations"): {insert, document},
// {update, filter, updateMods, multi, upsert?, arrayFilters?, hint?, collation?} or
// {delete, filter, multi, hint?, collation?}. Its size does not depend on ns_index (int32).
void build_client_write_entry(bson::document& out, const client_write& w, std::int32_t ns_index);
// The whole command: the head, ops, and nsInfo holding each namespace once, numbered in the
// order the writes first use them ("Namespace Information").
void build_client_bulk_write(bson::document& out, std::span<const client_write> writes,
                             const client_bulk_write_fields& fields);

// ---------------------------------------------------------------- reads and cursors

struct find_options {
  std::optional<bson::view> projection{};
  std::optional<bson::view> sort{};
  std::optional<std::int64_t> skip{};
  std::optional<std::int64_t> limit{};  // negative: one batch of at most -limit (crud.md)
  std::optional<std::int32_t> batch_size{};
  bool single_batch = false;
  hint_value hint{};
  std::optional<bson::view> collation{};
  std::optional<bson::view> min{};  // inclusive lower bound of the hinted index's keys
  std::optional<bson::view> max{};  // exclusive upper bound
  std::optional<std::int64_t> max_time_ms{};
  std::optional<bson::element> comment{};
  std::optional<bool> return_key{};
  std::optional<bool> show_record_id{};
  std::optional<bool> allow_disk_use{};
  std::optional<bson::view> let{};
  bool tailable = false;    // crud.md "CursorType" TAILABLE / TAILABLE_AWAIT
  bool await_data = false;  // TAILABLE_AWAIT (with tailable)
};
// {find: coll, filter, sort?, projection?, hint?, skip?, limit?, batchSize?, singleBatch?,
//  collation?, min?, max?, maxTimeMS?, comment?, returnKey?, showRecordId?, allowDiskUse?, let?,
//  tailable?, awaitData?}
void build_find(bson::document& out, std::string_view coll, bson::view filter, const find_options& options = {});

// {getMore: <int64 id>, collection: coll, batchSize?}
void build_get_more(bson::document& out, std::int64_t cursor_id, std::string_view coll,
                    std::optional<std::int32_t> batch_size = std::nullopt);

// {killCursors: coll, cursors: [<int64>...]}
void build_kill_cursors(bson::document& out, std::string_view coll, std::span<const std::int64_t> cursor_ids);

struct aggregate_options {
  std::optional<std::int32_t> batch_size{};  // inside `cursor: {}`
  std::optional<bool> allow_disk_use{};
  hint_value hint{};
  std::optional<bson::view> collation{};
  std::optional<bson::view> let{};
  std::optional<std::int64_t> max_time_ms{};
  std::optional<bson::element> comment{};
};
// {aggregate: coll (or 1 when coll is empty: database aggregation), pipeline: [...],
//  cursor: {batchSize?}, allowDiskUse?, hint?, collation?, let?, maxTimeMS?, comment?}
void build_aggregate(bson::document& out, std::string_view coll, bson::view pipeline,
                     const aggregate_options& options = {});

struct count_options {
  std::optional<std::int64_t> skip{};
  std::optional<std::int64_t> limit{};
  hint_value hint{};
  std::optional<bson::view> collation{};
  std::optional<std::int64_t> max_time_ms{};  // the count command only
  std::optional<bson::element> comment{};     // the count command only
};
// The legacy count command: {count: coll, query: filter, limit?, skip?, hint?, collation?,
// maxTimeMS?, comment?}
void build_count(bson::document& out, std::string_view coll, bson::view filter, const count_options& options = {});
// countDocuments (crud.md, "countDocuments"): aggregate with
// [{$match: filter}, {$skip}?, {$limit}?, {$group: {_id: 1, n: {$sum: 1}}}], cursor: {}.
// An empty result batch means a count of 0.
void build_count_documents(bson::document& out, std::string_view coll, bson::view filter,
                           const count_options& options = {});

// {distinct: coll, key, query: filter, collation?}
void build_distinct(bson::document& out, std::string_view coll, std::string_view key, bson::view filter,
                    std::optional<bson::view> collation = std::nullopt);

struct find_and_modify_options {
  bson::view query{};
  std::optional<bson::view> sort{};
  bool remove = false;                 // findOneAndDelete
  std::optional<bson::view> update{};  // replacement/update document, or pipeline array
  bool update_is_pipeline = false;
  std::optional<bool> return_new{};    // `new`
  std::optional<bson::view> fields{};  // projection
  std::optional<bool> upsert{};
  std::optional<bson::view> array_filters{};
  hint_value hint{};
  std::optional<bson::view> collation{};
  std::optional<std::int64_t> max_time_ms{};
};
// {findAndModify: coll, query, sort?, remove: true | update, new?, fields?, upsert?,
//  arrayFilters?, hint?, collation?, maxTimeMS?}. client_errc::invalid_argument (out untouched)
// unless exactly one of `remove` and `update` is given.
error_code build_find_and_modify(bson::document& out, std::string_view coll, const find_and_modify_options& options);

// ---------------------------------------------------------------- collections and indexes

// {create: coll, <options fields...>} (e.g. capped, validator).
void build_create(bson::document& out, std::string_view coll, bson::view options = {});
// {drop: coll}
void build_drop(bson::document& out, std::string_view coll);

struct index_model {
  bson::view keys{};
  std::string_view name{};  // "" = generated as in index-management.md ("a_1_b_-1")
  bson::view options{};     // unique, sparse, expireAfterSeconds, ... copied into the index
};
// {createIndexes: coll, indexes: [{key, name, <options>}...]}
void build_create_indexes(bson::document& out, std::string_view coll, std::span<const index_model> indexes);
// The default index name: "<key>_<value>" joined with "_" (index-management.md).
std::string default_index_name(bson::view keys);

// ---------------------------------------------------------------- transactions and sessions

// {commitTransaction: 1}; send to admin_db with lsid, txnNumber, autocommit, writeConcern,
// maxTimeMS and recoveryToken from command_fields (transactions.md, "Server Commands").
void build_commit_transaction(bson::document& out);
// {abortTransaction: 1}; same fields as commit (no maxTimeMS needed).
void build_abort_transaction(bson::document& out);
// {endSessions: [{id: <UUID>}...]} to admin_db; at most 10,000 ids per command
// (driver-sessions.md, "endSession"): callers split larger lists.
void build_end_sessions(bson::document& out, std::span<const session_id> ids);
inline constexpr std::size_t max_end_sessions_per_command = 10000;

// ---------------------------------------------------------------- handshake

struct client_metadata {
  std::string_view application_name{};  // "" = no `application`; the client rejects > 128 bytes
  std::string_view driver_name = "mongowire";
  std::string_view driver_version = "0.1.0";  // keep equal to meson's project version
  std::string_view os_type{};                 // required by the spec; defaults from the build
  std::string_view os_name{};
  std::string_view os_architecture{};
  std::string_view platform{};
};
// os type/architecture and platform of this build, application/driver left as given.
client_metadata default_client_metadata(std::string_view application_name = {});

struct hello_options {
  bool legacy_name = false;                 // "isMaster" instead of "hello" (first handshake, no API version)
  std::optional<client_metadata> client{};  // only on the connection handshake
  bool load_balanced = false;
  std::optional<bson::view> compression{};  // array of compressor names
};
// {hello|isMaster: 1, helloOk: true, backpressure?, client?, loadBalanced?, compression?}
// `client` is trimmed to 512 bytes as handshake.md "Limitations" describes; backpressure
// goes with it (connection handshakes only, never on monitoring hellos).
inline constexpr std::string_view client_backpressure_version = "2";
void build_hello(bson::document& out, const hello_options& options = {});
inline constexpr std::size_t max_client_metadata_bytes = 512;
inline constexpr std::size_t max_application_name_bytes = 128;

}  // namespace mongowire::detail
