// The Asio side of SDAM: one monitor per server (server-monitoring.md: the streaming protocol
// with an RTT monitor for servers that support awaitable hello, polling otherwise), the pools,
// server selection within serverSelectionTimeoutMS, the reaction to application errors and
// the SDAM events. The rules themselves live in proto/sdam.
// Thread-safety: every member runs on the topology's executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>

#include "mongowire/events.hpp"
#include "net/connection.hpp"
#include "net/pool.hpp"
#include "proto/auth/authenticator.hpp"
#include "proto/log/log_messages.hpp"
#include "proto/sdam/server_selection.hpp"
#include "proto/sdam/topology_description.hpp"

namespace mongowire::detail::net {

struct topology_options {
  sdam::topology_settings sdam;
  pool_options pool;
  connection_settings connection;
  std::chrono::milliseconds heartbeat_frequency{10'000};
  std::chrono::milliseconds min_heartbeat_frequency{500};  // SDAM minHeartbeatFrequencyMS
  std::chrono::milliseconds server_selection_timeout{30'000};
  std::int32_t local_threshold_ms = sdam::default_local_threshold_ms;
  server_monitoring_mode monitoring_mode = server_monitoring_mode::automatic;
  std::string app_name;
  pool_event_handler on_pool_event;
  heartbeat_event_handler on_heartbeat;
  sdam_event_handler on_sdam_event;
  std::function<void(const std::string&)> log;
  // Structured log messages: topology (SDAM events), serverSelection and connection (CMAP events).
  logger logging;
  // auth.md: every pooled connection authenticates with this credential; the cache keeps the
  // SCRAM keys so that new connections skip PBKDF2 ("Caching credentials in SCRAM").
  std::optional<auth::credential> credential;
  std::shared_ptr<auth::scram_cache> scram_cache = std::make_shared<auth::scram_cache>();
};

// Who asks for a server: the operation and operationId of server-selection.md "Logging".
struct selection_origin {
  std::string_view operation;     // the command name; must outlive the selection
  std::int64_t operation_id = 0;  // 0: none
  // client-side-operations-timeout.md "Server Selection": the operation's deadline, when
  // earlier than serverSelectionTimeoutMS from now.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// A selected server: its pool and the description it was selected with (an immutable
// snapshot shared by every operation until the topology changes: selecting allocates nothing).
struct selected_server {
  std::shared_ptr<pool> server_pool;
  std::shared_ptr<const sdam::server_description> description;
};

class topology : public std::enable_shared_from_this<topology> {
 public:
  topology(asio::any_io_executor ex, topology_options opts);
  ~topology();

  void start();
  void close();

  // Selects the primary (or the single server of a Single topology, or a mongos): the server
  // that writes and transactions go to. Waits for topology changes until the selection timeout.
  asio::awaitable<error_code> async_select_writable(selected_server& out, diagnostics& diag,
                                                    selection_origin origin = {});
  // server-selection.md "Server Selection Algorithm": the servers suitable for `kind` under
  // `read_pref` (reads only), without the `deprioritized` ones unless nothing else is
  // suitable, within the latency window; of two random picks the one with fewer operations in
  // progress. `read_pref` and `deprioritized` must outlive the call.
  asio::awaitable<error_code> async_select(sdam::operation_kind kind, const sdam::read_preference& read_pref,
                                           std::span<const host_address> deprioritized, selected_server& out,
                                           diagnostics& diag, selection_origin origin = {});

  // The server at `address` without selection (server-selection.md "Cursors": a getMore goes
  // where its cursor is); nullopt when the topology no longer has it.
  std::optional<selected_server> server_at(const host_address& address);

  // SDAM "Error handling": a command or network error on an application connection.
  void handle_application_error(const sdam::application_error& err);
  // Asks every monitor to check now (after a "not primary" error or a failed selection); a
  // check in progress is not interrupted (server-monitoring.md).
  void request_immediate_check();

  const sdam::topology_description& description() const noexcept { return description_; }
  std::optional<std::int64_t> logical_session_timeout_minutes() const noexcept {
    return description_.logical_session_timeout_minutes();
  }
  asio::any_io_executor get_executor() const noexcept { return ex_; }
  const topology_options& options() const noexcept { return opts_; }
  // server-selection.md operationCount: operations holding or waiting for a connection.
  std::uint64_t operation_count(const host_address& address) const noexcept;
  // Each pool's gauges (client::gauges), by address; `out` keeps its capacity.
  void read_pool_gauges(std::vector<pool_gauges>& out) const;
  // The monitors use the streaming protocol where the server supports it.
  bool streaming_enabled() const noexcept { return streaming_; }

 private:
  using clock_time = std::chrono::steady_clock::time_point;
  struct monitor;
  struct check_result;
  struct selection_request;
  struct snapshot;

  // topology.cpp: servers, selection, application errors, events
  void add_server(const host_address& address);
  void start_load_balanced(sdam_event changed);
  void remove_server(const host_address& address);
  void stop_monitor(monitor& m) noexcept;
  void apply(const sdam::topology_changes& changes, const host_address& checked);
  void update(sdam::server_description incoming, const host_address& checked);
  void notify_selection_waiters();
  asio::awaitable<error_code> select_loop(selection_request req, selected_server& out, diagnostics& diag);
  bool selection_decided(const selection_request& req, clock_time deadline, selected_server& out, error_code& ec,
                         diagnostics& diag);
  bool try_select(const selection_request& req, selected_server& out, std::string& error);
  void log_selection(const selection_request& req, selection_log_step step, clock_time deadline,
                     const selected_server* chosen = nullptr, error_code ec = {},
                     const diagnostics* diag = nullptr) const;
  std::optional<selected_server> try_select_writable();
  std::shared_ptr<const sdam::server_description> description_of(const host_address& address);
  std::string selection_failure(const selection_request& req, bool with_servers = true) const;
  void invalidate_selection() noexcept;
  void report_handshake_error(const host_address& address, const connection& c, error_code ec, bson::view reply,
                              diagnostics& diag, bool during_authentication);
  asio::awaitable<error_code> authenticate_pooled_connection(const host_address& address, connection& c,
                                                             bson::view hello_reply, auth::authenticator& a,
                                                             diagnostics& diag);
  asio::awaitable<error_code> bounded_handshake(connection& c, bson::document& reply, diagnostics& diag,
                                                bool speaks_op_msg, auth::authenticator* auth);
  asio::awaitable<error_code> initialize_pooled_connection(const host_address& address, connection& c,
                                                           diagnostics& diag);
  std::optional<snapshot> take_snapshot() const;
  void publish_changes(const std::optional<snapshot>& before);
  void publish(const sdam_event& e) const;
  // SDAM events are built when someone listens: on_sdam_event, or the topology log component.
  bool sdam_observed() const noexcept;
  pool_event_handler pool_event_observer() const;
  sdam_event server_event(sdam_event_type type, const host_address& address) const;

  // monitor.cpp: server-monitoring.md
  // `self` is held by the coroutine frame from its creation (the client may be destroyed
  // before the coroutine first runs).
  asio::awaitable<void> monitor_loop(std::shared_ptr<topology> self, std::shared_ptr<monitor> m);
  asio::awaitable<error_code> check(monitor& m, check_result& out, diagnostics& diag);
  asio::awaitable<error_code> open_monitor_connection(monitor& m, check_result& out, diagnostics& diag);
  asio::awaitable<error_code> hello_on_monitor(monitor& m, bool awaitable, check_result& out, diagnostics& diag);
  asio::awaitable<error_code> read_streamed_hello(monitor& m, check_result& out, diagnostics& diag);
  asio::awaitable<void> wait_for_next_check(monitor& m);
  void on_check_succeeded(monitor& m, const check_result& r);
  void on_check_failed(monitor& m, error_code ec, const diagnostics& diag);
  void request_check(monitor& m) noexcept;
  void publish_heartbeat(monitor& m, sdam_event_type type, const check_result* r, error_code ec,
                         const diagnostics* diag) const;
  asio::awaitable<void> rtt_loop(std::shared_ptr<topology> self, std::shared_ptr<monitor> m);
  asio::awaitable<error_code> measure_rtt(monitor& m, double& rtt_ms, diagnostics& diag);

  asio::any_io_executor ex_;
  topology_options opts_;
  sdam::topology_description description_;
  std::uint64_t id_;
  bool streaming_;
  std::map<host_address, std::shared_ptr<monitor>> monitors_;
  std::map<host_address, std::shared_ptr<pool>> pools_;
  std::list<asio::steady_timer*> selection_waiters_;
  // The last writable selection; recomputed after any change to description_ or the pools.
  std::vector<selected_server> writable_;  // several: mongoses in the latency window
  bool writable_valid_ = false;
  // Snapshots handed to selections, per server, until the description changes.
  std::map<host_address, std::shared_ptr<const sdam::server_description>> snapshots_;
  std::vector<std::uint64_t> counts_;  // scratch for choose_less_busy
  std::minstd_rand random_;
  bool started_ = false;
  bool closed_ = false;
};

// Runs the connection handshake (hello + client metadata) on a fresh connection and
// parses the server's reply; shared by the monitors and the pools. `reply_copy` holds the
// reply also when the server answered with an error. `auth` (pooled connections with a
// credential only) adds saslSupportedMechs and speculativeAuthenticate to the hello.
asio::awaitable<error_code> handshake(connection& c, const topology_options& opts, bson::document& reply_copy,
                                      diagnostics& diag, bool use_op_msg = false, auth::authenticator* auth = nullptr);

// handshake.md "client.env": a FaaS platform (AWS Lambda, Azure Functions, GCP, Vercel) is
// detected from its environment variables.
bool running_on_faas() noexcept;

}  // namespace mongowire::detail::net
