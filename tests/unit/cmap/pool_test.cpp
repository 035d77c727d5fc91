// The sans-I/O connection pool (src/proto/cmap/pool.hpp) against the rules of
// connection-monitoring-and-pooling.md, one rule per test case, with a virtual clock.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "proto/cmap/pool.hpp"

using namespace mongowire;
using namespace mongowire::detail::cmap;
using std::chrono::milliseconds;

namespace {

const time_point t0 = time_point{} + std::chrono::hours(1);
time_point at(int ms) { return t0 + milliseconds(ms); }

pool_options opts(std::size_t max_pool = 100, std::size_t max_connecting = 2) {
  pool_options o;
  o.max_pool_size = max_pool;
  o.max_connecting = max_connecting;
  return o;
}

// "type" or "type(id)" or "type(id)[reason]" per event, drained from the pool.
std::vector<std::string> events(pool& p) {
  std::vector<std::string> out;
  while (auto e = p.next_event()) {
    std::string s(to_string(e->type));
    s = s.substr(0, s.size() - 5);  // without "Event"
    if (e->connection) s += "(" + std::to_string(e->connection) + ")";
    if (!e->reason.empty()) s += "[" + std::string(e->reason) + "]";
    out.push_back(s);
  }
  return out;
}

std::vector<action> actions(pool& p) {
  std::vector<action> out;
  while (auto a = p.next_action()) out.push_back(*a);
  return out;
}

// A ready pool with `n` connections checked out (ids 1..n); outputs drained.
pool with_checked_out(pool_options o, int n) {
  pool p(o);
  p.ready();
  for (int i = 0; i < n; ++i) {
    auto r = p.request_checkout(t0);
    REQUIRE(r.status == checkout_status::establish);
    REQUIRE(p.connection_established(r.connection, t0).status == checkout_status::use);
  }
  events(p);
  actions(p);
  return p;
}

}  // namespace

TEST_CASE("cmap options: validation (\"Connection Pool Options\")") {
  struct row {
    std::size_t max_pool, min_pool, max_connecting;
    int wait_ms, idle_ms;
    bool valid;
  };
  const row rows[] = {
      {100, 0, 2, 0, 0, true},  {0, 500, 1, 0, 0, true},   {3, 3, 1, 10, 10, true},   {3, 4, 1, 0, 0, false},
      {100, 0, 0, 0, 0, false}, {100, 0, 2, -1, 0, false}, {100, 0, 2, 0, -1, false},
  };
  for (const auto& r : rows) {
    pool_options o;
    o.max_pool_size = r.max_pool;
    o.min_pool_size = r.min_pool;
    o.max_connecting = r.max_connecting;
    o.wait_queue_timeout = milliseconds(r.wait_ms);
    o.max_idle_time = milliseconds(r.idle_ms);
    CAPTURE(r.max_pool);
    CAPTURE(r.min_pool);
    CHECK(validate(o).empty() == r.valid);
    if (!r.valid) CHECK_THROWS_AS(pool{o}, std::invalid_argument);
  }
}

TEST_CASE("cmap: reason strings are the spec's (\"Events\")") {
  CHECK(to_string(close_reason::stale) == "stale");
  CHECK(to_string(close_reason::idle) == "idle");
  CHECK(to_string(close_reason::error) == "error");
  CHECK(to_string(close_reason::pool_closed) == "poolClosed");
  CHECK(to_string(checkout_failure::timeout) == "timeout");
  CHECK(to_string(checkout_failure::connection_error) == "connectionError");
  CHECK(to_string(checkout_failure::pool_closed) == "poolClosed");
  for (auto e : {pool_error::pool_closed, pool_error::pool_cleared, pool_error::wait_queue_timeout,
                 pool_error::connection_interrupted, pool_error::unknown_connection})
    CHECK_FALSE(message(e).empty());
}

TEST_CASE("cmap: a new pool is paused; checkOut fails with PoolClearedError until ready") {
  pool p(opts());
  CHECK(p.state() == pool_state::paused);
  auto r = p.request_checkout(t0);
  CHECK(r.status == checkout_status::failed);
  CHECK(r.error == pool_error::pool_cleared);
  CHECK(events(p) == std::vector<std::string>{"ConnectionPoolCreated", "ConnectionCheckOutStarted",
                                              "ConnectionCheckOutFailed[connectionError]"});
}

