// Internal state of server_core, shared by its translation units.
#pragma once

#include <array>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/command_error.hpp"
#include "core/server_core.hpp"
#include "core/storage.hpp"
#include "core/users.hpp"
#include "query/query.hpp"

namespace mongowire::testd {

using clock_type = std::chrono::system_clock;

// mongod's size limits (bson/util/builder.h BSONObjMaxUserSize / BSONObjMaxInternalSize,
// MaxMessageSizeBytes), advertised by hello; maxWriteBatchSize is server_options'.
inline constexpr std::int32_t max_user_bson_size = 16 * 1024 * 1024;
inline constexpr std::int32_t max_internal_bson_size = max_user_bson_size + 16 * 1024;
inline constexpr std::int32_t max_message_size_bytes = 48'000'000;

// One configureFailPoint setting (mongo/util/fail_point.h modes).
struct failpoint {
  enum class mode { off, always_on, times, skip } kind = mode::off;
  std::int64_t counter = 0;  // remaining times, or remaining skips
  bson::document data;
  std::int64_t times_entered = 0;

  bool active() const noexcept { return kind != mode::off; }
  // Called only when the failpoint's predicate matched: consumes one activation.
  bool fire();
};

enum class txn_phase { none, in_progress, committed, aborted };  // none: retryable-write mode

struct session_state {
  std::int64_t txn_number = -1;  // active txnNumber
  txn_phase phase = txn_phase::none;
  bool first_statement_done = false;  // mongod's "txnResourceStash exists"
  txn_id storage_txn = 0;
  std::optional<bson::timestamp> snapshot;
  clock_type::time_point expire_at{};
  std::map<std::int32_t, bson::document> statements;        // retryable writes: stmtId -> result
  clock_type::time_point last_use{};                        // config.transactions lastWriteDate, for the reaper
  bool ended = false;                                       // endSessions took effect at a cache refresh
  std::optional<std::pair<std::string, std::string>> user;  // {name, db} of who first used it (with auth)
  // Known only from replicated transaction records (config.transactions), never used on this
  // member: not in its logical session cache ($listLocalSessions).
  bool replicated_only = false;
};

// mongod's LogicalSessionCache timing (logicalSessionRefreshMillis, and
// TransactionRecordMinimumLifetimeMinutes = localLogicalSessionTimeoutMinutes).
inline constexpr std::chrono::minutes session_refresh_interval{5};
inline constexpr std::chrono::minutes session_record_lifetime{30};

// find's tailable cursor (a capped collection): it stays open at the end of the collection, and
// each getMore returns the matching documents inserted after the last record it looked at.
struct tailing_state {
  bool await_data = false;  // getMore waits up to maxTimeMS (default 1 s) for documents
  bson::document filter;
  bson::document projection;
  std::uint64_t last_record = 0;  // record ids grow with insertion order
};

struct cursor_state {
  std::string ns;
  std::deque<bson::document> remaining;
  std::string lsid_key;  // cursors opened in a transaction stay in it
  std::optional<std::int64_t> txn_number;
  std::optional<tailing_state> tailing;
};

// Everything known about the command being run.
struct op_context {
  std::string name;
  bson::view cmd;
  std::string db;
  connection_context* conn = nullptr;
  std::string lsid_key;
  session_state* session = nullptr;
  std::optional<std::int64_t> txn_number;
  std::optional<bool> autocommit;
  bool start_transaction = false;
  bool in_txn() const noexcept { return autocommit.has_value(); }
  bool retryable_write() const noexcept { return txn_number.has_value() && !autocommit; }
  read_view view;                                  // what reads see
  std::optional<bson::timestamp> at_cluster_time;  // snapshot reads outside a transaction
  bson::timestamp operation_time;
  std::vector<std::int32_t> retried_stmt_ids;
  std::optional<bson::document> label_override;  // failCommand errorLabels
  bson::timestamp last_op_before{};              // client's last write before this command
};

struct command_traits;

// What one update statement did, also as recorded for a retryable write (crud_commands.cpp).
struct update_outcome {
  std::int64_t n = 0;  // matched; an upsert counts 1
  std::int64_t modified = 0;
  std::optional<bson::document> upserted_id;  // {_id: <value>}
};
update_outcome update_outcome_of(const bson::document& record);  // a statement record {n, nModified?, upserted?}
bson::document update_record(const update_outcome& u);

// An aggregate's final $merge stage with the default `on: "_id"`.
struct merge_stage {
  std::string ns;
  std::string when_matched = "merge";       // merge | replace | keepExisting | fail
  std::string when_not_matched = "insert";  // insert | discard | fail
};

struct server_core::impl {
  explicit impl(server_options opts);

