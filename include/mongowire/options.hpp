// Options of clients, sessions and transactions: plain values, read when the client, the
// session or the transaction starts (later changes to a copy have no effect).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "mongowire/bson.hpp"
#include "mongowire/events.hpp"
#include "mongowire/logging.hpp"

namespace mongowire {

// transactions.md "TransactionOptions". Concerns and read preference in server form:
// read_concern {level: "snapshot"}, write_concern {w: "majority", wtimeout: 5000},
// read_preference {mode: "primary"}. An unset option comes from the session's
// default_transaction_options, else from the connection string.
struct transaction_options {
  std::optional<bson::document> read_concern;      // sent with the transaction's first command
  std::optional<bson::document> write_concern;     // sent with commitTransaction and abortTransaction; not w: 0
  std::optional<bson::document> read_preference;   // must be primary when the transaction reads
  std::optional<std::int64_t> max_commit_time_ms;  // maxTimeMS of commitTransaction
};

// driver-sessions.md "SessionOptions" (client::start_session).
struct session_options {
  // causal-consistency.md: reads and writes carry readConcern.afterClusterTime (the session's
  // operationTime). Default true (unless snapshot).
  std::optional<bool> causal_consistency;
  std::optional<transaction_options> default_transaction_options;
  // snapshot-sessions.md: every read of the session sees one point in time; no transactions.
  std::optional<bool> snapshot;
  // The point in time of a snapshot session (otherwise the first read's atClusterTime).
  std::optional<bson::timestamp> snapshot_time;
  // client-side-operations-timeout.md "Sessions" (defaultTimeoutMS): the timeoutMS of
  // commit_transaction, abort_transaction, with_transaction and end; unset: the client's
  // timeoutMS. 0: no limit. Negative: start_session throws invalid_argument.
  std::optional<std::chrono::milliseconds> default_timeout;
};

// What the connection string cannot say. Every callback runs on the client's executor,
// synchronously inside the engine (keep it short, never block); the event and the views in
// it are valid during the call only. None is called once the client is destroyed.
struct client_options {
  // Command monitoring (command-logging-and-monitoring.md): started, succeeded, failed for
  // every command an operation sends (never a connection's handshake or authentication, nor
  // a monitor's hello).
  command_event_handler on_command;
  // CMAP events (connection-monitoring-and-pooling.md) of every server's pool.
  pool_event_handler on_pool_event;
  // Every heartbeat of every monitor, succeeded or failed.
  heartbeat_event_handler on_heartbeat;
  // SDAM events: server/topology opening, closed and description changes, heartbeats.
  sdam_event_handler on_sdam_event;
  std::function<void(const std::string&)> log;  // warnings (unknown URI options, ...)
  // Structured log messages (mongowire/logging.hpp, logging.md) of the components that
  // `log_levels` turns on (all off by default: then no message is built).
  log_handler on_log;
  component_log_levels log_levels;
  // logging.md "Configurable Max Document Length": longer extended JSON is cut and ends in "...".
  std::size_t log_max_document_length = 1000;
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
