#include "proto/log/log_messages.hpp"

#include <chrono>

namespace mongowire::detail {

namespace {

double milliseconds(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string_view sdam_message(sdam_event_type t) noexcept {
  switch (t) {
    case sdam_event_type::topology_opening: return "Starting topology monitoring";
    case sdam_event_type::topology_closed: return "Stopped topology monitoring";
    case sdam_event_type::server_opening: return "Starting server monitoring";
    case sdam_event_type::server_closed: return "Stopped server monitoring";
    case sdam_event_type::topology_description_changed: return "Topology description changed";
    case sdam_event_type::server_heartbeat_started: return "Server heartbeat started";
    case sdam_event_type::server_heartbeat_succeeded: return "Server heartbeat succeeded";
    case sdam_event_type::server_heartbeat_failed: return "Server heartbeat failed";
    case sdam_event_type::server_description_changed: return {};
  }
  return {};
}

// SDAM "Common Fields" of heartbeat messages, then the outcome's own.
void append_heartbeat(const logger& log, bson::document& d, const sdam_event& e) {
  d.append("driverConnectionId", static_cast<std::int64_t>(e.connection_id));
  if (e.server_connection_id != 0) d.append("serverConnectionId", e.server_connection_id);
  d.append("awaited", e.awaited);
  if (e.type == sdam_event_type::server_heartbeat_started) return;
  d.append("durationMS", milliseconds(e.duration));
  if (e.type == sdam_event_type::server_heartbeat_succeeded) d.append("reply", log.document_json(e.reply));
  else d.append("failure", failure_document(e.error, nullptr, e.message, false));
}

std::string_view command_message(command_event_type t) noexcept {
  switch (t) {
    case command_event_type::started: return "Command started";
    case command_event_type::succeeded: return "Command succeeded";
    case command_event_type::failed: return "Command failed";
  }
  return {};
}

std::string_view pool_message(pool_event_type t) noexcept {
  switch (t) {
    case pool_event_type::pool_created: return "Connection pool created";
    case pool_event_type::pool_ready: return "Connection pool ready";
    case pool_event_type::pool_cleared: return "Connection pool cleared";
    case pool_event_type::pool_closed: return "Connection pool closed";
    case pool_event_type::connection_created: return "Connection created";
    case pool_event_type::connection_ready: return "Connection ready";
    case pool_event_type::connection_closed: return "Connection closed";
    case pool_event_type::connection_check_out_started: return "Connection checkout started";
    case pool_event_type::connection_check_out_failed: return "Connection checkout failed";
    case pool_event_type::connection_checked_out: return "Connection checked out";
    case pool_event_type::connection_checked_in: return "Connection checked in";
  }
  return {};
}

// "Connection Pool Logging": the sentence each event reason (pool_event::reason) must log.
std::string_view pool_reason_text(std::string_view reason) noexcept {
  if (reason == "stale") return "Connection became stale because the pool was cleared";
  if (reason == "idle") return "Connection has been available but unused for longer than the configured max idle time";
  if (reason == "error") return "An error occurred while using the connection";
  if (reason == "poolClosed") return "Connection pool was closed";
  if (reason == "timeout") return "Wait queue timeout elapsed without a connection becoming available";
  if (reason == "connectionError") return "An error occurred while trying to establish a new connection";
  return reason;
}

}  // namespace

void log_sdam_event(const logger& log, const sdam_event& e) {
  if (!log.enabled(log_component::topology, log_level::debug)) return;
  const std::string_view message = sdam_message(e.type);
  if (message.empty()) return;
  bson::document d = log_data(message);
  d.append("topologyId", static_cast<std::int64_t>(e.topology_id));
  if (!e.address.empty()) append_server_address(d, e.address);
  if (e.type == sdam_event_type::topology_description_changed) {
    d.append("previousDescription", topology_description_json(e.previous_topology));
    d.append("newDescription", topology_description_json(e.new_topology));
  } else if (e.type == sdam_event_type::server_heartbeat_started ||
             e.type == sdam_event_type::server_heartbeat_succeeded ||
             e.type == sdam_event_type::server_heartbeat_failed) {
    append_heartbeat(log, d, e);
  }
  log.emit(log_component::topology, log_level::debug, d);
}

void log_command_event(const logger& log, const command_event& e) {
  if (!log.enabled(log_component::command, log_level::debug)) return;
  bson::document d = log_data(command_message(e.type));
  d.append("commandName", e.command_name);
  d.append("databaseName", e.database_name);
  d.append("requestId", e.request_id);
  if (e.operation_id != 0) d.append("operationId", e.operation_id);
  d.append("driverConnectionId", static_cast<std::int64_t>(e.connection_id));
  append_server_address(d, e.address);
  if (e.server_connection_id != 0) d.append("serverConnectionId", e.server_connection_id);
  // A redacted event already carries an empty command or reply: "{ }" (the spec's "Security").
  if (e.type == command_event_type::started) {
    d.append("command", log.document_json(e.document));
  } else {
    d.append("durationMS", milliseconds(e.duration));
    if (e.type == command_event_type::succeeded) d.append("reply", log.document_json(e.document));
    else d.append("failure", failure_document(e.error, e.diag, {}, e.redacted));
  }
  log.emit(log_component::command, log_level::debug, d);
}

void log_pool_event(const logger& log, const pool_event& e, bson::view pool_options) {
  if (!log.enabled(log_component::connection, log_level::debug)) return;
  bson::document d = log_data(pool_message(e.type));
  append_server_address(d, e.address);
  if (e.type == pool_event_type::pool_created) d.concat(pool_options);
  if (e.connection_id != 0) d.append("driverConnectionId", static_cast<std::int64_t>(e.connection_id));
  if (!e.reason.empty()) d.append("reason", pool_reason_text(e.reason));
  const bool timed = e.type == pool_event_type::connection_ready || e.type == pool_event_type::connection_checked_out ||
                     e.type == pool_event_type::connection_check_out_failed;
  if (timed) d.append("durationMS", milliseconds(e.duration));
  log.emit(log_component::connection, log_level::debug, d);
}

log_level selection_log_level(selection_log_step step) noexcept {
  return step == selection_log_step::waiting ? log_level::informational : log_level::debug;
}

bson::document selection_log_data(selection_log_step step, const selection_log& s) {
  std::string_view message = "Server selection started";
  if (step == selection_log_step::waiting) message = "Waiting for suitable server to become available";
  else if (step == selection_log_step::succeeded) message = "Server selection succeeded";
  else if (step == selection_log_step::failed) message = "Server selection failed";
  bson::document d = log_data(message);
  d.append("selector", s.selector);
  if (s.operation_id != 0) d.append("operationId", s.operation_id);
  d.append("operation", s.operation);
  d.append("topologyDescription", s.topology ? topology_description_json(*s.topology) : std::string("{ }"));
  return d;
}

std::string topology_description_json(const topology_description_info& t) {
  bson::array_builder servers;
  for (const auto& s : t.servers) {
    bson::document server;
    server.append("address", s.address);
    server.append("type", s.type);
    if (s.set_name) server.append("setName", *s.set_name);
    if (s.round_trip_time_ms) server.append("roundTripTimeMS", *s.round_trip_time_ms);
    if (!s.error.empty()) server.append("error", s.error);
    servers.push(server.get_view());
  }
  bson::document d;
  d.append("type", t.type);
  if (t.set_name) d.append("setName", *t.set_name);
  d.append_array("servers", servers.get_view());
  return d.get_view().to_relaxed_json();
}

}  // namespace mongowire::detail