  server_options options;
  std::mutex mutex;
  storage store;
  std::map<std::string, session_state> sessions;
  std::map<std::int64_t, cursor_state> cursors;
  std::int64_t next_cursor_id = 1000;
  std::int64_t next_connection_id = 1;
  // failCommand, one per router (connection_context::router): each mongos has its own.
  std::map<std::int32_t, failpoint> fail_commands;
  // Sharded: per router, the transactions it coordinates (lsid key -> txnNumber it started);
  // mongos's TransactionRouter state lives in the router, not in the shards.
  std::map<std::int32_t, std::map<std::string, std::int64_t>> router_transactions;
  failpoint primary_write_failpoint;  // onPrimaryTransactionalWrite
  bson::object_id process_id = bson::object_id::generate();
  // load-balancers.md "Downstream Visible Behavioral Changes": per router (connection_context::
  // router), an ObjectId that does not change while that mongos runs; made at its first hello.
  std::map<std::int32_t, bson::object_id> service_ids;
  std::int64_t topology_counter = 0;
  bool quiesce_mode = false;  // shutting down: hello fails, shutdown errors carry topologyVersion
  std::int64_t election_term = 1;
  std::function<void()> topology_listener;
  clock_type::time_point next_expiry = clock_type::time_point::max();  // earliest transaction expiry
  std::set<std::string> ending_sessions;  // endSessions received, applied at the next refresh
  user_store users;                       // admin.system.users
  clock_type::time_point next_session_refresh{};
  mutable bson::document cluster_time_doc;        // the $clusterTime of replies, for ...
  mutable bson::timestamp cluster_time_of_doc{};  // ... this cluster time
  clock_type::time_point started_at;
  struct {
    std::int64_t started = 0, committed = 0, aborted = 0, retried_commands = 0, retried_statements = 0;
  } txn_stats;
  // serverStatus network.compression, by compressor id: compressor then decompressor bytes
  // in and out.
  std::array<std::array<std::int64_t, 4>, 4> compression_bytes{};

  // Replication (replication.cpp): a secondary's fetched, not yet applied, entries of its sync
  // source's oplog, and the newest timestamp fetched.
  server_core* sync_source = nullptr;
  std::deque<oplog_entry> fetched;
  bson::timestamp last_fetched{};
  std::function<void()> election_handler;  // replSetStepDown
  clock_type::time_point frozen_until{};   // replSetFreeze

  clock_type::time_point now() const { return options.clock ? options.clock() : clock_type::now(); }
  std::int64_t now_ms() const;
  std::uint32_t now_seconds() const;
  // Applies a role change (no-op entry on promotion, aborted transactions on step-down).
  void change_role(member_role role);
  std::string me() const { return options.me.empty() ? options.hosts.front() : options.me; }

  bson::document run(bson::view command, connection_context& ctx);
  void execute(const command_traits& traits, op_context& op, bson::document& reply);

  // Replication (replication.cpp).
  void fetch_oplog();  // without the lock held: takes this member's lock, then the source's
  void apply_due_oplog();
  void apply_fetched_oplog();  // promotion: a new primary drains what it fetched
  void apply_oplog_entry(const oplog_entry& e);
  void apply_session_entry(const oplog_entry& e);  // config.transactions, as the applier updates it
  // A retryable write's statement is done: its result, for a retry here and (through the
  // oplog) on a member that becomes primary.
  void record_statement(op_context& op, std::int32_t stmt, bson::document result);
  bool wait_for_cluster_time(op_context& op);
  // A secondary refuses writes, and reads whose read preference does not allow a secondary.
  void check_member_role(const command_traits& traits, const op_context& op, bool writes) const;
  void wait_for_secondaries(const op_context& op);
  void cmd_repl_set_step_down(op_context& op, bson::document& reply);
  void cmd_repl_set_freeze(op_context& op, bson::document& reply);

