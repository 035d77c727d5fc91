#include "proto/txn/capabilities.hpp"

#include <string>

#include "proto/txn/server_session_pool.hpp"

namespace mongowire::detail {
namespace {

using sdam::server_type;

// mongod refuses txnNumber on a standalone: no retryable writes, no transactions.
constexpr std::string_view standalone_reason =
    "it is a standalone mongod: retryable writes and transactions need a replica set member or mongos (a "
    "single-member replica set will do: start mongod with --replSet NAME and run rs.initiate())";

bool is_replica_set_member(server_type t) noexcept {
  return t == server_type::rs_primary || t == server_type::rs_secondary;
}

// One feature of the report: the rule's reason, else the topology's incompatibility.
void decide(bool& available, std::string& why_not, std::string_view reason, const deployment_capabilities& c) {
  if (reason.empty() && !c.compatible) reason = c.compatibility_error;
  available = reason.empty();
  why_not.assign(reason);
}

}  // namespace

std::string_view sessions_unsupported_reason(const sdam::server_description& server) noexcept {
  if (server.type == server_type::load_balancer) return {};  // load-balancers.md: always
  if (server.type == server_type::unknown) return "the server's type is not known yet (no successful hello)";
  if (server.max_wire_version < sessions_min_wire_version)
    return "it does not support sessions: its maxWireVersion is below 6 (sessions need MongoDB 3.6 or newer)";
  if (!supports_sessions(server)) return "it does not support sessions: its hello has no logicalSessionTimeoutMinutes";
  return {};
}

std::string_view retryable_writes_unsupported_reason(const sdam::server_description& server) noexcept {
  if (auto why = sessions_unsupported_reason(server); !why.empty()) return why;
  if (server.type == server_type::standalone) return standalone_reason;
  return {};
}

std::string_view transactions_unsupported_reason(const sdam::server_description& server) noexcept {
  if (auto why = sessions_unsupported_reason(server); !why.empty()) return why;
  if (server.type == server_type::standalone) return standalone_reason;
  if (server.type == server_type::mongos && server.max_wire_version < sharded_transactions_min_wire_version)
    return "it is a mongos older than MongoDB 4.2 (maxWireVersion below 8): transactions on a sharded cluster "
           "need 4.2 or newer";
  if (is_replica_set_member(server.type) && server.max_wire_version < transactions_min_wire_version)
    return "its maxWireVersion is below 7: transactions on a replica set need MongoDB 4.0 or newer";
  if (!is_replica_set_member(server.type) && server.type != server_type::mongos &&
      server.type != server_type::load_balancer)
    return "it is not a data-bearing replica set member, a mongos or a load balancer";
  return {};
}

std::string_view sharded_transactions_unsupported_reason(const sdam::server_description& server) noexcept {
  if (server.type != server_type::mongos && server.type != server_type::load_balancer)
    return "the deployment is not a sharded cluster (the server is not a mongos)";
  return transactions_unsupported_reason(server);
}

const sdam::server_description* server_to_assess(const sdam::topology_description& topology) noexcept {
  if (const auto* primary = topology.primary()) return primary;
  for (const auto& s : topology.servers())
    if (s.type != server_type::unknown && s.type != server_type::possible_primary) return &s;
  return nullptr;
}

deployment_capabilities assess_capabilities(const sdam::topology_description& topology,
                                            const sdam::server_description* server) {
  deployment_capabilities c;
  c.topology_type.assign(sdam::to_string(topology.type()));
  c.logical_session_timeout_minutes = topology.logical_session_timeout_minutes();
  c.compatible = topology.compatible();
  c.compatibility_error = topology.compatibility_error();
  if (!server) {
    constexpr std::string_view none = "no server of the deployment is known yet";
    for (auto* f :
         {&c.sessions_why_not, &c.retryable_writes_why_not, &c.transactions_why_not, &c.sharded_transactions_why_not})
      f->assign(c.compatible ? none : std::string_view(c.compatibility_error));
    return c;
  }
  c.server = server->address.to_string();
  c.server_type.assign(sdam::to_string(server->type));
  c.max_wire_version = server->max_wire_version;
  decide(c.sessions, c.sessions_why_not, sessions_unsupported_reason(*server), c);
  decide(c.retryable_writes, c.retryable_writes_why_not, retryable_writes_unsupported_reason(*server), c);
  decide(c.transactions, c.transactions_why_not, transactions_unsupported_reason(*server), c);
  decide(c.sharded_transactions, c.sharded_transactions_why_not, sharded_transactions_unsupported_reason(*server), c);
  return c;
}

}  // namespace mongowire::detail
