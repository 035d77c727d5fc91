// Command dispatch, sessions, transactions, failpoints and reply assembly, following
// mongod 7.0: service_entry_point_common.cpp (order of checks), initialize_operation_session_info.cpp
// and transaction_validation.cpp (session fields), transaction_participant.cpp (txnNumber
// rules), commands.cpp (failCommand), error_labels.cpp (labels).
#include "core/server_core.hpp"

#include <algorithm>
#include <cstdio>

#include "core/core_impl.hpp"

namespace mongowire::testd {
namespace {

using impl = server_core::impl;

constexpr command_traits kCommands[] = {
    // name, handler, write, read, in txn, write concern, retryable
    {"hello", &impl::cmd_hello},
    {"isMaster", &impl::cmd_hello},
    {"ismaster", &impl::cmd_hello},
    {"ping", &impl::cmd_ping},
    {"buildInfo", &impl::cmd_build_info},
    {"buildinfo", &impl::cmd_build_info},
    {"serverStatus", &impl::cmd_server_status},
    {"endSessions", &impl::cmd_end_sessions},
    {"killAllSessions", &impl::cmd_kill_all_sessions},
    {"configureFailPoint", &impl::cmd_configure_fail_point},
    {"commitTransaction", &impl::cmd_commit_transaction, true, false, true, true},
    {"abortTransaction", &impl::cmd_abort_transaction, true, false, true, true},
    {"create", &impl::cmd_create, true, false, true, true, false, true},
    {"drop", &impl::cmd_drop, true, false, false, true, false, true},
    {"dropDatabase", &impl::cmd_drop_database, true, false, false, true},
    {"listCollections", &impl::cmd_list_collections, false, true},
    {"listDatabases", &impl::cmd_list_databases, false, true},
    {"listIndexes", &impl::cmd_list_indexes, false, true, false, false, false, true},
    {"createIndexes", &impl::cmd_create_indexes, true, false, true, true, false, true},
    {"dropIndexes", &impl::cmd_drop_indexes, true, false, false, true, false, true},
    {"insert", &impl::cmd_insert, true, false, true, true, true, true},
    {"update", &impl::cmd_update, true, false, true, true, true, true},
    {"delete", &impl::cmd_delete, true, false, true, true, true, true},
    {"bulkWrite", &impl::cmd_bulk_write, true, false, true, true, true},
    {"findAndModify", &impl::cmd_find_and_modify, true, false, true, true, true, true},
    {"findandmodify", &impl::cmd_find_and_modify, true, false, true, true, true, true},
    {"find", &impl::cmd_find, false, true, true, false, false, true},
    {"getMore", &impl::cmd_get_more, false, false, true},
    {"killCursors", &impl::cmd_kill_cursors, false, false, true, false, false, true},
    {"aggregate", &impl::cmd_aggregate, false, true, true},
    {"count", &impl::cmd_count, false, true, false, false, false, true},
    {"distinct", &impl::cmd_distinct, false, true, true, false, false, true},
    {"replSetStepDown", &impl::cmd_repl_set_step_down},
    {"replSetFreeze", &impl::cmd_repl_set_freeze},
    {"saslStart", &impl::cmd_sasl_start},
    {"saslContinue", &impl::cmd_sasl_continue},
    {"authenticate", &impl::cmd_authenticate},
    {"createUser", &impl::cmd_create_user, true, false, false, true},
    {"dropUser", &impl::cmd_drop_user, true, false, false, true},
    {"usersInfo", &impl::cmd_users_info},
    {"setParameter", &impl::cmd_set_parameter},
    {"getParameter", &impl::cmd_get_parameter},
};

// Command::hasAlias: failCommands may name any alias of a command.
bool same_command(std::string_view a, std::string_view b) {
  auto group = [](std::string_view n) -> std::string_view {
    if (n == "hello" || n == "isMaster" || n == "ismaster") return "hello";
    if (n == "findAndModify" || n == "findandmodify") return "findAndModify";
    if (n == "buildInfo" || n == "buildinfo") return "buildInfo";
    return n;
  };
  return group(a) == group(b);
}

std::string hex_of(std::span<const std::uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// service_entry_point_common.cpp preloads the client metadata of a connection's first hello
// before failpoints are evaluated: a failCommand naming an appName fails that handshake too.
void preload_client_metadata(const op_context& op) {
  if (op.conn->client_metadata_received || !same_command(op.name, "hello")) return;
  if (auto client = op.cmd["client"].as_document())
    op.conn->app_name = std::string(client->find_path("application.name").as_string().value_or(""));
}

bson::document merge_sequences(bson::view body, std::span<const sequence> seqs) {
  bson::document merged(body);
  for (auto& s : seqs) {
    if (body.contains(s.identifier))
      throw command_error(code::failed_to_parse,
                          "Duplicate field '" + std::string(s.identifier) + "' in OP_MSG body and document sequence");
    merged.append_array_of(s.identifier, [&](bson::array_builder& arr) {
      for (auto d : s.docs) arr.push(d);
    });
  }
  return merged;
}

// OP_MSG parsing (Validated<BSONObj>): no object of a message, the body or a document of
// a sequence, may exceed BSONObjMaxInternalSize; the whole command fails.
void check_object_sizes(bson::view body, std::span<const sequence> seqs) {
  auto check = [](bson::view d) {
    if (d.size() <= static_cast<std::size_t>(max_internal_bson_size)) return;
    char hex[32];
    std::snprintf(hex, sizeof hex, "%zX", d.size());
    throw command_error(code::bson_object_too_large, "BSONObj size: " + std::to_string(d.size()) + " (0x" + hex +
                                                         ") is invalid. Size must be between 0 and " +
                                                         std::to_string(max_internal_bson_size) + "(16MB)");
  };
  check(body);
  for (const auto& s : seqs)
    for (auto d : s.docs) check(d);
}

bool pipeline_writes(bson::view cmd) {
  auto p = cmd["pipeline"];
  if (!p.is_array()) return false;
  for (auto stage : bson::view(*p.as_array()))
    if (stage.is_document()) {
      auto k = stage.as_document()->first_key();
      if (k == "$out" || k == "$merge") return true;
    }
  return false;
}

}  // namespace

const command_traits* find_command(std::string_view name) {
  for (auto& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

bool failpoint::fire() {
  switch (kind) {
    case mode::off: return false;
    case mode::always_on: break;
    case mode::times:
      if (--counter <= 0) kind = mode::off;
      break;
    case mode::skip:
      if (counter > 0) {
        --counter;
        return false;
      }
      break;
  }
  ++times_entered;
  return true;
}

// ---------------------------------------------------------------- server_core

server_core::impl::impl(server_options opts) : options(std::move(opts)) {
  if (options.hosts.empty()) options.hosts.push_back("localhost:27017");
  started_at = now();
  next_session_refresh = started_at + session_refresh_interval;
  store.set_wall_clock([this] { return now_ms(); });
  store.record_oplog(options.hosts.size() > 1);  // members with secondaries keep an oplog
  // A new primary writes a no-op entry first; a secondary's first timestamps are its sync source's.
  if (options.role == member_role::primary) store.allocate_timestamp(now_seconds());
  create_initial_users();
}

std::uint32_t server_core::impl::now_seconds() const {
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count());
}

server_core::server_core(server_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
server_core::~server_core() = default;

connection_context server_core::open_connection() {
  std::lock_guard lock(impl_->mutex);
  connection_context ctx;
  ctx.connection_id = impl_->next_connection_id++;
  return ctx;
}

void server_core::close_connection(connection_context& ctx) { ctx.close_connection = true; }

void server_core::record_compression(detail::wire::compressor_id id, bool compressing, std::size_t bytes_in,
                                     std::size_t bytes_out) {
  std::lock_guard lock(impl_->mutex);
  auto& counters = impl_->compression_bytes.at(static_cast<std::size_t>(id));
  counters[compressing ? 0 : 2] += static_cast<std::int64_t>(bytes_in);
  counters[compressing ? 1 : 3] += static_cast<std::int64_t>(bytes_out);
}

member_role server_core::role() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->options.role;
}

bson::timestamp server_core::cluster_time() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->store.last_committed();
}

void server_core::enter_quiesce_mode() {
  std::function<void()> notify;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->quiesce_mode) return;
    impl_->quiesce_mode = true;
    ++impl_->topology_counter;
    notify = impl_->topology_listener;
  }
  if (notify) notify();
}