  // Sessions and transactions (transaction_participant.cpp rules).
  void parse_session_fields(op_context& op);
  void validate_session_options(const command_traits& traits, op_context& op);
  void check_out_session(op_context& op);
  void begin_or_continue(op_context& op);
  void check_read_concern(op_context& op);
  void abort_transaction_of(session_state& s);
  bool statement_failed(op_context& op, const command_error& e, bool ordered);
  void reap_expired_transactions();
  // Snapshot history (history.cpp): prunes what no reader can see, refuses reads before it.
  void prune_history();
  void check_snapshot_available(const op_context& op);
  void append_memory_status(bson::document& reply) const;  // serverStatus mem, wiredTiger
  void cmd_set_parameter(op_context& op, bson::document& reply);
  void cmd_get_parameter(op_context& op, bson::document& reply);
  std::int64_t snapshot_too_old_errors = 0;
  void refresh_session_cache();
  write_context write_context_for(op_context& op);
  void finish_autocommit_write(op_context& op, bson::timestamp ts);
  void touch_write(op_context& op, bson::timestamp ts);

  // Routers of a sharded cluster (router.cpp).
  void route_transaction(op_context& op);
  void append_recovery_token(const op_context& op, bson::document& reply) const;

  // Failpoints.
  failpoint& fail_command_of(const op_context& op) { return fail_commands[op.conn->router]; }
  bool fail_command_matches(const op_context& op, bool (*extra)(bson::view data));
  void evaluate_fail_command(op_context& op);
  std::optional<bson::document> fail_command_write_concern_error(const op_context& op);
  // onPrimaryTransactionalWrite for one statement of a retryable write: may close the
  // connection and/or throw failBeforeCommitExceptionCode before the write commits.
  void on_primary_transactional_write(op_context& op);

  // Replies.
  bson::document error_reply(op_context& op, const command_error& e, const std::optional<bson::document>& wce);
  void append_labels(op_context& op, bson::document& reply, std::optional<std::int32_t> code,
                     std::optional<std::int32_t> wc_code);
  void append_cluster_time(bson::document& reply, bson::timestamp operation_time) const;
  void append_topology_version(bson::document& reply) const;
  void append_topology_version_for(bson::document& reply, std::optional<std::int32_t> code,
                                   std::optional<std::int32_t> wc_code) const;
  std::optional<bson::document> write_concern_error_for(const op_context& op);

  // Commands (admin_commands.cpp).
  void cmd_hello(op_context& op, bson::document& reply);
  void cmd_ping(op_context& op, bson::document& reply);
  void cmd_build_info(op_context& op, bson::document& reply);
  void cmd_server_status(op_context& op, bson::document& reply);
  void cmd_end_sessions(op_context& op, bson::document& reply);
  // aggregate's $listLocalSessions stage (list_local_sessions.cpp): the session records it lists.
  std::vector<bson::document> list_local_sessions(const op_context& op, bson::view spec);
  void cmd_kill_all_sessions(op_context& op, bson::document& reply);
  void cmd_configure_fail_point(op_context& op, bson::document& reply);
  void cmd_commit_transaction(op_context& op, bson::document& reply);
  void cmd_abort_transaction(op_context& op, bson::document& reply);
  void cmd_create(op_context& op, bson::document& reply);
  void cmd_drop(op_context& op, bson::document& reply);
  void cmd_drop_database(op_context& op, bson::document& reply);
  void cmd_list_collections(op_context& op, bson::document& reply);
  void cmd_list_indexes(op_context& op, bson::document& reply);
  void cmd_list_databases(op_context& op, bson::document& reply);
  void cmd_create_indexes(op_context& op, bson::document& reply);
  void cmd_drop_indexes(op_context& op, bson::document& reply);

  // Access control (auth_commands.cpp).
  void check_authorization(const op_context& op) const;
  void add_auth_to_hello(op_context& op, bson::document& reply);
  void cmd_sasl_start(op_context& op, bson::document& reply);
  void cmd_sasl_continue(op_context& op, bson::document& reply);
  void cmd_authenticate(op_context& op, bson::document& reply);
  void cmd_create_user(op_context& op, bson::document& reply);
  void cmd_drop_user(op_context& op, bson::document& reply);
  void cmd_users_info(op_context& op, bson::document& reply);
  void create_initial_users();

  // CRUD (crud_commands.cpp).
  void cmd_insert(op_context& op, bson::document& reply);
  void cmd_update(op_context& op, bson::document& reply);
  void cmd_delete(op_context& op, bson::document& reply);
  void cmd_find(op_context& op, bson::document& reply);
  void cmd_get_more(op_context& op, bson::document& reply);
  void cmd_kill_cursors(op_context& op, bson::document& reply);
  void cmd_aggregate(op_context& op, bson::document& reply);
  void cmd_count(op_context& op, bson::document& reply);
  void cmd_distinct(op_context& op, bson::document& reply);
  void cmd_find_and_modify(op_context& op, bson::document& reply);

