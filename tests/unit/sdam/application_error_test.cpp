// Error handling of application operations (server-discovery-and-monitoring.md, "Error
// handling"), adapted from the spec's tests/errors scenarios, and the shared error classes.
#include "proto/sdam/error_classes.hpp"
#include "sdam_test_helpers.hpp"

using namespace sdam_test;

namespace {

topology_description rs_with_primary() {
  auto t = topology("mongodb://a,b/?replicaSet=rs");
  reply(
      t, "a:27017",
      primary_hello(
          R"(, "topologyVersion": {"processId": {"$oid": "000000000000000000000001"}, "counter": {"$numberLong": "1"}})",
          R"(["a:27017","b:27017"])"));
  return t;
}

application_error command_error(std::optional<std::int32_t> code, std::string message = "boom", int wire = 21) {
  application_error e;
  e.address = addr("a");
  e.kind = error_kind::command;
  e.code = code;
  e.message = std::move(message);
  e.max_wire_version = wire;
  return e;
}

}  // namespace

TEST_CASE("sdam error classes: codes of 'not writable primary', 'node is recovering' and shutdown") {
  for (int code : {10107, 13435, 10058}) {
    CHECK(is_not_primary_error(code));
    CHECK_FALSE(is_node_recovering_error(code));
    CHECK(is_state_change_error(code));
  }
  for (int code : {11600, 11602, 13436, 189, 91}) {
    CHECK(is_node_recovering_error(code));
    CHECK_FALSE(is_not_primary_error(code));
    CHECK(is_state_change_error(code));
  }
  CHECK(is_shutdown_error(11600));
  CHECK(is_shutdown_error(91));
  CHECK_FALSE(is_shutdown_error(11602));
  for (int code : {0, 1, 6, 7, 89, 112, 251, 262, 9001, 11000, 13388}) CHECK_FALSE(is_state_change_error(code));
}

TEST_CASE("sdam error classes: messages are used only when the reply has no code") {
  CHECK(is_not_primary(std::nullopt, "not master"));
  CHECK(is_node_recovering(std::nullopt, "node is recovering"));
  CHECK(is_node_recovering(std::nullopt, "not master or secondary; cannot currently read"));
  CHECK_FALSE(is_not_primary(std::nullopt, "not master or secondary"));  // that is "recovering"
  CHECK_FALSE(is_state_change(std::nullopt, "duplicate key"));
  CHECK_FALSE(is_state_change(112, "not master"));  // a code wins over the message
  CHECK(is_state_change(10107, "anything"));
}

TEST_CASE(
    "sdam: state change errors mark the server Unknown; the pool is cleared only for shutdown errors (SDAM errors/*)") {
  struct row {
    int code;
    int wire;
    bool clear;
  };
  const row rows[] = {
      {10107, 21, false}, {13435, 21, false}, {10058, 21, false}, {11602, 21, false},
      {13436, 21, false}, {189, 21, false},   {11600, 21, true},  {91, 21, true},
      {10107, 7, false},  {11602, 7, false},  {13435, 8, false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.code);
    CAPTURE(r.wire);
    auto t = rs_with_primary();
    const auto response = t.handle_application_error(command_error(r.code, "step down", r.wire));
    CHECK_FALSE(response.ignored);
    CHECK(response.marked_unknown);
    CHECK(response.clear_pool == r.clear);
    CHECK(response.request_immediate_check);
    CHECK_FALSE(response.cancel_monitor_check);
    CHECK(type_of(t, "a:27017") == server_type::unknown);
    CHECK(t.type() == topology_type::replica_set_no_primary);
    CHECK(t.find(addr("a"))->error.find("step down") != std::string::npos);
  }
}

TEST_CASE("sdam: other command errors leave the topology alone (SDAM errors/*)") {
  for (int code : {112, 11000, 251, 6, 89, 9001, 50}) {
    CAPTURE(code);
    auto t = rs_with_primary();
    const auto response = t.handle_application_error(command_error(code, "not master"));
    CHECK_FALSE(response.marked_unknown);
    CHECK_FALSE(response.clear_pool);
    CHECK(type_of(t, "a:27017") == server_type::rs_primary);
  }
  auto t = rs_with_primary();
  CHECK(t.handle_application_error(command_error(std::nullopt, "not master")).marked_unknown);
  t = rs_with_primary();
  CHECK(t.handle_application_error(command_error(std::nullopt, "node is recovering")).marked_unknown);
  t = rs_with_primary();
  CHECK_FALSE(t.handle_application_error(command_error(std::nullopt, "some other problem")).marked_unknown);
}

