#include "proto/sdam/server_selection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mongowire::detail::sdam {

read_preference read_preference::from(const connection_string& cs) {
  read_preference rp;
  rp.mode = cs.read_preference.value_or(read_preference_mode::primary);
  rp.tag_sets = cs.read_preference_tags;
  if (cs.max_staleness_seconds) rp.max_staleness_seconds = *cs.max_staleness_seconds;
  return rp;
}

std::string to_string(const read_preference& rp) {
  std::string out = fmt::format("{{mode: {}", to_string(rp.mode));
  if (!rp.tag_sets.empty()) {
    out += ", tag_sets: [";
    for (std::size_t i = 0; i < rp.tag_sets.size(); ++i) {
      out += i ? ", {" : "{";
      for (std::size_t j = 0; j < rp.tag_sets[i].size(); ++j)
        out += fmt::format("{}{}: {}", j ? ", " : "", rp.tag_sets[i][j].first, rp.tag_sets[i][j].second);
      out += "}";
    }
    out += "]";
  }
  if (rp.has_max_staleness()) out += fmt::format(", maxStalenessSeconds: {}", *rp.max_staleness_seconds);
  return out + "}";
}

std::string read_preference_error(const read_preference& rp) {
  if (rp.max_staleness_seconds && std::isnan(*rp.max_staleness_seconds))
    return "invalid read preference: maxStalenessSeconds must be a number";
  if (rp.mode != read_preference_mode::primary) return {};
  // server-selection.md "tag_sets": a non-empty tag set with mode primary is an error.
  if (std::any_of(rp.tag_sets.begin(), rp.tag_sets.end(), [](const tag_set& t) { return !t.empty(); }))
    return "invalid read preference: tag sets cannot be combined with mode primary";
  // server-selection.md "maxStalenessSeconds": a positive value with mode primary is an error.
  if (rp.has_max_staleness() && *rp.max_staleness_seconds > 0)
    return "invalid read preference: maxStalenessSeconds cannot be combined with mode primary";
  return {};
}

std::string max_staleness_error(const read_preference& rp, topology_type type, std::int64_t heartbeat_frequency_ms) {
  if (!rp.has_max_staleness()) return {};
  if (type != topology_type::replica_set_with_primary && type != topology_type::replica_set_no_primary) return {};
  // server-selection.md "maxStalenessSeconds": maxStalenessSeconds * 1000 >= heartbeatFrequencyMS +
  // idleWritePeriodMS and maxStalenessSeconds >= smallestMaxStalenessSeconds.
  const double seconds = *rp.max_staleness_seconds;
  const double floor_from_heartbeat = static_cast<double>(heartbeat_frequency_ms + idle_write_period_ms) / 1000.0;
  const double minimum = std::max(static_cast<double>(smallest_max_staleness_seconds), floor_from_heartbeat);
  if (seconds >= minimum) return {};
  return fmt::format(
      "invalid read preference: maxStalenessSeconds is {} but must be at least {} seconds (at least {} and at "
      "least heartbeatFrequencyMS {} ms + idleWritePeriodMS {} ms)",
      seconds, minimum, smallest_max_staleness_seconds, heartbeat_frequency_ms, idle_write_period_ms);
}

staleness_baseline find_staleness_baseline(topology_type type, std::span<const server_description> servers) noexcept {
  staleness_baseline b;
  for (const auto& s : servers) {
    if (s.type == server_type::rs_primary && type == topology_type::replica_set_with_primary && !b.primary)
      b.primary = &s;
    if (s.type == server_type::rs_secondary)
      b.max_secondary_last_write_date_ms =
          std::max(b.max_secondary_last_write_date_ms, s.last_write_date_ms.value_or(0));
  }
  return b;
}

