// Monitoring events delivered to user callbacks: connection pool events (CMAP spec),
// command events (command logging and monitoring spec), server heartbeats and SDAM events
// (server-discovery-and-monitoring-logging-and-monitoring.md).
// Each kind is delivered by one client_options member (on_pool_event, on_command,
// on_heartbeat, on_sdam_event, on_frame, on_retry). Callbacks run on the client's executor,
// synchronously; they must not block. An event and what it views (documents, frames, labels,
// diagnostics) are valid during the callback only: copy what you keep.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"

namespace mongowire {

enum class pool_event_type {
  pool_created,
  pool_ready,
  pool_cleared,
  pool_closed,
  connection_created,
  connection_ready,
  connection_closed,
  connection_check_out_started,
  connection_check_out_failed,
  connection_checked_out,
  connection_checked_in,
};

std::string_view to_string(pool_event_type t) noexcept;

// One CMAP event (connection-monitoring-and-pooling.md "Events") of a server's pool.
struct pool_event {
  pool_event_type type;
  std::string address;  // "host:port"
  std::uint64_t connection_id = 0;
  // connection_closed: "stale", "idle", "error", "poolClosed"; check_out_failed:
  // "timeout", "connectionError", "poolClosed" (CMAP spec reason strings).
  std::string reason;
  std::chrono::nanoseconds duration{0};       // checked_out / check_out_failed / ready
  bool interrupt_in_use_connections = false;  // pool_cleared
  // connection_ready: the commands its handshake and authentication sent (hello, saslStart,
  // saslContinue, authenticate), the round trips a new connection costs besides TCP and TLS.
  std::uint32_t round_trips = 0;
  // load-balancers.md "Events": pool_cleared in load-balanced mode names the service cleared.
  std::optional<bson::object_id> service_id;
};

enum class command_event_type { started, succeeded, failed };

// One command of an operation (command-logging-and-monitoring.md): started when it is sent,
// then succeeded (an ok: 1 reply, write errors included) or failed (ok: 0, a
// writeConcernError, or no reply). One `operation_id` groups the attempts (retries) of one
// command; `request_id` matches a started event with its outcome.
struct command_event {
  command_event_type type;
  std::string command_name;
  std::string database_name;
  std::int32_t request_id = 0;
  std::int64_t operation_id = 0;
  std::string address;
  std::uint64_t connection_id = 0;
  std::int64_t server_connection_id = 0;
  std::chrono::nanoseconds duration{0};
  // started: the command as sent (kind-1 sequences folded back into the body, as the
  // monitoring spec requires); succeeded: the reply; failed: the reply if there was one.
  bson::view document;
  // command-logging-and-monitoring.md "Security": a sensitive command (authentication, user
  // management, hello with speculativeAuthenticate) has an empty command and reply, and a
  // failure reduced to code, codeName and labels.
  bool redacted = false;
  error_code error;                   // failed only
  const diagnostics* diag = nullptr;  // failed only
  // load-balancers.md "Events": the connection's serviceId, in load-balanced mode only.
  std::optional<bson::object_id> service_id;
};

// One check of a server's monitor: its hello succeeded (with `reply`) or failed (`error`).
struct server_heartbeat_event {
  std::string address;
  bool succeeded = false;
  std::chrono::nanoseconds duration{0};
  bson::view reply;
  error_code error;
  bool awaited = false;  // an awaitable hello of the streaming protocol
};

// SDAM events, one type for all ("Events API" of the SDAM logging and monitoring spec).
enum class sdam_event_type {
  server_opening,
  server_closed,
  server_description_changed,
  topology_opening,
  topology_closed,
  topology_description_changed,
  server_heartbeat_started,
  server_heartbeat_succeeded,
  server_heartbeat_failed,
};
// The spec's event name, e.g. "ServerDescriptionChangedEvent".
std::string_view to_string(sdam_event_type t) noexcept;

// What the events tell of a ServerDescription; `type` is the spec's name ("RSPrimary", "Unknown", ...).
struct server_description_info {
  std::string address;
  std::string type;
  std::string error;                         // empty when there is none
  std::optional<double> round_trip_time_ms;  // average; none while Unknown
  std::optional<std::string> set_name;
  std::int32_t min_wire_version = 0;
  std::int32_t max_wire_version = 0;
};

// What the events tell of a TopologyDescription; `type` is the spec's name ("ReplicaSetWithPrimary", ...).
struct topology_description_info {
  std::string type;
  std::optional<std::string> set_name;
  std::vector<server_description_info> servers;
};

struct sdam_event {
  sdam_event_type type{};
  std::uint64_t topology_id = 0;  // one per client (topologyId)
  std::string address;            // server and heartbeat events
  // server_description_changed
  server_description_info previous_server;
  server_description_info new_server;
  // topology_description_changed (and, as new_topology, topology_opening/closed)
  topology_description_info previous_topology;
  topology_description_info new_topology;
  // heartbeats
  bool awaited = false;
  std::uint64_t connection_id = 0;        // the monitor's connection (driverConnectionId)
  std::int64_t server_connection_id = 0;  // the server's id for it; 0 before its first hello
  std::chrono::nanoseconds duration{0};   // succeeded / failed
  bson::view reply;                       // succeeded: valid during the callback only
  error_code error;                       // failed
  std::string message;                    // failed: what went wrong
};

// One wire frame sent or received (client_options::on_frame), for traces and pcap files.
// Frames of every connection are observed: pooled, monitoring and RTT connections alike.
struct frame_event {
  bool outgoing = false;
  std::span<const std::uint8_t> frame;  // the whole message, header included; valid during the callback only
  std::uint64_t connection_id = 0;
  // The connection's TCP endpoints as the socket reports them ("127.0.0.1", "::1").
  std::string_view local_address;
  std::uint16_t local_port = 0;
  std::string_view remote_address;
  std::uint16_t remote_port = 0;
};

// The retry trace (client_options::on_retry): one event per failed attempt with what the
// engine decided, from the executor (a command's own retries) and from with_transaction (its
// loop over the callback and the commit). With client_options::jitter_seed the decisions and
// backoffs of a run replay exactly against the same server behaviour.
enum class retry_decision {
  retry_command,      // the executor sends the command again (retryable write/read, commit, overload)
  retry_commit,       // with_transaction commits again (UnknownTransactionCommitResult)
  rerun_transaction,  // with_transaction starts a new transaction and reruns its callback
  give_up,            // the error is returned to the caller
};
std::string_view to_string(retry_decision d) noexcept;

struct retry_event {
  std::int64_t operation_id = 0;  // the command's, as in command events; 0 for with_transaction's steps
  int attempt = 0;                // 1 for the first attempt (of the command, or of the transaction)
  std::string_view command;       // "insert", "commitTransaction", ...; "withTransaction" for the callback
  error_code error;
  std::int32_t server_code = 0;  // 0 when the error is not the server's
  std::string_view code_name;
  const label_set* labels = nullptr;  // valid during the callback only
  retry_decision decision = retry_decision::give_up;
  std::chrono::microseconds backoff{0};  // the sleep chosen before the next attempt
  std::chrono::microseconds elapsed{0};  // since the command (or withTransaction) began
};

using retry_event_handler = std::function<void(const retry_event&)>;
using pool_event_handler = std::function<void(const pool_event&)>;
using frame_event_handler = std::function<void(const frame_event&)>;
using command_event_handler = std::function<void(const command_event&)>;
using heartbeat_event_handler = std::function<void(const server_heartbeat_event&)>;
using sdam_event_handler = std::function<void(const sdam_event&)>;

}  // namespace mongowire
