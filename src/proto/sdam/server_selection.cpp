#include "proto/sdam/server_selection.hpp"

#include <algorithm>

namespace mongowire::detail::sdam {
namespace {

// server-selection.md, "Filtering suitable servers based on the latency window".
std::vector<host_address> within_latency_window(const std::vector<const server_description*>& suitable,
                                                std::int32_t local_threshold_ms) {
  std::vector<host_address> out;
  if (suitable.empty()) return out;
  auto rtt = [](const server_description* s) { return s->round_trip_time_ms.value_or(0.0); };
  const double fastest = rtt(*std::min_element(suitable.begin(), suitable.end(),
                                               [&](auto* a, auto* b) { return rtt(a) < rtt(b); }));
  for (const auto* s : suitable)
    if (rtt(s) <= fastest + local_threshold_ms) out.push_back(s->address);
  return out;
}

}  // namespace

selection_result select_writable(const topology_description& topology, std::int32_t local_threshold_ms) {
  selection_result result;
  // server-selection.md: an incompatible topology fails selection immediately.
  if (!topology.compatible()) {
    result.error = topology.compatibility_error();
    return result;
  }
  std::vector<const server_description*> suitable;
  for (const auto& s : topology.servers()) {
    switch (topology.type()) {
      case topology_type::single:  // the one server, whatever its type, once it is known
        if (s.type != server_type::unknown && s.type != server_type::possible_primary) suitable.push_back(&s);
        break;
      case topology_type::replica_set_with_primary:
        if (s.type == server_type::rs_primary) suitable.push_back(&s);
        break;
      case topology_type::sharded:
        if (s.type == server_type::mongos) suitable.push_back(&s);
        break;
      case topology_type::load_balanced:  // load-balancers.md: always the load balancer
        if (s.type == server_type::load_balancer) result.candidates.push_back(s.address);
        break;
      case topology_type::unknown:
      case topology_type::replica_set_no_primary:
        break;
    }
  }
  if (topology.type() != topology_type::load_balanced)
    result.candidates = within_latency_window(suitable, local_threshold_ms);
  return result;
}

}  // namespace mongowire::detail::sdam
