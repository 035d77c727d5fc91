// The events a client entity observes, kept as documents, and the rules that match them
// (unified-test-format.md "observeEvents", "expectedEvent", "waitForEvent",
// "assertEventCount"). One document per event:
//   command: {event: "commandStartedEvent", commandName, databaseName, serverConnectionId,
//             command | reply}
//   cmap:    {event: "poolClearedEvent", address, reason?, interruptInUseConnections?}
//   sdam:    {event: "serverDescriptionChangedEvent", address, previousDescription: {type},
//             newDescription: {type}}, {event: "topologyDescriptionChangedEvent",
//             previousDescription: {type, servers}, newDescription: {...}},
//             {event: "serverHeartbeatStartedEvent", address, awaited}, ...
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "entities.hpp"
#include "mongowire/events.hpp"

namespace mongowire::spec {

// The monitors of expectedEventsForClient.eventType.
enum class event_monitor { command, cmap, sdam };

// The monitor publishing events of this name ("poolClearedEvent" -> cmap); nullopt for a
// name that observeEvents does not list.
std::optional<event_monitor> monitor_of(std::string_view event_name);
// expectEvents' eventType ("command" | "cmap" | "sdam"); throws runner_error otherwise.
event_monitor monitor_named(std::string_view event_type);
std::vector<bson::document>& events_of(client_entity& c, event_monitor m);

// Listeners of a client entity. Events are kept only while the client listens and when
// observeEvents names them; command events of configureFailPoint, of
// ignoreCommandMonitoringEvents and (unless observeSensitiveCommands) of redacted
// commands are dropped ("entity_client").
void record_command_event(client_entity& c, const command_event& e);
void record_pool_event(client_entity& c, const pool_event& e);
bson::document sdam_event_document(const sdam_event& e);
// An SDAM event in the document form above. A topologyDescriptionChangedEvent also becomes
// the client's current topology (observed or not, for recordTopologyDescription).
void record_sdam_event(client_entity& c, bson::document event);

// Throws test_failure naming `where` when `actual` is not the event `expected`
// ({eventName: {assertions}}) describes, runner_error when `expected` is malformed.
void check_event(bson::view expected, const bson::document& actual, const entity_map& entities,
                 const std::string& where);
bool event_matches(bson::view expected, const bson::document& actual, const entity_map& entities);
// How many of the client's events (of the expected event's monitor) match `expected`.
std::size_t count_matching_events(bson::view expected, client_entity& c, const entity_map& entities);

// "[commandStartedEvent(insert), poolClearedEvent]", for failure messages.
std::string event_list(const std::vector<bson::document>& events);

}  // namespace mongowire::spec
