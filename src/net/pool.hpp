// Connection pool for one server, after the Connection Monitoring and Pooling spec
// (source/connection-monitoring-and-pooling/connection-monitoring-and-pooling.md):
// maxPoolSize, minPoolSize kept warm, maxConnecting, a FIFO wait queue bounded by
// waitQueueTimeoutMS, idle reaping by maxIdleTimeMS, and a generation counter that
// clear() bumps so that older connections are closed on check-in.
// Thread-safety: every member must be called on the pool's executor (a strand when the
// client's io_context runs on several threads).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mongowire/events.hpp"
#include "net/connection.hpp"

namespace mongowire::detail::net {

struct pool_options {
  std::size_t max_pool_size = 100;  // 0: no maximum
  std::size_t min_pool_size = 0;
  std::size_t max_connecting = 2;
  std::chrono::milliseconds wait_queue_timeout{0};  // 0: wait as long as the operation allows
  std::chrono::milliseconds max_idle_time{0};       // 0: never reap
};

// Connects and handshakes a fresh connection (supplied by the topology layer).
using connection_initializer = std::function<asio::awaitable<error_code>(connection&, diagnostics&)>;

class pool : public std::enable_shared_from_this<pool> {
 public:
  enum class state { paused, ready, closed };

  pool(asio::any_io_executor ex, std::string address, pool_options opts, connection_settings settings,
       connection_initializer init, pool_event_handler on_event);
  ~pool();

  // Checks out a connection: an idle one (most recently used first), a new one while
  // below maxPoolSize and maxConnecting, or waits in FIFO order. Honours the awaiting
  // coroutine's cancellation slot.
  asio::awaitable<error_code> async_checkout(std::unique_ptr<connection>& out, diagnostics& diag);
  void checkin(std::unique_ptr<connection> conn);

  // CMAP "clear": bump the generation, pause, fail every waiter with PoolClearedError.
  void clear();
  void mark_ready();
  void close();

  state current_state() const noexcept { return state_; }
  std::uint64_t generation() const noexcept { return generation_; }
  std::size_t total_connections() const noexcept { return total_; }
  std::size_t idle_connections() const noexcept { return idle_.size(); }
  std::size_t waiters() const noexcept { return waiters_.size(); }
  const std::string& address() const noexcept { return address_; }

 private:
  struct waiter;

  bool perished(const connection& c, std::chrono::steady_clock::time_point now) const noexcept;
  std::string_view close_reason(const connection& c) const noexcept;
  void close_connection(std::unique_ptr<connection> c, std::string_view reason);
  bool can_create() const noexcept;
  asio::awaitable<error_code> create(std::unique_ptr<connection>& out, diagnostics& diag);
  void wake_next_waiter();
  void emit(pool_event_type type, std::uint64_t connection_id = 0, std::string_view reason = {},
            std::chrono::nanoseconds duration = {}) const;
  asio::awaitable<void> maintenance_loop();
  void start_maintenance();

  asio::any_io_executor ex_;
  std::string address_;
  pool_options opts_;
  connection_settings settings_;
  connection_initializer init_;
  pool_event_handler on_event_;
  state state_ = state::paused;
  std::uint64_t generation_ = 0;
  std::size_t total_ = 0;    // idle + checked out + pending
  std::size_t pending_ = 0;  // being established
  std::size_t woken_ = 0;    // waiters signalled but not yet resumed: a connection is theirs
  std::vector<std::unique_ptr<connection>> idle_;  // back = most recently checked in
  std::deque<waiter*> waiters_;     // ordered by ticket
  std::uint64_t next_ticket_ = 0;
  std::shared_ptr<asio::steady_timer> maintenance_timer_;
};


}  // namespace mongowire::detail::net
