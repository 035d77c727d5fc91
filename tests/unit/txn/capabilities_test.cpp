// Which deployments can run sessions, retryable writes and transactions, and why not (issue 16
// "capability preflight"): one rule for the executor's refusal and client::capabilities.
// Sharded topologies of every wire version are tested here, on descriptions built from mongos
// hello replies (the engine test of the test server's sharded cluster covers a current one).
#include <doctest/doctest.h>

#include <string>

#include "proto/retry/retry_policy.hpp"
#include "proto/txn/capabilities.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

sdam::server_description server(sdam::server_type type, std::int32_t max_wire = 21, bool sessions = true) {
  sdam::server_description s;
  s.address = {"a", 27017};
  s.type = type;
  s.max_wire_version = max_wire;
  if (sessions) s.logical_session_timeout_minutes = 30;
  return s;
}

bool says(std::string_view reason, std::string_view part) { return reason.find(part) != std::string_view::npos; }

// A topology of mongoses a:27017 and b:27017 (min wire 0 so that old mongoses stay compatible,
// as a deployment this client does support would be).
sdam::topology_description sharded(std::int32_t max_wire, std::int32_t client_min_wire = 0) {
  auto settings = sdam::topology_settings::from(parse_uri("mongodb://a:27017,b:27017"));
  settings.min_wire_version = client_min_wire;
  sdam::topology_description t(std::move(settings));
  const std::string hello = R"({"ok": 1, "isWritablePrimary": true, "msg": "isdbgrid", "minWireVersion": 0,
      "logicalSessionTimeoutMinutes": 30, "maxWireVersion": )" +
                            std::to_string(max_wire) + "}";
  for (const char* host : {"a", "b"}) t.apply_hello({host, 27017}, bson::document::from_json(hello), 1.0);
  return t;
}

}  // namespace

TEST_CASE("issue 16 capability preflight: replica set members and mongoses of current versions can do everything") {
  for (auto type : {sdam::server_type::rs_primary, sdam::server_type::mongos, sdam::server_type::load_balancer}) {
    CAPTURE(sdam::to_string(type));
    const auto s = server(type);
    CHECK(sessions_unsupported_reason(s).empty());
    CHECK(retryable_writes_unsupported_reason(s).empty());
    CHECK(transactions_unsupported_reason(s).empty());
  }
}

TEST_CASE("issue 16 capability preflight: a standalone has sessions but no retryable writes or transactions") {
  const auto s = server(sdam::server_type::standalone);
  CHECK(sessions_unsupported_reason(s).empty());
  CHECK(says(retryable_writes_unsupported_reason(s), "standalone"));
  CHECK(says(transactions_unsupported_reason(s), "--replSet"));
  CHECK_FALSE(supports_retryable_writes(s));  // the executor's retryable-write decision: the same rule
}

TEST_CASE("issue 16 capability preflight: without logicalSessionTimeoutMinutes, or below wire 6, no sessions") {
  const auto no_field = server(sdam::server_type::rs_primary, 21, false);
  CHECK(says(sessions_unsupported_reason(no_field), "logicalSessionTimeoutMinutes"));
  CHECK(says(transactions_unsupported_reason(no_field), "sessions"));
  CHECK(says(retryable_writes_unsupported_reason(no_field), "sessions"));
  const auto mongodb_3_4 = server(sdam::server_type::rs_primary, 5);
  CHECK(says(sessions_unsupported_reason(mongodb_3_4), "3.6"));
  CHECK(says(transactions_unsupported_reason(mongodb_3_4), "sessions"));
}

TEST_CASE("transactions.md: replica-set transactions need wire 7 (MongoDB 4.0), sharded ones wire 8 (4.2)") {
  CHECK(says(transactions_unsupported_reason(server(sdam::server_type::rs_primary, 6)), "4.0"));
  CHECK(transactions_unsupported_reason(server(sdam::server_type::rs_primary, 7)).empty());
  CHECK(retryable_writes_unsupported_reason(server(sdam::server_type::rs_primary, 6)).empty());
  CHECK(says(transactions_unsupported_reason(server(sdam::server_type::mongos, 7)), "4.2"));
  CHECK(transactions_unsupported_reason(server(sdam::server_type::mongos, 8)).empty());
  CHECK(says(transactions_unsupported_reason(server(sdam::server_type::rs_arbiter)), "not a data-bearing"));
}

TEST_CASE("issue 16 capabilities: a sharded cluster of MongoDB 4.2 runs sharded transactions") {
  const auto t = sharded(8);
  REQUIRE(t.type() == sdam::topology_type::sharded);
  const auto c = assess_capabilities(t, t.find({"a", 27017}));
  CHECK(c.topology_type == "Sharded");
  CHECK(c.server == "a:27017");
  CHECK(c.server_type == "Mongos");
  CHECK(c.max_wire_version == 8);
  CHECK(c.logical_session_timeout_minutes == 30);
  CHECK(c.transactions);
  CHECK(c.sharded_transactions);
  CHECK(c.sharded_transactions_why_not.empty());
  CHECK(c.retryable_writes);
}

TEST_CASE("issue 16 capabilities: mongoses of MongoDB 4.0 (wire 7) have retryable writes but no transactions") {
  const auto t = sharded(7);
  const auto c = assess_capabilities(t, t.find({"a", 27017}));
  CHECK(c.retryable_writes);
  CHECK_FALSE(c.transactions);
  CHECK_FALSE(c.sharded_transactions);
  CHECK(says(c.sharded_transactions_why_not, "4.2"));
}

TEST_CASE("issue 16 capabilities: a replica set has transactions but no sharded transactions") {
  const auto s = server(sdam::server_type::rs_primary);
  CHECK(transactions_unsupported_reason(s).empty());
  CHECK(says(sharded_transactions_unsupported_reason(s), "not a sharded cluster"));
}

TEST_CASE("issue 16 capabilities: a deployment outside the client's wire versions has nothing, and says why") {
  const auto t = sharded(7, sdam::client_min_wire_version);
  REQUIRE_FALSE(t.compatible());
  const auto* judged = server_to_assess(t);
  REQUIRE(judged);
  const auto c = assess_capabilities(t, judged);
  CHECK_FALSE(c.compatible);
  CHECK(says(c.compatibility_error, "requires at least 8"));
  CHECK_FALSE(c.sessions);
  CHECK(c.sessions_why_not == c.compatibility_error);  // the rule itself has nothing against wire 7
  CHECK_FALSE(c.retryable_writes);
  CHECK(says(c.transactions_why_not, "4.2"));  // the rule's own reason comes first
}
