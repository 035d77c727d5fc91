#include "event_log.hpp"

#include <algorithm>

#include "match.hpp"
#include "value.hpp"

namespace mongowire::spec {

namespace {

// observeEvents names, by monitor ("expectedCommandEvent", "expectedCmapEvent",
// "expectedSdamEvent").
constexpr std::string_view command_names[] = {"commandStartedEvent", "commandSucceededEvent", "commandFailedEvent"};
constexpr std::string_view cmap_names[] = {"poolCreatedEvent",
                                           "poolReadyEvent",
                                           "poolClearedEvent",
                                           "poolClosedEvent",
                                           "connectionCreatedEvent",
                                           "connectionReadyEvent",
                                           "connectionClosedEvent",
                                           "connectionCheckOutStartedEvent",
                                           "connectionCheckOutFailedEvent",
                                           "connectionCheckedOutEvent",
                                           "connectionCheckedInEvent"};
constexpr std::string_view sdam_names[] = {"serverDescriptionChangedEvent",
                                           "serverHeartbeatStartedEvent",
                                           "serverHeartbeatSucceededEvent",
                                           "serverHeartbeatFailedEvent",
                                           "topologyDescriptionChangedEvent",
                                           "topologyOpeningEvent",
                                           "topologyClosedEvent"};

template <std::size_t N>
bool listed(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

std::string_view pool_event_name(pool_event_type t) {
  switch (t) {
    case pool_event_type::pool_created: return "poolCreatedEvent";
    case pool_event_type::pool_ready: return "poolReadyEvent";
    case pool_event_type::pool_cleared: return "poolClearedEvent";
    case pool_event_type::pool_closed: return "poolClosedEvent";
    case pool_event_type::connection_created: return "connectionCreatedEvent";
    case pool_event_type::connection_ready: return "connectionReadyEvent";
    case pool_event_type::connection_closed: return "connectionClosedEvent";
    case pool_event_type::connection_check_out_started: return "connectionCheckOutStartedEvent";
    case pool_event_type::connection_check_out_failed: return "connectionCheckOutFailedEvent";
    case pool_event_type::connection_checked_out: return "connectionCheckedOutEvent";
    case pool_event_type::connection_checked_in: return "connectionCheckedInEvent";
  }
  return "unknownPoolEvent";
}

// Fields compared by value; the event must have the field ("MUST assert that the field is
// set and matches this value").
bool is_value_assertion(std::string_view key) {
  static constexpr std::string_view keys[] = {"commandName", "databaseName", "reason", "awaited",
                                              "interruptInUseConnections"};
  return listed(keys, key);
}

void check_assertion(const bson::element& expected, const bson::document& actual, const entity_map& entities,
                     const std::string& path) {
  const auto key = expected.key();
  const auto got = actual[key];
  if (key == "command" || key == "reply" || key == "previousDescription" || key == "newDescription") {
    // Root-level documents: extra fields allowed ("Test runners SHOULD ignore any other fields").
    assert_matches(expected, got, match_root::document, entities, path);
  } else if (is_value_assertion(key)) {
    if (!got || !values_equal(expected, got))
      throw test_failure(path + ": expected " + describe(expected) + ", got " + describe(got));
  } else if (key == "hasServerConnectionId") {
    // "a positive Int32"; mongowire reports 0 when the server sent no connectionId.
    const bool has = actual["serverConnectionId"].as_integer().value_or(0) > 0;
    if (has != expected.as_bool().value_or(false)) throw test_failure(path + ": expected " + describe(expected));
  } else if (key == "hasServiceId") {
    // load-balancers.md "Events": an ObjectId in load-balanced mode only.
    const bool has = actual["serviceId"].as_oid().has_value();
    if (has != expected.as_bool().value_or(false))
      throw test_failure(path + ": expected " + describe(expected) + (has ? ", the event has one" : ", it has none"));
  } else {
    throw runner_error(path + ": unsupported event assertion");
  }
}

std::string_view sdam_event_name(sdam_event_type t) {
  switch (t) {
    case sdam_event_type::server_opening: return "serverOpeningEvent";
    case sdam_event_type::server_closed: return "serverClosedEvent";
    case sdam_event_type::server_description_changed: return "serverDescriptionChangedEvent";
    case sdam_event_type::topology_opening: return "topologyOpeningEvent";
    case sdam_event_type::topology_closed: return "topologyClosedEvent";
    case sdam_event_type::topology_description_changed: return "topologyDescriptionChangedEvent";
    case sdam_event_type::server_heartbeat_started: return "serverHeartbeatStartedEvent";
    case sdam_event_type::server_heartbeat_succeeded: return "serverHeartbeatSucceededEvent";
    case sdam_event_type::server_heartbeat_failed: return "serverHeartbeatFailedEvent";
  }
  return "unknownSdamEvent";
}

bson::document server_document(const server_description_info& s) {
  bson::document d;
  d.append("address", s.address);
  d.append("type", s.type);
  return d;
}

bson::document topology_document(const topology_description_info& t) {
  bson::array_builder servers;
  for (const auto& s : t.servers) {
    auto d = server_document(s);
    servers.push(d.get_view());
  }
  bson::document d;
  d.append("type", t.type);
  if (t.set_name) d.append("setName", *t.set_name);
  d.append_array("servers", servers.get_view());
  return d;
}

std::string describe_event(const bson::document& e) {
  std::string out(e["event"].as_string().value_or("(no event)"));
  if (auto n = e["commandName"].as_string()) out += "(" + std::string(*n) + ")";
  return out;
}

}  // namespace

std::optional<event_monitor> monitor_of(std::string_view event_name) {
  if (listed(command_names, event_name)) return event_monitor::command;
  if (listed(cmap_names, event_name)) return event_monitor::cmap;
  if (listed(sdam_names, event_name)) return event_monitor::sdam;
  return std::nullopt;
}

event_monitor monitor_named(std::string_view event_type) {
  if (event_type == "command") return event_monitor::command;
  if (event_type == "cmap") return event_monitor::cmap;
  if (event_type == "sdam") return event_monitor::sdam;
  throw runner_error("unsupported eventType '" + std::string(event_type) + "'");
}

std::vector<bson::document>& events_of(client_entity& c, event_monitor m) {
  switch (m) {
    case event_monitor::command: return c.command_events;
    case event_monitor::cmap: return c.cmap_events;
    case event_monitor::sdam: break;
  }
  return c.sdam_events;
}

void record_command_event(client_entity& c, const command_event& e) {
  if (!c.listening) return;
  // configureFailPoint, ignoreCommandMonitoringEvents and sensitive commands are not
  // observed; the latter unless observeSensitiveCommands (their documents arrive redacted).
  if (e.command_name == "configureFailPoint" || c.ignore_commands.contains(e.command_name)) return;
  if (e.redacted && !c.observe_sensitive) return;
  bson::document d;
  std::string_view name = e.type == command_event_type::started     ? "commandStartedEvent"
                          : e.type == command_event_type::succeeded ? "commandSucceededEvent"
                                                                    : "commandFailedEvent";
  d.append("event", name);
  d.append("commandName", e.command_name);
  d.append("databaseName", e.database_name);
  d.append("serverConnectionId", e.server_connection_id);
  if (e.service_id) d.append("serviceId", *e.service_id);
  if (e.type == command_event_type::started) d.append("command", e.document);
  if (e.type == command_event_type::succeeded) d.append("reply", e.document);
  if (e.type == command_event_type::started) c.started_commands.push_back(d);
  if (c.observe.contains(name)) c.command_events.push_back(std::move(d));
}

void record_pool_event(client_entity& c, const pool_event& e) {
  if (e.type == pool_event_type::connection_checked_out) ++c.connections_checked_out;
  if (e.type == pool_event_type::connection_checked_in) --c.connections_checked_out;
  if (!c.listening) return;
  auto name = pool_event_name(e.type);
  if (!c.observe.contains(name)) return;
  bson::document d;
  d.append("event", name);
  d.append("address", e.address);
  if (!e.reason.empty()) d.append("reason", e.reason);
  if (e.type == pool_event_type::pool_cleared) d.append("interruptInUseConnections", e.interrupt_in_use_connections);
  if (e.service_id) d.append("serviceId", *e.service_id);
  c.cmap_events.push_back(std::move(d));
}

bson::document sdam_event_document(const sdam_event& e) {
  bson::document d;
  d.append("event", sdam_event_name(e.type));
  if (!e.address.empty()) d.append("address", e.address);
  switch (e.type) {
    case sdam_event_type::server_description_changed:
      d.append("previousDescription", server_document(e.previous_server));
      d.append("newDescription", server_document(e.new_server));
      break;
    case sdam_event_type::topology_description_changed:
      d.append("previousDescription", topology_document(e.previous_topology));
      d.append("newDescription", topology_document(e.new_topology));
      break;
    case sdam_event_type::server_heartbeat_started:
    case sdam_event_type::server_heartbeat_succeeded:
    case sdam_event_type::server_heartbeat_failed: d.append("awaited", e.awaited); break;
    default: break;
  }
  return d;
}

void record_sdam_event(client_entity& c, bson::document event) {
  const auto name = event["event"].as_string().value_or("");
  if (name == "topologyDescriptionChangedEvent")
    if (auto now = event["newDescription"].as_document()) c.topology = bson::document(*now);
  if (!c.listening || !c.observe.contains(name)) return;
  c.sdam_events.push_back(std::move(event));
}

void check_event(bson::view expected, const bson::document& actual, const entity_map& entities,
                 const std::string& where) {
  if (expected.count() != 1) throw runner_error(where + ": an expected event must have exactly one key");
  const auto kind = expected.first_key();
  if (!monitor_of(kind)) throw runner_error(where + ": unknown event type '" + std::string(kind) + "'");
  const auto assertions = expected[kind].as_document();
  if (!assertions) throw runner_error(where + ": " + std::string(kind) + " must be a document");
  if (actual["event"].as_string().value_or("") != kind)
    throw test_failure(where + ": expected " + std::string(kind) + ", got " + describe_event(actual));
  for (const auto& f : *assertions) check_assertion(f, actual, entities, where + "." + std::string(f.key()));
}

bool event_matches(bson::view expected, const bson::document& actual, const entity_map& entities) {
  try {
    check_event(expected, actual, entities, "event");
    return true;
  } catch (const test_failure&) {
    return false;
  }
}

std::size_t count_matching_events(bson::view expected, client_entity& c, const entity_map& entities) {
  const auto monitor = expected.count() == 1 ? monitor_of(expected.first_key()) : std::nullopt;
  if (!monitor) throw runner_error("expected event " + expected.to_relaxed_json() + " is not a known event");
  std::size_t n = 0;
  for (const auto& e : events_of(c, *monitor)) n += event_matches(expected, e, entities) ? 1 : 0;
  return n;
}

std::string event_list(const std::vector<bson::document>& events) {
  std::string out;
  for (const auto& e : events) out += (out.empty() ? "" : ", ") + describe_event(e);
  return "[" + out + "]";
}

}  // namespace mongowire::spec
