// ServerDescription from hello replies (server-discovery-and-monitoring.md, "Parsing a hello
// or legacy hello response"), RTT averaging and topologyVersion comparison.
#include "sdam_test_helpers.hpp"

using namespace sdam_test;

namespace {

server_description parse(const std::string& json, double rtt = 5.0, std::optional<double> previous = {}) {
  return server_description::from_hello(addr("a:27017"), bson::document::from_json(json), rtt, previous);
}

}  // namespace

TEST_CASE("sdam: server type is derived from the hello reply (SDAM ServerType table)") {
  struct row {
    const char* json;
    server_type expected;
  };
  const row rows[] = {
      {R"({"ok": 1, "isWritablePrimary": true})", server_type::standalone},
      {R"({"ok": 1, "ismaster": true})", server_type::standalone},
      {R"({"ok": 1, "isWritablePrimary": true, "msg": "isdbgrid"})", server_type::mongos},
      {R"({"ok": 1, "isWritablePrimary": true, "setName": "rs"})", server_type::rs_primary},
      {R"({"ok": 1, "ismaster": true, "setName": "rs"})", server_type::rs_primary},
      {R"({"ok": 1.0, "ismaster": 1, "setName": "rs"})", server_type::rs_primary},
      // isWritablePrimary, when present, wins over the legacy field.
      {R"({"ok": 1, "isWritablePrimary": false, "ismaster": true, "setName": "rs"})", server_type::rs_other},
      {R"({"ok": 1, "isWritablePrimary": false, "secondary": true, "setName": "rs"})", server_type::rs_secondary},
      {R"({"ok": 1, "arbiterOnly": true, "setName": "rs"})", server_type::rs_arbiter},
      {R"({"ok": 1, "secondary": true, "hidden": true, "setName": "rs"})", server_type::rs_other},
      {R"({"ok": 1, "isWritablePrimary": true, "hidden": true, "setName": "rs"})", server_type::rs_other},
      {R"({"ok": 1, "isWritablePrimary": false, "setName": "rs"})", server_type::rs_other},
      {R"({"ok": 1, "isreplicaset": true})", server_type::rs_ghost},
      {R"({"ok": 1, "isreplicaset": true, "setName": "rs"})", server_type::rs_ghost},
      {R"({"ok": 0, "isWritablePrimary": true, "setName": "rs"})", server_type::unknown},
      {R"({"isWritablePrimary": true, "setName": "rs"})", server_type::unknown},
      {R"({"ok": "1", "isWritablePrimary": true})", server_type::unknown},
  };
  for (const auto& r : rows) {
    CAPTURE(r.json);
    const auto d = parse(r.json);
    CHECK(d.type == r.expected);
    CHECK(d.error.empty() == (r.expected != server_type::unknown));
  }
}

TEST_CASE("sdam: hello fields are parsed and host names lower-cased (SDAM ServerDescription)") {
  const auto d = parse(R"({
    "ok": 1, "isWritablePrimary": true, "setName": "rs", "setVersion": 7,
    "electionId": {"$oid": "7fffffff0000000000000003"},
    "hosts": ["A:27017", "b:27018", "a:27017"], "passives": ["P:1"], "arbiters": ["[::1]:2"],
    "primary": "A:27017", "me": "A", "tags": {"dc": "ny", "rack": "1"},
    "minWireVersion": 8, "maxWireVersion": 21, "logicalSessionTimeoutMinutes": 30,
    "maxBsonObjectSize": 1000, "maxMessageSizeBytes": 2000, "maxWriteBatchSize": 3,
    "topologyVersion": {"processId": {"$oid": "000000000000000000000001"}, "counter": {"$numberLong": "4"}},
    "lastWrite": {"lastWriteDate": {"$date": {"$numberLong": "1700000000000"}}},
    "serviceId": {"$oid": "000000000000000000000009"}
  })");
  REQUIRE(d.error.empty());
  CHECK(d.type == server_type::rs_primary);
  CHECK(d.set_name == "rs");
  CHECK(d.set_version == 7);
  CHECK(d.election_id->to_hex() == "7fffffff0000000000000003");
  REQUIRE(d.hosts.size() == 2);  // duplicates dropped
  CHECK(d.hosts[0].to_string() == "a:27017");
  CHECK(d.hosts[1].to_string() == "b:27018");
  CHECK(d.passives.at(0).to_string() == "p:1");
  CHECK(d.arbiters.at(0).to_string() == "[::1]:2");
  CHECK(d.primary->to_string() == "a:27017");
  CHECK(d.me->to_string() == "a:27017");
  CHECK(d.tags == tag_set{{"dc", "ny"}, {"rack", "1"}});
  CHECK(d.min_wire_version == 8);
  CHECK(d.max_wire_version == 21);
  CHECK(d.logical_session_timeout_minutes == 30);
  CHECK(d.max_bson_object_size == 1000);
  CHECK(d.max_message_size_bytes == 2000);
  CHECK(d.max_write_batch_size == 3);
  REQUIRE(d.topology_version);
  CHECK(d.topology_version->counter == 4);
  CHECK(d.last_write_date_ms == 1700000000000LL);
  CHECK(d.service_id->to_hex() == "000000000000000000000009");
  CHECK(d.round_trip_time_ms == 5.0);
  CHECK(d.lists_member(addr("p:1")));
  CHECK_FALSE(d.lists_member(addr("c:27017")));
}

