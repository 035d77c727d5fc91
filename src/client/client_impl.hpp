// The operation executor: one place where every command gets its session and
// transaction fields, a server, a connection, its monitoring events, its error labels
// and its retry (the arrows of DESIGN.md's data flow, in order, in execute()).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "mongowire/client.hpp"
#include "mongowire/uri.hpp"
#include "net/topology.hpp"
#include "proto/operation/operation.hpp"
#include "proto/retry/retry_policy.hpp"
#include "proto/retry/with_transaction.hpp"
#include "proto/txn/server_session_pool.hpp"
#include "proto/txn/transaction_state.hpp"
#include "proto/txn/write_conflicts.hpp"

namespace mongowire::detail {

class client_impl;

// client-side-operations-timeout.md: when an operation must be done. `enabled` false: no
// timeoutMS (the legacy timeouts apply); `at` max(): timeoutMS 0 (no limit, CSOT rules).
struct operation_deadline {
  bool enabled = false;
  std::chrono::steady_clock::time_point at = std::chrono::steady_clock::time_point::max();
  bool limited() const noexcept { return enabled && at != std::chrono::steady_clock::time_point::max(); }
  bool expired() const noexcept { return limited() && std::chrono::steady_clock::now() >= at; }
};

// load-balancers.md "Connection Pinning": a connection kept checked out across the commands of a
// transaction or a cursor (load-balanced mode), checked in once, when released.
struct pinned_connection {
  std::shared_ptr<net::pool> pool;
  std::unique_ptr<net::connection> conn;
  bool for_cursor = false;  // a cursor's: released when the server has closed the cursor
  pinned_connection() = default;
  explicit pinned_connection(bool cursor) : for_cursor(cursor) {}
  pinned_connection(const pinned_connection&) = delete;
  pinned_connection& operator=(const pinned_connection&) = delete;
  ~pinned_connection() { release(); }
  void release() noexcept {
    if (pool) pool->count_pinned(for_cursor, -1);
    if (conn && pool) pool->checkin(std::move(conn));
    conn.reset();
    pool.reset();
  }
};

class session_impl {
 public:
  // Without a server session: bind() gives it one (client_impl::make_session for explicit
  // sessions at once, the executor for implicit ones after connection checkout).
  session_impl(std::shared_ptr<client_impl> client, session_options options, bool is_explicit);
  ~session_impl();

  std::shared_ptr<client_impl> client;
  detail::server_session server_session;  // meaningful once has_server_session()
  session_options options;
  transaction txn;
  bool is_explicit;
  bool ended = false;
  std::optional<bson::document> cluster_time;
  std::optional<bson::timestamp> operation_time;
  bson::document finish_reply;  // commitTransaction/abortTransaction replies: reused, warm

  // snapshot-sessions.md: the atClusterTime every command of a snapshot session reads at.
  std::optional<bson::timestamp> snapshot_time;
  // A statement of the current transaction failed on the server, which aborted the
  // transaction: the failure, so that with_transaction re-raises it when its callback
  // swallowed it (instead of committing into NoSuchTransaction and looping). On the heap: the
  // diagnostics are 600 bytes an idle session would otherwise carry (an error path only).
  std::unique_ptr<std::pair<error_code, diagnostics>> server_abort;
  // An operation is in flight with this session (driver-sessions.md: one at a time).
  bool busy = false;
  // Set when the session handle is destroyed while `busy`: ends the session once that
  // operation is done (session_claim), since it still uses the server session.
  std::function<void()> end_when_idle;
  // transactions.md "Mongos Pinning": the mongos of the current (or last committed) transaction.
  std::optional<host_address> pinned_mongos;
  // load-balancers.md "Behaviour With Transactions": the transaction's connection, pinned and
  // released by the rules of pinned_mongos.
  pinned_connection pinned_conn;
  // transactions.md "When to unpin": forgets the mongos and checks the pinned connection in.
  void unpin() noexcept {
    pinned_mongos.reset();
    pinned_conn.release();
  }
  // The last commit's outcome (reset by startTransaction).
  commit_result last_commit;
  // client-side-operations-timeout.md "Convenient Transactions API": while with_transaction
  // runs with timeoutMS, the deadline of the whole call, used by every operation of the session.
  std::optional<operation_deadline> with_transaction_deadline;
  // The timeoutMS given to the commit, abort or with_transaction call in progress (instead of
  // options.default_timeout); see timeout_override_scope.
  std::optional<std::chrono::milliseconds> timeout_override;
  std::optional<std::chrono::milliseconds> session_timeout() const noexcept {
    return timeout_override ? timeout_override : options.default_timeout;
  }
  // What the current transaction costs (issue 16), filled by the executor for commands with
  // transaction fields; `accounting_started` is when it began. While with_transaction runs,
  // its reruns' start_transaction calls do not reset it (one sum for all attempts).
  transaction_accounting accounting;
  std::chrono::steady_clock::time_point accounting_started{};
  bool accounting_spans_attempts = false;
  void begin_accounting() noexcept;
  void close_accounting() noexcept;  // total: from the start until now

