#include "net/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>
#include <optional>

namespace mongowire::detail::net {

using clock = std::chrono::steady_clock;

// A checkout whose ticket waits in the rules' WaitQueue: the pool sets `outcome` and cancels
// the timer when the rules resume the ticket.
struct pool::waiter {
  waiter(asio::any_io_executor ex, cmap::ticket_id t) : ticket(t), timer(std::move(ex)) {}
  cmap::ticket_id ticket;
  asio::steady_timer timer;
  std::optional<cmap::checkout_result> outcome;
};

pool::pool(asio::any_io_executor ex, std::string address, pool_options opts, connection_settings settings,
           connection_initializer init, pool_event_handler on_event)
    : ex_(std::move(ex)),
      address_(std::move(address)),
      settings_(std::move(settings)),
      init_(std::move(init)),
      on_event_(std::move(on_event)),
      rules_(opts) {
  perform();  // PoolCreatedEvent
}

pool::~pool() {
  if (rules_.state() != state::closed) close();
}

// ---------------------------------------------------------------- checking out

asio::awaitable<error_code> pool::async_checkout(std::unique_ptr<connection>& out, diagnostics& diag,
                                                 std::optional<clock::time_point> timeout_deadline) {
  auto self = shared_from_this();  // a waiting checkout must not outlive the pool
  cmap::checkout_result r = rules_.request_checkout(clock::now(), timeout_deadline);
  perform();
  // A cancelled coroutine throws at its next co_await: leave the rules consistent first.
  const auto before = co_await asio::this_coro::cancellation_state;
  if (r.status == cmap::checkout_status::wait && before.cancelled() != asio::cancellation_type::none) {
    r = rules_.cancel_wait(r.ticket, clock::now());
    perform();
  }
  if (r.status == cmap::checkout_status::wait) r = co_await wait_for_ticket(r);
  if (r.status == cmap::checkout_status::use) {
    out = hand_out(r.connection);
    co_return error_code{};
  }
  if (r.status != cmap::checkout_status::establish) co_return checkout_error(r.error, diag);
  const auto after = co_await asio::this_coro::cancellation_state;
  if (after.cancelled() != asio::cancellation_type::none) {
    rules_.connection_failed(r.connection, clock::now());  // never started
    perform();
    co_return checkout_error(cmap::pool_error::cancelled, diag);
  }
  const clock::time_point deadline = timeout_deadline.value_or(clock::time_point::max());
  co_return co_await establish_for(r.connection, out, diag, deadline);
}

asio::awaitable<cmap::checkout_result> pool::wait_for_ticket(const cmap::checkout_result& waiting) {
  waiter w(ex_, waiting.ticket);
  w.timer.expires_at(waiting.deadline);
  waiting_.push_back(&w);
  auto [ec] = co_await w.timer.async_wait(use_tuple);
  std::erase(waiting_, &w);
  // The rules' answer wins over a timer or a cancellation that raced it.
  if (w.outcome) co_return *w.outcome;
  // Expired: "WaitQueue: Timeout aggressively"; aborted without an answer: the caller cancelled.
  cmap::checkout_result r =
      ec ? rules_.cancel_wait(w.ticket, clock::now()) : rules_.on_wait_timeout(w.ticket, clock::now());
  perform();
  co_return r;
}

// "Establishing a Connection" for a checkout: the outcome is the checkout's.
asio::awaitable<error_code> pool::establish_for(cmap::connection_id id, std::unique_ptr<connection>& out,
                                                diagnostics& diag, clock::time_point deadline) {
  error_code ec;
  const cmap::checkout_result done = co_await establish(id, ec, diag, deadline);
  if (done.status == cmap::checkout_status::use) {
    out = hand_out(done.connection);
    co_return error_code{};
  }
  if (done.error == cmap::pool_error::connection_error && ec) {
    diag.server_address = address_;
    co_return ec;  // the cause, with the initializer's message and labels
  }
  co_return checkout_error(done.error, diag);
}

// Creates the socket of pending connection `id`, connects and handshakes it, and reports the
// result to the rules (whatever happens: an unreported pending connection would hold a
// maxConnecting slot forever); `ec` is the initializer's error.
// client-side-operations-timeout.md "Server Selection": the operation's deadline bounds the
// establishment (TCP, TLS, hello, authentication) besides connectTimeoutMS: at the deadline the
// socket is closed and the checkout fails with connect_timeout.
asio::awaitable<cmap::checkout_result> pool::establish(cmap::connection_id id, error_code& ec, diagnostics& diag,
                                                       clock::time_point deadline) {
  connection& c = add_slot(id);
  c.generation = rules_.generation();
  auto self = shared_from_this();                               // the pool must outlive the establishment
  auto expired = std::make_shared<std::optional<bool>>(false);  // reset once init_ is done
  asio::steady_timer guard(ex_);
  if (deadline != clock::time_point::max()) {
    guard.expires_at(deadline);
    guard.async_wait([expired, &c](error_code e) {
      if (e || !expired->has_value()) return;  // cancelled, or the establishment is over
      *expired = true;
      c.close();
    });
  }
  std::exception_ptr unexpected;
  try {
    ec = co_await init_(c, diag);
  } catch (const boost::system::system_error& e) {  // the caller cancelled: thrown at a co_await
    ec = e.code();
  } catch (...) {
    unexpected = std::current_exception();
    ec = client_errc::invalid_argument;
  }
  if (expired->value_or(false)) {
    ec = network_errc::connect_timeout;
    diag.client_message = "establishing a connection to " + address_ + " outlasted the operation's timeoutMS";
  }
  expired->reset();
  const auto now = clock::now();
  const cmap::checkout_result r = ec ? rules_.connection_failed(id, now) : rules_.connection_established(id, now);
  perform();
  if (unexpected) std::rethrow_exception(unexpected);
  co_return r;
}

// "Populating the Pool" for minPoolSize: one background establishment.
asio::awaitable<void> pool::populate([[maybe_unused]] std::shared_ptr<pool> self, cmap::connection_id id) {
  error_code ec;
  diagnostics diag;  // SDAM hears of a failure from the initializer (handshake errors)
  co_await establish(id, ec, diag);
  // Next connection at once while below minPoolSize; after a failure wait for the next run.
  if (!ec && rules_.state() == state::ready && rules_.total_connections() < rules_.options().min_pool_size) {
    rules_.run_background(clock::now());
    perform();
  }
}

// load-balancers.md "Connection Tracking": the WaitQueueTimeoutError says who holds the connections.
std::string pool::load_balanced_wait_queue_timeout() const {
  const std::size_t in_use = rules_.total_connections() - rules_.available_connections() - rules_.pending_connections();
  const std::size_t pinned = pinned_cursor_ + pinned_transaction_;
  return "Timeout waiting for connection from the connection pool. maxPoolSize: " +
         std::to_string(rules_.options().max_pool_size) +
         ", connections in use by cursors: " + std::to_string(pinned_cursor_) +
         ", connections in use by transactions: " + std::to_string(pinned_transaction_) +
         ", connections in use by other operations: " + std::to_string(in_use > pinned ? in_use - pinned : 0) + " (" +
         address_ + ")";
}

error_code pool::checkout_error(cmap::pool_error e, diagnostics& diag) const {
  diag.server_address = address_;
  if (diag.client_message.empty()) diag.client_message = std::string(cmap::message(e)) + " (" + address_ + ")";
  switch (e) {
    case cmap::pool_error::pool_closed: return client_errc::pool_closed;
    // CMAP: a paused pool and an interrupted connection both give a retryable PoolClearedError.
    case cmap::pool_error::pool_cleared: return client_errc::pool_cleared;
    case cmap::pool_error::connection_interrupted: return client_errc::pool_cleared;
    case cmap::pool_error::wait_queue_timeout:
      if (load_balanced_) diag.client_message = load_balanced_wait_queue_timeout();
      return client_errc::wait_queue_timeout;
    case cmap::pool_error::cancelled: return asio::error::operation_aborted;
    case cmap::pool_error::connection_error: return network_errc::connection_closed;
    default: break;
  }
  diag.client_message = "connection pool for " + address_ + " refused the call: " + std::string(cmap::message(e));
  return client_errc::invalid_argument;
}

// ---------------------------------------------------------------- checking in

void pool::checkin(std::unique_ptr<connection> conn) {
  if (!conn) return;
  const cmap::connection_id id = conn->id();
  slot* s = find(id);
  if (!s || s->owned) {  // not a connection this pool handed out
    conn->close();
    return;
  }
  const bool broken = conn->is_broken() || !conn->is_open();
  s->owned = std::move(conn);
  rules_.checkin(id, clock::now(), broken);
  perform();  // an interrupted or perished connection is closed now (the rules' close action)
}

// ---------------------------------------------------------------- pool state

void pool::clear(bool interrupt_in_use_connections, pool_clear_cause cause, std::string_view error) {
  const auto now = clock::now();
  rules_.clear(now, interrupt_in_use_connections);
  if (clears_.size() == kept_clears) clears_.erase(clears_.begin());
  clears_.push_back({rules_.generation(), cause, std::string(error), now, interrupt_in_use_connections});
  perform();  // the requested background run closes the stale connections now
}

void pool::assign_service(connection& c) {
  if (!c.service_id || rules_.set_service(c.id(), *c.service_id) != cmap::pool_error::none) return;
  c.generation = rules_.generation_of(*c.service_id);
}

void pool::clear_service(const bson::object_id& service, pool_clear_cause cause, std::string_view error) {
  const auto now = clock::now();
  rules_.clear_service(service);
  if (clears_.size() == kept_clears) clears_.erase(clears_.begin());
  clears_.push_back({rules_.generation_of(service), cause, std::string(error), now, false});
  perform();  // the requested background run closes the service's available connections now
}

void pool::count_pinned(bool cursor, int delta) noexcept {
  std::size_t& n = cursor ? pinned_cursor_ : pinned_transaction_;
  if (delta > 0 || n > 0) n += static_cast<std::size_t>(static_cast<std::ptrdiff_t>(delta));
}

void pool::read_gauges(pool_gauges& out) const {
  out.address = address_;
  out.total = rules_.total_connections();
  out.idle = rules_.available_connections();
  out.pending = rules_.pending_connections();
  out.in_use = out.total - out.idle - out.pending;
  out.wait_queue = rules_.waiting();
  out.generation = rules_.generation();
  out.clears = clears_;
  out.pinned_cursor = pinned_cursor_;
  out.pinned_transaction = pinned_transaction_;
}

void pool::mark_ready() {
  if (!rules_.ready()) return;
  perform();
  start_maintenance();
}

void pool::close() {
  rules_.close(clock::now());
  perform();
  if (maintenance_timer_) maintenance_timer_->cancel();
}

// ---------------------------------------------------------------- performing the rules' actions

// Runs whatever the rules asked for until they ask for nothing more. Re-entrant calls (an
// event handler calling back into the pool) leave the work to the outer loop.
void pool::perform() {
  if (performing_) return;
  performing_ = true;
  for (bool progress = true; progress;) {
    progress = false;
    while (auto e = rules_.next_event()) {
      forward(*e);
      progress = true;
    }
    while (auto a = rules_.next_action()) {
      perform(*a);
      progress = true;
    }
    if (rules_.background_run_wanted()) {
      rules_.run_background(clock::now());
      progress = true;
    }
  }
  performing_ = false;
}

void pool::perform(const cmap::action& a) {
  switch (a.kind) {
    case cmap::action_kind::resume: return resume(a.outcome);
    case cmap::action_kind::establish: {
      if (auto self = weak_from_this().lock()) asio::co_spawn(ex_, populate(self, a.connection), asio::detached);
      return;
    }
    case cmap::action_kind::close:
      if (slot* s = find(a.connection); s && s->owned) release(*s);
      return;
    case cmap::action_kind::interrupt:
      // In use or still connecting: its user (or establish()) sees the failure and reports it.
      if (slot* s = find(a.connection); s && s->conn) s->conn->interrupt();
      return;
  }
}

void pool::resume(const cmap::checkout_result& outcome) {
  auto it =
      std::find_if(waiting_.begin(), waiting_.end(), [&](const waiter* w) { return w->ticket == outcome.ticket; });
  if (it == waiting_.end()) return;
  (*it)->outcome = outcome;
  (*it)->timer.cancel();
}

void pool::forward(const cmap::event& e) {
  if (!on_event_) return;
  pool_event pe{e.type, address_, e.connection, std::string(e.reason), e.duration};
  pe.interrupt_in_use_connections = e.interrupt_in_use_connections;
  pe.service_id = e.service_id;
  if (e.type == pool_event_type::connection_ready)
    if (const slot* s = find(e.connection); s && s->conn) pe.round_trips = s->conn->frames_sent();
  on_event_(pe);
}

// ---------------------------------------------------------------- sockets

pool::slot* pool::find(cmap::connection_id id) noexcept {
  for (slot& s : slots_)
    if (s.id == id && id != 0) return &s;
  return nullptr;
}

connection& pool::add_slot(cmap::connection_id id) {
  auto it = std::find_if(slots_.begin(), slots_.end(), [](const slot& s) { return s.id == 0; });
  if (it == slots_.end()) it = slots_.insert(slots_.end(), slot{});
  it->id = id;
  it->owned = std::make_unique<connection>(ex_, settings_, id);
  it->conn = it->owned.get();
  it->owned->on_destroyed = [weak = weak_from_this()](std::uint64_t gone) {
    if (auto self = weak.lock()) self->forget(gone);
  };
  return *it->conn;
}

std::unique_ptr<connection> pool::hand_out(cmap::connection_id id) {
  slot* s = find(id);
  if (!s) return nullptr;
  return std::move(s->owned);  // `conn` stays: the pool may have to interrupt it
}

void pool::release(slot& s) noexcept {
  auto doomed = std::move(s.owned);
  s.id = 0;  // first: the destructor's forget() must not find it
  s.conn = nullptr;
  if (doomed) doomed->close();
}

// A checked-out connection was destroyed without check-in (its user gave up, e.g. on an
// exception): the rules close it as errored and its slot is freed.
void pool::forget(cmap::connection_id id) {
  slot* s = find(id);
  if (!s || s->owned) return;  // not checked out: the pool is destroying it itself
  s->conn = nullptr;
  rules_.checkin(id, clock::now(), true);
  perform();
  if (slot* again = find(id); again && !again->owned) again->id = 0;
}

// ---------------------------------------------------------------- background runs

void pool::start_maintenance() {
  const auto& o = rules_.options();
  if (maintenance_timer_ || (o.min_pool_size == 0 && o.max_idle_time.count() == 0)) return;
  maintenance_timer_ = std::make_shared<asio::steady_timer>(ex_);
  asio::co_spawn(ex_, maintenance_loop(shared_from_this()), asio::detached);
}

// CMAP "Background Thread": close idle connections past maxIdleTimeMS and keep minPoolSize
// connections while the pool is ready. The rules decide; this loop only keeps the time.
asio::awaitable<void> pool::maintenance_loop([[maybe_unused]] std::shared_ptr<pool> self) {
  auto timer = maintenance_timer_;
  using namespace std::chrono_literals;
  const auto idle = rules_.options().max_idle_time;
  const auto period = idle.count() > 0 ? std::clamp<std::chrono::milliseconds>(idle / 2, 10ms, 1000ms) : 1000ms;
  while (rules_.state() != state::closed) {
    auto wake = clock::now() + period;
    if (auto expiry = rules_.next_idle_expiry()) wake = std::min(wake, *expiry);
    timer->expires_at(wake);
    auto [ec] = co_await timer->async_wait(use_tuple);
    if (ec || rules_.state() == state::closed) co_return;
    rules_.run_background(clock::now());
    perform();
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