TEST_CASE("cmap: ready and clear emit only on a state change (pool-ready-ready, pool-clear-paused)") {
  pool p(opts());
  events(p);
  p.clear(t0);  // paused: no event, still a new generation
  CHECK(p.generation() == 1);
  CHECK(p.ready());
  CHECK(p.ready());
  p.clear(t0);
  p.clear(t0);
  CHECK(events(p) == std::vector<std::string>{"ConnectionPoolReady", "ConnectionPoolCleared"});
  p.close(t0);
  CHECK_FALSE(p.ready());  // "A closed pool cannot be marked as ready"
  p.clear(t0);
  CHECK(p.state() == pool_state::closed);
  CHECK(events(p) == std::vector<std::string>{"ConnectionPoolClosed"});
}

TEST_CASE("cmap: checkout establishes a new connection, ids in order of creation") {
  pool p(opts());
  p.ready();
  events(p);
  for (connection_id expected = 1; expected <= 3; ++expected) {
    auto r = p.request_checkout(at(10));
    REQUIRE(r.status == checkout_status::establish);
    CHECK(r.connection == expected);
    CHECK(p.state_of(expected) == connection_state::pending);
    auto done = p.connection_established(r.connection, at(15));
    CHECK(done.status == checkout_status::use);
    CHECK(done.ticket == r.ticket);
    CHECK(p.state_of(expected) == connection_state::in_use);
  }
  const auto e = events(p);
  CHECK(e[0] == "ConnectionCheckOutStarted");
  CHECK(e[1] == "ConnectionCreated(1)");
  CHECK(e[2] == "ConnectionReady(1)");
  CHECK(e[3] == "ConnectionCheckedOut(1)");
  CHECK(p.total_connections() == 3);
}

TEST_CASE("cmap: event durations measure from creation and from checkout start") {
  pool p(opts());
  p.ready();
  events(p);
  auto r = p.request_checkout(at(0));
  p.connection_established(r.connection, at(30));
  std::vector<event> got;
  while (auto e = p.next_event()) got.push_back(*e);
  REQUIRE(got.size() == 4);
  CHECK(got[2].type == pool_event_type::connection_ready);
  CHECK(got[2].duration == milliseconds(30));
  CHECK(got[3].type == pool_event_type::connection_checked_out);
  CHECK(got[3].duration == milliseconds(30));
}

TEST_CASE("cmap: available connections are used most recently checked in first") {
  pool p = with_checked_out(opts(), 2);
  CHECK(p.checkin(1, at(1)) == pool_error::none);
  CHECK(p.checkin(2, at(2)) == pool_error::none);
  CHECK(p.available_connections() == 2);
  auto r = p.request_checkout(at(3));
  CHECK(r.status == checkout_status::use);
  CHECK(r.connection == 2);
  CHECK(p.request_checkout(at(4)).connection == 1);
}

TEST_CASE("cmap: maxPoolSize caps total connections; a check-in resumes the waiter") {
  pool p = with_checked_out(opts(2), 2);
  auto w = p.request_checkout(at(1));
  CHECK(w.status == checkout_status::wait);
  CHECK(w.deadline == time_point::max());  // waitQueueTimeoutMS 0: no limit
  CHECK(actions(p).empty());
  p.checkin(1, at(2));
  auto a = actions(p);
  REQUIRE(a.size() == 1);
  CHECK(a[0].kind == action_kind::resume);
  CHECK(a[0].outcome.ticket == w.ticket);
  CHECK(a[0].outcome.status == checkout_status::use);
  CHECK(a[0].outcome.connection == 1);
  CHECK(events(p) ==
        std::vector<std::string>{"ConnectionCheckOutStarted", "ConnectionCheckedIn(1)", "ConnectionCheckedOut(1)"});
}

TEST_CASE("cmap: maxConnecting limits pending connections; a finished establishment lets the waiter create") {
  pool p(opts(10, 2));
  p.ready();
  auto a = p.request_checkout(t0);
  auto b = p.request_checkout(t0);
  auto c = p.request_checkout(t0);
  CHECK(a.status == checkout_status::establish);
  CHECK(b.status == checkout_status::establish);
  CHECK(c.status == checkout_status::wait);
  CHECK(p.pending_connections() == 2);
  CHECK(p.connection_established(a.connection, at(5)).status == checkout_status::use);
  auto acts = actions(p);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0].outcome.ticket == c.ticket);
  CHECK(acts[0].outcome.status == checkout_status::establish);
  CHECK(acts[0].outcome.connection == 3);
}

