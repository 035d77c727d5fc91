// The connection pool rules of connection-monitoring-and-pooling.md (CMAP), sans-I/O: no
// sockets, timers or threads. The I/O layer owns the sockets (keyed by connection id) and
// the clock; it calls the pool with the current steady time and performs what the pool
// asks for:
//
//   auto r = pool.request_checkout(now);      // use N | establish N | wait T until deadline | failed
//   establish N:  connect + handshake, then pool.connection_established(N, now) or
//                 pool.connection_failed(N, now); both answer the outcome of that checkout.
//   wait T:       arm a timer for r.deadline; on expiry pool.on_wait_timeout(T, now).
//   after every call: drain next_action() (resume a waiting ticket, establish a connection
//                 for minPoolSize, close or interrupt a socket) and next_event() (monitoring),
//                 and call run_background(now) soon when background_run_wanted().
//
// Like Boost.MySQL's sansio algorithms, the pool only decides; a thin Asio shell waits,
// connects and closes. Once warm (containers at capacity) no call allocates.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mongowire/events.hpp"

namespace mongowire::detail::cmap {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using connection_id = std::uint64_t;  // 1, 2, 3, ... in order of creation ("Connection")
using ticket_id = std::uint64_t;      // one per checkout request, in arrival order

// "Connection Pool Options". Zero means "no limit" for max_pool_size, wait_queue_timeout
// and max_idle_time.
struct pool_options {
  std::size_t max_pool_size = 100;
  std::size_t min_pool_size = 0;
  std::size_t max_connecting = 2;
  std::chrono::milliseconds wait_queue_timeout{0};
  std::chrono::milliseconds max_idle_time{0};
};

// Empty when the options are valid, else what is wrong ("Connection Pool Options": maxConnecting
// > 0, minPoolSize <= maxPoolSize when capped, durations >= 0).
std::string validate(const pool_options& options);

enum class pool_state { paused, ready, closed };
enum class connection_state { pending, available, in_use, closed };

// ConnectionClosedEvent.reason and ConnectionCheckOutFailedEvent.reason ("Events").
enum class close_reason { stale, idle, error, pool_closed };
enum class checkout_failure { timeout, connection_error, pool_closed };
std::string_view to_string(pool_state s) noexcept;
std::string_view to_string(close_reason r) noexcept;      // "stale", "idle", "error", "poolClosed"
std::string_view to_string(checkout_failure r) noexcept;  // "timeout", "connectionError", "poolClosed"

enum class pool_error {
  none,
  pool_closed,             // PoolClosedError
  pool_cleared,            // PoolClearedError: the pool is paused or the wait was evicted by clear
  connection_interrupted,  // PoolClearedError: clear(interruptInUseConnections) cut the connection
  wait_queue_timeout,      // WaitQueueTimeoutError
  connection_error,        // establishing the connection failed; the I/O layer holds the cause
  cancelled,               // the caller abandoned its wait (cancel_wait)
  // Misuse by the caller; the pool is unchanged.
  unknown_connection,  // no such connection in this pool ("MUST throw ... did not create")
  unknown_ticket,
  wrong_connection_state,  // e.g. checkin of an available connection
};
std::string_view to_string(pool_error e) noexcept;  // identifier, e.g. "wait_queue_timeout"
// "Connection Pool Errors": the message without the pool address.
std::string_view message(pool_error e) noexcept;

// One monitoring event ("Connection Pool Monitoring"); the I/O layer adds the address.
struct event {
  pool_event_type type{};
  connection_id connection = 0;               // connection events only
  std::string_view reason;                    // closed / check_out_failed; static storage
  std::chrono::nanoseconds duration{0};       // ready, checked_out, check_out_failed
  bool interrupt_in_use_connections = false;  // pool_cleared
  std::optional<bson::object_id> service_id;  // pool_cleared of one service (load-balanced mode)
};

enum class checkout_status {
  none,       // nothing for the caller (e.g. a population connection, a stale timer)
  use,        // `connection` is checked out to `ticket`
  establish,  // `connection` is created for `ticket`: establish it, then report the result
  wait,       // `ticket` waits in the queue until `deadline` (time_point::max(): no limit)
  failed,     // the checkout of `ticket` failed with `error`
  rejected,   // the call itself was invalid (`error` says why); nothing changed
};

struct checkout_result {
  checkout_status status = checkout_status::none;
  ticket_id ticket = 0;
  connection_id connection = 0;
  time_point deadline = time_point::max();
  pool_error error = pool_error::none;
};

enum class action_kind {
  resume,     // a waiting ticket has its outcome (use / establish / failed)
  establish,  // create the socket of a pending connection for minPoolSize, then report it
  close,      // tear down the socket of a connection the pool closed
  interrupt,  // cancel whatever the connection is doing and close it (interruptInUseConnections)
};

struct action {
  action_kind kind = action_kind::resume;
  connection_id connection = 0;  // establish, close, interrupt
  checkout_result outcome{};     // resume
};

class pool {
 public:
  // Emits PoolCreated. Throws std::invalid_argument with validate()'s message.
  explicit pool(pool_options options);