std::int64_t staleness_ms(const server_description& server, const staleness_baseline& baseline,
                          std::int64_t heartbeat_frequency_ms) noexcept {
  // server-selection.md "maxStalenessSeconds": non-secondary servers have zero staleness.
  if (server.type != server_type::rs_secondary) return 0;
  const std::int64_t s_write = server.last_write_date_ms.value_or(0);
  if (const auto* p = baseline.primary) {
    const std::int64_t p_write = p->last_write_date_ms.value_or(0);
    return (server.last_update_time_ms - s_write) - (p->last_update_time_ms - p_write) + heartbeat_frequency_ms;
  }
  return baseline.max_secondary_last_write_date_ms - s_write + heartbeat_frequency_ms;
}

bool tags_match(const tag_set& wanted, const tag_set& server_tags) noexcept {
  return std::all_of(wanted.begin(), wanted.end(), [&](const auto& tag) {
    return std::find(server_tags.begin(), server_tags.end(), tag) != server_tags.end();
  });
}

namespace {

// One pass over a topology snapshot: servers, the deprioritized addresses to leave out (empty
// on the fallback pass), and what eligibility needs.
struct selection_pass {
  topology_type type;
  std::span<const server_description> servers;
  std::span<const host_address> excluded;
  const read_preference& read_pref;
  const selection_settings& settings;

  bool skipped(const server_description& s) const {
    return std::find(excluded.begin(), excluded.end(), s.address) != excluded.end();
  }
};

// server-selection.md "Terms": Unknown and PossiblePrimary servers are not available.
bool is_available(server_type t) noexcept { return t != server_type::unknown && t != server_type::possible_primary; }

void add_of_type(const selection_pass& pass, server_type type, server_list& out) {
  for (const auto& s : pass.servers)
    if (s.type == type && !pass.skipped(s)) out.push_back(&s);
}

// server-selection.md "maxStalenessSeconds" (applied first), then "tag_sets": the first tag
// set matching any candidate decides; none matching leaves no eligible server.
void keep_eligible(const selection_pass& pass, server_list& candidates) {
  const auto& rp = pass.read_pref;
  if (rp.has_max_staleness() && *rp.max_staleness_seconds > 0) {
    const auto baseline = find_staleness_baseline(pass.type, pass.servers);
    const double limit_ms = *rp.max_staleness_seconds * 1000.0;
    std::erase_if(candidates, [&](const server_description* s) {
      return static_cast<double>(staleness_ms(*s, baseline, pass.settings.heartbeat_frequency_ms)) > limit_ms;
    });
  }
  if (rp.tag_sets.empty() || candidates.empty()) return;
  for (const auto& wanted : rp.tag_sets) {
    auto matches = [&](const server_description* s) { return tags_match(wanted, s->tags); };
    if (std::none_of(candidates.begin(), candidates.end(), matches)) continue;
    std::erase_if(candidates, [&](const server_description* s) { return !matches(s); });
    return;
  }
  candidates.clear();
}

// Eligible secondaries (mode secondary), or eligible secondaries and primary (nearest).
void add_eligible(const selection_pass& pass, bool with_primary, server_list& out) {
  for (const auto& s : pass.servers) {
    const bool candidate = s.type == server_type::rs_secondary || (with_primary && s.type == server_type::rs_primary);
    if (candidate && !pass.skipped(s)) out.push_back(&s);
  }
  keep_eligible(pass, out);
}

// server-selection.md "Topology types: ReplicaSetWithPrimary or ReplicaSetNoPrimary", reads.
void add_replica_set_readable(const selection_pass& pass, server_list& out) {
  using mode = read_preference_mode;
  switch (pass.read_pref.mode) {
    case mode::primary: return add_of_type(pass, server_type::rs_primary, out);
    case mode::primary_preferred:
      add_of_type(pass, server_type::rs_primary, out);
      if (out.empty()) add_eligible(pass, false, out);
      return;
    case mode::secondary: return add_eligible(pass, false, out);
    case mode::secondary_preferred:
      add_eligible(pass, false, out);
      if (out.empty()) add_of_type(pass, server_type::rs_primary, out);
      return;
    case mode::nearest: return add_eligible(pass, true, out);
  }
}

// Suitable servers by topology type and operation type (server-selection.md "Topology type: ...").
void add_suitable(const selection_pass& pass, operation_kind operation, server_list& out) {
  switch (pass.type) {
    case topology_type::unknown:  // no server is suitable
      return;
    case topology_type::single:  // the one server if available; read preference ignored
      for (const auto& s : pass.servers)
        if (is_available(s.type) && !pass.skipped(s)) out.push_back(&s);
      return;
    case topology_type::sharded:  // any mongos; mode and tags are passed to it
      return add_of_type(pass, server_type::mongos, out);
    case topology_type::load_balanced:  // load-balancers.md: always the load balancer
      return add_of_type(pass, server_type::load_balancer, out);
    case topology_type::replica_set_with_primary:
    case topology_type::replica_set_no_primary:
      if (operation == operation_kind::read) return add_replica_set_readable(pass, out);
      // Writes: only an available primary, and none at all in ReplicaSetNoPrimary.
      if (pass.type == topology_type::replica_set_with_primary) add_of_type(pass, server_type::rs_primary, out);
      return;
  }
}

}  // namespace

