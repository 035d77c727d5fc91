// net::topology against the embedded server: discovery, selection, failover and SDAM error
// handling (server-discovery-and-monitoring.md, server-selection.md).
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "engine_support.hpp"
#include "proto/sdam/server_description.hpp"

namespace mongowire::enginetest {
namespace {

using sdam_type = detail::sdam::server_type;
using topo_type = detail::sdam::topology_type;

struct topology_fixture {
  asio::io_context io;
  command_log log;
  std::unique_ptr<testd::embedded_server> server;
  event_recorder pool_events;
  std::vector<server_heartbeat_event> heartbeats;
  std::shared_ptr<net::topology> topology;

  topology_fixture(bool direct, testd::member_role role = testd::member_role::primary,
                   std::function<void(net::topology_options&)> tweak = {}) {
    testd::server_options so;
    so.role = role;
    so.command_log = log.sink();
    server = start_member(so);
    auto opts = topology_options_for(*server, direct);
    opts.on_pool_event = pool_events.handler();
    opts.on_heartbeat = [this](const server_heartbeat_event& e) {
      auto copy = e;
      copy.reply = {};  // the view dies with the check
      heartbeats.push_back(copy);
    };
    if (tweak) tweak(opts);
    topology = std::make_shared<net::topology>(io.get_executor(), std::move(opts));
    topology->start();
  }
  ~topology_fixture() {
    topology->close();
    run_for(io, 30ms);  // monitors and waiters observe the close
  }

  host_address address() const { return address_of(*server); }
  const detail::sdam::server_description& described() const {
    auto* d = topology->description().find(address());
    REQUIRE(d);
    return *d;
  }

  std::pair<error_code, diagnostics> select(net::selected_server& out, std::chrono::milliseconds limit = 10s) {
    diagnostics diag;
    auto ec = run(io, topology->async_select_writable(out, diag), limit);
    return {ec, diag};
  }