  // "Checking Out a Connection". `deadline` is the operation's own limit (CSOT); the earlier
  // of it and now + waitQueueTimeoutMS bounds the wait.
  // `timeout_deadline`: the operation's timeoutMS deadline (max(): timeoutMS 0), which replaces
  // waitQueueTimeoutMS (client-side-operations-timeout.md "Server Selection"); absent: the
  // legacy waitQueueTimeoutMS applies.
  checkout_result request_checkout(time_point now, std::optional<time_point> timeout_deadline = std::nullopt);
  // The wait of `ticket` reached its deadline: fails it, or answers `none` when the ticket
  // was already resumed (the timer raced the pool).
  checkout_result on_wait_timeout(ticket_id ticket, time_point now);
  // The caller gave up waiting (cancellation): fails it with `cancelled`.
  checkout_result cancel_wait(ticket_id ticket, time_point now);

  // Outcome of establishing a pending connection. For a checkout's own connection the answer
  // is that checkout's outcome; for a population connection it is `none`.
  checkout_result connection_established(connection_id id, time_point now);
  checkout_result connection_failed(connection_id id, time_point now);

  // "Checking In a Connection"; `broken`: the connection saw an error (perished, "Errored").
  pool_error checkin(connection_id id, time_point now, bool broken = false);
  // The I/O layer found the socket dead: an available connection is closed now, one in use
  // at its check-in.
  pool_error connection_broken(connection_id id, time_point now);

  // "Clearing a non-load balanced pool": new generation, paused, waiters fail now; perished
  // connections are closed by the background run it requests.
  void clear(time_point now, bool interrupt_in_use_connections = false);
  // "Load Balancer Mode": once its handshake is done, pending connection `id` takes the
  // generation of `service` (the serviceId of the hello reply) and counts in that service.
  pool_error set_service(connection_id id, const bson::object_id& service);
  // "Clearing a load balanced pool": a new generation for `service` only; the pool is not
  // paused and the WaitQueue stays.
  void clear_service(const bson::object_id& service);
  // The generation connections of `service` are compared with (SDAM stale errors).
  std::uint64_t generation_of(const bson::object_id& service) const noexcept;
  // "Marking a Connection Pool as Ready"; false when the pool is closed.
  bool ready();
  // "Closing a Connection Pool".
  void close(time_point now);

  // One "Background Thread" run: close perished available connections, interrupt in-use ones
  // after clear(interrupt), start connections up to minPoolSize. Never waits.
  void run_background(time_point now);
  bool background_run_wanted() const noexcept { return run_wanted_; }
  // When the oldest available connection becomes idle (maxIdleTimeMS), for the reaper timer.
  std::optional<time_point> next_idle_expiry() const noexcept;

  std::optional<action> next_action();
  std::optional<event> next_event();

