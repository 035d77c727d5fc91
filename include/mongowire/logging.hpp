// Structured logging (logging.md): the log messages of the driver specifications, delivered
// to client_options::on_log with their key/value pairs as a BSON document. Components and the
// messages each one has:
//   command          "Command started/succeeded/failed" (command-logging-and-monitoring.md)
//   topology         "Starting/Stopped topology monitoring", "Starting/Stopped server
//                    monitoring", "Topology description changed", "Server heartbeat
//                    started/succeeded/failed" (SDAM logging and monitoring, "Log Messages")
//   serverSelection  "Server selection started/succeeded/failed" (debug), "Waiting for
//                    suitable server to become available" (info) (server-selection.md "Logging")
//   connection       "Connection pool created/ready/cleared/closed", "Connection created/
//                    ready/closed", "Connection checkout started/failed", "Connection
//                    checked out/in" (connection-monitoring-and-pooling.md "Connection Pool Logging")
// Every component is off by default; nothing is built for a message its component's level
// excludes. Documents (commands, replies) appear as relaxed extended JSON, truncated to
// client_options::log_max_document_length; sensitive commands are redacted as in command
// monitoring.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "mongowire/bson.hpp"

namespace mongowire {

// logging.md "Components".
enum class log_component : std::uint8_t { command, topology, server_selection, connection };
// The spec's names: "command", "topology", "serverSelection", "connection".
std::string_view to_string(log_component c) noexcept;

// logging.md "Log Severity Levels", from the most severe to the least; `off` logs nothing.
enum class log_level : std::int8_t {
  off = -1,
  emergency,
  alert,
  critical,
  error,
  warning,
  notice,
  informational,
  debug,
  trace,
};
// The spec's names: "off", "emergency", "alert", "critical", "error", "warn", "notice",
// "info", "debug", "trace".
std::string_view to_string(log_level l) noexcept;
// The names above, case-insensitive; nullopt for anything else.
std::optional<log_level> log_level_from_string(std::string_view name) noexcept;

// The least severe level logged, per component ("Per-Component Configuration of Log Levels"):
// `debug` logs debug messages and everything more severe.
struct component_log_levels {
  log_level command = log_level::off;
  log_level topology = log_level::off;
  log_level server_selection = log_level::off;
  log_level connection = log_level::off;

  log_level of(log_component c) const noexcept;
  bool allows(log_component c, log_level l) const noexcept {
    return l != log_level::off && static_cast<int>(l) <= static_cast<int>(of(c));
  }
  static component_log_levels all(log_level l) noexcept { return {l, l, l, l}; }
  // The spec's fallback configuration: MONGODB_LOG_ALL, overridden per component by
  // MONGODB_LOG_COMMAND, MONGODB_LOG_TOPOLOGY, MONGODB_LOG_SERVER_SELECTION and
  // MONGODB_LOG_CONNECTION; an unset or invalid variable leaves the component off.
  static component_log_levels from_environment();
};

// One log message. `data` holds every key/value pair its specification defines, "message"
// included (e.g. {message: "Server selection succeeded", selector, operationId, operation,
// topologyDescription, serverHost, serverPort}); it is valid during the callback only.
struct log_message {
  log_component component = log_component::command;
  log_level level = log_level::debug;
  std::string_view message;
  bson::view data;
};

using log_handler = std::function<void(const log_message&)>;

}  // namespace mongowire
