// logging.md (levels, components, truncation, errors) and the messages of the SDAM logging
// and monitoring, command logging and monitoring, CMAP and server selection specs, built
// from events without any I/O.
#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

#include "proto/log/log_messages.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

struct captured {
  log_component component;
  log_level level;
  std::string message;
  bson::document data;
};

struct capture_logger {
  std::vector<captured> messages;
  logger make(component_log_levels levels, std::size_t max_document_length = default_max_document_length) {
    return logger(
        [this](const log_message& m) {
          messages.push_back({m.component, m.level, std::string(m.message), bson::document(m.data)});
        },
        levels, max_document_length);
  }
};

component_log_levels only(log_component c, log_level l) {
  component_log_levels levels;
  if (c == log_component::command) levels.command = l;
  if (c == log_component::topology) levels.topology = l;
  if (c == log_component::server_selection) levels.server_selection = l;
  if (c == log_component::connection) levels.connection = l;
  return levels;
}

}  // namespace

TEST_CASE("logging.md levels: a component logs its level and every more severe one, off logs nothing") {
  const auto levels = only(log_component::server_selection, log_level::informational);
  CHECK(levels.allows(log_component::server_selection, log_level::informational));
  CHECK(levels.allows(log_component::server_selection, log_level::error));
  CHECK(!levels.allows(log_component::server_selection, log_level::debug));
  CHECK(!levels.allows(log_component::server_selection, log_level::trace));
  CHECK(!levels.allows(log_component::topology, log_level::emergency));  // off
  CHECK(!component_log_levels::all(log_level::trace).allows(log_component::command, log_level::off));
}

TEST_CASE("logging.md level names: the spec's names both ways, case-insensitive, unknown names refused") {
  CHECK(to_string(log_level::informational) == "info");
  CHECK(to_string(log_level::warning) == "warn");
  CHECK(to_string(log_level::off) == "off");
  CHECK(log_level_from_string("DEBUG") == log_level::debug);
  CHECK(log_level_from_string("Info") == log_level::informational);
  CHECK(log_level_from_string("emergency") == log_level::emergency);
  CHECK(!log_level_from_string("verbose"));
  CHECK(!log_level_from_string(""));
  CHECK(to_string(log_component::server_selection) == "serverSelection");
}

TEST_CASE("logging.md fallback: MONGODB_LOG_ALL, overridden per component, invalid values ignored") {
  setenv("MONGODB_LOG_ALL", "info", 1);
  setenv("MONGODB_LOG_COMMAND", "debug", 1);
  setenv("MONGODB_LOG_TOPOLOGY", "loud", 1);  // invalid: as if unset, so MONGODB_LOG_ALL applies
  unsetenv("MONGODB_LOG_SERVER_SELECTION");
  unsetenv("MONGODB_LOG_CONNECTION");
  const auto levels = component_log_levels::from_environment();
  unsetenv("MONGODB_LOG_ALL");
  unsetenv("MONGODB_LOG_COMMAND");
  unsetenv("MONGODB_LOG_TOPOLOGY");
  CHECK(levels.command == log_level::debug);
  CHECK(levels.topology == log_level::informational);
  CHECK(levels.server_selection == log_level::informational);
  CHECK(component_log_levels::from_environment().command == log_level::off);
}

TEST_CASE("logging.md max document length: naive cut, never inside a UTF-8 sequence, ellipsis not counted") {
  CHECK(truncate_json("{ \"a\" : 1 }", 100) == "{ \"a\" : 1 }");
  CHECK(truncate_json("abcdef", 3) == "abc...");
  // "é" is two bytes (C3 A9): a cut after its first byte backs up before it.
  CHECK(truncate_json("ab\xC3\xA9zz", 3) == "ab...");
  CHECK(truncate_json("ab\xC3\xA9zz", 4) == "ab\xC3\xA9...");
}

TEST_CASE("logger: a disabled component never reaches the handler") {
  capture_logger cap;
  const logger log = cap.make(only(log_component::topology, log_level::debug));
  sdam_event e;
  e.type = sdam_event_type::topology_opening;
  e.topology_id = 7;
  log_sdam_event(log, e);
  command_event c;
  c.type = command_event_type::started;
  log_command_event(log, c);  // command component is off
  REQUIRE(cap.messages.size() == 1);
  CHECK(cap.messages[0].message == "Starting topology monitoring");
  CHECK(cap.messages[0].data["topologyId"].as_integer() == 7);
  CHECK(!logger().enabled(log_component::topology, log_level::emergency));  // no handler
}

TEST_CASE("SDAM log messages: heartbeats carry the connection ids, the reply as JSON, the duration") {
  capture_logger cap;
  const logger log = cap.make(only(log_component::topology, log_level::debug));
  const auto reply = bson::document::from_json(R"({"ok": 1, "isWritablePrimary": true})");
  sdam_event e;
  e.type = sdam_event_type::server_heartbeat_succeeded;
  e.topology_id = 3;
  e.address = "db.example.com:27018";
  e.connection_id = 12;
  e.server_connection_id = 345;
  e.awaited = true;
  e.duration = std::chrono::microseconds(1500);
  e.reply = reply;
  log_sdam_event(log, e);
  REQUIRE(cap.messages.size() == 1);
  const bson::view d = cap.messages[0].data;
  CHECK(cap.messages[0].level == log_level::debug);
  CHECK(d["message"].as_string() == "Server heartbeat succeeded");
  CHECK(d["serverHost"].as_string() == "db.example.com");
  CHECK(d["serverPort"].as_int32() == 27018);
  CHECK(d["driverConnectionId"].as_integer() == 12);
  CHECK(d["serverConnectionId"].as_integer() == 345);
  CHECK(d["awaited"].as_bool() == true);
  CHECK(d["durationMS"].as_double() == doctest::Approx(1.5));
  const auto parsed = bson::document::from_json(std::string(*d["reply"].as_string()));
  CHECK(parsed["isWritablePrimary"].as_bool() == true);
}

