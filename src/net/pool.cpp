#include "net/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace mongowire::detail::net {

using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct pool::waiter {
  explicit waiter(asio::any_io_executor ex) : timer(std::move(ex)) {}
  asio::steady_timer timer;
  bool signalled = false;
  bool queued = false;
  waiter* prev = nullptr;
  waiter* next = nullptr;
};

void pool::waiter_queue::push_back(waiter* w) noexcept {
  w->prev = tail_;
  w->next = nullptr;
  (tail_ ? tail_->next : head_) = w;
  tail_ = w;
  w->queued = true;
  ++size_;
}

void pool::waiter_queue::remove(waiter* w) noexcept {
  if (!w || !w->queued) return;
  (w->prev ? w->prev->next : head_) = w->next;
  (w->next ? w->next->prev : tail_) = w->prev;
  w->prev = w->next = nullptr;
  w->queued = false;
  --size_;
}

pool::pool(asio::any_io_executor ex, std::string address, pool_options opts, connection_settings settings,
           connection_initializer init, pool_event_handler on_event)
    : ex_(std::move(ex)),
      address_(std::move(address)),
      opts_(opts),
      settings_(std::move(settings)),
      init_(std::move(init)),
      on_event_(std::move(on_event)) {
  emit(pool_event_type::pool_created);
}

pool::~pool() {
  if (state_ != state::closed) close();
}

void pool::emit(pool_event_type type, std::uint64_t connection_id, std::string_view reason,
                std::chrono::nanoseconds duration) const {
  if (!on_event_) return;
  pool_event e{type, address_, connection_id, std::string(reason), duration};
  on_event_(e);
}

bool pool::perished(const connection& c, clock::time_point now) const noexcept {
  if (c.generation != generation_ || c.is_broken() || !c.is_open()) return true;
  return opts_.max_idle_time.count() > 0 && now - c.last_checkin > opts_.max_idle_time;
}

std::string_view pool::close_reason(const connection& c) const noexcept {
  if (c.generation != generation_) return "stale";
  if (c.is_broken() || !c.is_open()) return "error";
  return "idle";
}

void pool::close_connection(std::unique_ptr<connection> c, std::string_view reason) {
  c->close();
  --total_;
  emit(pool_event_type::connection_closed, c->id(), reason);
  wake_next_waiter();  // a slot below maxPoolSize opened
}

bool pool::can_create() const noexcept {
  bool below_max = opts_.max_pool_size == 0 || total_ < opts_.max_pool_size;
  return below_max && pending_ < opts_.max_connecting;
}

void pool::wake_next_waiter() {
  if (waiters_.empty()) return;
  waiter* w = waiters_.front();
  waiters_.pop_front();
  w->signalled = true;
  ++woken_;
  w->timer.cancel();
}

asio::awaitable<error_code> pool::create(std::unique_ptr<connection>& out, diagnostics& diag) {
  ++total_;
  ++pending_;
  auto conn = std::make_unique<connection>(ex_, settings_);
  conn->generation = generation_;
  emit(pool_event_type::connection_created, conn->id());
  const auto started = clock::now();
  auto self = shared_from_this();  // the pool must outlive the establishment
  error_code ec = co_await init_(*conn, diag);
  --pending_;
  if (!ec && state_ == state::closed) ec = client_errc::pool_closed;
  if (ec) {
    conn->close();
    --total_;
    emit(pool_event_type::connection_closed, conn->id(), "error");
    wake_next_waiter();
    co_return ec;
  }
  emit(pool_event_type::connection_ready, conn->id(), {}, clock::now() - started);
  wake_next_waiter();  // maxConnecting slot is free again
  out = std::move(conn);
  co_return error_code{};
}

asio::awaitable<error_code> pool::async_checkout(std::unique_ptr<connection>& out, diagnostics& diag) {
  const auto started = clock::now();
  emit(pool_event_type::connection_check_out_started);
  auto failed = [&](error_code ec, std::string_view reason, std::string message) {
    emit(pool_event_type::connection_check_out_failed, 0, reason, clock::now() - started);
    if (diag.message.empty()) diag.message = std::move(message);
    diag.server_address = address_;
    return ec;
  };
  const auto deadline = opts_.wait_queue_timeout.count() > 0 ? started + opts_.wait_queue_timeout
                                                              : clock::time_point::max();
  bool was_woken = false;
  for (;;) {
    if (state_ == state::closed)
      co_return failed(client_errc::pool_closed, "poolClosed", "connection pool for " + address_ + " is closed");
    if (state_ == state::paused)
      co_return failed(client_errc::pool_cleared, "connectionError",
                       "connection pool for " + address_ + " was cleared because another operation failed");
    // FIFO: newcomers queue behind waiters and behind connections promised to woken ones.
    bool must_queue = !was_woken && (!waiters_.empty() || woken_ > 0);
    if (!must_queue) {
      const auto now = clock::now();
      while (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        if (perished(*c, now)) {
          auto reason = close_reason(*c);
          close_connection(std::move(c), reason);
          continue;
        }
        emit(pool_event_type::connection_checked_out, c->id(), {}, now - started);
        out = std::move(c);
        co_return error_code{};
      }
      if (can_create()) {
        std::unique_ptr<connection> c;
        if (auto ec = co_await create(c, diag)) co_return failed(ec, "connectionError", diag.message);
        emit(pool_event_type::connection_checked_out, c->id(), {}, clock::now() - started);
        out = std::move(c);
        co_return error_code{};
      }
    }
    // Wait for a check-in, a closed connection or a finished establishment.
    if (clock::now() >= deadline)
      co_return failed(client_errc::wait_queue_timeout, "timeout",
                       "timed out after waitQueueTimeoutMS waiting for a connection to " + address_);
    waiter w(ex_);
    w.timer.expires_at(deadline);
    waiters_.push_back(&w);
    auto [ec] = co_await w.timer.async_wait(use_tuple);
    if (w.signalled) {
      --woken_;
      was_woken = true;  // a cleared pool is reported by the loop (state paused)
      continue;
    }
    waiters_.remove(&w);
    was_woken = false;
    if (ec == asio::error::operation_aborted)
      co_return failed(asio::error::operation_aborted, "connectionError", "check-out cancelled");
    // Timer expired: the loop reports the timeout.
  }
}

