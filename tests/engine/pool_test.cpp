// net::pool against the embedded server, after connection-monitoring-and-pooling.md (CMAP).
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <algorithm>

#include "engine_support.hpp"

namespace mongowire::enginetest {
namespace {

using conn_ptr = std::unique_ptr<net::connection>;
using E = pool_event_type;

struct pool_fixture {
  asio::io_context io;
  std::unique_ptr<testd::embedded_server> server;
  event_recorder events;
  std::shared_ptr<net::pool> pool;

  explicit pool_fixture(net::pool_options opts, testd::listen_options listen = {}) {
    server = std::make_unique<testd::embedded_server>(testd::server_options{}, listen);
    pool = std::make_shared<net::pool>(io.get_executor(), server->address(), opts, net::connection_settings{},
                                       handshake_initializer(server->port()), events.handler());
    pool->mark_ready();
  }
  ~pool_fixture() {
    pool->close();
    run_for(io, 20ms);  // let background coroutines observe the close
  }

  std::pair<error_code, conn_ptr> checkout(std::chrono::milliseconds limit = 5s) {
    return run(
        io,
        [this]() -> asio::awaitable<std::pair<error_code, conn_ptr>> {
          conn_ptr c;
          diagnostics diag;
          auto ec = co_await pool->async_checkout(c, diag);
          co_return std::pair{ec, std::move(c)};
        }(),
        limit);
  }
  conn_ptr checkout_ok() {
    auto [ec, c] = checkout();
    REQUIRE_MESSAGE(!ec, ec.message());
    REQUIRE(c);
    return std::move(c);
  }
  std::vector<pool_event> of_type(E t) const {
    std::vector<pool_event> out;
    for (const auto& e : events.events)
      if (e.type == t) out.push_back(e);
    return out;
  }
};

net::pool_options sized(std::size_t max_pool, std::size_t max_connecting = 2) {
  net::pool_options o;
  o.max_pool_size = max_pool;
  o.max_connecting = max_connecting;
  return o;
}

TEST_CASE("CMAP: event sequence of create, check-out, check-in, reuse and close") {
  pool_fixture f(sized(5));
  auto c = f.checkout_ok();
  const auto id = c->id();
  f.pool->checkin(std::move(c));
  auto again = f.checkout_ok();
  CHECK(again->id() == id);  // the idle connection is reused
  f.pool->checkin(std::move(again));
  f.pool->close();
  CHECK(f.events.types() == std::vector<E>{E::pool_created, E::pool_ready, E::connection_check_out_started,
                                           E::connection_created, E::connection_ready, E::connection_checked_out,
                                           E::connection_checked_in, E::connection_check_out_started,
                                           E::connection_checked_out, E::connection_checked_in, E::connection_closed,
                                           E::pool_closed});
  for (const auto& e : f.events.events) {
    CHECK(e.address == f.server->address());
    if (e.type == E::connection_created || e.type == E::connection_ready || e.type == E::connection_checked_out ||
        e.type == E::connection_checked_in || e.type == E::connection_closed)
      CHECK(e.connection_id == id);
  }
  CHECK(f.of_type(E::connection_closed).at(0).reason == "poolClosed");
  CHECK(f.pool->total_connections() == 0);
}

TEST_CASE("CMAP: a paused pool fails check-out at once with PoolClearedError; a closed pool with poolClosed") {
  pool_fixture f(sized(5));
  f.pool->clear();
  auto [ec, c] = f.checkout(1s);
  CHECK(ec == client_errc::pool_cleared);
  CHECK(ec == client_errc::pool_cleared);
  CHECK(f.of_type(E::connection_check_out_failed).at(0).reason == "connectionError");
  f.pool->close();
  auto [ec2, c2] = f.checkout(1s);
  CHECK(ec2 == client_errc::pool_closed);
  CHECK(f.of_type(E::connection_check_out_failed).at(1).reason == "poolClosed");
}

TEST_CASE("CMAP: at maxPoolSize check-outs wait and are served in FIFO order") {
  pool_fixture f(sized(1));
  auto held = f.checkout_ok();
  std::vector<int> order;
  std::vector<std::future<void>> done;
  for (int i = 0; i < 5; ++i) {
    done.push_back(asio::co_spawn(
        f.io,
        [&, i]() -> asio::awaitable<void> {
          conn_ptr c;
          diagnostics diag;
          auto ec = co_await f.pool->async_checkout(c, diag);
          REQUIRE_MESSAGE(!ec, ec.message());
          order.push_back(i);
          co_await sleep_for(2ms);
          f.pool->checkin(std::move(c));
        },
        asio::use_future));
    // Each waiter is enqueued before the next one starts.
    REQUIRE(run_until(f.io, [&] { return f.pool->waiters() == static_cast<std::size_t>(i + 1); }));
  }
  f.pool->checkin(std::move(held));
  for (auto& d : done) wait_for(f.io, d);
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(f.events.count(E::connection_created) == 1);  // never above maxPoolSize
}

TEST_CASE("CMAP: a newcomer does not overtake a waiter that was already woken") {
  pool_fixture f(sized(1));
  auto held = f.checkout_ok();
  std::vector<std::string> order;
  auto waiter = asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        conn_ptr c;
        diagnostics diag;
        REQUIRE(!co_await f.pool->async_checkout(c, diag));
        order.push_back("waiter");
        f.pool->checkin(std::move(c));
      },
      asio::use_future);
  REQUIRE(run_until(f.io, [&] { return f.pool->waiters() == 1; }));
  f.pool->checkin(std::move(held));  // wakes the waiter, which has not run yet
  auto newcomer = asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        conn_ptr c;
        diagnostics diag;
        REQUIRE(!co_await f.pool->async_checkout(c, diag));
        order.push_back("newcomer");
        f.pool->checkin(std::move(c));
      },
      asio::use_future);
  wait_for(f.io, waiter);
  wait_for(f.io, newcomer);
  CHECK(order == std::vector<std::string>{"waiter", "newcomer"});
}

