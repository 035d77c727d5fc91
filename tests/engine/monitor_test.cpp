// The monitors of net::topology against the embedded server: the streaming protocol with its
// RTT monitor, polling, and the SDAM events (server-monitoring.md,
// server-discovery-and-monitoring-logging-and-monitoring.md).
#include <algorithm>

#include "engine_support.hpp"
#include "proto/sdam/server_description.hpp"

namespace mongowire::enginetest {
namespace {

using sdam_type = detail::sdam::server_type;

struct monitor_fixture {
  asio::io_context io;
  command_log log;
  std::unique_ptr<testd::embedded_server> server;
  std::vector<sdam_event> events;  // replies dropped: they die with the callback
  std::shared_ptr<net::topology> topology;

  monitor_fixture(server_monitoring_mode mode, std::chrono::milliseconds heartbeat) {
    testd::server_options so;
    so.command_log = log.sink();
    server = start_member(so);
    auto opts = topology_options_for(*server, false);
    opts.monitoring_mode = mode;
    opts.heartbeat_frequency = heartbeat;
    opts.on_sdam_event = [this](const sdam_event& e) {
      events.push_back(e);
      events.back().reply = {};
    };
    topology = std::make_shared<net::topology>(io.get_executor(), std::move(opts));
    topology->start();
    net::selected_server s;
    diagnostics diag;
    REQUIRE_MESSAGE(!run(io, topology->async_select_writable(s, diag)), describe(diag));
  }
  ~monitor_fixture() {
    if (topology) topology->close();
    run_for(io, 30ms);
  }

  sdam_type type() const { return topology->description().find(address_of(*server))->type; }
  std::size_t count(sdam_event_type t, bool awaited) const {
    return static_cast<std::size_t>(std::count_if(
        events.begin(), events.end(), [&](const sdam_event& e) { return e.type == t && e.awaited == awaited; }));
  }
  // hello commands the server received with (or without) maxAwaitTimeMS.
  std::vector<command_record> hellos(bool awaitable) const {
    auto all = log.named("hello");
    std::erase_if(
        all, [&](const command_record& r) { return r.command.get_view().contains("maxAwaitTimeMS") != awaitable; });
    return all;
  }
};

TEST_CASE("server-monitoring.md streaming: a change reaches the client without waiting for heartbeatFrequencyMS") {
  monitor_fixture f(server_monitoring_mode::stream, 60s);
  REQUIRE(run_until(
      f.io, [&] { return !f.hellos(true).empty(); }, 2s));
  const auto awaitable = f.hellos(true).front().command;
  CHECK(awaitable.get_view()["maxAwaitTimeMS"].as_integer() == 60000);  // = heartbeatFrequencyMS
  CHECK(awaitable.get_view().find_path("topologyVersion.processId").as_oid().has_value());
  f.server->core().set_role(testd::member_role::secondary);
  // Polling would not look again for 60 s.
  CHECK(run_until(
      f.io, [&] { return f.type() == sdam_type::rs_secondary; }, 2s));
  CHECK(f.count(sdam_event_type::server_heartbeat_started, true) >= 1);
  CHECK(f.count(sdam_event_type::server_heartbeat_succeeded, true) >= 1);
}

TEST_CASE("server-monitoring.md polling: serverMonitoringMode=poll sends no awaitable hello") {
  monitor_fixture f(server_monitoring_mode::poll, 60s);
  run_for(f.io, 100ms);  // the check that discovery's selection asked for is done
  const auto checks = f.count(sdam_event_type::server_heartbeat_started, false);
  f.server->core().set_role(testd::member_role::secondary);
  run_for(f.io, 300ms);
  CHECK(f.count(sdam_event_type::server_heartbeat_started, false) == checks);
  CHECK(f.type() == sdam_type::rs_primary);  // nothing looked since
  CHECK(f.hellos(true).empty());
  CHECK(f.count(sdam_event_type::server_heartbeat_started, true) == 0);
}

TEST_CASE("server-monitoring.md \"Measuring RTT\": while streaming, hellos on a dedicated connection and no events") {
  monitor_fixture f(server_monitoring_mode::stream, 100ms);
  run_for(f.io, 700ms);
  auto awaited = f.hellos(true);
  auto rtt = f.hellos(false);
  REQUIRE(!awaited.empty());
  REQUIRE(rtt.size() >= 2);  // one every heartbeatFrequencyMS after the RTT connection's handshake
  for (const auto& r : rtt) CHECK(r.connection_id != awaited.front().connection_id);
  // Only the monitor's own handshake is a non-awaited check; RTT hellos publish nothing.
  CHECK(f.count(sdam_event_type::server_heartbeat_started, false) == 1);
  auto* d = f.topology->description().find(address_of(*f.server));
  REQUIRE(d);
  CHECK(d->round_trip_time_ms.has_value());
  CHECK(d->last_update_time_ms > 0);
}

TEST_CASE("SDAM monitoring: opening, description changes, heartbeats and closing, in order") {
  monitor_fixture f(server_monitoring_mode::poll, 60s);
  REQUIRE(f.events.size() >= 5);
  CHECK(f.events[0].type == sdam_event_type::topology_opening);
  CHECK(f.events[1].type == sdam_event_type::topology_description_changed);
  CHECK(f.events[1].previous_topology.type == "Unknown");
  CHECK(f.events[1].new_topology.type == "ReplicaSetNoPrimary");
  CHECK(f.events[2].type == sdam_event_type::server_opening);
  CHECK(f.events[2].address == f.server->address());
  CHECK(f.events[3].type == sdam_event_type::server_heartbeat_started);
  CHECK(f.events[4].type == sdam_event_type::server_heartbeat_succeeded);
  auto changed = std::find_if(f.events.begin(), f.events.end(), [](const sdam_event& e) {
    return e.type == sdam_event_type::server_description_changed;
  });
  REQUIRE(changed != f.events.end());
  CHECK(changed->previous_server.type == "Unknown");
  CHECK(changed->new_server.type == "RSPrimary");
  CHECK(std::next(changed)->type == sdam_event_type::topology_description_changed);
  CHECK(std::next(changed)->new_topology.type == "ReplicaSetWithPrimary");
  const auto before_close = f.events.size();
  f.topology->close();
  REQUIRE(f.events.size() == before_close + 3);
  CHECK(f.events[before_close].type == sdam_event_type::server_closed);
  CHECK(f.events[before_close + 1].type == sdam_event_type::topology_description_changed);
  CHECK(f.events[before_close + 1].previous_topology.type == "ReplicaSetWithPrimary");
  CHECK(f.events[before_close + 1].new_topology.type == "Unknown");
  CHECK(f.events[before_close + 2].type == sdam_event_type::topology_closed);
  for (const auto& e : f.events) CHECK(e.topology_id == f.events[0].topology_id);
}

TEST_CASE("server-monitoring.md: closing the client interrupts a monitor waiting in an awaitable hello") {
  monitor_fixture f(server_monitoring_mode::stream, 60s);
  REQUIRE(run_until(
      f.io, [&] { return !f.hellos(true).empty(); }, 2s));
  std::weak_ptr<net::topology> weak = f.topology;
  f.topology->close();
  f.topology.reset();
  // The monitor coroutine held the topology; it ends at once instead of after maxAwaitTimeMS.
  CHECK(run_until(
      f.io, [&] { return weak.expired(); }, 1s));
}

}  // namespace
}  // namespace mongowire::enginetest
