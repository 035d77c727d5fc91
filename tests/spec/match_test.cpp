// Rules of the runner itself: "Evaluating Matches", expected events, version strings and
// client URIs (unified-test-format.md).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "entities.hpp"
#include "event_log.hpp"
#include "match.hpp"
#include "uri_options.hpp"
#include "value.hpp"

using namespace mongowire;
using namespace mongowire::spec;

namespace {

// {"v": <json>} so that any JSON value can be matched.
bson::document holder(const std::string& json) { return bson::document::from_json("{\"v\": " + json + "}"); }

bool matches(const std::string& expected, const std::string& actual, match_root root = match_root::document,
             const entity_map& entities = entity_map()) {
  auto e = holder(expected);
  auto a = holder(actual);
  try {
    assert_matches(e["v"], a["v"], root, entities, "result");
    return true;
  } catch (const test_failure&) {
    return false;
  }
}

std::string mismatch(const std::string& expected, const std::string& actual) {
  auto e = holder(expected);
  auto a = holder(actual);
  try {
    assert_matches(e["v"], a["v"], match_root::document, entity_map(), "result");
  } catch (const test_failure& f) {
    return f.what();
  }
  return "";
}

}  // namespace

TEST_CASE("root-level documents may have extra fields, nested documents may not") {
  CHECK(matches(R"({"x": 1})", R"({"x": 1, "y": 1})"));
  CHECK_FALSE(matches(R"({"x": 1, "y": 1})", R"({"x": 1})"));
  CHECK_FALSE(matches(R"({"x": {"y": 1}})", R"({"x": {"y": 1, "z": 1}})"));
}

TEST_CASE("document key order does not matter") { CHECK(matches(R"({"x": 1, "y": 2})", R"({"y": 2, "x": 1})")); }

TEST_CASE("numbers compare by value across int32, int64 and double") {
  CHECK(matches(R"({"n": 1})", R"({"n": {"$numberLong": "1"}})"));
  CHECK(matches(R"({"ok": 1})", R"({"ok": 1.0})"));
  CHECK_FALSE(matches(R"({"n": 1})", R"({"n": 1.5})"));
  CHECK_FALSE(matches(R"({"n": 1})", R"({"n": "1"})"));
}

TEST_CASE("arrays must have the same number of elements") {
  CHECK(matches("[1, 2, 3]", "[1, 2, 3]", match_root::value));
  CHECK_FALSE(matches("[1, 2, 3]", "[1, 2, 3, 4]", match_root::value));
}

TEST_CASE("iterated results match each document as a root, distinct values do not") {
  CHECK(matches(R"([{"x": 1}])", R"([{"x": 1, "y": 1}])", match_root::array_of_roots));
  CHECK_FALSE(matches(R"([{"x": 1}])", R"([{"x": 1, "y": 1}])", match_root::value));
}

TEST_CASE("$$exists checks presence only") {
  CHECK(matches(R"({"a": {"$$exists": true}})", R"({"a": null})"));
  CHECK_FALSE(matches(R"({"a": {"$$exists": true}})", R"({})"));
  CHECK(matches(R"({"a": {"$$exists": false}})", R"({})"));
  CHECK_FALSE(matches(R"({"a": {"$$exists": false}})", R"({"a": 1})"));
}

TEST_CASE("$$unsetOrMatches accepts absence or a match, also for the whole result") {
  CHECK(matches(R"({"id": {"$$unsetOrMatches": 2}})", R"({})"));
  CHECK(matches(R"({"id": {"$$unsetOrMatches": 2}})", R"({"id": 2})"));
  CHECK_FALSE(matches(R"({"id": {"$$unsetOrMatches": 2}})", R"({"id": 3})"));
  auto expected = holder(R"({"$$unsetOrMatches": {"insertedId": 1}})");
  CHECK_NOTHROW(assert_matches(expected["v"], bson::element(), match_root::document, entity_map(), "result"));
}