std::string find_suitable_servers(topology_type type, std::span<const server_description> servers,
                                  operation_kind operation, const read_preference& read_pref,
                                  std::span<const host_address> deprioritized, const selection_settings& settings,
                                  server_list& out) {
  out.clear();
  if (operation == operation_kind::read) {
    if (auto error = read_preference_error(read_pref); !error.empty()) return error;
    if (auto error = max_staleness_error(read_pref, type, settings.heartbeat_frequency_ms); !error.empty())
      return error;
  }
  // server-selection.md "Server Selection Algorithm", step 3: without the deprioritized
  // servers first, with them if that finds none.
  add_suitable({type, servers, deprioritized, read_pref, settings}, operation, out);
  if (out.empty() && !deprioritized.empty()) add_suitable({type, servers, {}, read_pref, settings}, operation, out);
  return {};
}

void keep_latency_window(server_list& servers, std::int32_t local_threshold_ms) {
  if (servers.empty()) return;
  auto rtt = [](const server_description* s) { return s->round_trip_time_ms.value_or(0.0); };
  double fastest = rtt(servers.front());
  for (const auto* s : servers) fastest = std::min(fastest, rtt(s));
  const double limit = fastest + local_threshold_ms;
  std::erase_if(servers, [&](const server_description* s) { return rtt(s) > limit; });
}

std::size_t choose_less_busy(std::span<const std::uint64_t> operation_counts, std::size_t first,
                             std::size_t second) noexcept {
  const std::size_t n = operation_counts.size();
  if (n <= 1) return 0;
  first = std::min(first, n - 1);
  second = std::min(second, n - 2);
  if (second >= first) ++second;  // the second pick is drawn from the other n - 1 servers
  return operation_counts[second] < operation_counts[first] ? second : first;
}

selection_result select_servers(const topology_description& topology, operation_kind operation,
                                const read_preference& read_pref, std::span<const host_address> deprioritized,
                                const selection_settings& settings) {
  selection_result result;
  // server-selection.md: an incompatible topology fails selection immediately.
  if (!topology.compatible()) {
    result.error = topology.compatibility_error();
    return result;
  }
  server_list suitable;
  result.error = find_suitable_servers(topology.type(), topology.servers(), operation, read_pref, deprioritized,
                                       settings, suitable);
  keep_latency_window(suitable, settings.local_threshold_ms);
  result.candidates.reserve(suitable.size());
  for (const auto* s : suitable) result.candidates.push_back(s->address);
  return result;
}

selection_result select_writable(const topology_description& topology, std::int32_t local_threshold_ms) {
  selection_settings settings;
  settings.local_threshold_ms = local_threshold_ms;
  return select_servers(topology, operation_kind::write, read_preference{}, {}, settings);
}

}  // namespace mongowire::detail::sdam