void server_core::set_standalone(bool standalone) {
  std::lock_guard lock(impl_->mutex);
  impl_->options.standalone = standalone;
}

void server_core::set_role(member_role role) {
  if (role == member_role::primary) impl_->fetch_oplog();  // catch-up: what the old primary wrote
  std::function<void()> notify;
  {
    std::lock_guard lock(impl_->mutex);
    if (role == impl_->options.role) return;
    if (role == member_role::primary) ++impl_->election_term;
    impl_->change_role(role);
    ++impl_->topology_counter;
    notify = impl_->topology_listener;
  }
  if (notify) notify();
}

void server_core::impl::change_role(member_role role) {
  if (role == options.role) return;
  options.role = role;
  if (role == member_role::primary) {
    apply_fetched_oplog();                    // drain mode: what it fetched, before any write
    store.allocate_timestamp(now_seconds());  // a new primary writes a no-op oplog entry first
    return;
  }
  // A former primary replicates from where its own oplog ends.
  if (last_fetched < store.last_committed()) last_fetched = store.last_committed();
  // Stepping down aborts every unprepared transaction (ReplicationCoordinator::stepDown).
  for (auto& [key, s] : sessions)
    if (s.phase == txn_phase::in_progress) abort_transaction_of(s);
}

void server_core::set_members(std::vector<std::string> hosts, std::string me) {
  std::function<void()> notify;
  {
    std::lock_guard lock(impl_->mutex);
    if (hosts.empty()) hosts.push_back(me);
    if (hosts == impl_->options.hosts && me == impl_->me()) return;
    impl_->options.hosts = std::move(hosts);
    impl_->options.me = std::move(me);
    impl_->store.record_oplog(impl_->options.hosts.size() > 1);
    ++impl_->topology_counter;
    notify = impl_->topology_listener;
  }
  if (notify) notify();
}

