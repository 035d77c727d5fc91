// net::topology's internals shared by topology.cpp and monitor.cpp: the state of one server's
// monitor (server-monitoring.md), a check's outcome, and the snapshots the SDAM events compare.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "net/connection.hpp"
#include "net/topology.hpp"
#include "proto/sdam/server_description.hpp"

namespace mongowire::detail::net {

struct topology::monitor {
  monitor(asio::any_io_executor ex, host_address a) : address(std::move(a)), timer(ex), rtt_timer(ex) {}
  host_address address;
  asio::steady_timer timer;  // the sleep between checks
  std::unique_ptr<connection> conn;
  bool check_requested = false;
  bool checking = false;         // a check is in progress (an application error cancels it)
  bool check_cancelled = false;  // the client closed the connection of the check in progress
  bool stopped = false;
  std::chrono::steady_clock::time_point last_check{};
  // Of the last successful reply: the server supports the streaming protocol.
  std::optional<sdam::topology_version> topology_version;
  // "Measuring RTT": the average of the handshake, polled hellos and the RTT monitor's hellos.
  std::optional<double> rtt_average_ms;
  std::vector<double> rtt_samples;  // the last sdam::rtt_window, oldest first (minRoundTripTime)
  void add_rtt_sample(double ms) {
    if (rtt_samples.size() == sdam::rtt_window) rtt_samples.erase(rtt_samples.begin());
    rtt_samples.push_back(ms);
  }
  bool rtt_running = false;
  std::unique_ptr<connection> rtt_conn;  // dedicated to RTT while streaming
  asio::steady_timer rtt_timer;
};

// The outcome of one check.
struct topology::check_result {
  bson::document reply;                 // the hello reply (also when it is an error reply)
  bool awaited = false;                 // an awaitable hello, or a streamed reply
  std::optional<double> rtt_sample_ms;  // handshake and polled hellos only
  std::chrono::nanoseconds duration{0};
};

// What the SDAM events tell of a server description.
inline server_description_info info_of(const sdam::server_description& d) {
  server_description_info i;
  i.address = d.address.to_string();
  i.type = std::string(sdam::to_string(d.type));
  i.error = d.error;
  i.round_trip_time_ms = d.round_trip_time_ms;
  i.set_name = d.set_name;
  i.min_wire_version = d.min_wire_version;
  i.max_wire_version = d.max_wire_version;
  return i;
}

// What the SDAM events and the log messages tell of a topology description.
inline topology_description_info topology_info(sdam::topology_type type, const std::optional<std::string>& set_name,
                                               const std::vector<sdam::server_description>& servers) {
  topology_description_info i;
  i.type = std::string(sdam::to_string(type));
  i.set_name = set_name;
  for (const auto& s : servers) i.servers.push_back(info_of(s));
  return i;
}

// What the SDAM events compare: the description before an update.
struct topology::snapshot {
  sdam::topology_type type{};
  std::optional<std::string> set_name;
  std::vector<sdam::server_description> servers;

  topology_description_info info() const { return topology_info(type, set_name, servers); }
};

}  // namespace mongowire::detail::net
