// The Asio shell of one server's connection pool. Every rule of
// connection-monitoring-and-pooling.md (states, FIFO wait queue, maxConnecting, generations,
// clearing with interruptInUseConnections, perished and idle connections, minPoolSize, the
// events) is decided by the sans-I/O cmap::pool (src/proto/cmap/pool.hpp); this class only
// waits (timers, waking the coroutine of a ticket), establishes connections (the
// connection_initializer), closes or interrupts sockets and forwards the events.
// Thread-safety: every member must be called on the pool's executor (a strand when the
// client's io_context runs on several threads).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mongowire/events.hpp"
#include "mongowire/gauges.hpp"
#include "net/connection.hpp"
#include "proto/cmap/pool.hpp"

namespace mongowire::detail::net {

// maxPoolSize (0: no maximum), minPoolSize, maxConnecting, waitQueueTimeoutMS (0: as long as
// the operation allows), maxIdleTimeMS (0: never reap).
using pool_options = cmap::pool_options;

// Connects and handshakes a fresh connection (supplied by the topology layer).
using connection_initializer = std::function<asio::awaitable<error_code>(connection&, diagnostics&)>;

class pool : public std::enable_shared_from_this<pool> {
 public:
  using state = cmap::pool_state;

  pool(asio::any_io_executor ex, std::string address, pool_options opts, connection_settings settings,
       connection_initializer init, pool_event_handler on_event);
  ~pool();

  // Checks out a connection: an available one (most recently used first), a new one while
  // below maxPoolSize and maxConnecting, or waits in FIFO order. Honours the awaiting
  // coroutine's cancellation slot (then asio::error::operation_aborted). `timeout_deadline`: the
  // operation's timeoutMS deadline (client-side-operations-timeout.md: the remaining
  // computedServerSelectionTimeout), which replaces waitQueueTimeoutMS and bounds a new
  // connection's establishment; absent: waitQueueTimeoutMS and connectTimeoutMS alone.
  asio::awaitable<error_code> async_checkout(
      std::unique_ptr<connection>& out, diagnostics& diag,
      std::optional<std::chrono::steady_clock::time_point> timeout_deadline = std::nullopt);
  void checkin(std::unique_ptr<connection> conn);

  // CMAP "Clearing a connection pool": new generation, paused, waiters fail with
  // PoolClearedError; with `interrupt_in_use_connections` the connections of older
  // generations in use are interrupted now (server-monitoring.md, network timeouts). The
  // cause and the error are kept for the gauges (the last `kept_clears`).
  void clear(bool interrupt_in_use_connections = false, pool_clear_cause cause = pool_clear_cause::requested,
             std::string_view error = {});
  void mark_ready();
  void close();
  // Load-balanced mode (CMAP "Load Balancer Mode"): `c`, pending, has its serviceId from the
  // hello; it takes that service's generation. Clearing one service leaves the others alone.
  void assign_service(connection& c);
  void clear_service(const bson::object_id& service, pool_clear_cause cause, std::string_view error = {});
  std::uint64_t generation_of(const bson::object_id& service) const noexcept { return rules_.generation_of(service); }
  // load-balancers.md "Connection Tracking": connections checked out and pinned to a cursor or a
  // transaction (+1 when pinned, -1 when released); a wait queue timeout reports them.
  void count_pinned(bool cursor, int delta) noexcept;
  void set_load_balanced() noexcept { load_balanced_ = true; }

  state current_state() const noexcept { return rules_.state(); }
  std::uint64_t generation() const noexcept { return rules_.generation(); }
  std::size_t total_connections() const noexcept { return rules_.total_connections(); }
  std::size_t idle_connections() const noexcept { return rules_.available_connections(); }
  std::size_t waiters() const noexcept { return rules_.waiting(); }
  const std::string& address() const noexcept { return address_; }
  // A snapshot for client::gauges(); `out` keeps its capacity.
  void read_gauges(pool_gauges& out) const;
  static constexpr std::size_t kept_clears = 8;

 private:
  struct waiter;
  // The socket of one connection the rules know. `owned` while pending or available; in use
  // the caller owns it and `conn` lets the pool interrupt it.
  struct slot {
    cmap::connection_id id = 0;  // 0: free
    std::unique_ptr<connection> owned;
    connection* conn = nullptr;
  };

  asio::awaitable<cmap::checkout_result> wait_for_ticket(const cmap::checkout_result& waiting);
  asio::awaitable<error_code> establish_for(cmap::connection_id id, std::unique_ptr<connection>& out, diagnostics& diag,
                                            std::chrono::steady_clock::time_point deadline);
  asio::awaitable<cmap::checkout_result> establish(
      cmap::connection_id id, error_code& ec, diagnostics& diag,
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
  // Background coroutines hold the pool (`self`) from their creation.
  asio::awaitable<void> populate(std::shared_ptr<pool> self, cmap::connection_id id);
  error_code checkout_error(cmap::pool_error e, diagnostics& diag) const;
  std::string load_balanced_wait_queue_timeout() const;
  std::unique_ptr<connection> hand_out(cmap::connection_id id);
  void perform();
  void perform(const cmap::action& a);
  void resume(const cmap::checkout_result& outcome);
  void forward(const cmap::event& e);
  slot* find(cmap::connection_id id) noexcept;
  connection& add_slot(cmap::connection_id id);
  void release(slot& s) noexcept;
  void forget(cmap::connection_id id);
  void start_maintenance();
  asio::awaitable<void> maintenance_loop(std::shared_ptr<pool> self);

  asio::any_io_executor ex_;
  std::string address_;
  connection_settings settings_;
  connection_initializer init_;
  pool_event_handler on_event_;
  cmap::pool rules_;
  std::vector<slot> slots_;       // free slots (id 0) are reused: no allocation once warm
  std::vector<waiter*> waiting_;  // coroutines waiting for their ticket's outcome
  bool performing_ = false;       // perform() is on the stack (an event handler called back)
  std::shared_ptr<asio::steady_timer> maintenance_timer_;
  std::vector<pool_clear> clears_;  // the last kept_clears, oldest first
  bool load_balanced_ = false;
  std::size_t pinned_cursor_ = 0, pinned_transaction_ = 0;
};

}  // namespace mongowire::detail::net