std::string server_core::me() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->me();
}

void server_core::set_replica_state(member_role role, std::string known_primary, std::int64_t term) {
  if (role == member_role::primary) impl_->fetch_oplog();  // catch-up: what the old primary wrote
  std::function<void()> notify;
  {
    std::lock_guard lock(impl_->mutex);
    auto& o = impl_->options;
    if (role == member_role::primary) known_primary.clear();  // a primary advertises itself
    if (role == o.role && known_primary == o.primary && term == impl_->election_term) return;
    impl_->election_term = term;
    o.primary = std::move(known_primary);
    impl_->change_role(role);
    ++impl_->topology_counter;
    notify = impl_->topology_listener;
  }
  if (notify) notify();
}

std::int64_t server_core::election_term() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->election_term;
}

void server_core::set_topology_listener(std::function<void()> listener) {
  std::lock_guard lock(impl_->mutex);
  impl_->topology_listener = std::move(listener);
}

bson::document server_core::handle(bson::view command_body, std::span<const sequence> kind1_sequences,
                                   connection_context& ctx) {
  impl_->fetch_oplog();
  std::lock_guard lock(impl_->mutex);
  ctx.close_connection = false;
  ctx.block_ms = 0;
  ctx.await_ms = 0;
  ctx.awaiting_topology_change = false;
  ctx.run_again = false;
  impl_->apply_due_oplog();
  impl_->reap_expired_transactions();
  impl_->refresh_session_cache();
  impl_->prune_history();
  bson::view command = command_body;
  bson::document merged;  // only built when there are kind-1 sections (no copy on the hot path)
  bson::document reply;
  try {
    check_object_sizes(command_body, kind1_sequences);
    if (!kind1_sequences.empty()) {
      merged = merge_sequences(command_body, kind1_sequences);
      command = merged;
    }
    reply = impl_->run(command, ctx);
  } catch (const command_error& e) {
    op_context op;
    op.conn = &ctx;
    reply = impl_->error_reply(op, e, std::nullopt);
  }
  ctx.fail_command_evaluated = false;
  if (!ctx.run_again) ctx.await_data_deadline_ms = 0;  // the getMore replied (or failed)
  if (ctx.close_connection || ctx.run_again) reply.clear();
  if (impl_->options.command_log && !ctx.run_again) {
    auto name = command.empty() ? std::string_view{} : command.first_key();
    impl_->options.command_log({ctx.connection_id, name, command, reply});
  }
  return reply;
}

// ---------------------------------------------------------------- dispatch

// OP_MSG.md: a $readPreference other than primary implies secondaryOk.
void server_core::impl::check_member_role(const command_traits& traits, const op_context& op, bool writes) const {
  if (options.role != member_role::secondary) return;
  auto pref = op.cmd["$readPreference"];
  bool secondary_ok = pref.is_document() && (*pref.as_document())["mode"].as_string().value_or("primary") != "primary";
  if (writes) throw command_error(code::not_writable_primary, "not primary");
  if (traits.is_read && !secondary_ok)
    throw command_error(code::not_primary_no_secondary_ok, "not primary and secondaryOk=false");
}

