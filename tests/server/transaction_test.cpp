#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

namespace {

// A command in transaction `txn` of session `s`; `first` adds startTransaction.
std::string in_txn(const std::string& body, int s, long long txn, bool first = false) {
  return "{" + body + ", " + session_fields(s, txn) + R"(, "autocommit": false)" +
         (first ? R"(, "startTransaction": true)" : "") + "}";
}
std::string commit(int s, long long txn) { return in_txn(R"("commitTransaction": 1)", s, txn); }
std::string abort_txn(int s, long long txn) { return in_txn(R"("abortTransaction": 1)", s, txn); }

std::vector<std::string> ids_seen(harness& h, const std::string& cmd) {
  std::vector<std::string> out;
  auto r = h.run(cmd);
  auto batch = r.get_view().find_path("cursor.firstBatch");
  if (batch.is_array())
    for (auto d : bson::view(*batch.as_array()))
      out.push_back(std::to_string((*d.as_document())["_id"].as_int32().value_or(-1)));
  return out;
}

void seed_one(harness& h) { REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 1, "x": 1}]})"))); }

}  // namespace

TEST_CASE("a transaction reads the snapshot of its first operation plus its own writes") {
  harness h;
  seed_one(h);
  REQUIRE(ok(h.run(in_txn(R"("find": "c")", 1, 1, true))));             // snapshot taken here
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 2}]})")));  // committed after the snapshot
  REQUIRE(ok(h.run(in_txn(R"("insert": "c", "documents": [{"_id": 3}])", 1, 1))));
  CHECK(ids_seen(h, in_txn(R"("find": "c", "sort": {"_id": 1})", 1, 1)) == std::vector<std::string>{"1", "3"});
  // Outside readers never see uncommitted writes.
  CHECK(ids_seen(h, R"({"find": "c", "sort": {"_id": 1}})") == std::vector<std::string>{"1", "2"});
  REQUIRE(ok(h.run(commit(1, 1))));
  CHECK(ids_seen(h, R"({"find": "c", "sort": {"_id": 1}})") == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("commit applies all writes atomically at one cluster time") {
  harness h;
  seed_one(h);
  REQUIRE(ok(h.run(in_txn(R"("insert": "c", "documents": [{"_id": 2}])", 1, 1, true))));
  REQUIRE(ok(h.run(in_txn(R"("update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"x": 2}}}])", 1, 1))));
  REQUIRE(ok(h.run(in_txn(R"("delete": "c", "deletes": [{"q": {"_id": 2}, "limit": 1}])", 1, 1))));
  CHECK(first_batch(h.run(R"({"find": "c"})")) == std::vector<std::string>{R"({ "_id" : 1, "x" : 1 })"});
  auto r = h.run(commit(1, 1));
  REQUIRE(ok(r));
  CHECK(first_batch(h.run(R"({"find": "c"})")) == std::vector<std::string>{R"({ "_id" : 1, "x" : 2 })"});
}

TEST_CASE(
    "a second transaction writing a document modified by an uncommitted transaction fails at once with WriteConflict") {
  harness h;
  seed_one(h);
  REQUIRE(ok(h.run(in_txn(R"("update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"x": 10}}}])", 1, 1, true))));
  auto r = h.run(in_txn(R"("update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"x": 20}}}])", 2, 1, true));
  CHECK(r["ok"].as_double() == 0.0);
  CHECK(code_of(r) == 112);
  CHECK(r["codeName"].as_string() == "WriteConflict");
  CHECK(labels(r) == std::vector<std::string>{"TransientTransactionError"});
  REQUIRE(ok(h.run(commit(1, 1))));
  // The conflicting transaction was aborted by its failed statement (errors.json "write conflict commit").
  auto c2 = h.run(commit(2, 1));
  CHECK(code_of(c2) == 251);
  CHECK(has_label(c2, "TransientTransactionError"));
}

TEST_CASE("inserting an _id inserted by another open transaction is a WriteConflict") {
  harness h;
  REQUIRE(ok(h.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, 1, true))));
  auto r = h.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 2, 1, true));
  CHECK(code_of(r) == 112);
  CHECK(has_label(r, "TransientTransactionError"));
  REQUIRE(ok(h.run(commit(1, 1))));
  CHECK(ok(h.run(abort_txn(2, 1))) == false);  // already aborted by the conflict
}

TEST_CASE("writing a document committed by someone else after the snapshot is a WriteConflict") {
  harness h;
  seed_one(h);
  REQUIRE(ok(h.run(in_txn(R"("find": "c")", 1, 1, true))));
  REQUIRE(ok(h.run(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"x": 5}}}]})")));
  auto r = h.run(in_txn(R"("update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"x": 6}}}])", 1, 1));
  CHECK(code_of(r) == 112);
}