TEST_CASE("SDAM log messages: a failed heartbeat has a failure; a server description change has no message") {
  capture_logger cap;
  const logger log = cap.make(only(log_component::topology, log_level::debug));
  sdam_event e;
  e.type = sdam_event_type::server_heartbeat_failed;
  e.address = "[::1]:27017";
  e.error = make_error_code(network_errc::connection_closed);
  e.message = "connection closed by 127.0.0.1:27017";
  log_sdam_event(log, e);
  e.type = sdam_event_type::server_description_changed;
  log_sdam_event(log, e);
  REQUIRE(cap.messages.size() == 1);
  const bson::view d = cap.messages[0].data;
  CHECK(d["serverHost"].as_string() == "::1");
  CHECK(!d.contains("serverConnectionId"));  // not known before the first hello
  const auto failure = d["failure"].as_document();
  REQUIRE(failure);
  CHECK(failure->find("message").as_string() == "connection closed by 127.0.0.1:27017");
  CHECK(failure->find("error").as_string()->starts_with("mongowire.network: "));
}

TEST_CASE("command log messages: a redacted command logs an empty document and a failure without text") {
  capture_logger cap;
  const logger log = cap.make(only(log_component::command, log_level::debug));
  command_event e;
  e.type = command_event_type::failed;
  e.command_name = "saslStart";
  e.database_name = "admin";
  e.request_id = 9;
  e.operation_id = 4;
  e.address = "localhost:27017";
  e.redacted = true;
  e.error = make_server_error(18);
  diagnostics redacted;
  redacted.server_code = 18;
  redacted.code_name = "AuthenticationFailed";
  e.diag = &redacted;
  log_command_event(log, e);
  e.type = command_event_type::started;
  log_command_event(log, e);
  REQUIRE(cap.messages.size() == 2);
  const auto failure = cap.messages[0].data["failure"].as_document();
  REQUIRE(failure);
  CHECK(failure->find("code").as_integer() == 18);
  CHECK(failure->find("codeName").as_string() == "AuthenticationFailed");
  CHECK(!failure->contains("message"));
  CHECK(!failure->contains("error"));
  CHECK(cap.messages[1].message == "Command started");
  CHECK(cap.messages[1].data["command"].as_string() == "{ }");
  CHECK(cap.messages[1].data["operationId"].as_integer() == 4);
  CHECK(cap.messages[1].data["requestId"].as_integer() == 9);
}

TEST_CASE("command log messages: documents longer than the max length are cut with an ellipsis") {
  capture_logger cap;
  const logger log = cap.make(only(log_component::command, log_level::debug), 20);
  const auto body = bson::document::from_json(R"({"insert": "a-rather-long-collection-name", "ordered": true})");
  command_event e;
  e.type = command_event_type::started;
  e.command_name = "insert";
  e.address = "h:1";
  e.document = body;
  log_command_event(log, e);
  REQUIRE(cap.messages.size() == 1);
  const std::string command(*cap.messages[0].data["command"].as_string());
  CHECK(command.size() == 23);
  CHECK(command.ends_with("..."));
}

TEST_CASE("CMAP log messages: reasons are the spec's sentences, the pool's options on creation") {
  capture_logger cap;
  const logger log = cap.make(only(log_component::connection, log_level::debug));
  const auto options = bson::document::from_json(R"({"maxPoolSize": 10})");
  log_pool_event(log, pool_event{pool_event_type::pool_created, "h:27017", 0, "", {}}, options);
  pool_event closed{pool_event_type::connection_closed, "h:27017", 5, "idle", {}};
  log_pool_event(log, closed, options);
  REQUIRE(cap.messages.size() == 2);
  CHECK(cap.messages[0].message == "Connection pool created");
  CHECK(cap.messages[0].data["maxPoolSize"].as_integer() == 10);
  CHECK(cap.messages[1].message == "Connection closed");
  CHECK(cap.messages[1].data["driverConnectionId"].as_integer() == 5);
  CHECK(cap.messages[1].data["reason"].as_string() ==
        "Connection has been available but unused for longer than the configured max idle time");
}

TEST_CASE("server selection log messages: common fields, waiting is info, the others debug") {
  CHECK(selection_log_level(selection_log_step::waiting) == log_level::informational);
  CHECK(selection_log_level(selection_log_step::started) == log_level::debug);
  CHECK(selection_log_level(selection_log_step::failed) == log_level::debug);
  topology_description_info t;
  t.type = "ReplicaSetNoPrimary";
  t.set_name = "rs0";
  server_description_info secondary;
  secondary.address = "a:1";
  secondary.type = "RSSecondary";
  t.servers.push_back(secondary);
  const auto d = selection_log_data(selection_log_step::waiting, selection_log{"{mode: secondary}", "find", 17, &t});
  CHECK(d["message"].as_string() == "Waiting for suitable server to become available");
  CHECK(d["selector"].as_string() == "{mode: secondary}");
  CHECK(d["operation"].as_string() == "find");
  CHECK(d["operationId"].as_integer() == 17);
  const auto topology = bson::document::from_json(std::string(*d["topologyDescription"].as_string()));
  CHECK(topology["setName"].as_string() == "rs0");
  CHECK(topology.get_view().find_path("servers.0.type").as_string() == "RSSecondary");
  const auto none = selection_log_data(selection_log_step::started, selection_log{"{mode: primary}", "ping", 0, &t});
  CHECK(!none.get_view().contains("operationId"));
}
