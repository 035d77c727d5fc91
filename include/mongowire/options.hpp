// Options of clients, sessions and transactions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "mongowire/bson.hpp"
#include "mongowire/events.hpp"

namespace mongowire {

// transactions.md "TransactionOptions". Concerns and read preference in server form:
// read_concern {level: "snapshot"}, write_concern {w: "majority", wtimeout: 5000},
// read_preference {mode: "primary"}.
struct transaction_options {
  std::optional<bson::document> read_concern;
  std::optional<bson::document> write_concern;
  std::optional<bson::document> read_preference;
  std::optional<std::int64_t> max_commit_time_ms;
};

// driver-sessions.md "SessionOptions".
struct session_options {
  std::optional<bool> causal_consistency;  // default true (unless snapshot)
  std::optional<transaction_options> default_transaction_options;
  // snapshot-sessions.md: every read of the session sees one point in time; no transactions.
  std::optional<bool> snapshot;
  // The point in time of a snapshot session (otherwise the first read's atClusterTime).
  std::optional<bson::timestamp> snapshot_time;
};

// What the connection string cannot say.
struct client_options {
  command_event_handler on_command;
  pool_event_handler on_pool_event;
  heartbeat_event_handler on_heartbeat;
  // SDAM events: server/topology opening, closed and description changes, heartbeats.
  sdam_event_handler on_sdam_event;
  std::function<void(const std::string&)> log;  // warnings (unknown URI options, ...)
  // Every frame sent and received, with its connection's endpoints (traces, pcap files).
  frame_event_handler on_frame;
  // Send a CRC-32C checksum with every OP_MSG (OP_MSG.md "checksum").
  bool checksum = false;
  // The retry trace: every failed attempt and the decision taken (see retry_event).
  retry_event_handler on_retry;
  // Seeds the random jitter of every backoff (client-backpressure.md, withTransaction), so that
  // a retry trace replays exactly; unset: seeded from std::random_device.
  std::optional<std::uint64_t> jitter_seed;
};

}  // namespace mongowire