bson::document server_core::impl::run(bson::view command, connection_context& ctx) {
  op_context op;
  op.cmd = command;
  op.conn = &ctx;
  op.last_op_before = ctx.last_op_time;
  op.view = {store.last_committed(), 0};
  const command_traits* traits = nullptr;
  bool supports_wc = false;
  bson::document body;
  try {
    if (op.cmd.empty()) throw command_error(code::failed_to_parse, "Empty command object");
    op.name = std::string(op.cmd.first_key());
    auto db = op.cmd["$db"];
    if (!db || !db.is_string()) throw command_error(code::op_msg_requires_db, "OP_MSG requests require a $db argument");
    op.db = std::string(*db.as_string());
    traits = find_command(op.name);
    if (!traits) throw command_error(code::command_not_found, "no such command: '" + op.name + "'");
    check_authorization(op);  // commands.cpp: before anything else looks at the command
    bool writes = traits->is_write || (op.name == "aggregate" && pipeline_writes(op.cmd));
    supports_wc = traits->supports_write_concern || (op.name == "aggregate" && writes);
    parse_session_fields(op);
    check_member_role(*traits, op, writes);
    if (wait_for_cluster_time(op)) return {};  // before failpoints: the command runs again
    validate_session_options(*traits, op);
    route_transaction(op);
    evaluate_fail_command(op);
    if (op.in_txn() && op.cmd.contains("writeConcern") && !is_commit_or_abort(op.name))
      throw command_error(code::invalid_options, "writeConcern is not allowed within a multi-statement transaction");
    check_out_session(op);
    execute(*traits, op, body);
  } catch (const command_error& e) {
    if (ctx.close_connection) return {};
    // mongod waits for write concern on the error path too (service_entry_point_common.cpp).
    std::optional<bson::document> wce;
    if (supports_wc) wce = write_concern_error_for(op);
    return error_reply(op, e, wce);
  }
  if (ctx.close_connection) return {};
  std::optional<bson::document> wce;
  if (supports_wc) wce = write_concern_error_for(op);
  if (supports_wc && !wce) wait_for_secondaries(op);
  bson::document reply = std::move(body);
  if (!op.retried_stmt_ids.empty()) {  // statements answered from the retryable-write record
    ++txn_stats.retried_commands;
    txn_stats.retried_statements += static_cast<std::int64_t>(op.retried_stmt_ids.size());
    reply.append_array_of("retriedStmtIds", [&](bson::array_builder& arr) {
      for (auto id : op.retried_stmt_ids) arr.push(id);
    });
  }
  if (wce) {
    reply.append("writeConcernError", *wce);
    append_labels(op, reply, std::nullopt, (*wce)["code"].as_int32());
    append_topology_version_for(reply, std::nullopt, (*wce)["code"].as_int32());
  }
  append_recovery_token(op, reply);
  reply.append("ok", 1.0);
  append_cluster_time(reply, op.at_cluster_time.value_or(store.last_committed()));
  return reply;
}

void server_core::impl::execute(const command_traits& traits, op_context& op, bson::document& reply) {
  try {
    (this->*traits.handler)(op, reply);
  } catch (const command_error&) {
    // Any failure inside a transaction aborts it (the next statement gets NoSuchTransaction).
    if (op.in_txn() && op.session && op.session->phase == txn_phase::in_progress && !is_commit_or_abort(op.name))
      abort_transaction_of(*op.session);
    throw;
  }
  if (op.in_txn() && op.session) op.session->first_statement_done = true;
}

// ---------------------------------------------------------------- sessions

void server_core::impl::parse_session_fields(op_context& op) {
  // One pass over the command instead of one lookup per field (this runs for every command);
  // the first occurrence of a field counts, as with view::find.
  bson::element lsid, txn, autocommit, start;
  for (auto e : op.cmd) {
    auto k = e.key();
    if (k.empty() || (k[0] != 'l' && k[0] != 't' && k[0] != 'a' && k[0] != 's')) continue;
    auto first = [&](bson::element& slot) {
      if (!slot) slot = e;
    };
    if (k == "lsid") first(lsid);
    else if (k == "txnNumber") first(txn);
    else if (k == "autocommit") first(autocommit);
    else if (k == "startTransaction") first(start);
  }
  if (lsid) {
    auto id = lsid.is_document() ? (*lsid.as_document())["id"] : bson::element{};
    auto bin = id.as_binary();
    if (!bin || bin->subtype != BSON_SUBTYPE_UUID || bin->bytes.size() != 16)
      throw command_error(code::invalid_options, "lsid.id must be a UUID");  // IDL: LogicalSessionFromClient
    op.lsid_key = hex_of(bin->bytes);
  }
  if (txn) {
    auto n = txn.as_int64();
    if (!n)
      throw command_error(code::type_mismatch, "BSON field 'OperationSessionInfo.txnNumber' is the wrong type '" +
                                                   std::string(bson::type_name(txn.type())) +
                                                   "', expected type 'long'");
    if (!lsid)
      throw command_error(code::invalid_options, "Transaction number requires a session ID to also be specified");
    if (*n < 0) throw command_error(code::invalid_options, "Transaction number cannot be negative");
    if (options.standalone)
      throw command_error(code::illegal_operation,
                          "Transaction numbers are only allowed on a replica set member or mongos");
    op.txn_number = *n;
  }
  if (autocommit) {
    if (!op.txn_number)
      throw command_error(code::invalid_options,
                          "'autocommit' field requires a transaction number to also be specified");
    if (autocommit.as_bool().value_or(true))
      throw command_error(code::invalid_options, "Specifying autocommit=true is not allowed.");
    op.autocommit = false;
  }
  if (start) {
    if (!op.autocommit)
      throw command_error(code::invalid_options,
                          "'startTransaction' field requires 'autocommit' field to also be specified");
    if (!start.as_bool().value_or(false))
      throw command_error(code::invalid_options, "Specifying startTransaction=false is not allowed.");
    op.start_transaction = true;
  }
}