TEST_CASE("CMAP: a waiter woken without getting a connection keeps its place in the FIFO queue") {
  // Two establishments fill maxPoolSize; their completions wake waiters that then find
  // neither an idle connection nor room for a new one. They must not lose their place.
  testd::listen_options slow;
  slow.reply_latency = std::chrono::milliseconds(30);
  pool_fixture f(sized(2, 2), slow);
  std::vector<conn_ptr> first;
  std::vector<int> order;
  auto creator = [&]() -> asio::awaitable<void> {
    conn_ptr c;
    diagnostics diag;
    REQUIRE(!co_await f.pool->async_checkout(c, diag));
    first.push_back(std::move(c));
  };
  auto c1 = asio::co_spawn(f.io, creator, asio::use_future);
  auto c2 = asio::co_spawn(f.io, creator, asio::use_future);
  REQUIRE(run_until(f.io, [&] { return f.pool->total_connections() == 2; }));
  std::vector<std::future<void>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(asio::co_spawn(
        f.io,
        [&, i]() -> asio::awaitable<void> {
          conn_ptr c;
          diagnostics diag;
          auto ec = co_await f.pool->async_checkout(c, diag);
          REQUIRE_MESSAGE(!ec, ec.message());
          order.push_back(i);
          f.pool->checkin(std::move(c));
        },
        asio::use_future));
    REQUIRE(run_until(f.io, [&] { return f.pool->waiters() == static_cast<std::size_t>(i + 1); }));
  }
  wait_for(f.io, c1);
  wait_for(f.io, c2);
  run_for(f.io, 20ms);
  REQUIRE(order.empty());
  f.pool->checkin(std::move(first[0]));
  f.pool->checkin(std::move(first[1]));
  for (auto& w : waiters) wait_for(f.io, w);
  CHECK(order == std::vector<int>{0, 1, 2});
}

TEST_CASE("CMAP: waitQueueTimeoutMS fails a waiting check-out with WaitQueueTimeoutError and reason timeout") {
  auto opts = sized(1);
  opts.wait_queue_timeout = 100ms;
  pool_fixture f(opts);
  auto held = f.checkout_ok();
  const auto started = clock::now();
  auto [ec, c] = f.checkout(3s);
  const auto took = clock::now() - started;
  CHECK(ec == client_errc::wait_queue_timeout);
  CHECK(took >= 90ms);
  CHECK(took < 1s);
  CHECK(f.pool->waiters() == 0);
  auto failed = f.of_type(E::connection_check_out_failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].reason == "timeout");
  f.pool->checkin(std::move(held));
  CHECK(f.checkout_ok());  // the pool still works
}