  bool is_snapshot() const noexcept { return options.snapshot.value_or(false); }
  // causal-consistency.md: explicit sessions default to causal consistency; snapshot
  // sessions never have it (snapshot-sessions.md "snapshot").
  bool causally_consistent() const noexcept {
    return is_explicit && !is_snapshot() && options.causal_consistency.value_or(true);
  }
  void advance_cluster_time(bson::view cluster_time_doc);
  bool has_server_session() const noexcept { return bound_; }
  void bind(detail::server_session s) noexcept;
  void release();  // ends the session; returns its server session, if any, to the pool (once)

 private:
  bool bound_ = false;
  bool released_ = false;
};

// An operation as the executor runs it: its type's traits (proto/operation), its body and
// where it came from (api_operation.hpp makes one from any operation type).
struct operation {
  operation_traits traits;
  std::string_view db;
  const bson::document* body = nullptr;     // the operation's own fields (no session fields)
  std::optional<bson::view> read_concern;   // explicit, from the operation
  std::optional<bson::view> write_concern;  // explicit, from the operation
  // From the database/collection handle: used instead of the client's outside transactions.
  std::optional<bson::view> inherited_read_concern;
  std::optional<bson::view> inherited_write_concern;
  // Given to the operation itself (runCommand); must be primary inside a transaction.
  std::optional<bson::view> read_preference;
  // From the database/collection handle: the default of a "may-use-secondary" read.
  std::optional<bson::view> inherited_read_preference;
  // server-selection.md "Cursors": a getMore goes to the server that opened its cursor.
  const host_address* cursor_server = nullptr;
  // load-balancers.md "Behaviour With Cursors": the connection the cursor's commands share.
  pinned_connection* cursor_connection = nullptr;
  // Where the command was sent (filled when not null): the server of the cursor it opens.
  host_address* sent_to = nullptr;
  bool write_concern_error_is_error = true;
  // command-logging-and-monitoring.md "operationId": the id of the operation this command is
  // part of (a bulk write's batches share one); 0: a new one.
  std::int64_t operation_id = 0;
  // client-side-operations-timeout.md: the handle's timeoutMS (unset: the client's), or the
  // deadline an enclosing operation already fixed (a cursor's getMores, a bulk write's batches).
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<operation_deadline> deadline;
  // client-side-operations-timeout.md "Cursors": the deadline applies without maxTimeMS (a
  // cursor's ITERATION-mode opening, a tailable non-awaitData cursor); an awaitData cursor's
  // getMore sends maxTimeMS = min(maxAwaitTimeMS, remaining time - minRoundTripTime).
  bool max_time_ms_omitted = false;
  std::optional<std::int64_t> max_await_time_ms;
};

// server-selection.md for one operation (read_preference.cpp): whether it selects as a read
// (and sends $readPreference), with which read preference, and the server of its cursor.
struct read_preference_plan {
  bool selects_as_read = false;  // a read outside a transaction; everything else: the primary
  sdam::read_preference read_preference;
  const host_address* cursor_server = nullptr;     // a getMore's: no selection
  pinned_connection* cursor_connection = nullptr;  // load-balanced mode: the cursor's connection
  host_address* sent_to = nullptr;
  // Selection needs the read preference (anything but plain primary).
  bool selects_by_read_preference() const noexcept {
    return selects_as_read && (read_preference.mode != read_preference_mode::primary ||
                               !read_preference.tag_sets.empty() || read_preference.has_max_staleness());
  }
};

// Scratch documents for one operation (command body, staged document, reply). Leased
// from the client and returned warm, so a steady stream of operations stops allocating.
struct op_buffers {
  bson::document body;
  bson::document staged;
  bson::document reply;
};

class op_buffers_lease {
 public:
  op_buffers_lease(client_impl& owner, std::unique_ptr<op_buffers> b) noexcept : owner_(&owner), b_(std::move(b)) {}
  op_buffers_lease(op_buffers_lease&&) noexcept = default;
  op_buffers_lease& operator=(op_buffers_lease&&) = delete;
  ~op_buffers_lease();
  op_buffers* operator->() const noexcept { return b_.get(); }
  op_buffers& operator*() const noexcept { return *b_; }