TEST_CASE(
    "cmap: a thread blocked by maxConnecting takes a returned connection "
    "(pool-checkout-returned-connection-maxConnecting)") {
  pool p = with_checked_out(opts(10, 1), 1);
  auto pending = p.request_checkout(at(1));
  REQUIRE(pending.status == checkout_status::establish);
  auto w = p.request_checkout(at(1));
  REQUIRE(w.status == checkout_status::wait);
  p.checkin(1, at(2));
  auto acts = actions(p);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0].outcome.status == checkout_status::use);
  CHECK(acts[0].outcome.connection == 1);
}

TEST_CASE("cmap: the WaitQueue is FIFO (wait-queue-fairness)") {
  pool p = with_checked_out(opts(1), 1);
  std::vector<ticket_id> tickets;
  for (int i = 0; i < 4; ++i) tickets.push_back(p.request_checkout(at(i)).ticket);
  for (ticket_id expected : tickets) {
    REQUIRE(p.state_of(1) == connection_state::in_use);
    p.checkin(1, at(10));
    auto acts = actions(p);
    REQUIRE(acts.size() == 1);
    CHECK(acts[0].outcome.ticket == expected);
  }
  CHECK(p.waiting() == 0);
}

// client-side-operations-timeout.md "Server Selection": a timeoutMS deadline (max(): timeoutMS 0)
// replaces waitQueueTimeoutMS, later or earlier.
TEST_CASE("cmap: waitQueueTimeoutMS bounds the wait unless the operation's timeoutMS replaces it") {
  auto o = opts(1);
  o.wait_queue_timeout = milliseconds(50);
  pool p = with_checked_out(o, 1);
  struct row {
    std::optional<time_point> timeout_deadline;
    time_point expected;
  };
  const row rows[] = {
      {std::nullopt, at(50)}, {at(20), at(20)}, {at(80), at(80)}, {time_point::max(), time_point::max()}};
  for (const auto& r : rows) {
    auto w = p.request_checkout(at(0), r.timeout_deadline);
    CHECK(w.status == checkout_status::wait);
    CHECK(w.deadline == r.expected);
    auto failed = p.on_wait_timeout(w.ticket, w.deadline);
    CHECK(failed.status == checkout_status::failed);
    CHECK(failed.error == pool_error::wait_queue_timeout);
  }
  const auto e = events(p);
  CHECK(e.back() == "ConnectionCheckOutFailed[timeout]");
  // A deadline already past: fails at once instead of waiting.
  CHECK(p.request_checkout(at(5), at(5)).error == pool_error::wait_queue_timeout);
}

TEST_CASE("cmap: a timer that fires after the pool resumed the ticket is ignored; unknown tickets are rejected") {
  pool p = with_checked_out(opts(1), 1);
  auto w = p.request_checkout(at(1));
  p.checkin(1, at(2));
  actions(p);
  CHECK(p.on_wait_timeout(w.ticket, at(3)).status == checkout_status::none);
  CHECK(p.on_wait_timeout(999, at(3)).error == pool_error::unknown_ticket);
  CHECK(p.cancel_wait(0, at(3)).error == pool_error::unknown_ticket);
}

TEST_CASE("cmap: cancelling a wait fails it and lets the next waiter move up") {
  pool p = with_checked_out(opts(1), 1);
  auto first = p.request_checkout(at(1));
  auto second = p.request_checkout(at(1));
  auto r = p.cancel_wait(first.ticket, at(2));
  CHECK(r.status == checkout_status::failed);
  CHECK(r.error == pool_error::cancelled);
  p.checkin(1, at(3));
  auto acts = actions(p);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0].outcome.ticket == second.ticket);
}