  // One statement of insert, update, delete or bulkWrite (crud_commands.cpp): each throws its
  // write error as command_error and records its result under `stmt` for a retryable write.
  // retried_statement: the record of a statement already done by this retryable write (and
  // notes the retry), else nullptr.
  const bson::document* retried_statement(op_context& op, std::int32_t stmt);
  void insert_statement(op_context& op, const std::string& ns, bson::view doc, std::int32_t stmt);
  update_outcome update_statement(op_context& op, const std::string& ns, bson::view q, bson::element u, bool multi,
                                  bool upsert, std::int32_t stmt);
  std::int64_t delete_statement(op_context& op, const std::string& ns, bson::view q, bool multi, std::int32_t stmt);
  update_outcome run_update_spec(op_context& op, const std::string& ns, const bson::element& u_el, std::int32_t i,
                                 std::int32_t stmt);
  std::int64_t run_delete_spec(op_context& op, const std::string& ns, const bson::element& d_el, std::int32_t i,
                               std::int32_t stmt);

  // bulkWrite (bulk_write_command.cpp, MongoDB 8.0 only).
  void cmd_bulk_write(op_context& op, bson::document& reply);

  // aggregate's $merge stage (crud_commands.cpp).
  void merge_into(op_context& op, const merge_stage& merge, std::vector<bson::document>& docs);

  // find (crud_commands.cpp).
  struct found_row {
    bson::document doc;
    record_id rid = 0;
  };
  std::vector<found_row> find_rows(op_context& op, const std::string& ns, const index_spec*& plan);
  bson::document shape_found_document(op_context& op, const index_spec* plan, const query::projection* proj,
                                      found_row& row);

  // Cursor helpers.
  // A tailable cursor (`tailing`) stays open after its first batch.
  void reply_with_cursor(op_context& op, bson::document& reply, std::string ns, std::vector<bson::document> docs,
                         std::int64_t batch_size, bool single_batch,
                         std::optional<tailing_state> tailing = std::nullopt);
  // find with tailable: what its cursor tails (throws for a collection that is not capped).
  tailing_state tailing_of(op_context& op, const std::string& ns, bool await_data);
  // getMore of a tailable cursor with no document left: what was inserted since; an awaitData
  // cursor with nothing new waits. True: no reply yet (the getMore runs again).
  bool tail_cursor(op_context& op, cursor_state& cursor);
  // The record a tailable cursor last looked at was deleted (a capped collection's oldest
  // documents go on insert): mongod's CappedPositionLost.
  bool capped_position_lost(const op_context& op, const cursor_state& cursor);
  std::vector<bson::document> visible_documents(op_context& op, std::string_view ns);
  // The visible documents matching `filter` (compiled as `m`), found through the _id index
  // when the filter allows it.
  std::vector<bson::document> matching_documents(op_context& op, std::string_view ns, bson::view filter,
                                                 const query::matcher& m);
};

using command_handler = void (server_core::impl::*)(op_context&, bson::document&);

inline bool is_commit_or_abort(std::string_view name) {
  return name == "commitTransaction" || name == "abortTransaction";
}

// What mongod knows about each command (Command::allowedInTransactions, supportsWriteConcern,
// secondaryAllowed ...).
struct command_traits {
  std::string_view name;
  command_handler handler;
  bool is_write = false;  // rejected with NotWritablePrimary on a secondary
  bool is_read = false;   // needs a secondary read preference on a secondary
  bool allowed_in_txn = false;
  bool supports_write_concern = false;
  bool retryable_write = false;  // insert, update, delete, findAndModify
  bool needs_collection_name = false;
};

const command_traits* find_command(std::string_view name);

// Helpers shared by the command files.
std::string collection_ns(const op_context& op);  // "<db>.<value of the first field>"
std::int64_t integer_field(const op_context& op, std::string_view field, std::int64_t fallback);
bson::view document_field(const op_context& op, std::string_view field, bool required);
void check_known_fields(const op_context& op, std::initializer_list<std::string_view> known);
bson::view array_field(const op_context& op, std::string_view field);  // required array
// The statements of a write command's `field`: 1 to `max_batch` (maxWriteBatchSize) of them.
bson::view write_statements(const op_context& op, std::string_view field, std::int32_t max_batch);
// The stmtId of statement `index` of a retryable write (stmtIds, or stmtId + index).
std::int32_t statement_id(const op_context& op, std::int32_t index);

}  // namespace mongowire::testd