TEST_CASE("CMAP: no more than maxConnecting connections are established at once") {
  auto opts = sized(10, 2);
  testd::listen_options slow;
  slow.reply_latency = std::chrono::milliseconds(40);  // every handshake takes a while
  pool_fixture f(opts, slow);
  std::size_t establishing = 0, most = 0;
  auto record = f.events.handler();
  // Count establishments in progress from the events: created .. ready/closed.
  f.pool = std::make_shared<net::pool>(f.io.get_executor(), f.server->address(), opts, net::connection_settings{},
                                       handshake_initializer(f.server->port()), [&](const pool_event& e) {
                                         if (e.type == E::connection_created) most = std::max(most, ++establishing);
                                         if (e.type == E::connection_ready || e.type == E::connection_closed)
                                           --establishing;
                                         record(e);
                                       });
  f.pool->mark_ready();
  std::vector<conn_ptr> held;
  std::vector<std::future<void>> done;
  for (int i = 0; i < 6; ++i)
    done.push_back(asio::co_spawn(
        f.io,
        [&]() -> asio::awaitable<void> {
          conn_ptr c;
          diagnostics diag;
          auto ec = co_await f.pool->async_checkout(c, diag);
          REQUIRE_MESSAGE(!ec, ec.message());
          held.push_back(std::move(c));
        },
        asio::use_future));
  for (auto& d : done) wait_for(f.io, d);
  CHECK(held.size() == 6);
  CHECK(most == 2);
  CHECK(f.events.count(E::connection_ready) == 6);
  for (auto& c : held) f.pool->checkin(std::move(c));
}

TEST_CASE("CMAP: idle connections are closed after maxIdleTimeMS with reason idle") {
  auto opts = sized(5);
  opts.max_idle_time = 60ms;
  pool_fixture f(opts);
  auto a = f.checkout_ok();
  auto b = f.checkout_ok();
  f.pool->checkin(std::move(a));
  f.pool->checkin(std::move(b));
  CHECK(f.pool->idle_connections() == 2);
  REQUIRE(run_until(
      f.io, [&] { return f.pool->total_connections() == 0; }, 2s));
  auto closed = f.of_type(E::connection_closed);
  REQUIRE(closed.size() == 2);
  CHECK(closed[0].reason == "idle");
  CHECK(closed[1].reason == "idle");
}

TEST_CASE("CMAP: an idle connection past maxIdleTimeMS is not handed out") {
  auto opts = sized(5);
  opts.max_idle_time = 50ms;
  pool_fixture f(opts);
  auto a = f.checkout_ok();
  const auto id = a->id();
  f.pool->checkin(std::move(a));
  std::this_thread::sleep_for(80ms);  // perished before the background task ran
  auto b = f.checkout_ok();
  CHECK(b->id() != id);
  auto closed = f.of_type(E::connection_closed);
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].connection_id == id);
  CHECK(closed[0].reason == "idle");
  f.pool->checkin(std::move(b));
}

TEST_CASE("CMAP: minPoolSize connections are established in the background and serve check-outs") {
  auto opts = sized(10, 2);
  opts.min_pool_size = 3;
  pool_fixture f(opts);
  REQUIRE(run_until(
      f.io, [&] { return f.pool->idle_connections() == 3; }, 3s));
  CHECK(f.pool->total_connections() == 3);
  const auto created = f.events.count(E::connection_created);
  CHECK(created == 3);
  auto c = f.checkout_ok();
  CHECK(f.events.count(E::connection_created) == created);  // served from the warm pool
  f.pool->checkin(std::move(c));
}

TEST_CASE("CMAP: connections reaped after maxIdleTimeMS are replaced to keep minPoolSize") {
  auto opts = sized(10, 2);
  opts.min_pool_size = 3;
  opts.max_idle_time = 100ms;
  pool_fixture f(opts);
  REQUIRE(run_until(
      f.io, [&] { return f.pool->idle_connections() == 3; }, 3s));
  REQUIRE(run_until(
      f.io, [&] { return f.events.count(E::connection_closed) >= 3; }, 3s));
  CHECK(f.of_type(E::connection_closed).at(0).reason == "idle");
  // Replaced (at most maxConnecting at a time): back to three.
  CHECK(run_until(
      f.io, [&] { return f.pool->idle_connections() == 3; }, 3s));
  CHECK(f.events.count(E::connection_created) >= 6);
}

TEST_CASE("CMAP: clear() bumps the generation, pauses, and closes idle connections as stale") {
  pool_fixture f(sized(2));
  auto c = f.checkout_ok();
  f.pool->checkin(std::move(c));
  REQUIRE(f.pool->idle_connections() == 1);
  const auto gen = f.pool->generation();
  f.pool->clear();
  CHECK(f.pool->generation() == gen + 1);
  CHECK(f.pool->current_state() == net::pool::state::paused);
  CHECK(f.pool->total_connections() == 0);
  auto closed = f.of_type(E::connection_closed);
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].reason == "stale");
  // ConnectionPoolClearedEvent comes before the closes it causes.
  auto types = f.events.types();
  CHECK(std::find(types.begin(), types.end(), E::pool_cleared) <
        std::find(types.begin(), types.end(), E::connection_closed));
  // Ready again: a fresh connection of the new generation.
  f.pool->mark_ready();
  auto fresh = f.checkout_ok();
  CHECK(fresh->generation == f.pool->generation());
  f.pool->checkin(std::move(fresh));
}