void server_core::impl::validate_session_options(const command_traits& traits, op_context& op) {
  if (op.in_txn()) {
    if (op.name == "count")
      throw command_error(code::operation_not_supported_in_transaction,
                          "Cannot run 'count' in a multi-document transaction. Please see "
                          "http://dochub.mongodb.org/core/transaction-count for a recommended alternative.");
    if (!traits.allowed_in_txn)
      throw command_error(code::operation_not_supported_in_transaction,
                          "Cannot run '" + op.name + "' in a multi-document transaction.");
    if (op.db == "local")
      throw command_error(code::operation_not_supported_in_transaction,
                          "Cannot run command against the 'local' database in a transaction.");
  }
  if (!op.in_txn() && op.txn_number && !traits.retryable_write)
    throw command_error(code::not_a_retryable_write_command,
                        "txnNumber may only be provided for multi-document transactions and retryable write commands. "
                        "autocommit:false was not provided, and " +
                            op.name + " is not a retryable write command.");
  if (op.start_transaction) {
    if (op.name == "killCursors")
      throw command_error(code::operation_not_supported_in_transaction,
                          "Cannot run killCursors as the first operation in a multi-document transaction.");
    if (op.name == "commitTransaction")
      throw command_error(code::operation_not_supported_in_transaction, "Cannot start a transaction with a commit");
    if (op.name == "abortTransaction")
      throw command_error(code::operation_not_supported_in_transaction, "Cannot start a transaction with an abort");
  }
}

void server_core::impl::check_out_session(op_context& op) {
  if (!op.lsid_key.empty()) op.session = &sessions[op.lsid_key];
  if (op.txn_number) begin_or_continue(op);
  if (op.session) {  // a used session is active (again) in the session cache
    op.session->last_use = now();
    op.session->ended = false;
    op.session->replicated_only = false;
    if (!op.session->user && op.conn->auth && op.conn->auth->user) op.session->user = op.conn->auth->user;
  }
  check_read_concern(op);
  check_snapshot_available(op);
  if (op.in_txn()) {
    auto& s = *op.session;
    if (!s.snapshot) s.snapshot = op.at_cluster_time.value_or(store.last_committed());
    op.view = {*s.snapshot, s.storage_txn};
    op.at_cluster_time.reset();
  } else if (op.at_cluster_time) {
    op.view = {*op.at_cluster_time, 0};
  }
}

void server_core::impl::begin_or_continue(op_context& op) {
  auto& s = *op.session;
  const auto n = *op.txn_number;
  if (options.role == member_role::secondary)
    throw command_error(code::not_writable_primary, "Not primary so we cannot begin or continue a transaction");
  if (n < s.txn_number) {
    std::string current = s.phase == txn_phase::none ? "retryable write" : "transaction";
    if (!op.autocommit)
      throw command_error(code::transaction_too_old,
                          "Retryable write with txnNumber " + std::to_string(n) + " is prohibited on session " +
                              op.lsid_key + " because a newer " + current + " with txnNumber " +
                              std::to_string(s.txn_number) + " has already started on this session.");
    throw command_error(code::transaction_too_old,
                        "Cannot start transaction with { txnNumber: " + std::to_string(n) + " } on session " +
                            op.lsid_key + " because a newer " + current +
                            " with txnNumberAndRetryCounter { txnNumber: " + std::to_string(s.txn_number) +
                            " } has already started on this session.");
  }
  if (!op.autocommit) {  // retryable write
    if (n > s.txn_number) {
      if (s.phase == txn_phase::in_progress) abort_transaction_of(s);
      s = session_state{};
      s.txn_number = n;
    } else if (s.phase != txn_phase::none) {
      throw command_error(code::incomplete_transaction_history,
                          "Cannot retry a retryable write that has been converted into a transaction");
    }
    return;
  }
  if (!op.start_transaction) {
    if (n != s.txn_number || s.phase == txn_phase::none)
      throw command_error(code::no_such_transaction,
                          "Given transaction number " + std::to_string(n) +
                              " does not match any in-progress transactions. The active transaction number is " +
                              std::to_string(s.txn_number));
    // _checkIsCommandValidWithTxnState
    if (s.phase == txn_phase::aborted)
      throw command_error(code::no_such_transaction, "Transaction " + std::to_string(n) + " has been aborted.");
    if (s.phase == txn_phase::committed && op.name != "commitTransaction")
      throw command_error(code::transaction_committed, "Transaction " + std::to_string(n) + " has been committed.");
    if (s.first_statement_done && op.cmd.contains("readConcern"))
      throw command_error(code::invalid_options, "Only the first command in a transaction may specify a readConcern");
    return;
  }
  if (n == s.txn_number)
    throw command_error(
        code::conflicting_operation_in_progress,
        "Only servers in a sharded cluster can start a new transaction at the active transaction number");
  if (s.phase == txn_phase::in_progress) abort_transaction_of(s);
  s = session_state{};
  s.txn_number = n;
  s.phase = txn_phase::in_progress;
  s.storage_txn = store.begin_transaction();
  s.expire_at = now() + options.transaction_lifetime_limit;
  next_expiry = std::min(next_expiry, s.expire_at);
  ++txn_stats.started;
}