void pool::checkin(std::unique_ptr<connection> conn) {
  emit(pool_event_type::connection_checked_in, conn->id());
  if (state_ == state::closed) {
    close_connection(std::move(conn), "poolClosed");
    return;
  }
  if (conn->generation != generation_) {
    close_connection(std::move(conn), "stale");
    return;
  }
  if (conn->is_broken() || !conn->is_open()) {
    close_connection(std::move(conn), "error");
    return;
  }
  conn->last_checkin = clock::now();
  idle_.push_back(std::move(conn));
  wake_next_waiter();
}

void pool::clear() {
  if (state_ == state::closed) return;
  ++generation_;
  bool was_paused = state_ == state::paused;
  state_ = state::paused;
  if (!was_paused) emit(pool_event_type::pool_cleared);
  // Idle connections are stale now; close them eagerly rather than at the next check-out.
  auto stale = std::move(idle_);
  idle_.clear();
  for (auto& c : stale) close_connection(std::move(c), "stale");
  while (!waiters_.empty()) wake_next_waiter();
}

void pool::mark_ready() {
  if (state_ != state::paused) return;
  state_ = state::ready;
  emit(pool_event_type::pool_ready);
  start_maintenance();
}

void pool::close() {
  if (state_ == state::closed) return;
  state_ = state::closed;
  if (maintenance_timer_) maintenance_timer_->cancel();
  auto idle = std::move(idle_);
  idle_.clear();
  for (auto& c : idle) close_connection(std::move(c), "poolClosed");
  while (!waiters_.empty()) wake_next_waiter();
  emit(pool_event_type::pool_closed);
}

void pool::start_maintenance() {
  if (maintenance_timer_ || (opts_.min_pool_size == 0 && opts_.max_idle_time.count() == 0)) return;
  maintenance_timer_ = std::make_shared<asio::steady_timer>(ex_);
  asio::co_spawn(ex_, maintenance_loop(), asio::detached);
}

// Background work of the spec: close idle connections past maxIdleTimeMS and keep
// minPoolSize connections established while the pool is ready.
asio::awaitable<void> pool::maintenance_loop() {
  auto self = shared_from_this();
  auto timer = maintenance_timer_;
  using namespace std::chrono_literals;
  auto period = opts_.max_idle_time.count() > 0 ? std::clamp<std::chrono::milliseconds>(opts_.max_idle_time / 2, 10ms, 1000ms)
                                                : 1000ms;
  while (state_ != state::closed) {
    if (state_ == state::ready) {
      const auto now = clock::now();
      // The front of idle_ holds the least recently used connections.
      while (!idle_.empty() && perished(*idle_.front(), now)) {
        auto c = std::move(idle_.front());
        idle_.erase(idle_.begin());
        auto reason = close_reason(*c);
        close_connection(std::move(c), reason);
      }
      while (state_ == state::ready && total_ < opts_.min_pool_size && can_create()) {
        std::unique_ptr<connection> c;
        diagnostics diag;
        if (co_await create(c, diag)) break;  // SDAM learns of the failure from the monitor
        c->last_checkin = clock::now();
        if (c->generation != generation_ || state_ != state::ready) {
          close_connection(std::move(c), "stale");
          break;
        }
        idle_.insert(idle_.begin(), std::move(c));
        wake_next_waiter();
      }
    }
    timer->expires_after(period);
    auto [ec] = co_await timer->async_wait(use_tuple);
    if (ec) co_return;
  }
}

}  // namespace mongowire::detail::net

namespace mongowire {
std::string_view to_string(pool_event_type t) noexcept {
  switch (t) {
    case pool_event_type::pool_created: return "ConnectionPoolCreatedEvent";
    case pool_event_type::pool_ready: return "ConnectionPoolReadyEvent";
    case pool_event_type::pool_cleared: return "ConnectionPoolClearedEvent";
    case pool_event_type::pool_closed: return "ConnectionPoolClosedEvent";
    case pool_event_type::connection_created: return "ConnectionCreatedEvent";
    case pool_event_type::connection_ready: return "ConnectionReadyEvent";
    case pool_event_type::connection_closed: return "ConnectionClosedEvent";
    case pool_event_type::connection_check_out_started: return "ConnectionCheckOutStartedEvent";
    case pool_event_type::connection_check_out_failed: return "ConnectionCheckOutFailedEvent";
    case pool_event_type::connection_checked_out: return "ConnectionCheckedOutEvent";
    case pool_event_type::connection_checked_in: return "ConnectionCheckedInEvent";
  }
  return "unknown";
}
}  // namespace mongowire
