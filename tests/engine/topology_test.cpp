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
  REQUIRE_MESSAGE(!ec, diag.message);
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
  REQUIRE_MESSAGE(!ec, diag.message);
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
  CHECK(diag.message.find("serverSelectionTimeoutMS") != std::string::npos);
  CHECK(diag.message.find(f.address().to_string()) != std::string::npos);
  CHECK(diag.message.find("RSSecondary") != std::string::npos);
  CHECK(diag.message.find("ReplicaSetNoPrimary") != std::string::npos);
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
  REQUIRE(run_until(f.io, [&] { return f.described().type == sdam_type::rs_secondary; }, 3s));
  CHECK(f.topology->description().type() == topo_type::replica_set_no_primary);

  net::selected_server again;
  diagnostics diag;
  auto fut = asio::co_spawn(f.io, f.topology->async_select_writable(again, diag), asio::use_future);
  run_for(f.io, 200ms);
  CHECK(fut.wait_for(0s) == std::future_status::timeout);  // still waiting for a primary
  f.server->core().set_role(testd::member_role::primary);
  auto ec = wait_for(f.io, fut, 3s);
  REQUIRE_MESSAGE(!ec, diag.message);
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
  REQUIRE(run_until(f.io, [&] { return f.heartbeats.size() > checks_before; }, 1s));
  REQUIRE(run_until(f.io, [&] { return f.described().type == sdam_type::rs_primary; }, 1s));
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
  REQUIRE_MESSAGE(!ec, diag.message);
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
  REQUIRE(run_until(f.io, [&] { return f.described().type == sdam_type::unknown; }, 5s));
  CHECK(!f.described().error.empty());
  CHECK(s.server_pool->current_state() == net::pool::state::paused);
}

}  // namespace
}  // namespace mongowire::enginetest
