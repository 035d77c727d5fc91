// ServerDescription of server-discovery-and-monitoring.md: the client's view of one server,
// built from a hello (or legacy hello) reply.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "mongowire/uri.hpp"

namespace mongowire::detail::sdam {

enum class server_type {
  unknown,
  standalone,
  mongos,
  possible_primary,
  rs_primary,
  rs_secondary,
  rs_arbiter,
  rs_other,
  rs_ghost,
  load_balancer,
};
std::string_view to_string(server_type t) noexcept;  // the spec's name, e.g. "RSPrimary"

// server-discovery-and-monitoring.md, "Data-Bearing Server Type".
constexpr bool is_data_bearing(server_type t) noexcept {
  return t == server_type::mongos || t == server_type::rs_primary || t == server_type::rs_secondary ||
         t == server_type::standalone || t == server_type::load_balancer;
}

// {processId, counter} of MongoDB 4.4+ hello replies and State Change Errors.
struct topology_version {
  bson::object_id process_id;
  std::int64_t counter = 0;
  friend bool operator==(const topology_version&, const topology_version&) = default;
};

// SDAM "topologyVersion Comparison": -1 when `current` is older than `incoming` or either is
// missing or the processIds differ (the incoming one is then assumed newer), 0 when equal,
// 1 when `current` is newer.
int compare_topology_versions(const std::optional<topology_version>& current,
                              const std::optional<topology_version>& incoming) noexcept;

// Parses a topologyVersion sub-document; nullopt (and *why) when malformed.
std::optional<topology_version> parse_topology_version(bson::view doc, std::string* why = nullptr);

// server-selection.md, "Calculation of Average Round Trip Times": EWMA with alpha 0.2; the
// first sample (no previous average: the server was Unknown) is taken as is. Samples must be
// valid (see is_valid_rtt_sample).
double average_round_trip_time(std::optional<double> previous_average_ms, double sample_ms) noexcept;

// server-selection-tests.md, "Calculating Round Trip Time": negative (or NaN, infinite) RTT
// samples are rejected.
bool is_valid_rtt_sample(double sample_ms) noexcept;
// server-monitoring.md "Measuring RTT": minRoundTripTime is the least of the last
// `rtt_window` samples, 0 until there are at least 2.
inline constexpr std::size_t rtt_window = 10;
double min_round_trip_time(std::span<const double> last_samples_ms) noexcept;

struct server_description {
  host_address address;
  server_type type = server_type::unknown;
  std::string error;  // empty when there is none

  std::optional<double> round_trip_time_ms;  // average; null while Unknown
  double min_round_trip_time_ms = 0;         // see min_round_trip_time (client-side-operations-timeout.md)
  std::int32_t min_wire_version = 0;
  std::int32_t max_wire_version = 0;
  std::optional<host_address> me;
  std::vector<host_address> hosts;
  std::vector<host_address> passives;
  std::vector<host_address> arbiters;
  tag_set tags;
  std::optional<std::string> set_name;
  std::optional<std::int64_t> set_version;
  std::optional<bson::object_id> election_id;
  std::optional<host_address> primary;
  std::optional<std::int64_t> logical_session_timeout_minutes;
  std::optional<sdam::topology_version> topology_version;
  // hello lastWrite.lastWriteDate (server clock, ms since the epoch); replica set members only.
  std::optional<std::int64_t> last_write_date_ms;
  // SDAM lastUpdateTime: when the client received the reply, in ms of any one clock the client
  // uses for every server (only differences between servers matter for staleness). 0 = unknown.
  std::int64_t last_update_time_ms = 0;
  std::optional<bson::object_id> service_id;

  // Limits the server announces; defaults are those of servers that omit them.
  std::int32_t max_bson_object_size = 16 * 1024 * 1024;
  std::int32_t max_message_size_bytes = 48'000'000;
  std::int32_t max_write_batch_size = 100'000;

  // A default description of type Unknown (error and topologyVersion optional).
  static server_description unknown(host_address address, std::string error = {},
                                    std::optional<sdam::topology_version> tv = {});

  // Builds the description from a hello reply received in `rtt_sample_ms` at
  // `last_update_time_ms` (the caller's clock: this code reads none).
  // `previous_average_rtt_ms` is the current average, or null if the server was Unknown.
  // A failed (ok: 0) or malformed reply, or an invalid RTT sample, gives an Unknown
  // description whose error says why.
  static server_description from_hello(host_address address, bson::view reply, double rtt_sample_ms,
                                       std::optional<double> previous_average_rtt_ms = std::nullopt,
                                       std::int64_t last_update_time_ms = 0);

  bool is_data_bearing() const noexcept { return sdam::is_data_bearing(type); }
  // True if `a` is in hosts, passives or arbiters.
  bool lists_member(const host_address& a) const noexcept;

  // SDAM "Server Description Equality": the fields marked (=) compare equal.
  bool equivalent_to(const server_description& other) const noexcept;
};

}  // namespace mongowire::detail::sdam