TEST_CASE("CMAP: clear() fails waiters with PoolClearedError and closes in-use connections on check-in as stale") {
  pool_fixture f(sized(2));
  auto a = f.checkout_ok();
  auto b = f.checkout_ok();
  auto waiter = asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<error_code> {
        conn_ptr c;
        diagnostics diag;
        co_return co_await f.pool->async_checkout(c, diag);
      },
      asio::use_future);
  REQUIRE(run_until(f.io, [&] { return f.pool->waiters() == 1; }));
  f.pool->clear();
  CHECK(wait_for(f.io, waiter, 2s) == client_errc::pool_cleared);
  CHECK(f.pool->waiters() == 0);
  CHECK(f.pool->total_connections() == 2);  // in-use connections are not interrupted
  const auto a_id = a->id();
  f.pool->checkin(std::move(a));
  f.pool->checkin(std::move(b));
  CHECK(f.pool->total_connections() == 0);
  auto closed = f.of_type(E::connection_closed);
  REQUIRE(closed.size() == 2);
  CHECK(closed[0].connection_id == a_id);
  CHECK(closed[0].reason == "stale");
  CHECK(closed[1].reason == "stale");
  CHECK(f.events.count(E::pool_cleared) == 1);
}

TEST_CASE("CMAP: a connection checked in broken is closed with reason error and frees its slot") {
  pool_fixture f(sized(1));
  auto c = f.checkout_ok();
  c->close();
  f.pool->checkin(std::move(c));
  CHECK(f.of_type(E::connection_closed).at(0).reason == "error");
  CHECK(f.pool->total_connections() == 0);
  auto again = f.checkout_ok();
  f.pool->checkin(std::move(again));
}

TEST_CASE("CMAP: a cancelled check-out leaves the wait queue with operation_aborted") {
  pool_fixture f(sized(1));
  auto held = f.checkout_ok();
  asio::cancellation_signal signal;
  auto fut = asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<error_code> {
        conn_ptr c;
        diagnostics diag;
        co_return co_await f.pool->async_checkout(c, diag);
      },
      asio::bind_cancellation_slot(signal.slot(), asio::use_future));
  REQUIRE(run_until(f.io, [&] { return f.pool->waiters() == 1; }));
  signal.emit(asio::cancellation_type::terminal);
  auto ec = wait_for(f.io, fut, 2s);
  CHECK(ec == asio::error::operation_aborted);
  CHECK(f.pool->waiters() == 0);
  CHECK(f.of_type(E::connection_check_out_failed).size() == 1);
  // The connection goes to the next caller, not to the cancelled one.
  f.pool->checkin(std::move(held));
  auto next = f.checkout_ok();
  CHECK(next);
  f.pool->checkin(std::move(next));
}

TEST_CASE("CMAP: a failed establishment emits ConnectionClosed(error) and CheckOutFailed(connectionError)") {
  asio::io_context io;
  event_recorder events;
  const auto port = free_port();  // nobody listens
  auto pool = std::make_shared<net::pool>(io.get_executor(), "127.0.0.1:" + std::to_string(port), sized(2),
                                          net::connection_settings{}, handshake_initializer(port), events.handler());
  pool->mark_ready();
  auto ec = run(io, [&]() -> asio::awaitable<error_code> {
    conn_ptr c;
    diagnostics diag;
    co_return co_await pool->async_checkout(c, diag);
  }());
  CHECK(ec == asio::error::connection_refused);
  CHECK(pool->total_connections() == 0);
  auto types = events.types();
  CHECK(std::count(types.begin(), types.end(), E::connection_closed) == 1);
  CHECK(std::count(types.begin(), types.end(), E::connection_check_out_failed) == 1);
  pool->close();
}