void server_core::impl::check_read_concern(op_context& op) {
  auto rc = op.cmd["readConcern"];
  if (!rc) return;
  if (!rc.is_document())
    throw command_error(code::type_mismatch, "BSON field 'readConcern' is the wrong type, expected type 'object'");
  auto doc = *rc.as_document();
  auto level = doc["level"].as_string().value_or("");
  static constexpr std::string_view levels[] = {"", "local", "majority", "linearizable", "available", "snapshot"};
  if (std::find(std::begin(levels), std::end(levels), level) == std::end(levels))
    throw command_error(code::failed_to_parse, "Enumeration value '" + std::string(level) +
                                                   "' for field 'readConcern.level' is not a valid value.");
  auto at = doc["atClusterTime"];
  if (at && level != "snapshot")
    throw command_error(code::invalid_options, "readConcern.atClusterTime can only be specified with level 'snapshot'");
  if (op.in_txn()) {
    if (level != "" && level != "local" && level != "majority" && level != "snapshot")
      throw command_error(code::invalid_options,
                          "The readConcern level must be either 'local' (default), 'majority' or 'snapshot' in order "
                          "to run in a transaction");
    if (at) op.at_cluster_time = std::min(*at.as_timestamp(), store.last_committed());
    return;
  }
  // read_concern_mongod.cpp waitForReadConcernImpl: a standalone has no linearizable reads.
  if (level == "linearizable" && options.standalone)
    throw command_error(code::not_a_replica_set, "node needs to be a replica set member to use read concern");
  if (level != "snapshot") return;
  if (op.name != "find" && op.name != "aggregate" && op.name != "distinct")
    throw command_error(code::invalid_options,
                        "Command " + op.name + " does not support { readConcern: { level: \"snapshot\" } }");
  if (options.standalone)
    throw command_error(code::not_a_replica_set, "node needs to be a replica set member to use readConcern: snapshot");
  op.at_cluster_time = at ? std::min(*at.as_timestamp(), store.last_committed()) : store.last_committed();
}

void server_core::impl::abort_transaction_of(session_state& s) {
  store.abort(s.storage_txn);
  s.phase = txn_phase::aborted;
  ++txn_stats.aborted;
  std::erase_if(cursors, [&](auto& entry) {
    return entry.second.txn_number == s.txn_number && !entry.second.lsid_key.empty() &&
           &sessions[entry.second.lsid_key] == &s;
  });
}

void server_core::impl::reap_expired_transactions() {
  auto t = now();
  if (t < next_expiry) return;  // runs before every command: no walk over all sessions
  next_expiry = clock_type::time_point::max();
  for (auto& [key, s] : sessions) {
    if (s.phase != txn_phase::in_progress) continue;
    if (t >= s.expire_at) abort_transaction_of(s);
    else next_expiry = std::min(next_expiry, s.expire_at);
  }
}

// logical_session_cache_impl.cpp _refresh and _reap, every logicalSessionRefreshMillis: the
// sessions given to endSessions since the last refresh lose their cursors and unprepared
// transactions; the reaper forgets an ended session's transaction record (its txnNumber, so
// TransactionTooOld protection) only once it is older than the record lifetime, and so a
// replicated record of a session never used here once it has not moved for as long.
void server_core::impl::refresh_session_cache() {
  const auto t = now();
  if (t < next_session_refresh) return;
  next_session_refresh = t + session_refresh_interval;
  for (const auto& key : ending_sessions) {
    auto it = sessions.find(key);
    if (it == sessions.end()) continue;
    if (it->second.phase == txn_phase::in_progress) abort_transaction_of(it->second);
    std::erase_if(cursors, [&](auto& entry) { return entry.second.lsid_key == key; });
    it->second.ended = true;
  }
  ending_sessions.clear();
  std::erase_if(sessions, [&](auto& entry) {
    return (entry.second.ended || entry.second.replicated_only) && t - entry.second.last_use >= session_record_lifetime;
  });
}

write_context server_core::impl::write_context_for(op_context& op) {
  write_context wc;
  wc.view = op.view;
  if (op.in_txn()) {
    wc.txn = op.session->storage_txn;
  } else {
    wc.view = {store.last_committed(), 0};
    wc.commit_ts = store.allocate_timestamp(now_seconds());
    op.conn->last_op_time = wc.commit_ts;
  }
  return wc;
}

// ---------------------------------------------------------------- failpoints

bool server_core::impl::fail_command_matches(const op_context& op, bool (*extra)(bson::view data)) {
  auto& fail_command = fail_command_of(op);
  if (!fail_command.active() || op.name == "configureFailPoint") return false;  // banned even if named
  auto data = fail_command.data.get_view();
  if (auto app = data["appName"]; app && app.as_string().value_or("") != op.conn->app_name) return false;
  if (data.contains("threadName")) return false;  // no client of ours has mongod's thread names
  if (auto ns = data["namespace"]; ns && ns.as_string().value_or("") != collection_ns(op)) return false;
  bool named = data.contains("failAllCommands");
  if (auto list = data["failCommands"]; list.is_array())
    for (auto c : bson::view(*list.as_array()))
      named = named || (c.is_string() && same_command(*c.as_string(), op.name));
  if (!named || !extra(data)) return false;
  return fail_command.fire();
}