  detail::sdam::application_error error_for(const net::selected_server& s) const {
    detail::sdam::application_error err;
    err.address = address();
    err.connection_generation = s.server_pool->generation();
    err.pool_generation = s.server_pool->generation();
    err.max_wire_version = 21;
    return err;
  }
};

TEST_CASE("SDAM: replicaSet discovery selects the single member as primary and readies its pool") {
  topology_fixture f(false);
  net::selected_server s;
  auto [ec, diag] = f.select(s);
  REQUIRE_MESSAGE(!ec, describe(diag));
  CHECK(s.description->type == sdam_type::rs_primary);
  CHECK(s.description->address == f.address());
  CHECK(f.topology->description().type() == topo_type::replica_set_with_primary);
  CHECK(f.topology->description().set_name() == "rs0");
  CHECK(f.topology->logical_session_timeout_minutes() == 30);
  REQUIRE(s.server_pool);
  CHECK(s.server_pool->current_state() == net::pool::state::ready);
  CHECK(f.pool_events.count(pool_event_type::pool_ready) == 1);
}

TEST_CASE("SDAM: a pooled connection of the selected server runs commands and sent the app name in its handshake") {
  topology_fixture f(false);
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  auto ping = ping_command();
  auto [ec, ok] = run(f.io, [&]() -> asio::awaitable<std::pair<error_code, double>> {
    std::unique_ptr<net::connection> c;
    diagnostics diag;
    if (auto ec = co_await s.server_pool->async_checkout(c, diag)) co_return std::pair{ec, 0.0};
    bson::view reply;
    auto ec = co_await c->async_command(ping, std::nullopt, reply, diag);
    double ok = ec ? 0.0 : reply["ok"].as_number().value_or(0);
    s.server_pool->checkin(std::move(c));
    co_return std::pair{ec, ok};
  }());
  REQUIRE(!ec);
  CHECK(ok == 1.0);
  // Monitor (legacy isMaster) and pooled connection (OP_MSG hello: the server is known to
  // speak OP_MSG by then) both introduced themselves with the client metadata.
  auto hellos = f.log.named("isMaster");
  auto op_msg_hellos = f.log.named("hello");
  REQUIRE(hellos.size() >= 1);
  REQUIRE(op_msg_hellos.size() >= 1);
  hellos.insert(hellos.end(), op_msg_hellos.begin(), op_msg_hellos.end());
  for (const auto& h : hellos)
    CHECK(bson::view(h.command).find_path("client.application.name").as_string() == "enginetest");
}

TEST_CASE("SDAM: directConnection makes a Single topology that selects the server whatever its role") {
  topology_fixture f(true, testd::member_role::secondary);
  net::selected_server s;
  auto [ec, diag] = f.select(s);
  REQUIRE_MESSAGE(!ec, describe(diag));
  CHECK(f.topology->description().type() == topo_type::single);
  CHECK(s.description->type == sdam_type::rs_secondary);
}

TEST_CASE("server selection: only a secondary -> server_selection_timeout naming the servers (server-selection.md)") {
  topology_fixture f(false, testd::member_role::secondary,
                     [](net::topology_options& o) { o.server_selection_timeout = 300ms; });
  net::selected_server s;
  const auto started = clock::now();
  auto [ec, diag] = f.select(s, 5s);
  const auto took = clock::now() - started;
  CHECK(ec == client_errc::server_selection_timeout);
  CHECK(took >= 290ms);
  CHECK(took < 2s);
  CHECK(diag.client_message.find("serverSelectionTimeoutMS") != std::string::npos);
  CHECK(diag.client_message.find(f.address().to_string()) != std::string::npos);
  CHECK(diag.client_message.find("RSSecondary") != std::string::npos);
  CHECK(diag.client_message.find("ReplicaSetNoPrimary") != std::string::npos);
  CHECK(!s.server_pool);
}

TEST_CASE("server selection: a cancelled selection ends with operation_aborted") {
  topology_fixture f(false, testd::member_role::secondary);
  asio::cancellation_signal signal;
  net::selected_server s;
  diagnostics diag;
  auto fut = asio::co_spawn(f.io, f.topology->async_select_writable(s, diag),
                            asio::bind_cancellation_slot(signal.slot(), asio::use_future));
  run_for(f.io, 100ms);
  REQUIRE(fut.wait_for(0s) == std::future_status::timeout);
  signal.emit(asio::cancellation_type::terminal);
  CHECK(wait_for(f.io, fut, 1s) == asio::error::operation_aborted);
}

TEST_CASE("SDAM failover: after a step-down selection waits, and succeeds once the member is primary again") {
  topology_fixture f(false, testd::member_role::primary,
                     [](net::topology_options& o) { o.heartbeat_frequency = 50ms; });
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  f.server->core().set_role(testd::member_role::secondary);
  REQUIRE(run_until(
      f.io, [&] { return f.described().type == sdam_type::rs_secondary; }, 3s));
  CHECK(f.topology->description().type() == topo_type::replica_set_no_primary);

  net::selected_server again;
  diagnostics diag;
  auto fut = asio::co_spawn(f.io, f.topology->async_select_writable(again, diag), asio::use_future);
  run_for(f.io, 200ms);
  CHECK(fut.wait_for(0s) == std::future_status::timeout);  // still waiting for a primary
  f.server->core().set_role(testd::member_role::primary);
  auto ec = wait_for(f.io, fut, 3s);
  REQUIRE_MESSAGE(!ec, describe(diag));
  CHECK(again.description->type == sdam_type::rs_primary);
  CHECK(f.topology->description().type() == topo_type::replica_set_with_primary);
  REQUIRE(again.description->topology_version.has_value());
  REQUIRE(s.description->topology_version.has_value());
  CHECK(again.description->topology_version->counter > s.description->topology_version->counter);
}

TEST_CASE("SDAM error handling: NotWritablePrimary marks the server Unknown and requests an immediate check") {
  topology_fixture f(false);
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  run_for(f.io, 50ms);  // past minHeartbeatFrequencyMS since the first check
  const auto checks_before = f.heartbeats.size();
  const auto generation = s.server_pool->generation();
  auto err = f.error_for(s);
  err.kind = detail::sdam::error_kind::command;
  err.code = server_code::not_writable_primary;
  err.message = "not primary";
  f.topology->handle_application_error(err);
  CHECK(f.described().type == sdam_type::unknown);
  CHECK(f.described().error.find("not primary") != std::string::npos);
  CHECK(f.topology->description().type() == topo_type::replica_set_no_primary);
  // 4.2+: a state change error that is not a shutdown keeps the pool (SDAM "Clear the pool").
  CHECK(s.server_pool->generation() == generation);
  CHECK(s.server_pool->current_state() == net::pool::state::ready);
  // heartbeatFrequencyMS is 60 s here: a check within a second is the requested one.
  REQUIRE(run_until(
      f.io, [&] { return f.heartbeats.size() > checks_before; }, 1s));
  REQUIRE(run_until(
      f.io, [&] { return f.described().type == sdam_type::rs_primary; }, 1s));
}

TEST_CASE("SDAM error handling: a stale NotWritablePrimary (older connection generation) is ignored") {
  topology_fixture f(false);
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  s.server_pool->clear();
  s.server_pool->mark_ready();
  auto err = f.error_for(s);
  err.connection_generation = s.server_pool->generation() - 1;
  err.kind = detail::sdam::error_kind::command;
  err.code = server_code::not_writable_primary;
  f.topology->handle_application_error(err);
  CHECK(f.described().type == sdam_type::rs_primary);
}

TEST_CASE("SDAM error handling: a network error after the handshake marks Unknown and clears the pool") {
  topology_fixture f(false);
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  // An idle connection in the pool, which the clear must close.
  REQUIRE(!run(f.io, [&]() -> asio::awaitable<error_code> {
    std::unique_ptr<net::connection> c;
    diagnostics diag;
    auto ec = co_await s.server_pool->async_checkout(c, diag);
    if (!ec) s.server_pool->checkin(std::move(c));
    co_return ec;
  }()));
  const auto generation = s.server_pool->generation();
  auto err = f.error_for(s);
  err.kind = detail::sdam::error_kind::network;
  err.message = "connection reset";
  f.topology->handle_application_error(err);
  CHECK(f.described().type == sdam_type::unknown);
  CHECK(s.server_pool->generation() == generation + 1);
  CHECK(s.server_pool->idle_connections() == 0);
  CHECK(f.pool_events.count(pool_event_type::pool_cleared) == 1);
  // Selection asks for a check, the member is found again and its pool made ready.
  net::selected_server again;
  auto [ec, diag] = f.select(again, 3s);
  REQUIRE_MESSAGE(!ec, describe(diag));
  CHECK(again.server_pool == s.server_pool);
  CHECK(again.server_pool->current_state() == net::pool::state::ready);
}

TEST_CASE("SDAM error handling: a network timeout after the handshake changes nothing") {
  topology_fixture f(false);
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  auto err = f.error_for(s);
  err.kind = detail::sdam::error_kind::network_timeout;
  const auto generation = s.server_pool->generation();
  f.topology->handle_application_error(err);
  CHECK(f.described().type == sdam_type::rs_primary);
  CHECK(s.server_pool->generation() == generation);
}

TEST_CASE("SDAM: a member that stops answering becomes Unknown and its pool is cleared by the monitor") {
  topology_fixture f(false, testd::member_role::primary, [](net::topology_options& o) {
    o.heartbeat_frequency = 50ms;
    o.connection.connect_timeout = 300ms;  // monitors use it as their socket timeout too
  });
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  // stop() may leave the member's sockets open but unanswered: the check then times out.
  f.server->stop();
  REQUIRE(run_until(
      f.io, [&] { return f.described().type == sdam_type::unknown; }, 5s));
  CHECK(!f.described().error.empty());
  CHECK(s.server_pool->current_state() == net::pool::state::paused);
}

// Sends a failCommand configuration to the member on a connection of its own.
void configure(topology_fixture& f, std::string_view data_json, int times = 1) {
  run(f.io, admin_command(f.server->port(), fail_command(data_json, times)));
}

TEST_CASE("server-monitoring.md: a network error in a check marks Unknown and clears the pool before re-checking") {
  topology_fixture* fixture = nullptr;
  std::vector<sdam_type> type_at_clear;
  topology_fixture f(false, testd::member_role::primary, [&](net::topology_options& o) {
    o.on_pool_event = [&, inner = o.on_pool_event](const pool_event& e) {
      inner(e);
      if (e.type == pool_event_type::pool_cleared && fixture) type_at_clear.push_back(fixture->described().type);
    };
  });
  fixture = &f;
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  run_for(f.io, 50ms);  // past minHeartbeatFrequencyMS
  configure(f, R"({"failCommands": ["hello", "isMaster"], "closeConnection": true, "appName": "enginetest"})");
  const auto checks_before = f.heartbeats.size();
  f.topology->request_immediate_check();
  // The failed check, then at once (heartbeatFrequencyMS is 60 s) a successful one.
  REQUIRE(run_until(
      f.io, [&] { return f.heartbeats.size() >= checks_before + 2; }, 3s));
  CHECK(!f.heartbeats[checks_before].succeeded);
  CHECK(f.heartbeats[checks_before + 1].succeeded);
  REQUIRE(f.pool_events.count(pool_event_type::pool_cleared) == 1);
  CHECK(type_at_clear == std::vector<sdam_type>{sdam_type::unknown});  // marked Unknown first
  REQUIRE(run_until(
      f.io, [&] { return f.described().type == sdam_type::rs_primary; }, 1s));
  CHECK(s.server_pool->current_state() == net::pool::state::ready);
}

TEST_CASE("server-monitoring.md: a check that times out clears the pool interrupting connections in use") {
  topology_fixture f(false, testd::member_role::primary,
                     [](net::topology_options& o) { o.connection.connect_timeout = 300ms; });
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  run_for(f.io, 50ms);
  std::unique_ptr<net::connection> c;
  REQUIRE(!run(f.io, [&]() -> asio::awaitable<error_code> {
    diagnostics diag;
    co_return co_await s.server_pool->async_checkout(c, diag);
  }()));
  // Blocks the ping below (3 s) and the monitor's next hello (past its 300 ms timeout).
  configure(f, R"({"failCommands": ["hello", "ping"], "blockConnection": true, "blockTimeMS": 3000,
                  "appName": "enginetest"})",
            2);
  auto ping = ping_command();
  diagnostics diag;
  auto fut = asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<error_code> {
        bson::view reply;
        co_return co_await c->async_command(ping, std::nullopt, reply, diag);
      },
      asio::use_future);
  run_for(f.io, 50ms);
  const auto started = clock::now();
  f.topology->request_immediate_check();
  CHECK(wait_for(f.io, fut, 3s) == client_errc::pool_cleared);
  CHECK(clock::now() - started < 2s);
  auto cleared = std::find_if(f.pool_events.events.begin(), f.pool_events.events.end(),
                              [](const pool_event& e) { return e.type == pool_event_type::pool_cleared; });
  REQUIRE(cleared != f.pool_events.events.end());
  CHECK(cleared->interrupt_in_use_connections);
  s.server_pool->checkin(std::move(c));
  REQUIRE(run_until(
      f.io, [&] { return f.described().type == sdam_type::rs_primary; }, 3s));
}