TEST_CASE("sdam: errors from connections older than the pool's generation are ignored (errors/stale-generation-*)") {
  auto t = rs_with_primary();
  auto err = command_error(10107);
  err.connection_generation = 1;
  err.pool_generation = 2;
  CHECK(t.handle_application_error(err).ignored);
  CHECK(type_of(t, "a:27017") == server_type::rs_primary);
  err.kind = error_kind::network;
  CHECK(t.handle_application_error(err).ignored);
  err.connection_generation = 2;
  CHECK_FALSE(t.handle_application_error(err).ignored);
}

TEST_CASE(
    "sdam: state change errors with a topologyVersion not newer than the server's are ignored "
    "(rs/topology_version_error_handling)") {
  auto tv = [](int process, int counter) {
    topology_version v;
    v.process_id.bytes[11] = static_cast<std::uint8_t>(process);
    v.counter = counter;
    return v;
  };
  auto t = rs_with_primary();  // server at process 1, counter 1
  auto err = command_error(10107);
  err.topology_version = tv(1, 0);
  CHECK(t.handle_application_error(err).ignored);
  err.topology_version = tv(1, 1);
  CHECK(t.handle_application_error(err).ignored);
  CHECK(type_of(t, "a:27017") == server_type::rs_primary);
  err.topology_version = tv(1, 2);
  const auto response = t.handle_application_error(err);
  CHECK(response.marked_unknown);
  REQUIRE(t.find(addr("a"))->topology_version);
  CHECK(t.find(addr("a"))->topology_version->counter == 2);  // stored with the Unknown description
  // The same error again is now stale.
  CHECK(t.handle_application_error(err).ignored);
  // Another process id is assumed newer.
  err.topology_version = tv(2, 0);
  CHECK_FALSE(t.handle_application_error(err).ignored);
}

TEST_CASE(
    "sdam: network errors mark Unknown and clear the pool; timeouts only before the handshake (SDAM network error)") {
  struct row {
    error_kind kind;
    bool completed_handshake;
    bool marks_unknown;
  };
  const row rows[] = {
      {error_kind::network, true, true},
      {error_kind::network, false, true},
      {error_kind::network_timeout, true, false},
      {error_kind::network_timeout, false, true},
      {error_kind::auth, false, true},
  };
  for (const auto& r : rows) {
    CAPTURE(static_cast<int>(r.kind));
    CAPTURE(r.completed_handshake);
    auto t = rs_with_primary();
    application_error err;
    err.address = addr("a");
    err.kind = r.kind;
    err.completed_handshake = r.completed_handshake;
    err.message = "connection reset by peer";
    const auto response = t.handle_application_error(err);
    CHECK(response.marked_unknown == r.marks_unknown);
    CHECK(response.clear_pool == r.marks_unknown);
    CHECK(response.cancel_monitor_check == r.marks_unknown);
    CHECK_FALSE(response.request_immediate_check);
    CHECK((type_of(t, "a:27017") == server_type::unknown) == r.marks_unknown);
    CHECK((t.type() == topology_type::replica_set_no_primary) == r.marks_unknown);
  }
}

TEST_CASE(
    "sdam: any error before the handshake completes marks Unknown, unless labelled SystemOverloadedError (SDAM "
    "handleError)") {
  auto t = rs_with_primary();
  auto err = command_error(18, "Authentication failed");
  err.completed_handshake = false;
  auto response = t.handle_application_error(err);
  CHECK(response.marked_unknown);
  CHECK(response.clear_pool);
  CHECK(type_of(t, "a:27017") == server_type::unknown);

  t = rs_with_primary();
  application_error net;
  net.address = addr("a");
  net.kind = error_kind::network_timeout;
  net.completed_handshake = false;
  net.system_overloaded = true;  // CMAP "Backpressure-enabled" pools label establishment errors
  response = t.handle_application_error(net);
  CHECK_FALSE(response.ignored);
  CHECK_FALSE(response.marked_unknown);
  CHECK_FALSE(response.clear_pool);
  CHECK(type_of(t, "a:27017") == server_type::rs_primary);

  const auto labelled = command_error_from_reply(
      addr("a"),
      bson::document::from_json(R"({"ok": 0, "code": 6, "errmsg": "x", "errorLabels": ["SystemOverloadedError"]})"));
  REQUIRE(labelled);
  CHECK(labelled->system_overloaded);
  CHECK_FALSE(
      command_error_from_reply(addr("a"), bson::document::from_json(R"({"ok": 0, "code": 6})"))->system_overloaded);
}