TEST_CASE(
    "commitTransaction is idempotent; abort after commit is TransactionCommitted; commit after abort is "
    "NoSuchTransaction") {
  harness h;
  REQUIRE(ok(h.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, 1, true))));
  REQUIRE(ok(h.run(commit(1, 1))));
  CHECK(ok(h.run(commit(1, 1))));
  auto a = h.run(abort_txn(1, 1));
  CHECK(code_of(a) == 256);
  CHECK(errmsg(a) == "Transaction 1 has been committed.");
  auto w = h.run(in_txn(R"("insert": "c", "documents": [{"_id": 2}])", 1, 1));
  CHECK(code_of(w) == 256);

  REQUIRE(ok(h.run(in_txn(R"("insert": "c", "documents": [{"_id": 3}])", 1, 2, true))));
  REQUIRE(ok(h.run(abort_txn(1, 2))));
  auto c = h.run(commit(1, 2));
  CHECK(code_of(c) == 251);
  CHECK(errmsg(c) == "Transaction 2 has been aborted.");
  CHECK(has_label(c, "TransientTransactionError"));
  CHECK(ids_seen(h, R"({"find": "c"})") == std::vector<std::string>{"1"});
}

TEST_CASE("txnNumber rules follow transaction_participant.cpp") {
  harness h;
  REQUIRE(ok(h.run(in_txn(R"("find": "c")", 1, 5, true))));
  SUBCASE("a lower txnNumber is TransactionTooOld") {
    auto r = h.run(in_txn(R"("find": "c")", 1, 4, true));
    CHECK(code_of(r) == 225);
    CHECK(r["codeName"].as_string() == "TransactionTooOld");
  }
  SUBCASE("continuing a transaction that was never started is NoSuchTransaction with TransientTransactionError") {
    auto r = h.run(in_txn(R"("find": "c")", 1, 6));
    CHECK(code_of(r) == 251);
    CHECK(errmsg(r) ==
          "Given transaction number 6 does not match any in-progress transactions. The active transaction number is 5");
    CHECK(labels(r) == std::vector<std::string>{"TransientTransactionError"});
    auto fresh = h.run(in_txn(R"("find": "c")", 2, 1));
    CHECK(code_of(fresh) == 251);
  }
  SUBCASE("starting again at the active txnNumber is ConflictingOperationInProgress on a replica set") {
    auto r = h.run(in_txn(R"("find": "c")", 1, 5, true));
    CHECK(code_of(r) == 117);
  }
  SUBCASE("a higher txnNumber starts a new transaction and aborts the open one") {
    REQUIRE(ok(h.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, 5))));
    REQUIRE(ok(h.run(in_txn(R"("find": "c")", 1, 6, true))));
    CHECK(code_of(h.run(commit(1, 5))) == 225);
    REQUIRE(ok(h.run(commit(1, 6))));
    CHECK(ids_seen(h, R"({"find": "c"})").empty());
  }
  SUBCASE("malformed session fields are InvalidOptions") {
    CHECK(code_of(h.run("{\"find\": \"c\", " + session_fields(1, 7) + R"(, "autocommit": true})")) == 72);
    CHECK(code_of(h.run("{\"find\": \"c\", " + session_fields(1, 7) + R"(, "startTransaction": true})")) == 72);
    CHECK(code_of(h.run(R"({"find": "c", "autocommit": false})")) == 72);
  }
}

TEST_CASE("a transaction past transactionLifetimeLimitSeconds is aborted") {
  server_options o;
  o.transaction_lifetime_limit = std::chrono::seconds(10);
  harness h(o);
  REQUIRE(ok(h.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, 1, true))));
  h.now += std::chrono::seconds(9);
  REQUIRE(ok(h.run(in_txn(R"("insert": "c", "documents": [{"_id": 2}])", 1, 1))));
  h.now += std::chrono::seconds(2);
  auto r = h.run(commit(1, 1));
  CHECK(code_of(r) == 251);
  CHECK(ids_seen(h, R"({"find": "c"})").empty());
  // Its locks are released: others can write the same documents.
  CHECK(h.run(R"({"insert": "c", "documents": [{"_id": 1}]})")["n"].as_int32() == 1);
}

TEST_CASE("readConcern is only allowed on the first statement, with a transaction-compatible level") {
  harness h;
  REQUIRE(ok(h.run(in_txn(R"("find": "c", "readConcern": {"level": "snapshot"})", 1, 1, true))));
  auto r = h.run(in_txn(R"("find": "c", "readConcern": {"level": "snapshot"})", 1, 1));
  CHECK(code_of(r) == 72);
  CHECK(errmsg(r) == "Only the first command in a transaction may specify a readConcern");
  auto lin = h.run(in_txn(R"("find": "c", "readConcern": {"level": "linearizable"})", 2, 1, true));
  CHECK(code_of(lin) == 72);
}