  pool_state state() const noexcept { return state_; }
  std::uint64_t generation() const noexcept { return generation_; }
  const pool_options& options() const noexcept { return options_; }
  std::size_t total_connections() const noexcept { return total_; }
  std::size_t available_connections() const noexcept { return available_.size(); }
  std::size_t pending_connections() const noexcept { return pending_; }
  std::size_t waiting() const noexcept { return waiters_.size(); }
  std::optional<connection_state> state_of(connection_id id) const noexcept;

 private:
  struct slot {
    connection_id id = 0;  // 0: free slot
    connection_state state = connection_state::closed;
    std::uint64_t generation = 0;
    time_point created{};
    time_point available_since{};
    ticket_id owner = 0;  // pending for this checkout; 0: populating minPoolSize
    time_point checkout_started{};
    bool broken = false;
    bool interrupted = false;                // cut by clear(interrupt): closed when reported or checked in
    std::optional<bson::object_id> service;  // load-balanced mode, once the handshake is done
  };
  // "Load Balancer Mode": serviceId -> (generation, connection count).
  struct service_generation {
    std::uint64_t generation = 0;
    std::size_t connections = 0;
  };
  struct waiter {
    ticket_id ticket = 0;
    time_point started{};
    time_point deadline{};
  };
  // Where serve_queue() puts the outcome of the ticket the current call answers directly.
  struct direct_answer {
    ticket_id ticket = 0;
    checkout_result* out = nullptr;
  };

  slot* find(connection_id id) noexcept;
  const slot* find(connection_id id) const noexcept;
  std::size_t create_connection(time_point now, ticket_id owner, time_point checkout_started);
  void close_connection(slot& s, close_reason reason, action_kind teardown = action_kind::close);
  std::optional<close_reason> perished(const slot& s, time_point now) const noexcept;
  bool stale(const slot& s) const noexcept;  // older than its pool's (or service's) generation
  void forget_service(slot& s) noexcept;
  slot* take_available(time_point now);
  bool can_create() const noexcept;
  std::size_t unclaimed_population() const noexcept;
  void serve_queue(time_point now) { serve_queue(now, direct_answer{}); }
  void serve_queue(time_point now, direct_answer direct);
  checkout_result serve_one(const waiter& w, time_point now, std::size_t& reserved, std::size_t unclaimed);
  void answer(const checkout_result& r, direct_answer direct);
  checkout_result fail_checkout(ticket_id ticket, time_point started, time_point now, pool_error error);
  checkout_result remove_waiter(ticket_id ticket, time_point now, pool_error error);
  void fail_all_waiters(time_point now, pool_error error);
  checkout_result finish_owned(slot& s, time_point now);
  void finish_population(slot& s, time_point now);
  void interrupt_stale_in_use();
  void reap_available(time_point now);
  void populate(time_point now);
  void emit(pool_event_type type, connection_id id = 0, std::string_view reason = {},
            std::chrono::nanoseconds duration = {});
  void push(const action& a) { actions_.push_back(a); }

  pool_options options_;
  pool_state state_ = pool_state::paused;
  std::uint64_t generation_ = 0;
  connection_id next_id_ = 1;
  ticket_id next_ticket_ = 1;
  std::size_t total_ = 0;    // pending + available + in use ("totalConnectionCount")
  std::size_t pending_ = 0;  // "pendingConnectionCount"
  bool run_wanted_ = false;
  std::optional<std::uint64_t> interrupt_up_to_;  // generation of the last clear(interrupt)
  std::map<bson::object_id, service_generation> services_;
  std::vector<slot> slots_;             // free slots (id 0) are reused
  std::vector<std::size_t> available_;  // slot indexes; back = most recently checked in
  std::vector<waiter> waiters_;         // the WaitQueue, FIFO
  std::vector<action> actions_;
  std::size_t next_action_ = 0;
  std::vector<event> events_;
  std::size_t next_event_ = 0;
};

}  // namespace mongowire::detail::cmap