TEST_CASE("cmap: perished available connections are closed during checkout (\"Perishable\")") {
  struct row {
    const char* name;
    int idle_ms;
    int checkout_after_ms;
    bool clear;
    bool broken;
    const char* closed;  // nullptr: reused
  };
  const row rows[] = {
      {"fresh", 10, 5, false, false, nullptr},
      {"idle exactly maxIdleTimeMS is not idle", 10, 10, false, false, nullptr},
      {"idle longer than maxIdleTimeMS", 10, 11, false, false, "ConnectionClosed(1)[idle]"},
      {"no maxIdleTimeMS: never idle", 0, 100000, false, false, nullptr},
      {"stale after clear", 0, 1, true, false, "ConnectionClosed(1)[stale]"},
      {"reported broken", 0, 1, false, true, "ConnectionClosed(1)[error]"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    auto o = opts();
    o.max_idle_time = milliseconds(r.idle_ms);
    pool p = with_checked_out(o, 1);
    p.checkin(1, at(0));
    events(p);
    if (r.broken) CHECK(p.connection_broken(1, at(0)) == pool_error::none);  // closed at once
    if (r.clear) p.clear(at(0)), p.ready();                                  // closed at checkout
    auto c = p.request_checkout(at(r.checkout_after_ms));
    const auto e = events(p);
    if (!r.closed) {
      CHECK(c.status == checkout_status::use);
      CHECK(c.connection == 1);
    } else {
      CHECK(c.status == checkout_status::establish);
      CHECK(c.connection == 2);
      CHECK(std::find(e.begin(), e.end(), r.closed) != e.end());
    }
  }
}

TEST_CASE("cmap: check-in closes perished connections or those of a closed pool (\"Checking In a Connection\")") {
  struct row {
    const char* name;
    bool clear, close, broken;
    const char* expected;  // event after ConnectionCheckedIn, nullptr: made available
  };
  const row rows[] = {
      {"healthy", false, false, false, nullptr},
      {"stale", true, false, false, "ConnectionClosed(1)[stale]"},
      {"errored", false, false, true, "ConnectionClosed(1)[error]"},
      {"pool closed", false, true, false, "ConnectionClosed(1)[poolClosed]"},
      {"pool closed wins over stale", true, true, false, "ConnectionClosed(1)[poolClosed]"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    pool p = with_checked_out(opts(), 1);
    if (r.clear) p.clear(at(0));
    if (r.close) p.close(at(0));
    events(p);
    CHECK(p.checkin(1, at(1), r.broken) == pool_error::none);
    const auto e = events(p);
    REQUIRE(!e.empty());
    CHECK(e[0] == "ConnectionCheckedIn(1)");
    if (r.expected) {
      REQUIRE(e.size() == 2);
      CHECK(e[1] == r.expected);
      CHECK(p.total_connections() == 0);
    } else {
      CHECK(e.size() == 1);
      CHECK(p.state_of(1) == connection_state::available);
    }
  }
}

TEST_CASE(
    "cmap: clear fails every waiter with PoolClearedError and asks for a background run "
    "(pool-clear-clears-waitqueue)") {
  pool p = with_checked_out(opts(1), 1);
  p.checkin(1, at(0));
  auto in_use = p.request_checkout(at(0));
  REQUIRE(in_use.status == checkout_status::use);
  for (int i = 0; i < 3; ++i) CHECK(p.request_checkout(at(1)).status == checkout_status::wait);
  events(p);
  p.clear(at(2));
  CHECK(p.waiting() == 0);
  CHECK(p.background_run_wanted());
  auto acts = actions(p);
  REQUIRE(acts.size() == 3);
  for (const auto& a : acts) CHECK(a.outcome.error == pool_error::pool_cleared);
  const auto e = events(p);
  CHECK(e.front() == "ConnectionPoolCleared");
  CHECK(std::count(e.begin(), e.end(), "ConnectionCheckOutFailed[connectionError]") == 3);
}

TEST_CASE("cmap: the background run after clear closes stale available connections, not in-use ones") {
  pool p = with_checked_out(opts(), 2);
  p.checkin(2, at(0));
  p.clear(at(1));
  events(p);
  p.run_background(at(1));
  CHECK_FALSE(p.background_run_wanted());
  CHECK(events(p) == std::vector<std::string>{"ConnectionClosed(2)[stale]"});
  auto acts = actions(p);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0].kind == action_kind::close);
  CHECK(acts[0].connection == 2);
  CHECK(p.state_of(1) == connection_state::in_use);
}

