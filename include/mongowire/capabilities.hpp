// What a deployment can do (issue 16 "capability preflight"): client::capabilities answers
// after the handshake whether sessions, retryable writes and transactions are possible, and
// why not. The same rule refuses an operation that needs what the deployment lacks before
// anything is sent (client_errc::transactions_not_supported, sessions_not_supported).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace mongowire {

// Each `xxx_why_not` is "" when `xxx` is true, else advice the user can act on, e.g.
// "it is a standalone mongod: transactions need a replica set member or mongos (...)".
struct deployment_capabilities {
  std::string topology_type;  // SDAM's name: "ReplicaSetWithPrimary", "Single", "Sharded", ...
  std::string server;         // "host:port" of the server judged: the one writes and transactions go to
  std::string server_type;    // SDAM's name: "RSPrimary", "Standalone", "Mongos", ...
  std::int32_t max_wire_version = 0;
  // SDAM "Logical Session Timeout": the minimum over the data-bearing servers; none when one lacks it.
  std::optional<std::int64_t> logical_session_timeout_minutes;
  // False when the client cannot use the deployment at all (wire versions outside 8..25);
  // `compatibility_error` then says why and every feature is false.
  bool compatible = true;
  std::string compatibility_error;

  bool sessions = false;  // driver-sessions.md: logicalSessionTimeoutMinutes, MongoDB 3.6+
  std::string sessions_why_not;
  bool retryable_writes = false;  // retryable-writes.md "Supported Server Versions": sessions, not a standalone
  std::string retryable_writes_why_not;
  bool transactions = false;  // a replica set member of MongoDB 4.0+ or a mongos of 4.2+
  std::string transactions_why_not;
  bool sharded_transactions = false;  // transactions.md "Sharded Transactions": a mongos of MongoDB 4.2+
  std::string sharded_transactions_why_not;
};

}  // namespace mongowire
