// Replication between test-server members: a secondary applies its sync source's committed
// writes replication_lag after their commit, serves them to reads that allow a secondary,
// reports them in hello's lastWrite, and makes afterClusterTime reads wait (causal
// consistency); a primary's w: "majority" waits for the lag; failover keeps the data.
#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;
using namespace std::chrono_literals;

namespace {

// A primary "a:1" and a secondary "b:2" replicating from it, on one injected clock.
struct replica_pair {
  std::chrono::system_clock::time_point now{std::chrono::seconds(1'700'000'000)};
  server_core primary;
  server_core secondary;
  connection_context to_primary;
  connection_context to_secondary;

  explicit replica_pair(std::chrono::milliseconds lag)
      : primary(options(member_role::primary, lag, "a:1")),
        secondary(options(member_role::secondary, lag, "b:2")),
        to_primary(primary.open_connection()),
        to_secondary(secondary.open_connection()) {
    secondary.set_sync_source(&primary);
  }

  server_options options(member_role role, std::chrono::milliseconds lag, const char* me) {
    server_options o;
    o.clock = [this] { return now; };
    o.role = role;
    o.replication_lag = lag;
    o.hosts = {"a:1", "b:2"};
    o.me = me;
    o.primary = "a:1";
    return o;
  }

  static bson::document command(const std::string& json) {
    auto body = bson::document::from_json(json);
    if (!body.get_view().contains("$db")) body.append("$db", "test");
    return body;
  }
  bson::document on_primary(const std::string& json) { return primary.handle(command(json), {}, to_primary); }
  bson::document on_secondary(const std::string& json) { return secondary.handle(command(json), {}, to_secondary); }
  // What a find with a secondary read preference returns on the secondary.
  std::vector<std::string> secondary_find(const std::string& coll = "c") {
    auto reply = on_secondary(R"({"find": ")" + coll + R"(", "$readPreference": {"mode": "secondary"}})");
    REQUIRE_MESSAGE(ok(reply), reply.to_json());
    return first_batch(reply);
  }
};

bson::timestamp operation_time(const bson::document& reply) {
  auto t = reply["operationTime"].as_timestamp();
  REQUIRE(t);
  return *t;
}

// A date field as milliseconds since the epoch (canonical extended JSON, which bson::element
// has no accessor for).
std::int64_t date_ms(const bson::document& reply, const char* path) {
  bson::document holder;
  holder.append("d", reply.get_view().find_path(path));
  auto json = holder.to_json();  // { "d" : { "$date" : { "$numberLong" : "..." } } }
  auto digits = json.find_first_of("0123456789");
  REQUIRE(digits != std::string::npos);
  return std::stoll(json.substr(digits));
}

std::string after_cluster_time(bson::timestamp t) {
  return R"({"$timestamp": {"t": )" + std::to_string(t.t) + R"(, "i": )" + std::to_string(t.i) + "}}";
}

}  // namespace

TEST_CASE("replication: a secondary applies the primary's writes, DDL and transactions (lag 0)") {
  replica_pair rs(0ms);
  REQUIRE(ok(rs.on_primary(R"({"insert": "c", "documents": [{"_id": 1, "x": 1}, {"_id": 2, "x": 2}]})")));
  REQUIRE(ok(rs.on_primary(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"x": 10}}}]})")));
  REQUIRE(ok(rs.on_primary(R"({"delete": "c", "deletes": [{"q": {"_id": 2}, "limit": 1}]})")));
  CHECK(rs.secondary_find() == std::vector<std::string>{R"({ "_id" : 1, "x" : 10 })"});

  REQUIRE(
      ok(rs.on_primary(R"({"createIndexes": "c", "indexes": [{"key": {"x": 1}, "name": "x_1", "unique": true}]})")));
  auto indexes = rs.on_secondary(R"({"listIndexes": "c", "$readPreference": {"mode": "secondaryPreferred"}})");
  CHECK(first_batch(indexes).size() == 2);

  // A transaction's writes reach the secondary at its commit, all at once.
  const std::string s = session_fields(0, 1);
  REQUIRE(ok(rs.on_primary(R"({"insert": "d", "documents": [{"_id": 1}], )" + s +
                           R"(, "startTransaction": true, "autocommit": false})")));
  REQUIRE(ok(rs.on_primary(R"({"insert": "d", "documents": [{"_id": 2}], )" + s + R"(, "autocommit": false})")));
  CHECK(rs.secondary_find("d").empty());
  auto commit =
      bson::document::from_json(R"({"commitTransaction": 1, "$db": "admin", )" + s + R"(, "autocommit": false})");
  REQUIRE(ok(rs.primary.handle(commit, {}, rs.to_primary)));
  CHECK(rs.secondary_find("d").size() == 2);

  REQUIRE(ok(rs.on_primary(R"({"drop": "c"})")));
  CHECK(rs.secondary_find().empty());
  auto names = rs.on_secondary(R"({"listCollections": 1, "nameOnly": true, "$readPreference": {"mode": "nearest"}})");
  CHECK(first_batch(names) == std::vector<std::string>{R"({ "name" : "d", "type" : "collection" })"});
}

