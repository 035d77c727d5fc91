#include "proto/cmap/pool.hpp"

#include <algorithm>
#include <stdexcept>

namespace mongowire::detail::cmap {

std::string validate(const pool_options& o) {
  if (o.max_connecting == 0) return "maxConnecting must be greater than 0";
  if (o.max_pool_size != 0 && o.min_pool_size > o.max_pool_size)
    return "minPoolSize (" + std::to_string(o.min_pool_size) + ") must not exceed maxPoolSize (" +
           std::to_string(o.max_pool_size) + ")";
  if (o.wait_queue_timeout.count() < 0) return "waitQueueTimeoutMS must not be negative";
  if (o.max_idle_time.count() < 0) return "maxIdleTimeMS must not be negative";
  return {};
}

std::string_view to_string(pool_state s) noexcept {
  switch (s) {
    case pool_state::paused: return "paused";
    case pool_state::ready: return "ready";
    case pool_state::closed: return "closed";
  }
  return "unknown";
}

std::string_view to_string(close_reason r) noexcept {
  switch (r) {
    case close_reason::stale: return "stale";
    case close_reason::idle: return "idle";
    case close_reason::error: return "error";
    case close_reason::pool_closed: return "poolClosed";
  }
  return "unknown";
}

std::string_view to_string(checkout_failure r) noexcept {
  switch (r) {
    case checkout_failure::timeout: return "timeout";
    case checkout_failure::connection_error: return "connectionError";
    case checkout_failure::pool_closed: return "poolClosed";
  }
  return "unknown";
}

std::string_view to_string(pool_error e) noexcept {
  switch (e) {
    case pool_error::none: return "none";
    case pool_error::pool_closed: return "pool_closed";
    case pool_error::pool_cleared: return "pool_cleared";
    case pool_error::connection_interrupted: return "connection_interrupted";
    case pool_error::wait_queue_timeout: return "wait_queue_timeout";
    case pool_error::connection_error: return "connection_error";
    case pool_error::cancelled: return "cancelled";
    case pool_error::unknown_connection: return "unknown_connection";
    case pool_error::unknown_ticket: return "unknown_ticket";
    case pool_error::wrong_connection_state: return "wrong_connection_state";
  }
  return "unknown";
}

std::string_view message(pool_error e) noexcept {
  switch (e) {
    case pool_error::none: return "";
    case pool_error::pool_closed: return "Attempted to check out a connection from closed connection pool";
    case pool_error::pool_cleared: return "Connection pool was cleared because another operation failed";
    case pool_error::connection_interrupted: return "Connection interrupted due to server monitor timeout";
    case pool_error::wait_queue_timeout: return "Timed out while checking out a connection from connection pool";
    case pool_error::connection_error: return "An error occurred while trying to establish a new connection";
    case pool_error::cancelled: return "The check out was cancelled while waiting for a connection";
    case pool_error::unknown_connection: return "The connection does not belong to this connection pool";
    case pool_error::unknown_ticket: return "No check out with this ticket was ever started in this pool";
    case pool_error::wrong_connection_state: return "The connection is not in a state that allows this call";
  }
  return "unknown error";
}

namespace {

checkout_result rejected(pool_error e) {
  checkout_result r;
  r.status = checkout_status::rejected;
  r.error = e;
  return r;
}

// ConnectionCheckOutFailedEvent.reason for each way a checkout fails ("Checking Out a Connection").
checkout_failure failure_reason(pool_error e) noexcept {
  if (e == pool_error::pool_closed) return checkout_failure::pool_closed;
  if (e == pool_error::wait_queue_timeout) return checkout_failure::timeout;
  return checkout_failure::connection_error;
}

}  // namespace

pool::pool(pool_options options) : options_(options) {
  if (auto why = validate(options_); !why.empty()) throw std::invalid_argument("connection pool options: " + why);
  // "Creating a Connection Pool": generation 0, state "paused", PoolCreatedEvent.
  emit(pool_event_type::pool_created);
}

// ---------------------------------------------------------------- checking out

checkout_result pool::request_checkout(time_point now, std::optional<time_point> timeout_deadline) {
  const ticket_id ticket = next_ticket_++;
  emit(pool_event_type::connection_check_out_started);
  // "If the pool is "closed" or "paused", any attempt to check out a Connection MUST throw".
  if (state_ == pool_state::closed) return fail_checkout(ticket, now, now, pool_error::pool_closed);
  if (state_ == pool_state::paused) return fail_checkout(ticket, now, now, pool_error::pool_cleared);
  time_point deadline = timeout_deadline.value_or(time_point::max());
  if (!timeout_deadline && options_.wait_queue_timeout.count() > 0) deadline = now + options_.wait_queue_timeout;
  // "enter WaitQueue; wait until at top of wait queue": FIFO, so a newcomer is served only
  // when everyone ahead of it was.
  waiters_.push_back({ticket, now, deadline});
  checkout_result r;
  serve_queue(now, {ticket, &r});
  if (r.status != checkout_status::none) return r;
  if (deadline <= now) return remove_waiter(ticket, now, pool_error::wait_queue_timeout);
  r.status = checkout_status::wait;
  r.ticket = ticket;
  r.deadline = deadline;
  return r;
}

checkout_result pool::on_wait_timeout(ticket_id ticket, time_point now) {
  // "WaitQueue: Timeout aggressively ... MUST leave the WaitQueue immediately".
  return remove_waiter(ticket, now, pool_error::wait_queue_timeout);
}

checkout_result pool::cancel_wait(ticket_id ticket, time_point now) {
  return remove_waiter(ticket, now, pool_error::cancelled);
}

checkout_result pool::remove_waiter(ticket_id ticket, time_point now, pool_error error) {
  auto it = std::find_if(waiters_.begin(), waiters_.end(), [&](const waiter& w) { return w.ticket == ticket; });
  if (it == waiters_.end()) {
    if (ticket == 0 || ticket >= next_ticket_) return rejected(pool_error::unknown_ticket);
    return {};  // already answered: the timer lost the race
  }
  const waiter w = *it;
  waiters_.erase(it);
  checkout_result r = fail_checkout(w.ticket, w.started, now, error);
  serve_queue(now);  // a promised population connection may now go to the next waiter
  return r;
}

checkout_result pool::fail_checkout(ticket_id ticket, time_point started, time_point now, pool_error error) {
  emit(pool_event_type::connection_check_out_failed, 0, to_string(failure_reason(error)), now - started);
  checkout_result r;
  r.status = checkout_status::failed;
  r.ticket = ticket;
  r.error = error;
  return r;
}

void pool::fail_all_waiters(time_point now, pool_error error) {
  for (const waiter& w : waiters_) answer(fail_checkout(w.ticket, w.started, now, error), direct_answer{});
  waiters_.clear();
}

// Serves the WaitQueue from its head while the head can be served. Population connections
// still being established (for minPoolSize) are promised to the oldest waiters instead of
// opening more connections for them: they become available shortly, and this keeps threads
// blocked by maxConnecting on those connections (pool-checkout-minPoolSize-connection-
// maxConnecting) rather than on whichever establishment happens to be reported first.
void pool::serve_queue(time_point now, direct_answer direct) {
  if (state_ != pool_state::ready) return;  // paused/closed: clear() and close() failed the waiters
  const std::size_t unclaimed = unclaimed_population();
  std::size_t reserved = 0;
  for (std::size_t i = 0; i < waiters_.size();) {
    checkout_result r = serve_one(waiters_[i], now, reserved, unclaimed);
    if (r.status == checkout_status::none) break;  // "MUST NOT service any newer checkOut requests"
    if (r.status == checkout_status::wait) {
      ++i;  // this waiter gets the next population connection
      continue;
    }
    waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(i));
    answer(r, direct);
  }
}