TEST_CASE("sdam: omitted limits take the defaults of servers that do not send them") {
  const auto d = parse(R"({"ok": 1, "isWritablePrimary": true})");
  CHECK(d.max_bson_object_size == 16 * 1024 * 1024);
  CHECK(d.max_message_size_bytes == 48000000);
  CHECK(d.max_write_batch_size == 100000);
  CHECK_FALSE(d.logical_session_timeout_minutes);
  CHECK(d.min_wire_version == 0);
  CHECK(d.max_wire_version == 0);
}

TEST_CASE("sdam: a malformed hello reply makes the server Unknown with an error naming the field") {
  struct row {
    const char* json;
    const char* field;
  };
  const row rows[] = {
      {R"({"ok": 1, "setName": 5})", "'setName' must be a string"},
      {R"({"ok": 1, "setName": "rs", "hosts": "a:1"})", "'hosts' must be an array"},
      {R"({"ok": 1, "setName": "rs", "hosts": [1]})", "'hosts' must be an array"},
      {R"({"ok": 1, "setName": "rs", "hosts": ["a:0"]})", "invalid port '0'"},
      {R"({"ok": 1, "setName": "rs", "passives": ["a b"]})", "'passives'"},
      {R"({"ok": 1, "setName": "rs", "arbiters": ["[::1"]})", "'arbiters'"},
      {R"({"ok": 1, "setName": "rs", "primary": 1})", "'primary' must be a string"},
      {R"({"ok": 1, "setName": "rs", "primary": "a:x"})", "'primary' must be a host:port string"},
      {R"({"ok": 1, "setName": "rs", "me": "a:99999"})", "'me'"},
      {R"({"ok": 1, "setName": "rs", "electionId": "x"})", "'electionId' must be an ObjectId"},
      {R"({"ok": 1, "setName": "rs", "setVersion": "1"})", "'setVersion' must be an integer"},
      {R"({"ok": 1, "maxWireVersion": -1})", "'maxWireVersion'"},
      {R"({"ok": 1, "minWireVersion": 3000000000})", "'minWireVersion'"},
      {R"({"ok": 1, "minWireVersion": 9, "maxWireVersion": 8})", "minWireVersion 9 > maxWireVersion 8"},
      {R"({"ok": 1, "logicalSessionTimeoutMinutes": -5})", "'logicalSessionTimeoutMinutes'"},
      {R"({"ok": 1, "maxBsonObjectSize": 0})", "'maxBsonObjectSize'"},
      {R"({"ok": 1, "maxMessageSizeBytes": "big"})", "'maxMessageSizeBytes'"},
      {R"({"ok": 1, "maxWriteBatchSize": {}})", "'maxWriteBatchSize'"},
      {R"({"ok": 1, "tags": {"dc": 1}})", "'tags' must be a document of strings"},
      {R"({"ok": 1, "tags": []})", "'tags'"},
      {R"({"ok": 1, "topologyVersion": {"processId": 1, "counter": 1}})", "'topologyVersion'"},
      {R"({"ok": 1, "topologyVersion": 1})", "'topologyVersion'"},
      {R"({"ok": 1, "lastWrite": {"lastWriteDate": 5}})", "'lastWrite.lastWriteDate' must be a date"},
      {R"({"ok": 1, "isreplicaset": "yes"})", "'isreplicaset' must be a boolean"},
      {R"({"ok": 1, "setName": "rs", "secondary": "yes"})", "'secondary' must be a boolean"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.json);
    const auto d = parse(r.json);
    CHECK(d.type == server_type::unknown);
    CHECK_MESSAGE(d.error.find(r.field) != std::string::npos, d.error);
    CHECK_FALSE(d.round_trip_time_ms);
  }
  CHECK(parse(R"({"ok": 0, "errmsg": "denied"})").error == "hello failed: denied");
}

TEST_CASE("sdam: every field of a hello reply tolerates every wrong type without crashing") {
  const char* fields[] = {"ok",
                          "isWritablePrimary",
                          "ismaster",
                          "secondary",
                          "arbiterOnly",
                          "hidden",
                          "isreplicaset",
                          "msg",
                          "setName",
                          "setVersion",
                          "electionId",
                          "hosts",
                          "passives",
                          "arbiters",
                          "primary",
                          "me",
                          "tags",
                          "minWireVersion",
                          "maxWireVersion",
                          "logicalSessionTimeoutMinutes",
                          "maxBsonObjectSize",
                          "maxMessageSizeBytes",
                          "maxWriteBatchSize",
                          "topologyVersion",
                          "lastWrite",
                          "serviceId"};
  const char* values[] = {"null",
                          "true",
                          "-1",
                          "2147483648",
                          "1.5",
                          R"("")",
                          R"("a:1")",
                          "{}",
                          "[]",
                          R"([null])",
                          R"({"$oid": "000000000000000000000001"})",
                          R"({"lastWriteDate": null})"};
  for (const char* field : fields) {
    for (const char* value : values) {
      const std::string json = std::string(R"({"ok": 1, "setName": "rs", ")") + field + "\": " + value + "}";
      CAPTURE(json);
      const auto d = parse(json);
      CHECK((d.type == server_type::unknown) == !d.error.empty());
    }
  }
}

TEST_CASE("sdam: average round trip time is an EWMA with alpha 0.2 (server-selection.md)") {
  CHECK(average_round_trip_time(std::nullopt, 10.0) == doctest::Approx(10.0));
  CHECK(average_round_trip_time(10.0, 20.0) == doctest::Approx(12.0));
  CHECK(average_round_trip_time(12.0, 2.0) == doctest::Approx(10.0));
  CHECK(parse(R"({"ok": 1})", 20.0, 10.0).round_trip_time_ms == doctest::Approx(12.0));
}

TEST_CASE("sdam: the RTT average restarts after the server was Unknown (SDAM roundTripTime)") {
  auto t = topology("mongodb://a/?directConnection=true");
  const std::string hello = R"({"ok": 1, "isWritablePrimary": true})";
  reply(t, "a:27017", hello, 10.0);
  CHECK(t.find(addr("a"))->round_trip_time_ms == doctest::Approx(10.0));
  reply(t, "a:27017", hello, 20.0);
  CHECK(t.find(addr("a"))->round_trip_time_ms == doctest::Approx(12.0));
  t.apply_check_failure(addr("a"), "connection refused");
  CHECK_FALSE(t.find(addr("a"))->round_trip_time_ms);
  reply(t, "a:27017", hello, 30.0);
  CHECK(t.find(addr("a"))->round_trip_time_ms == doctest::Approx(30.0));
}

TEST_CASE("sdam: topologyVersion comparison (SDAM topologyVersion Comparison)") {
  const topology_version p1c1{
      *bson::document::from_json(R"({"o": {"$oid": "000000000000000000000001"}})")["o"].as_oid(), 1};
  auto p1c2 = p1c1;
  p1c2.counter = 2;
  auto p2c0 = p1c1;
  p2c0.process_id.bytes[11] = 2;
  p2c0.counter = 0;
  CHECK(compare_topology_versions(std::nullopt, p1c1) == -1);
  CHECK(compare_topology_versions(p1c1, std::nullopt) == -1);
  CHECK(compare_topology_versions(p1c1, p1c2) == -1);
  CHECK(compare_topology_versions(p1c2, p1c1) == 1);
  CHECK(compare_topology_versions(p1c1, p1c1) == 0);
  CHECK(compare_topology_versions(p1c2, p2c0) == -1);  // another process: assume newer
}

TEST_CASE("sdam: description equality compares the (=) fields only, hosts as sets (SDAM Server Description Equality)") {
  const auto a = parse(R"({"ok": 1, "setName": "rs", "isWritablePrimary": true, "hosts": ["a:1", "b:1"]})", 5.0);
  const auto b = parse(R"({"ok": 1, "setName": "rs", "isWritablePrimary": true, "hosts": ["b:1", "a:1"]})", 50.0);
  CHECK(a.equivalent_to(b));  // RTT differs, hosts reordered
  const auto c = parse(R"({"ok": 1, "setName": "rs", "isWritablePrimary": true, "hosts": ["a:1"]})");
  CHECK_FALSE(a.equivalent_to(c));
  const auto d =
      parse(R"({"ok": 1, "setName": "rs", "isWritablePrimary": true, "hosts": ["a:1", "b:1"], "setVersion": 2})");
  CHECK_FALSE(a.equivalent_to(d));
}

TEST_CASE("server-monitoring.md minRoundTripTime: the least of the last samples, 0 with fewer than 2") {
  const std::vector<double> none, one{7.0}, several{9.0, 4.5, 6.0};
  CHECK(min_round_trip_time(none) == 0.0);
  CHECK(min_round_trip_time(one) == 0.0);
  CHECK(min_round_trip_time(several) == 4.5);
  CHECK(parse(R"({"ok": 1, "isWritablePrimary": true, "maxWireVersion": 21})").min_round_trip_time_ms == 0.0);
}