 private:
  client_impl* owner_;
  std::unique_ptr<op_buffers> b_;
};

// Fills `e`'s error fields from `ec`/`d` and its elapsed time, and hands it to `handler`.
void emit_retry_event(const retry_event_handler& handler, retry_event& e, error_code ec, const diagnostics& d,
                      std::chrono::steady_clock::duration elapsed);

// session_impl::timeout_override for one call (restored however the call ends).
struct timeout_override_scope {
  session_impl& s;
  std::optional<std::chrono::milliseconds> previous;
  timeout_override_scope(session_impl& session, std::chrono::milliseconds timeout)
      : s(session), previous(std::exchange(session.timeout_override, timeout)) {}
  ~timeout_override_scope() { s.timeout_override = previous; }
  timeout_override_scope(const timeout_override_scope&) = delete;
  timeout_override_scope& operator=(const timeout_override_scope&) = delete;
};

// Marks `s` as running an operation, or refuses with session_in_use (see session_impl::busy).
error_code claim_session(session_impl& s, std::string_view name, diagnostics& diag);
// Ends the claim when it goes out of scope (a return, an exception, a cancellation).
struct session_claim {
  session_impl& s;
  ~session_claim() {
    s.busy = false;
    if (s.end_when_idle) std::exchange(s.end_when_idle, nullptr)();
  }
};

class client_impl : public std::enable_shared_from_this<client_impl> {
 public:
  client_impl(boost::asio::any_io_executor ex, connection_string cs, client_options opts);
  ~client_impl();

  void start();
  boost::asio::awaitable<error_code> close();

  op_buffers_lease lease_buffers();
  void return_buffers(std::unique_ptr<op_buffers> b) noexcept;

  // An explicit session holds its server session from the start. An implicit one (for
  // operations whose getMores must share it, e.g. cursors) takes it when its first command has
  // a connection (driver-sessions.md "Sessions and Connections"); release() it when done.
  std::shared_ptr<session_impl> make_session(const session_options& opts, bool is_explicit);
  std::shared_ptr<session_impl> make_implicit_session();

  // An operation id for an operation of several commands (operation::operation_id).
  std::int64_t new_operation_id() noexcept { return next_operation_id_++; }
  // Records a failed statement of `session`'s transaction that aborted it on the server.
  void note_statement_error(session_impl* session, error_code ec, const diagnostics& diag);
  // Runs one operation. `reply` receives the server's reply (also on server errors).
  boost::asio::awaitable<error_code> execute(const operation& op, session_impl* session, bson::document& reply,
                                             diagnostics& diag);
  boost::asio::awaitable<error_code> commit(session_impl& s, diagnostics& diag);
  boost::asio::awaitable<error_code> abort(session_impl& s, diagnostics& diag);