checkout_result pool::serve_one(const waiter& w, time_point now, std::size_t& reserved, std::size_t unclaimed) {
  checkout_result r;
  r.ticket = w.ticket;
  // "iterate over the list of available Connections, searching for a non-perished one".
  if (slot* s = take_available(now)) {
    s->state = connection_state::in_use;
    emit(pool_event_type::connection_checked_out, s->id, {}, now - w.started);
    r.status = checkout_status::use;
    r.connection = s->id;
    return r;
  }
  if (reserved < unclaimed) {
    ++reserved;
    r.status = checkout_status::wait;
    return r;
  }
  // "If the list is exhausted, the total number of Connections is less than maxPoolSize,
  // and pendingConnectionCount < maxConnecting, the pool MUST create a Connection".
  if (can_create()) {
    const std::size_t index = create_connection(now, w.ticket, w.started);
    r.status = checkout_status::establish;
    r.connection = slots_[index].id;
    return r;
  }
  return {};
}

void pool::answer(const checkout_result& r, direct_answer direct) {
  if (direct.out && r.ticket == direct.ticket) {
    *direct.out = r;
    return;
  }
  action a;
  a.kind = action_kind::resume;
  a.outcome = r;
  push(a);
}

pool::slot* pool::take_available(time_point now) {
  while (!available_.empty()) {
    slot& s = slots_[available_.back()];
    // "If a perished Connection is encountered, such a Connection MUST be closed ... and the
    // iteration of available Connections MUST continue".
    if (auto why = perished(s, now)) {
      close_connection(s, *why);
      continue;
    }
    available_.pop_back();
    return &s;
  }
  return nullptr;
}