TEST_CASE("cmap: clear(interruptInUseConnections) interrupts in-use and pending connections of older generations") {
  pool p = with_checked_out(opts(), 1);  // connection 1 in use
  auto pending = p.request_checkout(at(0));
  REQUIRE(pending.status == checkout_status::establish);  // connection 2 pending
  p.clear(at(1), true);
  p.ready();
  auto fresh = p.request_checkout(at(1));  // connection 3: newer generation
  REQUIRE(fresh.status == checkout_status::establish);
  p.connection_established(fresh.connection, at(1));
  events(p);
  actions(p);
  p.run_background(at(2));
  auto acts = actions(p);
  REQUIRE(acts.size() == 2);
  CHECK(acts[0].kind == action_kind::interrupt);
  CHECK(acts[0].connection == 1);
  CHECK(acts[1].kind == action_kind::interrupt);
  CHECK(acts[1].connection == 2);
  CHECK(events(p).empty());  // the in-use connection stays its user's until checked in
  CHECK(p.state_of(1) == connection_state::in_use);
  // The cancelled handshake is reported; the checkout fails with a retryable PoolClearedError.
  auto r = p.connection_failed(2, at(3));
  CHECK(r.status == checkout_status::failed);
  CHECK(r.error == pool_error::connection_interrupted);
  CHECK(events(p) ==
        std::vector<std::string>{"ConnectionClosed(2)[stale]", "ConnectionCheckOutFailed[connectionError]"});
  // The interrupted in-use connection closes at check-in, as perished (CMAP "Interrupting a
  // Connection"; sdam-unified/interruptInUse-pool-clear.json: CheckedIn, then Closed).
  p.run_background(at(3));
  for (const auto& a : actions(p)) CHECK_FALSE((a.kind == action_kind::interrupt && a.connection == 1));  // once
  CHECK(p.checkin(1, at(4)) == pool_error::none);
  CHECK(events(p) == std::vector<std::string>{"ConnectionCheckedIn(1)", "ConnectionClosed(1)[stale]"});
  auto closing = actions(p);
  REQUIRE(closing.size() == 1);
  CHECK(closing[0].kind == action_kind::close);
  CHECK(p.state_of(3) == connection_state::in_use);
  CHECK(p.total_connections() == 1);
}

TEST_CASE(
    "cmap: a connection that finishes its handshake after a plain clear is still handed out, then closed at check-in") {
  pool p(opts());
  p.ready();
  auto r = p.request_checkout(at(0));
  p.clear(at(1));
  auto done = p.connection_established(r.connection, at(2));
  CHECK(done.status == checkout_status::use);
  events(p);
  p.checkin(r.connection, at(3));
  CHECK(events(p) == std::vector<std::string>{"ConnectionCheckedIn(1)", "ConnectionClosed(1)[stale]"});
}

TEST_CASE("cmap: close closes available connections first, then fails waiters (\"Closing a Connection Pool\")") {
  pool p = with_checked_out(opts(2), 2);
  p.checkin(2, at(0));
  auto reuse = p.request_checkout(at(0));
  REQUIRE(reuse.connection == 2);
  auto w = p.request_checkout(at(0));
  REQUIRE(w.status == checkout_status::wait);
  p.checkin(2, at(1));  // goes to the waiter
  actions(p);
  auto w2 = p.request_checkout(at(1));
  REQUIRE(w2.status == checkout_status::wait);
  events(p);
  p.close(at(2));
  CHECK(events(p) == std::vector<std::string>{"ConnectionPoolClosed", "ConnectionCheckOutFailed[poolClosed]"});
  auto acts = actions(p);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0].outcome.error == pool_error::pool_closed);
  auto after = p.request_checkout(at(3));
  CHECK(after.error == pool_error::pool_closed);
}

TEST_CASE("cmap: close destroys available connections (pool-close-destroy-conns)") {
  pool p = with_checked_out(opts(), 3);
  p.checkin(2, at(0));
  events(p);
  p.close(at(1));
  CHECK(events(p) == std::vector<std::string>{"ConnectionClosed(2)[poolClosed]", "ConnectionPoolClosed"});
  CHECK(p.total_connections() == 2);
}

TEST_CASE("cmap: a checkout's connection established after close fails with PoolClosedError") {
  pool p(opts());
  p.ready();
  auto r = p.request_checkout(at(0));
  p.close(at(1));
  events(p);
  auto done = p.connection_established(r.connection, at(2));
  CHECK(done.status == checkout_status::failed);
  CHECK(done.error == pool_error::pool_closed);
  CHECK(events(p) == std::vector<std::string>{"ConnectionReady(1)", "ConnectionClosed(1)[poolClosed]",
                                              "ConnectionCheckOutFailed[poolClosed]"});
}