TEST_CASE("writeConcern on a statement inside a transaction is rejected; commit accepts it") {
  harness h;
  auto r = h.run(in_txn(R"("insert": "c", "documents": [{}], "writeConcern": {"w": 1})", 1, 1, true));
  CHECK(code_of(r) == 72);
  CHECK(errmsg(r) == "writeConcern is not allowed within a multi-statement transaction");
  REQUIRE(ok(h.run(in_txn(R"("insert": "c", "documents": [{}])", 1, 2, true))));
  CHECK(ok(h.run(in_txn(R"("commitTransaction": 1, "writeConcern": {"w": "majority"})", 1, 2))));
}

TEST_CASE("commands not allowed in transactions fail with OperationNotSupportedInTransaction") {
  harness h;
  auto count = h.run(in_txn(R"("count": "c")", 1, 1, true));
  CHECK(code_of(count) == 263);
  CHECK(errmsg(count).starts_with("Cannot run 'count' in a multi-document transaction."));
  CHECK(labels(count).empty());
  auto lc = h.run(in_txn(R"("listCollections": 1)", 1, 2, true));
  CHECK(errmsg(lc) == "Cannot run 'listCollections' in a multi-document transaction.");
  CHECK(code_of(h.run(in_txn(R"("commitTransaction": 1)", 1, 3, true))) == 263);
}

TEST_CASE("a write error inside a transaction aborts it (abort.json: abort ignores TransactionAborted)") {
  harness h;
  seed_one(h);
  auto dup = h.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, 1, true));
  CHECK(ok(dup));
  CHECK(dup.get_view().find_path("writeErrors.0.code").as_int32() == 11000);
  CHECK(labels(dup).empty());
  auto next = h.run(in_txn(R"("insert": "c", "documents": [{"_id": 2}])", 1, 1));
  CHECK(code_of(next) == 251);
  CHECK(has_label(next, "TransientTransactionError"));
}

TEST_CASE("a collection created in a transaction appears at commit and vanishes on abort") {
  harness h;
  REQUIRE(ok(h.run(in_txn(R"("create": "made")", 1, 1, true))));
  CHECK(first_batch(h.run(R"({"listCollections": 1, "filter": {"name": "made"}})")).empty());
  REQUIRE(ok(h.run(commit(1, 1))));
  CHECK(first_batch(h.run(R"({"listCollections": 1, "filter": {"name": "made"}})")).size() == 1);

  REQUIRE(ok(h.run(in_txn(R"("insert": "implicit", "documents": [{"_id": 1}])", 1, 2, true))));
  REQUIRE(ok(h.run(abort_txn(1, 2))));
  CHECK(first_batch(h.run(R"({"listCollections": 1, "filter": {"name": "implicit"}})")).empty());
}

TEST_CASE("snapshot reads outside transactions return atClusterTime and read at it") {
  harness h;
  seed_one(h);
  auto first = h.run("{\"find\": \"c\", \"readConcern\": {\"level\": \"snapshot\"}, " + session_fields(1) + "}");
  auto at = first.get_view().find_path("cursor.atClusterTime").as_timestamp();
  REQUIRE(at.has_value());
  REQUIRE(ok(h.run(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"x": 2}}}]})")));
  auto again = h.run(R"({"find": "c", "readConcern": {"level": "snapshot", "atClusterTime": {"$timestamp": {"t": )" +
                     std::to_string(at->t) + R"(, "i": )" + std::to_string(at->i) + "}}}}");
  CHECK(first_batch(again) == std::vector<std::string>{R"({ "_id" : 1, "x" : 1 })"});
  auto insert = h.run(R"({"insert": "c", "documents": [{}], "readConcern": {"level": "snapshot"}})");
  CHECK(code_of(insert) == 72);
}

TEST_CASE("stepping down aborts open transactions") {
  harness h;
  REQUIRE(ok(h.run(in_txn(R"("insert": "c", "documents": [{"_id": 1}])", 1, 1, true))));
  h.server.set_role(member_role::secondary);
  h.server.set_role(member_role::primary);
  CHECK(code_of(h.run(commit(1, 1))) == 251);
}

TEST_CASE("a cursor opened in a transaction is read with getMore in the same transaction") {
  harness h;
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}, {"_id": 3}]})")));
  auto r = h.run(in_txn(R"("find": "c", "batchSize": 1)", 1, 1, true));
  auto id = *r.get_view().find_path("cursor.id").as_int64();
  REQUIRE(id != 0);
  auto more = h.run(in_txn(R"("getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "c")", 1, 1));
  CHECK(more.get_view().find_path("cursor.nextBatch.1._id").as_int32() == 3);
}