bool pool::can_create() const noexcept {
  const bool below_max = options_.max_pool_size == 0 || total_ < options_.max_pool_size;
  return state_ == pool_state::ready && below_max && pending_ < options_.max_connecting;
}

std::size_t pool::unclaimed_population() const noexcept {
  return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [&](const slot& s) {
    return s.id != 0 && s.state == connection_state::pending && s.owner == 0 && !s.interrupted && !stale(s);
  }));
}

// ---------------------------------------------------------------- connections

pool::slot* pool::find(connection_id id) noexcept {
  for (slot& s : slots_)
    if (s.id == id && id != 0) return &s;
  return nullptr;
}

const pool::slot* pool::find(connection_id id) const noexcept { return const_cast<pool*>(this)->find(id); }

std::optional<connection_state> pool::state_of(connection_id id) const noexcept {
  const slot* s = find(id);
  if (!s) return std::nullopt;
  return s->state;
}

std::size_t pool::create_connection(time_point now, ticket_id owner, time_point checkout_started) {
  auto free = std::find_if(slots_.begin(), slots_.end(), [](const slot& s) { return s.id == 0; });
  const std::size_t index = free != slots_.end() ? static_cast<std::size_t>(free - slots_.begin()) : slots_.size();
  if (index == slots_.size()) slots_.emplace_back();
  slot& s = slots_[index];
  // "Creating a Connection": pending; IDs "assigned in order of creation, starting at 1".
  s = slot{};
  s.id = next_id_++;
  s.state = connection_state::pending;
  s.generation = generation_;
  s.created = now;
  s.owner = owner;
  s.checkout_started = checkout_started;
  ++total_;
  ++pending_;
  emit(pool_event_type::connection_created, s.id);
  return index;
}

// "Closing a Connection": marked closed (no longer counted) first, then the event; the
// socket teardown is the I/O layer's (the pushed action).
void pool::close_connection(slot& s, close_reason reason, action_kind teardown) {
  const auto index = static_cast<std::size_t>(&s - slots_.data());
  if (s.state == connection_state::available) std::erase(available_, index);
  if (s.state == connection_state::pending) --pending_;
  --total_;
  s.state = connection_state::closed;
  forget_service(s);
  emit(pool_event_type::connection_closed, s.id, to_string(reason));
  action a;
  a.kind = teardown;
  a.connection = s.id;
  push(a);
  s.id = 0;
}