void server_core::impl::evaluate_fail_command(op_context& op) {
  // The same request, run again (an awaitable hello, an awaitData getMore).
  if (op.conn->fail_command_evaluated || op.conn->await_data_deadline_ms != 0) return;
  preload_client_metadata(op);
  auto acts = [](bson::view d) {
    return d["closeConnection"].as_bool().value_or(false) || d["blockConnection"].as_bool().value_or(false) ||
           static_cast<bool>(d["errorCode"].as_integer());
  };
  if (!fail_command_matches(op, acts)) return;
  auto data = fail_command_of(op).data.get_view();
  if (auto labels = data["errorLabels"]; labels.is_array()) op.label_override = bson::document(*labels.as_array());
  if (data["blockConnection"].as_bool().value_or(false)) {
    auto ms = data["blockTimeMS"].as_integer();
    if (!ms) throw command_error(code::invalid_options, "must specify 'blockTimeMS' when 'blockConnection' is true");
    if (*ms < 0) throw command_error(code::invalid_options, "'blockTimeMS' must be non-negative");
    op.conn->block_ms += *ms;
  }
  static const std::string failpoint_message = "Failing command via 'failCommand' failpoint";
  if (data["closeConnection"].as_bool().value_or(false)) {
    op.conn->close_connection = true;
    throw command_error(50985, failpoint_message);
  }
  if (auto code = data["errorCode"].as_integer())
    throw command_error(static_cast<std::int32_t>(*code), failpoint_message);
}

std::optional<bson::document> server_core::impl::fail_command_write_concern_error(const op_context& op) {
  if (!fail_command_matches(op, [](bson::view d) { return d["writeConcernError"].is_document(); })) return std::nullopt;
  return bson::document(*fail_command_of(op).data["writeConcernError"].as_document());
}

void server_core::impl::on_primary_transactional_write(op_context& op) {
  if (!op.retryable_write() || !primary_write_failpoint.active()) return;
  if (!primary_write_failpoint.fire()) return;
  auto data = primary_write_failpoint.data.get_view();
  if (data["closeConnection"].as_bool().value_or(true)) op.conn->close_connection = true;
  if (auto code = data["failBeforeCommitExceptionCode"].as_integer())
    throw command_error(static_cast<std::int32_t>(*code), "Failing write for test before commit");
}

// ---------------------------------------------------------------- replies

std::optional<bson::document> server_core::impl::write_concern_error_for(const op_context& op) {
  if (auto injected = fail_command_write_concern_error(op)) return injected;
  auto wc = op.cmd["writeConcern"];
  if (!wc.is_document()) return std::nullopt;
  auto w = (*wc.as_document())["w"];
  bson::document err;
  if (auto n = w.as_integer(); n && *n > static_cast<std::int64_t>(options.hosts.size())) {
    err.append("code", code::unsatisfiable_write_concern);
    err.append("codeName", "UnsatisfiableWriteConcern");
    err.append("errmsg", "Not enough data-bearing nodes");
    return err;
  }
  if (auto mode = w.as_string(); mode && *mode != "majority") {
    err.append("code", code::unknown_repl_write_concern);
    err.append("codeName", "UnknownReplWriteConcern");
    err.append("errmsg", "No write concern mode named '" + std::string(*mode) + "' found in replica set configuration");
    return err;
  }
  return std::nullopt;
}

void server_core::impl::append_labels(op_context& op, bson::document& reply, std::optional<std::int32_t> code,
                                      std::optional<std::int32_t> wc_code) {
  if (op.label_override) {  // errorLabels given to failCommand replace the server's own
    if (!op.label_override->get_view().empty()) reply.append_array("errorLabels", *op.label_override);
    return;
  }
  std::vector<std::string_view> labels;
  bool commit_or_abort = is_commit_or_abort(op.name);
  if (code && op.txn_number && op.autocommit &&
      is_transient_transaction_error(*code, wc_code.has_value(), commit_or_abort)) {
    labels.push_back("TransientTransactionError");
  } else if (options.max_wire_version >= 9 && op.txn_number && (!op.autocommit || commit_or_abort) &&
             ((code && is_retriable_error(*code)) || (wc_code && is_retriable_error(*wc_code)))) {
    labels.push_back("RetryableWriteError");
    // error_labels.cpp isErrorWithNoWritesPerformed: the client's last op did not move.
    if (!(op.last_op_before == bson::timestamp{}) && op.last_op_before == op.conn->last_op_time)
      labels.push_back("NoWritesPerformed");
  }
  if (labels.empty()) return;
  reply.append_array_of("errorLabels", [&](bson::array_builder& arr) {
    for (auto l : labels) arr.push(l);
  });
}