TEST_CASE("CMAP: clear(interruptInUseConnections) interrupts a command in flight with a retryable PoolClearedError") {
  pool_fixture f(sized(2));
  auto c = f.checkout_ok();
  auto idle = f.checkout_ok();
  f.pool->checkin(std::move(idle));
  // The server holds the ping for 3 s: only the interruption can end it sooner.
  bson::document block = fail_command(R"({"failCommands": ["ping"], "blockConnection": true, "blockTimeMS": 3000})");
  run(f.io, admin_command(f.server->port(), std::move(block)));
  auto ping = ping_command();
  diagnostics diag;
  auto fut = asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<error_code> {
        bson::view reply;
        co_return co_await c->async_command(ping, std::nullopt, reply, diag);
      },
      asio::use_future);
  run_for(f.io, 100ms);
  REQUIRE(fut.wait_for(0s) == std::future_status::timeout);
  const auto started = clock::now();
  f.pool->clear(true);
  CHECK(wait_for(f.io, fut, 2s) == client_errc::pool_cleared);
  CHECK(clock::now() - started < 1s);
  CHECK(diag.client_message.find("interrupted due to server monitor timeout") != std::string::npos);
  auto cleared = f.of_type(E::pool_cleared);
  REQUIRE(cleared.size() == 1);
  CHECK(cleared[0].interrupt_in_use_connections);
  // Both connections are closed as stale; the interrupted one stays counted until checked in.
  CHECK(f.pool->idle_connections() == 0);
  f.pool->checkin(std::move(c));
  CHECK(f.pool->total_connections() == 0);
  CHECK(f.of_type(E::connection_checked_in).size() == 2);
}

TEST_CASE("CMAP: clear() without interruptInUseConnections leaves the connection in use working") {
  pool_fixture f(sized(2));
  auto c = f.checkout_ok();
  f.pool->clear(false);
  CHECK(!f.of_type(E::pool_cleared).at(0).interrupt_in_use_connections);
  auto ping = ping_command();
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    bson::view reply;
    diagnostics diag;
    co_return co_await c->async_command(ping, std::nullopt, reply, diag);
  }());
  CHECK(!ec);
  f.pool->checkin(std::move(c));
  CHECK(f.of_type(E::connection_closed).at(0).reason == "stale");
}

TEST_CASE("CMAP: pool and command events name a connection by the same id") {
  pool_fixture f(sized(2));
  auto a = f.checkout_ok();
  auto b = f.checkout_ok();
  auto created = f.of_type(E::connection_created);
  REQUIRE(created.size() == 2);
  CHECK(created[0].connection_id == a->id());
  CHECK(created[1].connection_id == b->id());
  CHECK(a->id() == 1);  // CMAP "Connection": ids in order of creation, starting at 1, per pool
  CHECK(b->id() == 2);
  f.pool->checkin(std::move(a));
  f.pool->checkin(std::move(b));
}

TEST_CASE("CMAP: a check-out whose caller was cancelled before it could wait leaves no ticket behind") {
  pool_fixture f(sized(1));
  auto held = f.checkout_ok();
  asio::cancellation_signal signal;
  auto fut = asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<error_code> {
        co_await asio::this_coro::throw_if_cancelled(false);  // the caller keeps running when cancelled
        conn_ptr c;
        diagnostics diag;
        co_return co_await f.pool->async_checkout(c, diag);
      },
      asio::bind_cancellation_slot(signal.slot(), asio::use_future));
  signal.emit(asio::cancellation_type::terminal);  // before the coroutine first runs
  CHECK(wait_for(f.io, fut, 1s) == asio::error::operation_aborted);
  CHECK(f.pool->waiters() == 0);
  f.pool->checkin(std::move(held));
  auto next = f.checkout_ok();  // the FIFO queue is not blocked by a forgotten ticket
  f.pool->checkin(std::move(next));
}

TEST_CASE("CMAP: a connection destroyed while checked out frees its place (and is never interrupted later)") {
  pool_fixture f(sized(1));
  auto c = f.checkout_ok();
  const auto id = c->id();
  c.reset();  // e.g. its operation ended with an exception before the check-in
  CHECK(f.pool->total_connections() == 0);
  auto closed = f.of_type(E::connection_closed);
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].connection_id == id);
  CHECK(closed[0].reason == "error");
  auto again = f.checkout_ok();  // maxPoolSize 1: the place was freed
  const auto again_id = again->id();
  f.pool->clear(true);  // interrupts `again` only, which closes at its check-in
  CHECK(f.of_type(E::connection_closed).size() == 1);
  f.pool->checkin(std::move(again));
  closed = f.of_type(E::connection_closed);
  REQUIRE(closed.size() == 2);
  CHECK(closed[1].connection_id == again_id);
}

}  // namespace
}  // namespace mongowire::enginetest