  const boost::asio::any_io_executor& executor() const noexcept { return ex_; }
  const connection_string& uri() const noexcept { return cs_; }
  const transaction_options& default_transaction_options() const noexcept { return client_txn_defaults_; }
  const client_options& options() const noexcept { return opts_; }
  // The public client is gone: no handler of client_options is called any more.
  void silence_handlers() noexcept;
  std::optional<bson::view> default_write_concern() const;
  std::optional<bson::view> default_read_concern() const;
  net::topology& topology() noexcept { return *topology_; }
  bool closed() const noexcept { return closed_; }
  server_session_pool& session_pool() noexcept { return sessions_; }
  std::optional<std::chrono::minutes> session_timeout() const;
  void gossip_cluster_time(bson::view cluster_time_doc);
  client::stats stats;
  write_conflict_counter write_conflicts;      // client::gauges(): per namespace, from every failed attempt
  mongowire::client* public_client = nullptr;  // the handle that owns this (session::client)
  // A random number in [0, 1) for backoffs; the spec's prose tests pin it (set_jitter_source).
  double jitter();
  void set_jitter_source(std::function<double()> source) { jitter_source_ = std::move(source); }
  // withTransaction's retry limit without timeoutMS: 120 s (tests shorten it).
  std::chrono::milliseconds with_transaction_limit = with_transaction_time_limit;
  // client-side-operations-timeout.md "timeoutMS": the deadline of an operation starting now
  // with `timeout` (unset: the client's timeoutMS); `session`'s withTransaction deadline wins.
  operation_deadline deadline_for(std::optional<std::chrono::milliseconds> timeout,
                                  const session_impl* session = nullptr) const;

 private:
  struct resolved_operation;
  struct attempt_outcome;
  // Documents an resolved_operation views into (they live on execute's frame).
  struct operation_concerns {
    bson::document causal_read_concern;
    bson::document snapshot_read_concern;
  };
  // One command's result, for its succeeded/failed event.
  struct finished_command {
    std::int32_t request_id = 0;
    std::chrono::steady_clock::time_point started;
    const bson::document& reply;
    const diagnostics& diag;
    error_code ec{};
    failure_kind kind = failure_kind::client;
  };