void server_core::impl::append_topology_version(bson::document& reply) const {
  reply.append_document("topologyVersion", [&](bson::document& tv) {
    tv.append("processId", process_id);
    tv.append("counter", topology_counter);
  });
}

// service_entry_point_common.cpp appendErrorLabelsAndTopologyVersion: NotPrimary errors
// (code or writeConcernError code) always carry topologyVersion, since stepping down bumps
// it; shutdown errors only in quiesce mode, the only shutdown phase that bumps it.
void server_core::impl::append_topology_version_for(bson::document& reply, std::optional<std::int32_t> code,
                                                    std::optional<std::int32_t> wc_code) const {
  auto is = [&](bool (*category)(std::int32_t) noexcept) {
    return (code && category(*code)) || (wc_code && category(*wc_code));
  };
  if (is(is_not_primary_error) || (quiesce_mode && is(is_shutdown_error))) append_topology_version(reply);
}

void server_core::impl::append_cluster_time(bson::document& reply, bson::timestamp operation_time) const {
  // Every reply carries $clusterTime: rebuilt only when the cluster time has moved.
  auto now_ts = store.last_committed();
  if (cluster_time_doc.get_view().empty() || !(now_ts == cluster_time_of_doc)) {
    cluster_time_doc.clear();
    cluster_time_doc.append("clusterTime", now_ts);
    cluster_time_doc.append_document("signature", [](bson::document& sig) {
      static constexpr std::uint8_t zero_hash[20] = {};
      sig.append("hash", bson::binary_ref{BSON_SUBTYPE_BINARY, zero_hash});
      sig.append("keyId", std::int64_t{0});
    });
    cluster_time_of_doc = now_ts;
  }
  reply.append("$clusterTime", cluster_time_doc.get_view());
  reply.append("operationTime", operation_time);
}

bson::document server_core::impl::error_reply(op_context& op, const command_error& e,
                                              const std::optional<bson::document>& wce) {
  bson::document reply;
  reply.append("ok", 0.0);
  reply.append("errmsg", e.message());
  reply.append("code", e.code());
  reply.append("codeName", code_name(e.code()));
  reply.concat(e.extra());
  if (wce) reply.append("writeConcernError", *wce);
  const auto wc_code = wce ? (*wce)["code"].as_int32() : std::nullopt;
  append_labels(op, reply, e.code(), wc_code);
  append_topology_version_for(reply, e.code(), wc_code);
  append_cluster_time(reply, store.last_committed());
  return reply;
}

// ---------------------------------------------------------------- field helpers

std::string collection_ns(const op_context& op) {
  if (op.cmd.empty()) return op.db;
  auto first = op.cmd.find(op.cmd.first_key());
  return op.db + "." + std::string(first.as_string().value_or(""));
}

std::int64_t integer_field(const op_context& op, std::string_view field, std::int64_t fallback) {
  auto e = op.cmd[field];
  if (!e) return fallback;
  auto v = e.as_integer();
  if (!v)
    throw command_error(code::type_mismatch, "BSON field '" + op.name + "." + std::string(field) +
                                                 "' is the wrong type '" + std::string(bson::type_name(e.type())) +
                                                 "', expected types '[long, int, decimal, double]'");
  return *v;
}

bson::view document_field(const op_context& op, std::string_view field, bool required) {
  auto e = op.cmd[field];
  if (!e) {
    if (required)
      throw command_error(code::missing_field,
                          "BSON field '" + op.name + "." + std::string(field) + "' is missing but a required field");
    return {};
  }
  if (!e.is_document())
    throw command_error(code::type_mismatch, "BSON field '" + op.name + "." + std::string(field) +
                                                 "' is the wrong type '" + std::string(bson::type_name(e.type())) +
                                                 "', expected type 'object'");
  return *e.as_document();
}

void check_known_fields(const op_context& op, std::initializer_list<std::string_view> known) {
  // Generic arguments every command accepts (generic_argument.idl).
  static constexpr std::string_view generic[] = {"$db",
                                                 "lsid",
                                                 "txnNumber",
                                                 "autocommit",
                                                 "startTransaction",
                                                 "readConcern",
                                                 "writeConcern",
                                                 "$readPreference",
                                                 "$clusterTime",
                                                 "maxTimeMS",
                                                 "comment",
                                                 "apiVersion",
                                                 "apiStrict",
                                                 "apiDeprecationErrors",
                                                 "$audit",
                                                 "$client",
                                                 "txnRetryCounter",
                                                 "$configTime",
                                                 "$topologyTime",
                                                 "clientOperationKey",
                                                 "mayBypassWriteBlocking",
                                                 "readOnly"};
  bool first = true;
  for (auto e : op.cmd) {
    if (first) {
      first = false;
      continue;
    }
    auto k = e.key();
    if (std::find(std::begin(generic), std::end(generic), k) != std::end(generic)) continue;
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    throw command_error(code::unknown_field,
                        "BSON field '" + op.name + "." + std::string(k) + "' is an unknown field.");
  }
}

}  // namespace mongowire::testd
