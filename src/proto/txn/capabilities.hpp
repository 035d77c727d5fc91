// What a server can do for sessions, retryable writes and transactions: the one rule behind
// the executor's preflight (client_impl::fit_to_server refuses before sending) and
// client::capabilities (issue 16). Each *_unsupported_reason is "" when the feature is
// available, else advice the user can act on (static text: no allocation on the hot path).
#pragma once

#include <cstdint>
#include <string_view>

#include "mongowire/capabilities.hpp"
#include "proto/sdam/topology_description.hpp"

namespace mongowire::detail {

inline constexpr std::int32_t sessions_min_wire_version = 6;              // MongoDB 3.6
inline constexpr std::int32_t transactions_min_wire_version = 7;          // MongoDB 4.0, replica sets
inline constexpr std::int32_t sharded_transactions_min_wire_version = 8;  // MongoDB 4.2, mongos

// driver-sessions.md "How to Tell Whether a Connection Supports Sessions"
// (logicalSessionTimeoutMinutes), and sessions came with MongoDB 3.6 (wire version 6).
std::string_view sessions_unsupported_reason(const sdam::server_description& server) noexcept;
// retryable-writes.md "Supported Server Versions": sessions and not a standalone.
std::string_view retryable_writes_unsupported_reason(const sdam::server_description& server) noexcept;
// transactions.md: no sessions, no transactions; mongod refuses txnNumber on a standalone
// ("Transaction numbers are only allowed on a replica set member or mongos", IllegalOperation,
// the most common surprise of users: driver-users-needs.md); replica sets since 4.0,
// sharded clusters since 4.2 ("Sharded Transactions").
std::string_view transactions_unsupported_reason(const sdam::server_description& server) noexcept;
// A transaction through a mongos (or a load balancer, which fronts mongoses).
std::string_view sharded_transactions_unsupported_reason(const sdam::server_description& server) noexcept;

// The server a capability report judges when selection cannot give one (an incompatible
// topology): the primary, else the first server whose type is known; null when none is.
const sdam::server_description* server_to_assess(const sdam::topology_description& topology) noexcept;

// The whole report for `server` (null: none known) in `topology`. An incompatible topology
// makes every feature false: the client cannot talk to it.
deployment_capabilities assess_capabilities(const sdam::topology_description& topology,
                                            const sdam::server_description* server);

}  // namespace mongowire::detail
