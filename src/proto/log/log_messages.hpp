// The log messages of each component, built from what the engine already knows: SDAM and
// CMAP events and command events (the specs allow logging "via an event subscriber"), and
// the steps of server selection. Each function returns at once when the component is off.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mongowire/events.hpp"
#include "proto/log/logger.hpp"

namespace mongowire::detail {

// SDAM logging and monitoring, "Log Messages" (topology component, debug). A
// ServerDescriptionChangedEvent has no message: TopologyDescriptionChangedEvent's tells it.
void log_sdam_event(const logger& log, const sdam_event& e);

// command-logging-and-monitoring.md "Log Messages" (command component, debug). Redacted events
// (sensitive commands) log "{ }" for the command and the reply and a redacted failure.
void log_command_event(const logger& log, const command_event& e);

// connection-monitoring-and-pooling.md "Connection Pool Logging" (connection component,
// debug). `pool_options` ({maxIdleTimeMS, minPoolSize, ...}) is added to "Connection pool created".
void log_pool_event(const logger& log, const pool_event& e, bson::view pool_options);

// server-selection.md "Logging" (serverSelection component).
enum class selection_log_step { started, waiting, succeeded, failed };
// "Waiting for suitable server to become available" is info; the others are debug.
log_level selection_log_level(selection_log_step step) noexcept;

// The common fields of every server selection message.
struct selection_log {
  std::string_view selector;  // the read preference, with all its components
  std::string_view operation;
  std::int64_t operation_id = 0;  // 0: the selection has none
  const topology_description_info* topology = nullptr;
};
// {message, selector, operationId, operation, topologyDescription}; the caller adds the step's
// own fields (serverHost/serverPort, remainingTimeMS, failure).
bson::document selection_log_data(selection_log_step step, const selection_log& s);

// A topology description as the log messages show it: relaxed extended JSON of {type, setName,
// servers: [{address, type, roundTripTimeMS, error}]}.
std::string topology_description_json(const topology_description_info& t);

}  // namespace mongowire::detail
