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
  REQUIRE(ok(rs.on_primary(R"({"dropIndexes": "c", "index": "x_1"})")));
  indexes = rs.on_secondary(R"({"listIndexes": "c", "$readPreference": {"mode": "secondaryPreferred"}})");
  CHECK(first_batch(indexes).size() == 1);

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

namespace {

// An election in `rs`: the primary steps down, the secondary (which catches up on the old
// primary's oplog first) wins term 2, and the old primary replicates from it.
void fail_over(replica_pair& rs) {
  rs.primary.set_replica_state(member_role::secondary, "", 1);
  rs.secondary.set_replica_state(member_role::primary, "", 2);
  rs.secondary.set_sync_source(nullptr);
  rs.primary.set_sync_source(&rs.secondary);
}

std::string in_transaction(const std::string& body, long long txn, bool start = false) {
  return "{" + body + ", " + session_fields(0, txn) + (start ? R"(, "startTransaction": true)" : "") +
         R"(, "autocommit": false})";
}

std::optional<std::int64_t> field_n(const bson::document& doc) { return doc["n"].as_integer(); }

}  // namespace

// transactions.md "Retrying commitTransaction": a commit whose reply was lost is committed again
// on whichever member is primary now; mongod's new primary knows the outcome from the
// replicated config.transactions record.
TEST_CASE("replication: a new primary answers a retried commit of a transaction the old primary committed with ok") {
  replica_pair rs(60'000ms);  // only the election's catch-up brings the commit over
  REQUIRE(ok(rs.on_primary(R"({"insert": "c", "documents": [{"_id": 1, "n": 0}], "writeConcern": {"w": 1}})")));
  REQUIRE(ok(rs.on_primary(
      in_transaction(R"("update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}])", 7, true))));
  const std::string commit = in_transaction(R"("commitTransaction": 1, "$db": "admin", "writeConcern": {"w": 1})", 7);
  REQUIRE(ok(rs.on_primary(commit)));
  fail_over(rs);
  auto retried = rs.on_secondary(commit);  // the new primary
  CHECK_MESSAGE(ok(retried), retried.to_json());
  auto found = rs.on_secondary(R"({"find": "c"})");
  CHECK(first_batch(found) == std::vector<std::string>{R"({ "_id" : 1, "n" : 1 })"});
  // The record also says what may no longer run: the committed transaction's statements, and
  // any older txnNumber (TransactionCommitted 256, TransactionTooOld 225).
  auto statement = rs.on_secondary(in_transaction(R"("find": "c")", 7));
  CHECK(code_of(statement) == 256);
  CHECK(code_of(rs.on_secondary(in_transaction(R"("abortTransaction": 1, "$db": "admin")", 7))) == 256);
  CHECK(code_of(rs.on_secondary(in_transaction(R"("find": "c")", 6, true))) == 225);
  CHECK(code_of(rs.on_secondary("{" + std::string(R"("insert": "c", "documents": [{"_id": 2}], )") +
                                session_fields(0, 5) + "}")) == 225);
}

TEST_CASE(
    "replication: a transaction the old primary had not committed is unknown to the new one (NoSuchTransaction)") {
  replica_pair rs(0ms);
  const std::string s = session_fields(2, 3);
  REQUIRE(ok(rs.on_primary(
      R"({"insert": "c", "documents": [{"_id": 1}], "startTransaction": true, "autocommit": false, )" + s + "}")));
  fail_over(rs);
  auto commit = rs.on_secondary(R"({"commitTransaction": 1, "$db": "admin", "autocommit": false, )" + s + "}");
  CHECK(code_of(commit) == 251);
  CHECK(has_label(commit, "TransientTransactionError"));
  CHECK(first_batch(rs.on_secondary(R"({"find": "c"})")).empty());
}

// retryable-writes.md: a retry after a failover must not run the write again; mongod's new
// primary answers it from the records its applier wrote (jstests retryable_write_failover).
TEST_CASE("replication: a retryable write retried on a new primary returns the recorded result, not a second write") {
  replica_pair rs(60'000ms);
  const std::string insert =
      R"({"insert": "c", "documents": [{"x": 1}, {"x": 2}], "writeConcern": {"w": 1}, )" + session_fields(1, 5) + "}";
  const std::string update =
      R"({"update": "c", "updates": [{"q": {"x": 1}, "u": {"$inc": {"y": 1}}},
                                      {"q": {"x": 3}, "u": {"$set": {"y": 0}}, "upsert": true}],
          "writeConcern": {"w": 1}, )" +
      session_fields(2, 5) + "}";
  const std::string fam = R"({"findAndModify": "c", "query": {"x": 2}, "update": {"$inc": {"y": 10}}, "new": true,
                              "writeConcern": {"w": 1}, )" +
                          session_fields(3, 5) + "}";
  auto inserted = rs.on_primary(insert);
  auto updated = rs.on_primary(update);
  auto modified = rs.on_primary(fam);
  REQUIRE(ok(inserted));
  REQUIRE(ok(updated));
  REQUIRE(ok(modified));
  fail_over(rs);
  // The replicated records belong to no session the new primary's cache has seen.
  auto listed = rs.on_secondary(R"({"aggregate": 1, "pipeline": [{"$listLocalSessions": {}}], "cursor": {},
                                    "$db": "admin"})");
  REQUIRE_MESSAGE(ok(listed), listed.to_json());
  CHECK(first_batch(listed).empty());

  auto retried_insert = rs.on_secondary(insert);
  auto retried_update = rs.on_secondary(update);
  auto retried_fam = rs.on_secondary(fam);
  REQUIRE_MESSAGE(ok(retried_insert), retried_insert.to_json());
  CHECK(field_n(retried_insert) == 2);
  CHECK(retried_insert.get_view().find_path("retriedStmtIds.1").as_int32() == 1);
  REQUIRE_MESSAGE(ok(retried_update), retried_update.to_json());
  CHECK(field_n(retried_update) == field_n(updated));
  CHECK(retried_update["nModified"].as_integer() == updated["nModified"].as_integer());
  REQUIRE(updated.get_view().find_path("upserted.0._id").as_oid());
  CHECK(retried_update.get_view().find_path("upserted.0._id").as_oid() ==
        updated.get_view().find_path("upserted.0._id").as_oid());
  REQUIRE_MESSAGE(ok(retried_fam), retried_fam.to_json());
  CHECK(retried_fam.get_view().find_path("value.y").as_integer() == 10);
  auto found = rs.on_secondary(R"({"find": "c", "sort": {"x": 1}, "projection": {"_id": 0}})");
  CHECK(first_batch(found) ==
        std::vector<std::string>{R"({ "x" : 1, "y" : 1 })", R"({ "x" : 2, "y" : 10 })", R"({ "x" : 3, "y" : 0 })"});
  CHECK(code_of(rs.on_secondary(R"({"insert": "c", "documents": [{"x": 4}], )" + session_fields(1, 4) + "}")) == 225);
}
