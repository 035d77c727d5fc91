// libFuzzer target: hello replies into the topology (server-discovery-and-monitoring.md). The
// input is a topology choice byte, then records of one address byte and one BSON document:
// the document is a hello reply from that address (server_description::from_hello, then
// topology_description::apply), or, by the address byte's top bits, an application error
// built from it (command_error_from_reply), a network error or a failed check.
// Properties checked beyond "no crash": after every step the description keeps the SDAM
// invariants (addresses unique; a single topology holds one server; ReplicaSetWithPrimary has
// exactly one RSPrimary and ReplicaSetNoPrimary none; a load-balanced topology stays so), and
// server selection for writes and reads names only servers of the topology.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "mongowire/bson.hpp"
#include "proto/sdam/server_selection.hpp"
#include "proto/sdam/topology_description.hpp"

using namespace mongowire;
using namespace mongowire::detail::sdam;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

// The addresses of the SDAM spec tests' replies ("a:27017" ... ), so seeds can list each other.
const std::array<host_address, 5> addresses = {host_address{"a", 27017}, host_address{"b", 27017},
                                               host_address{"c", 27017}, host_address{"d", 27017},
                                               host_address{"e", 27017}};

// SDAM "Initial TopologyType": Unknown, ReplicaSetNoPrimary (setName "rs"), Single, LoadBalanced.
topology_settings settings_for(std::uint8_t choice) {
  topology_settings s;
  s.seeds = {addresses[0]};
  switch (choice % 4) {
    case 1: s.replica_set_name = "rs"; break;
    case 2: s.direct_connection = true; break;
    case 3: s.load_balanced = true; break;
    default: s.seeds.push_back(addresses[1]); break;
  }
  return s;
}

void check_invariants(const topology_description& t) {
  const auto& servers = t.servers();
  for (std::size_t i = 0; i < servers.size(); ++i)
    for (std::size_t j = i + 1; j < servers.size(); ++j) require(!(servers[i].address == servers[j].address));
  const auto primaries = std::count_if(servers.begin(), servers.end(),
                                       [](const server_description& s) { return s.type == server_type::rs_primary; });
  if (t.type() == topology_type::single || t.type() == topology_type::load_balanced) require(servers.size() == 1);
  if (t.type() == topology_type::replica_set_with_primary) require(primaries == 1 && t.primary() != nullptr);
  if (t.type() == topology_type::replica_set_no_primary) require(primaries == 0);
  if (t.settings().load_balanced) require(t.type() == topology_type::load_balanced);
  if (t.settings().replica_set_name && t.type() != topology_type::single)
    require(t.set_name() == t.settings().replica_set_name);
}

void check_selection(const topology_description& t) {
  const read_preference nearest{.mode = read_preference_mode::nearest};
  for (const auto& result : {select_writable(t), select_servers(t, operation_kind::read, nearest)})
    for (const auto& a : result.candidates) require(t.find(a) != nullptr);
}

// One record: what happened to `address`, by the top two bits of its byte.
void apply(topology_description& t, std::uint8_t what, const host_address& address, bson::view doc) {
  switch (what >> 6) {
    case 0: {
      auto d = server_description::from_hello(address, doc, 1.0 + (what & 7), std::nullopt, 1000);
      require(d.type != server_type::unknown || !d.error.empty());  // an Unknown description says why
      t.apply(std::move(d));
      break;
    }
    case 1:
      if (auto err = command_error_from_reply(address, doc)) t.handle_application_error(*err);
      break;
    case 2: {
      application_error err{.address = address, .kind = error_kind::network};
      err.message = "fuzzed network error";
      t.handle_application_error(err);
      break;
    }
    default: t.apply_check_failure(address, "fuzzed check failure"); break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  topology_description t(settings_for(data[0]));
  std::span<const std::uint8_t> rest(data + 1, size - 1);
  while (rest.size() > 1) {
    const std::uint8_t what = rest[0];
    auto doc = bson::view::validate(rest.subspan(1));
    if (!doc) break;
    apply(t, what, addresses[(what & 0x3f) % addresses.size()], *doc);
    check_invariants(t);
    check_selection(t);
    rest = rest.subspan(1 + doc->size());
  }
  return 0;
}