  error_code plan_operation(const operation& op, session_impl& session, resolved_operation& plan,
                            operation_concerns& concerns, diagnostics& diag);
  error_code plan_outside_transaction(const operation& op, session_impl& session, resolved_operation& plan,
                                      operation_concerns& concerns, diagnostics& diag);
  bool overload_retries_allowed(const operation& op) const noexcept;
  error_code plan_deadline(const operation& op, const session_impl& session, resolved_operation& plan,
                           diagnostics& diag) const;
  void plan_admin_command(const operation_traits& traits, const bson::document& body, resolved_operation& plan) const;
  void emit_retry(const resolved_operation& plan, std::size_t attempt, error_code ec, const diagnostics& d,
                  const attempt_decision& decision, std::chrono::steady_clock::time_point started) const;
  retry_settings retry_settings_for(retry_family family) const noexcept;
  boost::asio::awaitable<error_code> run_attempts(resolved_operation& plan, bson::document& reply, diagnostics& diag);
  boost::asio::awaitable<error_code> finish_transaction(session_impl& s, bool commit, diagnostics& diag);
  boost::asio::awaitable<error_code> attempt(resolved_operation& plan, bson::document& reply, diagnostics& diag,
                                             attempt_outcome& out);
  boost::asio::awaitable<error_code> select_server(const resolved_operation& plan, net::selected_server& server,
                                                   diagnostics& diag);
  error_code fit_to_server(resolved_operation& plan, const sdam::server_description& server, bool& send_session,
                           diagnostics& diag);
  void attach_server_session(resolved_operation& plan);
  void build_command(const resolved_operation& plan, bool send_session, std::optional<std::int64_t> max_time_ms,
                     bson::document& command);
  // read_preference.cpp: server-selection.md for one operation.
  error_code plan_read_preference(const operation& op, bool in_transaction, read_preference_plan& plan,
                                  diagnostics& diag) const;
  // The server at `address` (a cursor's, a transaction's pinned mongos); `role` names it in errors.
  static void pin_transaction(const resolved_operation& plan, const sdam::server_description& server) noexcept;
  static void unpin_after_failure(const resolved_operation& plan, const diagnostics& d) noexcept;
  static void note_connection(sdam::application_error& err, const net::selected_server& server,
                              const net::connection& conn);
  // load-balancers.md "Connection Pinning" (load_balanced.cpp).
  pinned_connection* pin_for(const resolved_operation& plan) const noexcept;
  void check_in(pinned_connection* pin, const net::selected_server& server, std::unique_ptr<net::connection> conn,
                error_code ec, const bson::document& reply);
  error_code select_server_at(const host_address& address, std::string_view role, net::selected_server& server,
                              diagnostics& diag) const;
  void append_read_preference(const read_preference_plan& plan, const sdam::server_description& server,
                              bson::document& command);
  void on_network_error(session_impl* session, error_code ec, const net::selected_server& server,
                        const net::connection& conn, const diagnostics& diag);
  error_code on_reply(session_impl* session, bool write_concern_error_is_error, bson::view reply_view,
                      const net::selected_server& server, const net::connection& conn, bson::document& reply,
                      diagnostics& diag, failure_kind& kind);
  error_code judge_exchange(const resolved_operation& plan, session_impl* session, error_code ec, bson::view reply_view,
                            const net::selected_server& server, const net::connection& conn, bson::document& reply,
                            diagnostics& diag, attempt_outcome& out);
  void add_labels(const resolved_operation& plan, const attempt_outcome& out, diagnostics& d) const;
  // A connection's byte counters before a command, for its share (count_command).
  struct command_bytes {
    std::size_t sent = 0;
    std::size_t received = 0;
  };
  static transaction_accounting* accounting_of(const resolved_operation& plan) noexcept;
  boost::asio::awaitable<error_code> exchange(bool unacknowledged, net::connection& conn, const bson::document& command,
                                              const std::optional<document_sequences>& sequence, bson::view& reply_view,
                                              diagnostics& diag, std::int32_t request_id);
  void count_command(const net::connection& conn, command_bytes before, transaction_accounting* accounting);
  command_event& prepare_event(command_event_type type, const resolved_operation& plan, std::int32_t request_id,
                               const net::selected_server& server, const net::connection& conn);
  static void record_snapshot_time(session_impl& s, const bson::document& reply);
  void emit_started(const resolved_operation& plan, const bson::document& command, std::int32_t request_id,
                    const net::selected_server& server, const net::connection& conn);
  void emit_finished(const resolved_operation& plan, const finished_command& f, const net::selected_server& server,
                     const net::connection& conn);
  // Command events go to on_command and, as log messages, to the command log component.
  bool commands_observed() const noexcept;
  void publish_command(const command_event& e) const;

  boost::asio::any_io_executor ex_;
  connection_string cs_;
  client_options opts_;
  std::shared_ptr<const bool> handlers_alive_ = std::make_shared<const bool>(true);  // see gated()
  net::topology_options gated(net::topology_options t) const;
  std::shared_ptr<net::topology> topology_;
  server_session_pool sessions_;
  std::optional<bson::document> cluster_time_;  // the highest $clusterTime seen
  transaction_options client_txn_defaults_;
  // readPreference, readPreferenceTags and maxStalenessSeconds of the connection string.
  sdam::read_preference client_read_preference_;
  bson::document read_preference_scratch_;  // $readPreference of the command being built, reused
  bson::document write_concern_scratch_;    // a writeConcern without wtimeout (CSOT), reused
  std::optional<bson::document> write_concern_;
  std::optional<bson::document> read_concern_;
  bool retry_writes_ = true;
  bool retry_reads_ = true;
  int max_adaptive_retries_ = default_max_adaptive_retries;  // client-backpressure.md
  bool overload_retargeting_ = false;
  std::minstd_rand rng_{std::random_device{}()};
  std::function<double()> jitter_source_;  // empty: rng_
  std::int64_t next_operation_id_ = 1;
  bool closed_ = false;
  std::vector<std::unique_ptr<op_buffers>> free_buffers_;  // see lease_buffers()
  command_event event_scratch_{};                          // reused for every command event (see prepare_event)
};

}  // namespace mongowire::detail