TEST_CASE("replication: a secondary refuses reads without a secondary read preference (NotPrimaryNoSecondaryOk)") {
  replica_pair rs(0ms);
  REQUIRE(ok(rs.on_primary(R"({"insert": "c", "documents": [{"_id": 1}]})")));
  auto refused = rs.on_secondary(R"({"find": "c"})");
  CHECK(code_of(refused) == 13435);
  refused = rs.on_secondary(R"({"find": "c", "$readPreference": {"mode": "primary"}})");
  CHECK(code_of(refused) == 13435);
  CHECK(code_of(rs.on_secondary(R"({"insert": "c", "documents": [{"_id": 2}]})")) == 10107);
  CHECK(rs.secondary_find().size() == 1);
}

TEST_CASE("replication: with a lag, the secondary serves the old data until the lag has passed") {
  replica_pair rs(500ms);
  REQUIRE(ok(rs.on_primary(R"({"insert": "c", "documents": [{"_id": 1}]})")));
  rs.now += 499ms;
  CHECK(rs.secondary_find().empty());
  rs.now += 1ms;
  CHECK(rs.secondary_find().size() == 1);
}

TEST_CASE("replication: hello on a secondary reports the last applied write (lastWrite, for maxStalenessSeconds)") {
  replica_pair rs(1000ms);
  REQUIRE(ok(rs.on_primary(R"({"insert": "c", "documents": [{"_id": 1}]})")));
  const auto first_write_ms = std::chrono::duration_cast<std::chrono::milliseconds>(rs.now.time_since_epoch()).count();
  rs.now += 1500ms;
  auto write = rs.on_primary(R"({"insert": "c", "documents": [{"_id": 2}]})");
  const auto second_write_ms = first_write_ms + 1500;
  auto primary_hello = rs.on_primary(R"({"hello": 1})");
  auto secondary_hello = rs.on_secondary(R"({"hello": 1})");
  CHECK(date_ms(primary_hello, "lastWrite.lastWriteDate") == second_write_ms);
  CHECK(primary_hello.get_view().find_path("lastWrite.opTime.ts").as_timestamp() == operation_time(write));
  // The secondary has applied the first write only: it is 1.5 s behind.
  CHECK(date_ms(secondary_hello, "lastWrite.lastWriteDate") == first_write_ms);
  CHECK(secondary_hello.get_view().find_path("lastWrite.opTime.ts").as_timestamp() < operation_time(write));
}

TEST_CASE("replication: an afterClusterTime read on a lagging secondary waits until it has applied that time") {
  replica_pair rs(1000ms);
  auto write = rs.on_primary(R"({"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 1}})");
  CHECK(rs.to_primary.block_ms == 0);  // w: 1 does not wait for the secondary
  const std::string read =
      R"({"find": "c", "$readPreference": {"mode": "secondary"}, "readConcern": {"afterClusterTime": )" +
      after_cluster_time(operation_time(write)) + "}}";
  auto reply = rs.on_secondary(read);
  CHECK(reply.get_view().empty());  // no reply yet: the network layer waits and runs it again
  CHECK(rs.to_secondary.run_again);
  CHECK(rs.to_secondary.block_ms == 1000);
  rs.now += 1000ms;
  reply = rs.on_secondary(read);
  REQUIRE(ok(reply));
  CHECK(first_batch(reply).size() == 1);
  CHECK_FALSE(rs.to_secondary.run_again);
  CHECK(operation_time(reply) == operation_time(write));
}