// "Perishable": stale (generation), errored, or available for longer than maxIdleTimeMS.
std::optional<close_reason> pool::perished(const slot& s, time_point now) const noexcept {
  // A connection that failed is closed for its error, also when the failure cleared the pool
  // (load-balancers/transactions.json: a network error's connection closes with "error").
  if (s.broken) return close_reason::error;
  if (stale(s)) return close_reason::stale;
  const auto idle = options_.max_idle_time;
  if (s.state == connection_state::available && idle.count() > 0 && now - s.available_since > idle)
    return close_reason::idle;
  return std::nullopt;
}

checkout_result pool::connection_established(connection_id id, time_point now) {
  slot* s = find(id);
  if (!s) return rejected(pool_error::unknown_connection);
  if (s->state != connection_state::pending) return rejected(pool_error::wrong_connection_state);
  checkout_result r;
  if (s->owner != 0) r = finish_owned(*s, now);
  else finish_population(*s, now);
  // The maxConnecting slot is free again (and maybe a connection is available).
  serve_queue(now);
  return r;
}

checkout_result pool::finish_owned(slot& s, time_point now) {
  const ticket_id ticket = s.owner;
  const time_point started = s.checkout_started;
  if (s.interrupted) {  // clear(interruptInUseConnections) cut it while connecting
    close_connection(s, close_reason::stale);
    return fail_checkout(ticket, started, now, pool_error::connection_interrupted);
  }
  emit(pool_event_type::connection_ready, s.id, {}, now - s.created);
  if (state_ == pool_state::closed) {
    close_connection(s, close_reason::pool_closed);
    return fail_checkout(ticket, started, now, pool_error::pool_closed);
  }
  // A connection created before a clear is still handed out, as the spec's checkOut does;
  // it is closed as stale at check-in.
  --pending_;
  s.state = connection_state::in_use;
  s.owner = 0;
  emit(pool_event_type::connection_checked_out, s.id, {}, now - started);
  checkout_result r;
  r.status = checkout_status::use;
  r.ticket = ticket;
  r.connection = s.id;
  return r;
}

void pool::finish_population(slot& s, time_point now) {
  if (s.interrupted) {
    close_connection(s, close_reason::stale);
    return;
  }
  emit(pool_event_type::connection_ready, s.id, {}, now - s.created);
  if (state_ == pool_state::closed) return close_connection(s, close_reason::pool_closed);
  if (stale(s)) return close_connection(s, close_reason::stale);
  // "Populating the Pool": mark available before the pending count drops, so no thread
  // starts a new connection while this one is available.
  --pending_;
  s.state = connection_state::available;
  s.available_since = now;
  available_.push_back(static_cast<std::size_t>(&s - slots_.data()));
}

checkout_result pool::connection_failed(connection_id id, time_point now) {
  slot* s = find(id);
  if (!s) return rejected(pool_error::unknown_connection);
  if (s->state != connection_state::pending) return rejected(pool_error::wrong_connection_state);
  const ticket_id owner = s->owner;
  const time_point started = s->checkout_started;
  const bool interrupted = s->interrupted;
  // "Establishing a Connection ... except error: close connection".
  close_connection(*s, interrupted ? close_reason::stale : close_reason::error);
  checkout_result r;
  if (owner != 0)
    r = fail_checkout(owner, started, now,
                      interrupted ? pool_error::connection_interrupted : pool_error::connection_error);
  serve_queue(now);
  return r;
}

// ---------------------------------------------------------------- checking in

