// The test server as mongos routers over one shared store (server_options::sharded).
#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

namespace {

// Two routers (connections tagged router 0 and 1) over one sharded core.
struct cluster : harness {
  connection_context router1;
  cluster()
      : harness([] {
          server_options o;
          o.sharded = true;
          return o;
        }()),
        router1(server.open_connection()) {
    router1.router = 1;
  }
};

std::string in_txn(const std::string& body, long long txn, bool first = false) {
  return "{" + body + ", " + session_fields(1, txn) + R"(, "autocommit": false)" +
         (first ? R"(, "startTransaction": true)" : "") + "}";
}
constexpr const char* recovery_token = R"("recoveryToken": {"recoveryShardId": "shard0"})";

}  // namespace

TEST_CASE("a router's hello says isdbgrid without replica-set fields, with sessions and the wire version") {
  cluster c;
  auto r = c.run(R"({"hello": 1})");
  REQUIRE(ok(r));
  CHECK(r["msg"].as_string() == std::optional<std::string_view>("isdbgrid"));
  CHECK(r["isWritablePrimary"].as_bool() == true);
  for (auto field : {"setName", "hosts", "me", "primary", "secondary", "electionId", "lastWrite"})
    CHECK_FALSE(r[field]);
  CHECK(r["logicalSessionTimeoutMinutes"].as_int32() == 30);
  CHECK(r["maxWireVersion"].as_int32() == server_options{}.max_wire_version);
}

TEST_CASE("replies in a transaction carry a recoveryToken; replies outside one do not") {
  cluster c;
  auto first = c.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, true));
  REQUIRE(ok(first));
  CHECK(first["recoveryToken"].is_document());
  CHECK(first.get_view().find_path("recoveryToken.recoveryShardId").as_string() ==
        std::optional<std::string_view>("shard0"));
  CHECK_FALSE(c.run(R"({"insert": "c", "documents": [{"_id": 2}]})")["recoveryToken"]);
}

TEST_CASE("a statement reaching a router that did not start the transaction fails with NoSuchTransaction") {
  cluster c;
  REQUIRE(ok(c.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, true))));
  auto r = c.run(in_txn(R"("insert": "c", "documents": [{"_id": 2}])", 1), &c.router1);
  CHECK(code_of(r) == 251);
  CHECK(has_label(r, "TransientTransactionError"));
  // The starting router still runs it: the transaction lives on.
  CHECK(ok(c.run(in_txn(R"("insert": "c", "documents": [{"_id": 3}])", 1))));
}

TEST_CASE("commitTransaction with a recoveryToken on another router returns the commit decision") {
  cluster c;
  REQUIRE(ok(c.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, true))));
  CHECK(code_of(c.run(in_txn(R"("commitTransaction": 1)", 1), &c.router1)) == 251);  // no token
  REQUIRE(ok(c.run(in_txn(R"("commitTransaction": 1)", 1))));
  const auto commit_with_token = in_txn(std::string(R"("commitTransaction": 1, )") + recovery_token, 1);
  CHECK(ok(c.run(commit_with_token, &c.router1)));
  CHECK(first_batch(c.run(R"({"find": "c"})", &c.router1)) == std::vector<std::string>{R"({ "_id" : 1 })"});
}

TEST_CASE("commitTransaction with a recoveryToken for an undecided transaction aborts it with NoSuchTransaction") {
  cluster c;
  REQUIRE(ok(c.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, true))));
  auto r = c.run(in_txn(std::string(R"("commitTransaction": 1, )") + recovery_token, 1), &c.router1);
  CHECK(code_of(r) == 251);
  CHECK(has_label(r, "TransientTransactionError"));
  CHECK(code_of(c.run(in_txn(R"("commitTransaction": 1)", 1))) == 251);
  CHECK(first_batch(c.run(R"({"find": "c"})")).empty());
}

