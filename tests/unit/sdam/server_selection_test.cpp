// Selection of a writable server (server-selection.md), used for writes and transactions.
#include "sdam_test_helpers.hpp"

using namespace sdam_test;

TEST_CASE("server selection: a replica set offers its primary, or nothing without one") {
  auto t = topology("mongodb://a,b/?replicaSet=rs");
  CHECK(select_writable(t).candidates.empty());
  reply(t, "b:27017", secondary_hello("", R"(["a:27017","b:27017"])"));
  CHECK(select_writable(t).candidates.empty());  // a secondary is never writable
  reply(t, "a:27017", primary_hello("", R"(["a:27017","b:27017"])"));
  const auto result = select_writable(t);
  CHECK(result.error.empty());
  CHECK(result.candidates == std::vector<host_address>{addr("a")});
}

TEST_CASE("server selection: Unknown topologies offer nothing") {
  auto t = topology("mongodb://a,b");
  CHECK(select_writable(t).candidates.empty());
  reply(t, "a:27017", R"({"ok": 1, "isreplicaset": true})");
  CHECK(select_writable(t).candidates.empty());
}

TEST_CASE("server selection: Single offers its server once it is known, whatever its type") {
  auto t = topology("mongodb://a/?directConnection=true");
  CHECK(select_writable(t).candidates.empty());
  reply(t, "a:27017", secondary_hello());
  CHECK(select_writable(t).candidates == std::vector<host_address>{addr("a")});
}

TEST_CASE("server selection: mongoses within localThresholdMS of the fastest are candidates (latency window)") {
  auto t = topology("mongodb://a,b,c");
  const std::string mongos = R"({"ok": 1, "isWritablePrimary": true, "msg": "isdbgrid"})";
  reply(t, "a:27017", mongos, 10.0);
  reply(t, "b:27017", mongos, 25.0);
  reply(t, "c:27017", mongos, 25.1);
  CHECK(select_writable(t, 15).candidates == std::vector<host_address>{addr("a"), addr("b")});
  CHECK(select_writable(t, 0).candidates == std::vector<host_address>{addr("a")});
  CHECK(select_writable(t, 100).candidates.size() == 3);
  t.apply_check_failure(addr("a"), "down");
  CHECK(select_writable(t, 15).candidates.size() == 2);
}

TEST_CASE("server selection: a load balancer is always the candidate") {
  const auto t = topology("mongodb://lb/?loadBalanced=true");
  CHECK(select_writable(t).candidates == std::vector<host_address>{addr("lb")});
}

TEST_CASE("server selection: an incompatible topology fails selection with the compatibility error") {
  auto t = topology("mongodb://a/?replicaSet=rs", client_min_wire_version);
  reply(t, "a:27017", primary_hello(R"(, "maxWireVersion": 6)", R"(["a:27017"])"));
  const auto result = select_writable(t);
  CHECK(result.candidates.empty());
  CHECK(result.error.find("requires at least 8 (MongoDB 4.2)") != std::string::npos);
}