pool_error pool::checkin(connection_id id, time_point now, bool broken) {
  slot* s = find(id);
  if (!s) return pool_error::unknown_connection;
  if (s->state != connection_state::in_use) return pool_error::wrong_connection_state;
  emit(pool_event_type::connection_checked_in, id);
  s->broken = s->broken || broken;
  // "if connection is perished OR pool is closed: close connection, else mark available".
  if (state_ == pool_state::closed) {
    close_connection(*s, close_reason::pool_closed);
  } else if (s->interrupted) {  // by clear(interruptInUseConnections), as a stale connection
    close_connection(*s, close_reason::stale);
  } else if (auto why = perished(*s, now)) {
    close_connection(*s, *why);
  } else {
    s->state = connection_state::available;
    s->available_since = now;
    available_.push_back(static_cast<std::size_t>(s - slots_.data()));
  }
  serve_queue(now);
  return pool_error::none;
}

pool_error pool::connection_broken(connection_id id, time_point now) {
  slot* s = find(id);
  if (!s) return pool_error::unknown_connection;
  if (s->state == connection_state::pending) return pool_error::wrong_connection_state;  // use connection_failed
  s->broken = true;
  if (s->state == connection_state::available) {
    close_connection(*s, close_reason::error);
    serve_queue(now);
  }
  return pool_error::none;
}

// ---------------------------------------------------------------- load-balanced mode

bool pool::stale(const slot& s) const noexcept {
  if (!s.service) return s.generation != generation_;
  const auto it = services_.find(*s.service);
  return it == services_.end() || s.generation != it->second.generation;
}

// "MUST remove the entry for a serviceId once the connection count reaches 0".
void pool::forget_service(slot& s) noexcept {
  if (!s.service) return;
  if (auto it = services_.find(*s.service); it != services_.end() && --it->second.connections == 0) services_.erase(it);
  s.service.reset();
}

pool_error pool::set_service(connection_id id, const bson::object_id& service) {
  slot* s = find(id);
  if (!s) return pool_error::unknown_connection;
  if (s->state != connection_state::pending || s->service) return pool_error::wrong_connection_state;
  auto& entry = services_[service];
  ++entry.connections;
  s->service = service;
  s->generation = entry.generation;
  return pool_error::none;
}

void pool::clear_service(const bson::object_id& service) {
  if (state_ == pool_state::closed) return;
  // A service without connections has no entry: nothing of it to mark stale.
  if (auto it = services_.find(service); it != services_.end()) ++it->second.generation;
  emit(pool_event_type::pool_cleared);
  events_.back().service_id = service;
  run_wanted_ = true;  // closes its available connections at the next background run
}

std::uint64_t pool::generation_of(const bson::object_id& service) const noexcept {
  const auto it = services_.find(service);
  return it == services_.end() ? 0 : it->second.generation;
}

// ---------------------------------------------------------------- pool state

void pool::clear(time_point now, bool interrupt_in_use_connections) {
  if (state_ == pool_state::closed) return;
  const bool was_ready = state_ == pool_state::ready;
  const std::uint64_t cleared = generation_++;
  state_ = pool_state::paused;
  // "MUST only interrupt in-use Connections whose generation is less than or equal to the
  // generation of the pool at the moment of the clear".
  if (interrupt_in_use_connections) interrupt_up_to_ = std::max(interrupt_up_to_.value_or(0), cleared);
  // "If the pool is already "paused" when it is cleared, then the pool MUST NOT emit a
  // PoolCleared event".
  if (was_ready) {
    emit(pool_event_type::pool_cleared);
    events_.back().interrupt_in_use_connections = interrupt_in_use_connections;
  }
  // "Clearing the WaitQueue MUST happen eagerly".
  fail_all_waiters(now, pool_error::pool_cleared);
  // "A pool SHOULD allow immediate scheduling of the next background thread iteration".
  run_wanted_ = true;
}

bool pool::ready() {
  if (state_ == pool_state::closed) return false;
  // "If the pool is already "ready" ... MUST NOT emit a PoolReadyEvent".
  if (state_ == pool_state::ready) return true;
  state_ = pool_state::ready;
  // The event comes before any population connection ("Marking a Connection Pool as Ready").
  emit(pool_event_type::pool_ready);
  if (options_.min_pool_size > 0) run_wanted_ = true;
  return true;
}