TEST_CASE("a statement failed by failCommand leaves the transaction open on its router") {
  // mongos-pin-auto.json: after a non-transient error the pinned router still commits.
  cluster c;
  REQUIRE(ok(c.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, true))));
  REQUIRE(ok(c.admin(R"({"configureFailPoint": "failCommand", "mode": {"times": 1},
      "data": {"failCommands": ["insert"], "errorCode": 11601}})")));
  CHECK(code_of(c.run(in_txn(R"("insert": "c", "documents": [{"_id": 2}])", 1))) == 11601);
  CHECK(ok(c.run(in_txn(R"("commitTransaction": 1)", 1))));
}

TEST_CASE("abortTransaction with a recoveryToken aborts on another router") {
  cluster c;
  REQUIRE(ok(c.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, true))));
  CHECK(code_of(c.run(in_txn(R"("abortTransaction": 1)", 1), &c.router1)) == 251);
  REQUIRE(ok(c.run(in_txn(std::string(R"("abortTransaction": 1, )") + recovery_token, 1), &c.router1)));
  CHECK(first_batch(c.run(R"({"find": "c"})")).empty());
  CHECK(code_of(c.run(in_txn(R"("commitTransaction": 1)", 1))) == 251);
}

TEST_CASE("failCommand is per router: a fail point set on one router leaves the other alone") {
  cluster c;
  auto set = c.server.handle(bson::document::from_json(R"({"configureFailPoint": "failCommand", "mode": "alwaysOn",
      "data": {"failCommands": ["find"], "errorCode": 91}, "$db": "admin"})"),
                             {}, c.router1);
  REQUIRE(ok(set));
  CHECK(code_of(c.run(R"({"find": "c"})", &c.router1)) == 91);
  CHECK(ok(c.run(R"({"find": "c"})")));
}

TEST_CASE("a retryable write retried through another router is answered from the shared record") {
  cluster c;
  const std::string write =
      "{" + std::string(R"("insert": "c", "documents": [{"_id": 1}], )") + session_fields(2, 7) + "}";
  REQUIRE(ok(c.run(write)));
  auto retry = c.run(write, &c.router1);
  REQUIRE(ok(retry));
  CHECK(retry["n"].as_int32() == 1);
  CHECK(retry["retriedStmtIds"].is_array());
}

TEST_CASE("load-balancers.md: a mongos behind a load balancer answers the first hello with serviceId") {
  server_options o;
  o.sharded = true;
  o.load_balanced = true;
  harness h(o);
  auto first = h.run(R"({"hello": 1, "loadBalanced": true})");
  REQUIRE(ok(first));
  CHECK(first["msg"].as_string() == std::optional<std::string_view>("isdbgrid"));
  const auto service = first["serviceId"].as_oid();
  REQUIRE(service);
  // mongos load_balancer_support::handleHello: only a connection's first hello is special.
  auto again = h.run(R"({"hello": 1})");
  REQUIRE(ok(again));
  CHECK_FALSE(again["serviceId"]);
  // Another connection reaches the same service.
  auto other = h.server.open_connection();
  CHECK(h.run(R"({"hello": 1, "loadBalanced": true})", &other)["serviceId"].as_oid() == service);
}

TEST_CASE("load-balancers.md: a first hello without loadBalanced fails with LoadBalancerSupportMismatch") {
  server_options o;
  o.sharded = true;
  o.load_balanced = true;
  harness h(o);
  auto r = h.run(R"({"hello": 1, "loadBalanced": false})");
  CHECK(code_of(r) == 354);
  CHECK(r["codeName"].as_string() == std::optional<std::string_view>("LoadBalancerSupportMismatch"));
}

TEST_CASE("a server not behind a load balancer ignores loadBalanced: true and sends no serviceId") {
  for (const bool sharded : {false, true}) {
    server_options o;
    o.sharded = sharded;
    harness h(o);
    auto r = h.run(R"({"hello": 1, "loadBalanced": true})");
    REQUIRE(ok(r));
    CHECK_FALSE(r["serviceId"]);
  }
}