TEST_CASE("$$type accepts one name or any of several, and requires a value") {
  CHECK(matches(R"({"n": {"$$type": "int"}})", R"({"n": 1})"));
  CHECK(matches(R"({"n": {"$$type": ["int", "long"]}})", R"({"n": {"$numberLong": "5"}})"));
  CHECK_FALSE(matches(R"({"n": {"$$type": "string"}})", R"({"n": 1})"));
  CHECK_FALSE(matches(R"({"n": {"$$type": "int"}})", R"({})"));
}

TEST_CASE("$$lte compares numerically") {
  CHECK(matches(R"({"n": {"$$lte": 5}})", R"({"n": 5.0})"));
  CHECK_FALSE(matches(R"({"n": {"$$lte": 1}})", R"({"n": 1.1})"));
}

TEST_CASE("$$matchAsDocument parses extended JSON and does not allow extra fields; $$matchAsRoot does") {
  CHECK(matches(R"({"s": {"$$matchAsDocument": {"a": 1}}})", R"({"s": "{\"a\": 1}"})"));
  CHECK_FALSE(matches(R"({"s": {"$$matchAsDocument": {"a": 1}}})", R"({"s": "{\"a\": 1, \"b\": 2}"})"));
  CHECK(matches(R"({"s": {"$$matchAsDocument": {"$$matchAsRoot": {"a": 1}}}})", R"({"s": "{\"a\": 1, \"b\": 2}"})"));
}

TEST_CASE("$$matchesEntity compares with a saved value") {
  entity_map entities;
  auto saved = holder(R"({"$timestamp": {"t": 5, "i": 1}})");
  entities.add("t0", value::of(saved["v"]));
  CHECK(matches(R"({"at": {"$$matchesEntity": "t0"}})", R"({"at": {"$timestamp": {"t": 5, "i": 1}}})",
                match_root::document, entities));
  CHECK_FALSE(matches(R"({"at": {"$$matchesEntity": "t0"}})", R"({"at": {"$timestamp": {"t": 6, "i": 1}}})",
                      match_root::document, entities));
  CHECK_THROWS_AS(matches(R"({"at": {"$$matchesEntity": "missing"}})", R"({"at": 1})"), runner_error);
}

TEST_CASE("a mismatch names the path of the first difference") {
  CHECK(mismatch(R"({"a": {"b": [1, {"c": 2}]}})", R"({"a": {"b": [1, {"c": 3}]}})") ==
        "result.a.b[1].c: expected 2, got 3");
  CHECK(mismatch(R"({"a": 1})", R"({})") == "result.a: expected 1, got nothing");
}

TEST_CASE("an unknown special operator is a runner error") {
  CHECK_THROWS_AS(matches(R"({"a": {"$$bogus": 1}})", R"({"a": 1})"), runner_error);
}

TEST_CASE("collection outcomes must be equal, without extra fields even at the root") {
  auto e = holder(R"([{"_id": 1, "x": 1}])");
  auto same = holder(R"([{"x": 1, "_id": 1}])");
  auto extra = holder(R"([{"_id": 1, "x": 1, "y": 2}])");
  CHECK_NOTHROW(assert_equal_documents(e["v"], same["v"], "outcome"));
  CHECK_THROWS_AS(assert_equal_documents(e["v"], extra["v"], "outcome"), test_failure);
}

TEST_CASE("version strings compare numerically and drop pre-release suffixes") {
  CHECK(version::parse("4.0.10") > version::parse("4.0.9"));
  CHECK(version::parse("3.6") < version::parse("4.2.0"));
  CHECK(version::parse("4.9.0-alpha4-271-g7d5cf02") == version{4, 9, 0});
  CHECK(version::parse("7") == version{7, 0, 0});
}

TEST_CASE("uriOptions override the options of the suite's connection string") {
  auto options = bson::document::from_json(R"({"retryWrites": false, "w": "majority", "appName": "a b&c"})");
  CHECK(uri_with_options("mongodb://h:1/?directConnection=true&retryWrites=true", options) ==
        "mongodb://h:1/?directConnection=true&retryWrites=false&w=majority&appName=a%20b%26c");
  CHECK(uri_with_options("mongodb://h:1", bson::document::from_json(R"({"w": 1})")) == "mongodb://h:1/?w=1");
  CHECK_THROWS_AS(uri_with_options("mongodb://h", bson::document::from_json(R"({"x": {"$$placeholder": 1}})")),
                  runner_error);
}

TEST_CASE("uri_with_hosts replaces the seed list and keeps credentials and options") {
  CHECK(uri_with_hosts("mongodb://u:p%40@a:1,b:2/?w=1", "b:2") == "mongodb://u:p%40@b:2/?w=1");
  CHECK(uri_with_hosts("mongodb://a:1,b:2", "a:1") == "mongodb://a:1");
  CHECK(uri_with_hosts("mongodb://a:1/db?x=1", "c:3") == "mongodb://c:3/db?x=1");
  CHECK_THROWS_AS(uri_with_hosts("a:1", "b:2"), runner_error);
  CHECK(hosts_of("mongodb://u:p@a:1,b:2/?w=1") == std::vector<std::string>{"a:1", "b:2"});
}

namespace {

bson::document json(const std::string& text) { return bson::document::from_json(text); }

bool event_is(const std::string& expected, const std::string& actual) {
  return event_matches(json(expected), json(actual), entity_map());
}

command_event started(std::string_view name, bson::view command, bool redacted) {
  command_event e{};
  e.type = command_event_type::started;
  e.command_name = name;
  e.database_name = "db";
  e.document = command;
  e.redacted = redacted;
  return e;
}

}  // namespace

TEST_CASE("sensitive command events are observed only with observeSensitiveCommands") {
  const auto saslStart = json("{}");  // redacted by the engine
  const auto find = json(R"({"find": "c"})");
  client_entity c;
  c.observe = {"commandStartedEvent"};
  record_command_event(c, started("saslStart", saslStart, true));
  record_command_event(c, started("find", find, false));
  REQUIRE(c.command_events.size() == 1);
  CHECK(c.command_events[0]["commandName"].as_string() == std::optional<std::string_view>("find"));
  c.observe_sensitive = true;
  record_command_event(c, started("saslStart", saslStart, true));
  REQUIRE(c.command_events.size() == 2);
  CHECK(event_is(
      R"({"commandStartedEvent": {"commandName": "saslStart", "command": {"saslStart": {"$$exists": false}}}})",
      bson::view(c.command_events[1]).to_relaxed_json()));
}

TEST_CASE("configureFailPoint and ignored commands are never observed; unlisted events are not kept") {
  client_entity c;
  c.observe = {"commandStartedEvent"};
  c.ignore_commands = {"ping"};
  const auto body = json(R"({"x": 1})");
  record_command_event(c, started("configureFailPoint", body, false));
  record_command_event(c, started("ping", body, false));
  auto succeeded = started("find", body, false);
  succeeded.type = command_event_type::succeeded;
  record_command_event(c, succeeded);
  CHECK(c.command_events.empty());
}

TEST_CASE("CMAP events: reason and interruptInUseConnections must be present and equal") {
  CHECK(event_is(R"({"poolClearedEvent": {}})", R"({"event": "poolClearedEvent"})"));
  CHECK(event_is(R"({"poolClearedEvent": {"interruptInUseConnections": true}})",
                 R"({"event": "poolClearedEvent", "interruptInUseConnections": true})"));
  CHECK_FALSE(
      event_is(R"({"poolClearedEvent": {"interruptInUseConnections": false}})", R"({"event": "poolClearedEvent"})"));
  CHECK_FALSE(event_is(R"({"poolClearedEvent": {"hasServiceId": true}})", R"({"event": "poolClearedEvent"})"));
  CHECK(event_is(R"({"poolClearedEvent": {"hasServiceId": true}})",
                 R"({"event": "poolClearedEvent", "serviceId": {"$oid": "65eb13b122c34af3037c094d"}})"));
  CHECK(event_is(R"({"poolClearedEvent": {"hasServiceId": false}})", R"({"event": "poolClearedEvent"})"));
  CHECK(event_is(R"({"connectionClosedEvent": {"reason": "stale"}})",
                 R"({"event": "connectionClosedEvent", "reason": "stale"})"));
  CHECK_FALSE(event_is(R"({"connectionClosedEvent": {"reason": "stale"}})",
                       R"({"event": "connectionClosedEvent", "reason": "error"})"));
  CHECK_FALSE(event_is(R"({"poolClearedEvent": {}})", R"({"event": "poolReadyEvent"})"));
}

TEST_CASE("SDAM events: description types are matched and other fields ignored; awaited must be set") {
  const std::string changed =
      R"({"event": "serverDescriptionChangedEvent", "previousDescription": {"type": "RSPrimary", "address": "h:1"},
          "newDescription": {"type": "Unknown", "address": "h:1"}})";
  CHECK(event_is(R"({"serverDescriptionChangedEvent": {"newDescription": {"type": "Unknown"}}})", changed));
  CHECK_FALSE(event_is(R"({"serverDescriptionChangedEvent": {"previousDescription": {"type": "Unknown"}}})", changed));
  CHECK(event_is(R"({"serverHeartbeatStartedEvent": {"awaited": true}})",
                 R"({"event": "serverHeartbeatStartedEvent", "awaited": true})"));
  CHECK_FALSE(event_is(R"({"serverHeartbeatStartedEvent": {"awaited": false}})",
                       R"({"event": "serverHeartbeatStartedEvent"})"));
}

TEST_CASE("an expected event of an unknown type or with an unknown assertion is a runner error") {
  CHECK_THROWS_AS(event_is(R"({"bogusEvent": {}})", R"({"event": "bogusEvent"})"), runner_error);
  CHECK_THROWS_AS(event_is(R"({"poolClearedEvent": {"bogus": 1}})", R"({"event": "poolClearedEvent"})"), runner_error);
  CHECK_THROWS_AS(monitor_named("log"), runner_error);
}

TEST_CASE("waitForEvent and assertEventCount count matching events of the expected event's monitor") {
  client_entity c;
  c.observe = {"serverDescriptionChangedEvent", "topologyDescriptionChangedEvent", "poolClearedEvent"};
  record_sdam_event(c, json(R"({"event": "serverDescriptionChangedEvent", "newDescription": {"type": "Unknown"}})"));
  record_sdam_event(c, json(R"({"event": "serverDescriptionChangedEvent", "newDescription": {"type": "RSPrimary"}})"));
  const auto unknown = json(R"({"serverDescriptionChangedEvent": {"newDescription": {"type": "Unknown"}}})");
  const auto any_change = json(R"({"serverDescriptionChangedEvent": {}})");
  CHECK(count_matching_events(unknown, c, entity_map()) == 1);
  CHECK(count_matching_events(any_change, c, entity_map()) == 2);
  CHECK(count_matching_events(json(R"({"poolClearedEvent": {}})"), c, entity_map()) == 0);
}

TEST_CASE("the newest topology description is kept whether or not the client observes it") {
  client_entity c;
  record_sdam_event(c, json(R"({"event": "topologyDescriptionChangedEvent", "newDescription": {"type": "Unknown"}})"));
  record_sdam_event(c, json(R"({"event": "topologyDescriptionChangedEvent",
      "newDescription": {"type": "ReplicaSetWithPrimary", "servers": [{"address": "h:1", "type": "RSPrimary"}]}})"));
  CHECK(c.sdam_events.empty());
  CHECK(c.topology["type"].as_string() == std::optional<std::string_view>("ReplicaSetWithPrimary"));
}