TEST_CASE("sdam: errors for servers not in the topology are ignored") {
  auto t = rs_with_primary();
  auto err = command_error(10107);
  err.address = addr("z");
  CHECK(t.handle_application_error(err).ignored);
}

TEST_CASE(
    "sdam: in load-balanced mode servers are never marked Unknown; pools are cleared per serviceId "
    "(load-balancers.md)") {
  auto t = topology("mongodb://a/?loadBalanced=true");
  auto response = t.handle_application_error(command_error(91));
  CHECK_FALSE(response.marked_unknown);
  CHECK(response.clear_pool);
  CHECK_FALSE(response.request_immediate_check);
  response = t.handle_application_error(command_error(10107));
  CHECK_FALSE(response.clear_pool);
  application_error net;
  net.address = addr("a");
  net.kind = error_kind::network;
  CHECK_FALSE(t.handle_application_error(net).clear_pool);  // no serviceId: nothing to clear
  net.service_id = bson::object_id{};
  response = t.handle_application_error(net);
  CHECK(response.clear_pool);
  CHECK_FALSE(response.marked_unknown);
  CHECK(type_of(t, "a:27017") == server_type::load_balancer);
}

TEST_CASE("sdam: the error of a reply is the top-level one, else the writeConcernError; writeErrors are not checked") {
  auto err = command_error_from_reply(
      addr("a"),
      bson::document::from_json(
          R"({"ok": 0, "code": 10107, "errmsg": "not primary", "topologyVersion": {"processId": {"$oid": "000000000000000000000001"}, "counter": {"$numberLong": "3"}}})"));
  REQUIRE(err);
  CHECK(err->code == 10107);
  CHECK(err->message == "not primary");
  CHECK(err->topology_version->counter == 3);
  CHECK(err->kind == error_kind::command);

  err = command_error_from_reply(
      addr("a"),
      bson::document::from_json(R"({"ok": 1, "writeConcernError": {"code": 91, "errmsg": "shutting down"}})"));
  REQUIRE(err);
  CHECK(err->code == 91);
  CHECK(err->message == "shutting down");

  CHECK_FALSE(command_error_from_reply(
      addr("a"),
      bson::document::from_json(R"({"ok": 1, "writeErrors": [{"index": 0, "code": 10107, "errmsg": "not master"}]})")));
  CHECK_FALSE(command_error_from_reply(addr("a"), bson::document::from_json(R"({"ok": 1})")));

  err = command_error_from_reply(addr("a"), bson::document::from_json(R"({"ok": 0, "errmsg": "not master"})"));
  REQUIRE(err);
  CHECK_FALSE(err->code);
  CHECK(is_state_change(err->code, err->message));

  err =
      command_error_from_reply(addr("a"), bson::document::from_json(R"({"ok": 0, "code": "x", "topologyVersion": 1})"));
  REQUIRE(err);
  CHECK_FALSE(err->code);
  CHECK_FALSE(err->topology_version);
}

TEST_CASE("sdam: a write concern state change error from a reply drives the same handling (SDAM writeConcernError)") {
  auto t = rs_with_primary();
  auto err = command_error_from_reply(
      addr("a"), bson::document::from_json(
                     R"({"ok": 1, "writeConcernError": {"code": 11600, "errmsg": "interrupted at shutdown"}})"));
  REQUIRE(err);
  err->max_wire_version = 21;
  const auto response = t.handle_application_error(*err);
  CHECK(response.marked_unknown);
  CHECK(response.clear_pool);
  CHECK(t.find(addr("a"))->error.find("InterruptedAtShutdown (11600): interrupted at shutdown") != std::string::npos);
}