TEST_CASE("cmap: a failed establishment closes the connection, fails the checkout, frees the slot (prose test 5)") {
  pool p(opts(10, 1));
  p.ready();
  auto a = p.request_checkout(at(0));
  auto b = p.request_checkout(at(0));
  REQUIRE(b.status == checkout_status::wait);
  events(p);
  auto r = p.connection_failed(a.connection, at(1));
  CHECK(r.status == checkout_status::failed);
  CHECK(r.error == pool_error::connection_error);
  CHECK(events(p) == std::vector<std::string>{"ConnectionClosed(1)[error]", "ConnectionCheckOutFailed[connectionError]",
                                              "ConnectionCreated(2)"});
  auto acts = actions(p);
  REQUIRE(acts.size() == 2);
  CHECK(acts[0].kind == action_kind::close);
  CHECK(acts[1].outcome.ticket == b.ticket);
  CHECK(acts[1].outcome.status == checkout_status::establish);
}

TEST_CASE("cmap: minPoolSize is populated by background runs, only while ready, within maxConnecting") {
  auto o = opts(10, 2);
  o.min_pool_size = 3;
  pool p(o);
  CHECK_FALSE(p.background_run_wanted());
  p.run_background(at(0));
  CHECK(p.total_connections() == 0);  // paused: "MUST NOT be performed unless the pool is ready"
  p.ready();
  CHECK(p.background_run_wanted());
  p.run_background(at(0));
  auto acts = actions(p);
  REQUIRE(acts.size() == 2);
  CHECK(acts[0].kind == action_kind::establish);
  CHECK(acts[1].connection == 2);
  CHECK(p.connection_established(1, at(1)).status == checkout_status::none);
  CHECK(p.state_of(1) == connection_state::available);
  p.run_background(at(2));
  acts = actions(p);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0].connection == 3);
  p.connection_established(2, at(3));
  p.connection_established(3, at(3));
  p.run_background(at(4));
  CHECK(actions(p).empty());
  CHECK(p.available_connections() == 3);
}

TEST_CASE("cmap: a population connection finished after clear is closed as stale") {
  auto o = opts();
  o.min_pool_size = 1;
  pool p(o);
  p.ready();
  p.run_background(at(0));
  actions(p);
  p.clear(at(1));
  events(p);
  p.connection_established(1, at(2));
  CHECK(events(p) == std::vector<std::string>{"ConnectionReady(1)", "ConnectionClosed(1)[stale]"});
  CHECK(p.total_connections() == 0);
}

TEST_CASE(
    "cmap: waiters blocked by maxConnecting wait for population connections "
    "(pool-checkout-minPoolSize-connection-maxConnecting)") {
  auto o = opts(3, 2);
  o.min_pool_size = 2;
  pool p(o);
  p.ready();
  p.run_background(at(0));
  actions(p);
  auto a = p.request_checkout(at(1));
  auto b = p.request_checkout(at(1));
  CHECK(a.status == checkout_status::wait);
  CHECK(b.status == checkout_status::wait);
  p.connection_established(1, at(5));
  auto acts = actions(p);
  REQUIRE(acts.size() == 1);  // b is not given a third connection: connection 2 is promised to it
  CHECK(acts[0].outcome.ticket == a.ticket);
  CHECK(acts[0].outcome.connection == 1);
  p.connection_established(2, at(5));
  acts = actions(p);
  REQUIRE(acts.size() == 1);
  CHECK(acts[0].outcome.ticket == b.ticket);
  CHECK(acts[0].outcome.connection == 2);
  CHECK(p.total_connections() == 2);
}

TEST_CASE("cmap: the background run reaps idle connections; next_idle_expiry says when") {
  auto o = opts();
  o.max_idle_time = milliseconds(10);
  pool p = with_checked_out(o, 2);
  CHECK_FALSE(p.next_idle_expiry());
  p.checkin(1, at(0));
  p.checkin(2, at(5));
  REQUIRE(p.next_idle_expiry());
  CHECK(*p.next_idle_expiry() > at(10));
  CHECK(*p.next_idle_expiry() <= at(11));
  events(p);
  p.run_background(at(10));
  CHECK(events(p).empty());
  p.run_background(at(12));
  CHECK(events(p) == std::vector<std::string>{"ConnectionClosed(1)[idle]"});
  CHECK(*p.next_idle_expiry() > at(15));
}