void pool::close(time_point now) {
  if (state_ == pool_state::closed) return;
  state_ = pool_state::closed;
  // "When a pool is closed, it MUST first close all available Connections".
  while (!available_.empty()) close_connection(slots_[available_.front()], close_reason::pool_closed);
  emit(pool_event_type::pool_closed);
  fail_all_waiters(now, pool_error::pool_closed);
  run_wanted_ = false;
  interrupt_up_to_.reset();
}

// ---------------------------------------------------------------- background run

void pool::run_background(time_point now) {
  run_wanted_ = false;
  if (state_ == pool_state::closed) return;
  reap_available(now);
  if (interrupt_up_to_) interrupt_stale_in_use();
  populate(now);
  serve_queue(now);  // closing perished connections may have made room under maxPoolSize
}

void pool::reap_available(time_point now) {
  for (std::size_t i = 0; i < available_.size();) {
    slot& s = slots_[available_[i]];
    if (auto why = perished(s, now)) close_connection(s, *why);  // removes available_[i]
    else ++i;
  }
}

// "Remove and close perished available Connections including "in use" connections if
// interruptInUseConnections option was set to true in the most recent pool clear".
void pool::interrupt_stale_in_use() {
  const std::uint64_t limit = *interrupt_up_to_;
  interrupt_up_to_.reset();
  for (slot& s : slots_) {
    if (s.id == 0 || s.generation > limit) continue;
    if (s.state == connection_state::in_use && !s.interrupted) {
      // "Interrupting a Connection": its task is cancelled and it is perished. It stays its
      // user's until checked in, then closes (CheckedIn, then Closed: interruptInUse-pool-clear.json).
      s.interrupted = true;
      action a;
      a.kind = action_kind::interrupt;
      a.connection = s.id;
      push(a);
    } else if (s.state == connection_state::pending && !s.interrupted) {
      // Closed when the I/O layer reports the cancelled establishment.
      s.interrupted = true;
      action a;
      a.kind = action_kind::interrupt;
      a.connection = s.id;
      push(a);
    }
  }
}

void pool::populate(time_point now) {
  // "Populating the pool MUST NOT be performed unless the pool is "ready"" and a Run "MUST
  // either proceed ... or end" instead of waiting for maxConnecting.
  while (state_ == pool_state::ready && total_ < options_.min_pool_size && can_create()) {
    const std::size_t index = create_connection(now, 0, {});
    action a;
    a.kind = action_kind::establish;
    a.connection = slots_[index].id;
    push(a);
  }
}

std::optional<time_point> pool::next_idle_expiry() const noexcept {
  if (options_.max_idle_time.count() == 0 || available_.empty()) return std::nullopt;
  // available_ is ordered by available_since (appended on check-in), oldest first; idle
  // means "longer than maxIdleTimeMS", hence the extra tick.
  return slots_[available_.front()].available_since + options_.max_idle_time + clock::duration(1);
}

// ---------------------------------------------------------------- outputs

std::optional<action> pool::next_action() {
  if (next_action_ == actions_.size()) {
    actions_.clear();  // keeps the capacity: no allocation once warm
    next_action_ = 0;
    return std::nullopt;
  }
  return actions_[next_action_++];
}

std::optional<event> pool::next_event() {
  if (next_event_ == events_.size()) {
    events_.clear();
    next_event_ = 0;
    return std::nullopt;
  }
  return events_[next_event_++];
}

void pool::emit(pool_event_type type, connection_id id, std::string_view reason, std::chrono::nanoseconds duration) {
  event e;
  e.type = type;
  e.connection = id;
  e.reason = reason;
  e.duration = duration;
  events_.push_back(e);
}

}  // namespace mongowire::detail::cmap