// sdam-unified/interruptInUse-pool-clear.json, engine side: the streaming monitor's awaitable
// hello is held by failCommand past connectTimeoutMS + heartbeatFrequencyMS, and the find a
// pooled connection runs (kept busy by $where sleep) fails at once, retryable.
TEST_CASE("server-monitoring.md: a streaming check that times out interrupts a $where find in use") {
  topology_fixture f(false, testd::member_role::primary, [](net::topology_options& o) {
    o.monitoring_mode = server_monitoring_mode::stream;
    o.heartbeat_frequency = 300ms;
    o.connection.connect_timeout = 300ms;
  });
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  auto streaming = [&] {
    for (const auto& r : f.log.named("hello"))
      if (r.command.get_view().contains("maxAwaitTimeMS")) return true;
    return false;
  };
  REQUIRE(run_until(f.io, streaming, 2s));
  // A find on a missing collection evaluates nothing (mongod's EOF plan): one document to sleep on.
  auto insert = bson::document::from_json(R"({"insert": "c", "documents": [{"_id": 1}], "$db": "test"})");
  auto inserted = run(f.io, admin_command(f.server->port(), std::move(insert)));
  REQUIRE(inserted["n"].as_integer() == 1);
  std::unique_ptr<net::connection> c;
  REQUIRE(!run(f.io, [&]() -> asio::awaitable<error_code> {
    diagnostics diag;
    co_return co_await s.server_pool->async_checkout(c, diag);
  }()));
  auto find = bson::document::from_json(R"({"find": "c", "filter": {"$where": "sleep(3000) || true"}, "$db": "test"})");
  diagnostics diag;
  auto fut = asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<error_code> {
        bson::view reply;
        co_return co_await c->async_command(find, std::nullopt, reply, diag);
      },
      asio::use_future);
  const auto started = clock::now();
  configure(f, R"({"failCommands": ["hello", "isMaster"], "blockConnection": true, "blockTimeMS": 1500,
                  "appName": "enginetest"})",
            4);
  CHECK(wait_for(f.io, fut, 4s) == client_errc::pool_cleared);
  CHECK(clock::now() - started < 2500ms);  // not after the 3 s the server sleeps
  auto cleared = std::find_if(f.pool_events.events.begin(), f.pool_events.events.end(),
                              [](const pool_event& e) { return e.type == pool_event_type::pool_cleared; });
  REQUIRE(cleared != f.pool_events.events.end());
  CHECK(cleared->interrupt_in_use_connections);
  s.server_pool->checkin(std::move(c));
}

