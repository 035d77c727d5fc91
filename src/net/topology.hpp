// The Asio side of SDAM: one monitor per server (hello every heartbeatFrequencyMS, RTT
// average), the pools, server selection within serverSelectionTimeoutMS, and the
// reaction to application errors. The rules themselves live in proto/sdam.
// Thread-safety: every member runs on the topology's executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "mongowire/events.hpp"
#include "net/connection.hpp"
#include "net/pool.hpp"
#include "proto/sdam/topology_description.hpp"

namespace mongowire::detail::net {

struct topology_options {
  sdam::topology_settings sdam;
  pool_options pool;
  connection_settings connection;
  std::chrono::milliseconds heartbeat_frequency{10'000};
  std::chrono::milliseconds min_heartbeat_frequency{500};  // SDAM minHeartbeatFrequencyMS
  std::chrono::milliseconds server_selection_timeout{30'000};
  std::string app_name;
  pool_event_handler on_pool_event;
  heartbeat_event_handler on_heartbeat;
  std::function<void(const std::string&)> log;
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

  // Selects the primary (or the single server of a Single topology): the server that
  // writes and transactions go to. Waits for topology changes until the selection timeout.
  asio::awaitable<error_code> async_select_writable(selected_server& out, diagnostics& diag);

  // SDAM "Error handling": a command or network error on an application connection.
  void handle_application_error(const sdam::application_error& err);
  // Asks every monitor to check now (after a "not primary" error or a failed selection).
  void request_immediate_check();

  const sdam::topology_description& description() const noexcept { return description_; }
  std::optional<std::int64_t> logical_session_timeout_minutes() const noexcept {
    return description_.logical_session_timeout_minutes();
  }
  asio::any_io_executor get_executor() const noexcept { return ex_; }
  const topology_options& options() const noexcept { return opts_; }

 private:
  struct monitor;

  void add_server(const host_address& address);
  void remove_server(const host_address& address);
  void apply(const sdam::topology_changes& changes, const host_address& checked);
  void notify_selection_waiters();
  asio::awaitable<void> monitor_loop(std::shared_ptr<monitor> m);
  asio::awaitable<error_code> check(monitor& m, diagnostics& diag);
  asio::awaitable<error_code> initialize_pooled_connection(const host_address& address, connection& c,
                                                          diagnostics& diag);
  std::optional<selected_server> try_select_writable();
  void invalidate_selection() noexcept { writable_valid_ = false; }

  asio::any_io_executor ex_;
  topology_options opts_;
  sdam::topology_description description_;
  std::map<host_address, std::shared_ptr<monitor>> monitors_;
  std::map<host_address, std::shared_ptr<pool>> pools_;
  std::list<asio::steady_timer*> selection_waiters_;
  // The last writable selection; recomputed after any change to description_ or the pools.
  std::optional<selected_server> writable_;
  bool writable_valid_ = false;
  bool closed_ = false;
};

// Runs the connection handshake (hello + client metadata) on a fresh connection and
// parses the server's reply; shared by the monitors and the pools.
asio::awaitable<error_code> handshake(connection& c, const topology_options& opts, bson::document& reply_copy,
                                      diagnostics& diag, bool use_op_msg = false);

}  // namespace mongowire::detail::net
