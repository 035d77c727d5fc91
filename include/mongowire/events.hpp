// Monitoring events delivered to user callbacks: connection pool events (CMAP spec),
// command events (command logging and monitoring spec) and server heartbeats.
// Callbacks run on the client's executor; they must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

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

struct pool_event {
  pool_event_type type;
  std::string address;           // "host:port"
  std::uint64_t connection_id = 0;
  // connection_closed: "stale", "idle", "error", "poolClosed"; check_out_failed:
  // "timeout", "connectionError", "poolClosed" (CMAP spec reason strings).
  std::string reason;
  std::chrono::nanoseconds duration{0};  // checked_out / check_out_failed / ready
};

enum class command_event_type { started, succeeded, failed };

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
  error_code error;        // failed only
  const diagnostics* diag = nullptr;  // failed only
};

struct server_heartbeat_event {
  std::string address;
  bool succeeded = false;
  std::chrono::nanoseconds duration{0};
  bson::view reply;
  error_code error;
};

using pool_event_handler = std::function<void(const pool_event&)>;
using command_event_handler = std::function<void(const command_event&)>;
using heartbeat_event_handler = std::function<void(const server_heartbeat_event&)>;

}  // namespace mongowire