std::pair<error_code, diagnostics> checkout_once(topology_fixture& f, net::selected_server& s) {
  return run(f.io, [&]() -> asio::awaitable<std::pair<error_code, diagnostics>> {
    std::unique_ptr<net::connection> c;
    diagnostics d;
    auto e = co_await s.server_pool->async_checkout(c, d);
    if (c) s.server_pool->checkin(std::move(c));
    co_return std::pair{e, d};
  }());
}

TEST_CASE("SDAM error handling: ShutdownInProgress in a pooled connection's hello marks Unknown and clears the pool") {
  topology_fixture f(false);
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  // No appName: testd matches it only after the hello that carries it (the monitor sleeps 60 s).
  configure(f, R"({"failCommands": ["hello", "isMaster"], "errorCode": 91})");
  const auto generation = s.server_pool->generation();
  auto [ec, diag] = checkout_once(f, s);
  CHECK(ec == make_server_error(91));
  CHECK(f.described().type == sdam_type::unknown);
  CHECK(s.server_pool->generation() == generation + 1);
  CHECK(f.pool_events.count(pool_event_type::pool_cleared) == 1);
  CHECK(!diag.has_label(label::system_overloaded));
}

TEST_CASE("CMAP backpressure: a network error in a pooled connection's hello is labelled and changes nothing") {
  topology_fixture f(false);
  net::selected_server s;
  REQUIRE(!f.select(s).first);
  configure(f, R"({"failCommands": ["hello", "isMaster"], "closeConnection": true})");
  auto [ec, diag] = checkout_once(f, s);
  CHECK(ec == network_errc::connection_closed);
  CHECK(diag.has_label(label::system_overloaded));
  CHECK(diag.has_label(label::retryable_error));
  CHECK(f.described().type == sdam_type::rs_primary);
  CHECK(f.pool_events.count(pool_event_type::pool_cleared) == 0);
  CHECK(s.server_pool->current_state() == net::pool::state::ready);
}

}  // namespace
}  // namespace mongowire::enginetest