TEST_CASE("cmap: misuse of the API is rejected with a reason and changes nothing") {
  pool p = with_checked_out(opts(), 1);
  CHECK(p.checkin(42, at(0)) == pool_error::unknown_connection);
  CHECK(p.checkin(0, at(0)) == pool_error::unknown_connection);
  CHECK(p.checkin(1, at(0)) == pool_error::none);
  CHECK(p.checkin(1, at(0)) == pool_error::wrong_connection_state);  // checked in twice
  CHECK(p.connection_established(1, at(0)).error == pool_error::wrong_connection_state);
  CHECK(p.connection_failed(7, at(0)).error == pool_error::unknown_connection);
  CHECK(p.connection_established(7, at(0)).status == checkout_status::rejected);
  auto r = p.request_checkout(at(0));
  REQUIRE(r.status == checkout_status::use);
  auto n = p.request_checkout(at(0));
  REQUIRE(n.status == checkout_status::establish);
  CHECK(p.connection_broken(n.connection, at(0)) == pool_error::wrong_connection_state);
  CHECK(p.connection_broken(99, at(0)) == pool_error::unknown_connection);
  CHECK(p.total_connections() == 2);
  CHECK(p.pending_connections() == 1);
}

TEST_CASE("cmap: a connection reported broken while in use is closed at check-in") {
  pool p = with_checked_out(opts(), 1);
  CHECK(p.connection_broken(1, at(0)) == pool_error::none);
  CHECK(p.state_of(1) == connection_state::in_use);
  p.checkin(1, at(1));
  CHECK(events(p) == std::vector<std::string>{"ConnectionCheckedIn(1)", "ConnectionClosed(1)[error]"});
}

TEST_CASE("cmap: maxPoolSize 0 means no limit") {
  pool p(opts(0, 1000));
  p.ready();
  for (int i = 0; i < 500; ++i) CHECK(p.request_checkout(at(0)).status == checkout_status::establish);
  CHECK(p.total_connections() == 500);
}

TEST_CASE("cmap: clearing a load balanced pool marks only that service's connections stale (\"Load Balancer Mode\")") {
  pool p(opts());
  p.ready();
  bson::object_id a{}, b{};
  a.bytes[11] = 1;
  b.bytes[11] = 2;
  // Three connections: two of service a, one of service b, each given its service after the handshake.
  const bson::object_id services[] = {a, a, b};
  for (const auto& s : services) {
    auto r = p.request_checkout(t0);
    REQUIRE(r.status == checkout_status::establish);
    REQUIRE(p.set_service(r.connection, s) == pool_error::none);
    REQUIRE(p.connection_established(r.connection, t0).status == checkout_status::use);
  }
  CHECK(p.set_service(1, b) == pool_error::wrong_connection_state);  // only while pending
  for (connection_id id = 1; id <= 3; ++id) REQUIRE(p.checkin(id, at(1)) == pool_error::none);
  events(p);
  p.clear_service(a);
  std::vector<event> got;
  while (auto e = p.next_event()) got.push_back(*e);
  REQUIRE(got.size() == 1);
  CHECK(got[0].type == pool_event_type::pool_cleared);
  CHECK(got[0].service_id == a);
  // "MUST NOT transition the pool to the paused state": checkouts go on.
  CHECK(p.state() == pool_state::ready);
  CHECK(p.generation() == 0);
  CHECK(p.generation_of(a) == 1);
  CHECK(p.generation_of(b) == 0);
  p.run_background(at(2));
  const auto e = events(p);
  CHECK(std::count(e.begin(), e.end(), "ConnectionClosed(1)[stale]") == 1);
  CHECK(std::count(e.begin(), e.end(), "ConnectionClosed(2)[stale]") == 1);
  CHECK(p.state_of(3) == connection_state::available);
  // "MUST remove the entry for a serviceId once the connection count reaches 0".
  CHECK(p.generation_of(a) == 0);
  auto r = p.request_checkout(at(3));
  CHECK(r.status == checkout_status::use);
  CHECK(r.connection == 3);
}