TEST_CASE("replication: a cluster-time wait on a secondary ends with MaxTimeMSExpired after maxTimeMS") {
  replica_pair rs(1000ms);
  auto write = rs.on_primary(R"({"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 1}})");
  const std::string read = R"({"find": "c", "maxTimeMS": 300, "$readPreference": {"mode": "secondary"}, )"
                           R"("readConcern": {"afterClusterTime": )" +
                           after_cluster_time(operation_time(write)) + "}}";
  CHECK(rs.on_secondary(read).get_view().empty());
  CHECK(rs.to_secondary.block_ms == 300);
  rs.now += 300ms;
  auto reply = rs.on_secondary(read);
  CHECK(code_of(reply) == 50);
  CHECK(reply["codeName"].as_string() == std::optional<std::string_view>("MaxTimeMSExpired"));
  CHECK_FALSE(rs.to_secondary.run_again);
}

TEST_CASE("replication: a write concern that needs a secondary waits for the lag (w: majority, the default)") {
  replica_pair rs(250ms);
  REQUIRE(ok(rs.on_primary(R"({"insert": "c", "documents": [{"_id": 1}]})")));
  CHECK(rs.to_primary.block_ms == 250);
  REQUIRE(ok(rs.on_primary(R"({"insert": "c", "documents": [{"_id": 2}], "writeConcern": {"w": "majority"}})")));
  CHECK(rs.to_primary.block_ms == 250);
  REQUIRE(ok(rs.on_primary(R"({"insert": "c", "documents": [{"_id": 3}], "writeConcern": {"w": 1}})")));
  CHECK(rs.to_primary.block_ms == 0);
  REQUIRE(ok(rs.on_primary(R"({"find": "c"})")));
  CHECK(rs.to_primary.block_ms == 0);
}

TEST_CASE("replication: a new primary catches up on its old primary's writes; the old one then replicates from it") {
  replica_pair rs(60'000ms);  // nothing would be applied by the lag alone
  REQUIRE(ok(rs.on_primary(R"({"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 1}})")));
  rs.primary.set_replica_state(member_role::secondary, "", 1);
  rs.secondary.set_replica_state(member_role::primary, "", 2);
  rs.secondary.set_sync_source(nullptr);
  rs.primary.set_sync_source(&rs.secondary);
  auto found = rs.on_secondary(R"({"find": "c"})");  // the new primary
  REQUIRE(ok(found));
  CHECK(first_batch(found).size() == 1);
  REQUIRE(ok(rs.on_secondary(R"({"insert": "c", "documents": [{"_id": 2}], "writeConcern": {"w": 1}})")));
  rs.now += 60'000ms;
  auto old_primary = rs.on_primary(R"({"find": "c", "$readPreference": {"mode": "secondary"}})");
  REQUIRE(ok(old_primary));
  CHECK(first_batch(old_primary).size() == 2);  // its own write once, the new primary's write once
}

TEST_CASE(
    "replication: replSetStepDown on a set of one needs force (ExceededTimeLimit 262); replSetFreeze a secondary") {
  harness h;
  CHECK(code_of(h.admin(R"({"replSetStepDown": 10})")) == 262);
  CHECK(code_of(h.admin(R"({"replSetStepDown": 10, "secondaryCatchUpPeriodSecs": 20})")) == 2);
  CHECK(code_of(h.admin(R"({"replSetFreeze": 10})")) == 95);  // NotSecondary: it is primary
  REQUIRE(ok(h.admin(R"({"replSetStepDown": 10, "force": true})")));
  CHECK(h.admin(R"({"hello": 1})")["isWritablePrimary"].as_bool() == false);
  CHECK(code_of(h.admin(R"({"replSetStepDown": 10, "force": true})")) == 10107);
  CHECK(h.server.electable());
  REQUIRE(ok(h.admin(R"({"replSetFreeze": 30})")));
  CHECK_FALSE(h.server.electable());
  h.now += std::chrono::seconds(30);
  CHECK(h.server.electable());
  REQUIRE(ok(h.admin(R"({"replSetFreeze": 30})")));
  auto unfrozen = h.admin(R"({"replSetFreeze": 0})");
  CHECK(unfrozen["info"].as_string() == std::optional<std::string_view>("unfreezing"));
  CHECK(h.server.electable());
}
