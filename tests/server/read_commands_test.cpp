// listDatabases (list_databases.cpp) and the find options that depend on the query plan:
// hint, min/max, returnKey, showRecordId (find_cmd.cpp, query_planner.cpp).
#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

namespace {
void seed_five(harness& h) {
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 1, "x": 11}, {"_id": 2, "x": 22}, {"_id": 3, "x": 33},
                                                     {"_id": 4, "x": 44}, {"_id": 5, "x": 55}]})")));
}

std::vector<std::string> database_names(const bson::document& reply) {
  std::vector<std::string> out;
  if (auto dbs = reply["databases"]; dbs.is_array())
    for (auto d : bson::view(*dbs.as_array())) out.emplace_back((*d.as_document())["name"].as_string().value_or("?"));
  return out;
}
}  // namespace

TEST_CASE("listDatabases lists the databases with data and the replica set's own, by name, with sizes") {
  harness h;
  seed_five(h);
  REQUIRE(ok(h.run(R"({"insert": "b", "documents": [{}], "$db": "other"})")));
  auto r = h.admin(R"({"listDatabases": 1})");
  REQUIRE(ok(r));
  CHECK(database_names(r) == std::vector<std::string>{"admin", "config", "local", "other", "test"});
  auto test_db = *r.get_view().find_path("databases.4").as_document();
  CHECK(test_db["sizeOnDisk"].type() == BSON_TYPE_INT64);
  CHECK(test_db["sizeOnDisk"].as_int64() > 0);
  CHECK(test_db["empty"].as_bool() == false);
  CHECK(r["totalSize"].as_int64() > 0);
  CHECK(r["totalSizeMb"].type() == BSON_TYPE_INT64);
}

TEST_CASE("listDatabases nameOnly gives names alone; filter applies to the entries; admin only") {
  harness h;
  seed_five(h);
  auto names = h.admin(R"({"listDatabases": 1, "nameOnly": true, "authorizedDatabases": true})");
  REQUIRE(ok(names));
  CHECK(names.get_view().find_path("databases.0").as_document()->count() == 1);
  CHECK_FALSE(names.get_view().contains("totalSize"));
  auto filtered = h.admin(R"({"listDatabases": 1, "filter": {"name": {"$in": ["test", "local"]}}})");
  CHECK(database_names(filtered) == std::vector<std::string>{"local", "test"});
  CHECK(code_of(h.run(R"({"listDatabases": 1})")) == 13);
  CHECK(code_of(h.admin(R"({"listDatabases": 1, "bogus": 1})")) == 40415);
}

TEST_CASE("find returnKey returns the keys of the index the plan uses, {} for a collection scan") {
  harness h;
  seed_five(h);
  auto keys = first_batch(h.run(R"({"find": "c", "sort": {"_id": 1}, "showRecordId": true, "returnKey": true})"));
  CHECK(keys == std::vector<std::string>{R"({ "_id" : 1 })", R"({ "_id" : 2 })", R"({ "_id" : 3 })", R"({ "_id" : 4 })",
                                         R"({ "_id" : 5 })"});
  auto scan = first_batch(h.run(R"({"find": "c", "filter": {"x": 11}, "returnKey": true})"));
  CHECK(scan == std::vector<std::string>{"{ }"});
}

TEST_CASE("find showRecordId appends $recordId after the projection") {
  harness h;
  seed_five(h);
  auto docs = first_batch(
      h.run(R"({"find": "c", "filter": {"_id": 2}, "projection": {"x": 1, "_id": 0}, "showRecordId": true})"));
  CHECK(docs == std::vector<std::string>{R"({ "x" : 22, "$recordId" : 2 })"});
}

TEST_CASE("find min/max bound the hinted index: min inclusive, max exclusive, a hint required") {
  harness h;
  seed_five(h);
  auto r = h.run(R"({"find": "c", "filter": {"_id": {"$gt": 1}}, "sort": {"x": -1}, "projection": {"_id": 0, "x": 1},
                     "skip": 1, "hint": {"_id": 1}, "min": {"_id": 2}, "max": {"_id": 5}})");
  CHECK(first_batch(r) == std::vector<std::string>{R"({ "x" : 33 })", R"({ "x" : 22 })"});
  CHECK(code_of(h.run(R"({"find": "c", "min": {"_id": 2}})")) == 51173);
  CHECK(code_of(h.run(R"({"find": "c", "hint": {"_id": 1}, "max": {"x": 2}})")) == 51174);
  CHECK(code_of(h.run(R"({"find": "c", "hint": {"nope": 1}})")) == 2);
  CHECK(code_of(h.run(R"({"find": "c", "hint": "_id_"})")) == 0);
  CHECK(code_of(h.run(R"({"find": "missing", "hint": {"nope": 1}})")) == 0);  // no collection: no plan to check
}

// $where (expression_where.cpp): mongod evaluates the JavaScript per document while the
// command runs; sleep(ms) keeps the command busy, so the reply waits the sum of the sleeps.
TEST_CASE("$where with sleep(ms) matches as JavaScript says and delays the reply by the sleeps") {
  harness h;
  seed_five(h);
  auto r = h.run(R"({"find": "c", "filter": {"$where": "sleep(200) || this.x > 30"}})");
  REQUIRE(ok(r));
  CHECK(first_batch(r).size() == 3);
  CHECK(h.conn.block_ms == 5 * 200);  // evaluated for every document
  r = h.run(R"({"find": "c", "filter": {"_id": 1}})");
  CHECK(h.conn.block_ms == 0);
  r = h.run(R"({"count": "c", "query": {"$where": "function() { sleep(10); return this._id == 2; }"}})");
  CHECK(r["n"].as_int32() == 1);
  CHECK(h.conn.block_ms == 50);
  r = h.run(R"({"update": "c", "updates": [{"q": {"$where": "sleep(300) || true"}, "u": {"$set": {"a": "bar"}}}]})");
  CHECK(r["nModified"].as_int32() == 1);
  CHECK(h.conn.block_ms == 300);  // a single update stops at the first match
  r = h.run(R"({"delete": "c", "deletes": [{"q": {"$where": "this.x == 55"}, "limit": 0}]})");
  CHECK(r["n"].as_int32() == 1);
}

TEST_CASE("$where sleeping past maxTimeMS fails with MaxTimeMSExpired after maxTimeMS") {
  harness h;
  seed_five(h);
  auto r = h.run(R"({"find": "c", "filter": {"$where": "sleep(100) || true"}, "maxTimeMS": 250})");
  CHECK(code_of(r) == 50);
  CHECK(h.conn.block_ms == 250);
}

TEST_CASE("$where JavaScript the test server cannot evaluate is an error, never a match") {
  harness h;
  seed_five(h);
  auto r = h.run(R"({"find": "c", "filter": {"$where": "db.c.count() > 0"}})");
  CHECK(code_of(r) == 139);
  CHECK(r["codeName"].as_string() == "JSInterpreterFailure");
  CHECK(errmsg(r).find("cannot evaluate this $where JavaScript: 'db' at offset 0") != std::string::npos);
  r = h.run(R"({"update": "c", "updates": [{"q": {"$where": "this.y.z"}, "u": {"$set": {"a": 1}}}]})");
  REQUIRE(r["writeErrors"].is_array());  // mongod: a TypeError, as the statement's write error
  auto write_error = *(*(*r["writeErrors"].as_array()).begin()).as_document();
  CHECK(write_error["code"].as_int32() == 139);
  CHECK(write_error["errmsg"].as_string() == "TypeError: this.y is undefined");
  r = h.run(R"({"find": "c", "filter": {"a": {"$exists": true}}})");
  CHECK(first_batch(r).empty());
  r = h.run(R"({"aggregate": "c", "pipeline": [{"$match": {"$where": "true"}}], "cursor": {}})");
  CHECK(code_of(r) == 2);
  CHECK(errmsg(r) == "$where is not allowed in this context");
}

// Tailable cursors (find_cmd.cpp, getmore_cmd.cpp): capped collections only, awaitData needs
// tailable, the cursor stays open at the end of the collection and returns later inserts; an
// awaitData getMore with nothing new waits up to its maxTimeMS (the network layer runs it
// again) and then answers an empty batch.
TEST_CASE("find tailable: a capped collection's cursor stays open and returns later inserts") {
  harness h;
  CHECK(code_of(h.run(R"({"create": "capped", "capped": true})")) == 72);  // size is required
  REQUIRE(ok(h.run(R"({"create": "capped", "capped": true, "size": 4096})")));
  REQUIRE(ok(h.run(R"({"create": "plain"})")));
  REQUIRE(ok(h.run(R"({"insert": "plain", "documents": [{"_id": 1}]})")));
  CHECK(code_of(h.run(R"({"find": "plain", "tailable": true})")) == 2);  // not capped
  CHECK(code_of(h.run(R"({"find": "capped", "awaitData": true})")) == 9);
  REQUIRE(ok(h.run(R"({"insert": "capped", "documents": [{"_id": 1, "x": 1}, {"_id": 2, "x": 2}]})")));
  auto found = h.run(R"({"find": "capped", "filter": {"x": {"$gte": 2}}, "tailable": true})");
  REQUIRE(ok(found));
  const auto id = found.get_view().find_path("cursor.id").as_int64().value_or(0);
  CHECK(id != 0);  // all documents returned, yet open
  CHECK(found.get_view().find_path("cursor.firstBatch").as_array()->count() == 1);
  const std::string get_more =
      R"({"getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "capped"})";
  auto empty = h.run(get_more);
  REQUIRE(ok(empty));
  CHECK(empty.get_view().find_path("cursor.nextBatch").as_array()->count() == 0);
  CHECK(empty.get_view().find_path("cursor.id").as_int64() == id);
  CHECK_FALSE(h.conn.run_again);  // not awaitData: no wait
  REQUIRE(ok(h.run(R"({"insert": "capped", "documents": [{"_id": 3, "x": 0}, {"_id": 4, "x": 4}]})")));
  auto more = h.run(get_more);
  auto batch = more.get_view().find_path("cursor.nextBatch").as_array();
  REQUIRE(batch);
  REQUIRE(batch->count() == 1);  // the filter still applies
  CHECK((*batch->begin()).as_document()->operator[]("_id").as_int32() == 4);
  const std::string with_max =
      R"({"getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "capped", "maxTimeMS": 10})";
  CHECK(code_of(h.run(with_max)) == 2);  // maxTimeMS on a non-awaitData cursor
}

TEST_CASE("find tailable awaitData: getMore waits for documents up to maxTimeMS, then answers an empty batch") {
  harness h;
  REQUIRE(ok(h.run(R"({"create": "capped", "capped": true, "size": 4096})")));
  REQUIRE(ok(h.run(R"({"insert": "capped", "documents": [{"_id": 1}]})")));
  auto found = h.run(R"({"find": "capped", "tailable": true, "awaitData": true})");
  const auto id = found.get_view().find_path("cursor.id").as_int64().value_or(0);
  REQUIRE(id != 0);
  const std::string get_more =
      R"({"getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "capped", "maxTimeMS": 100})";
  auto waiting = h.run(get_more);
  CHECK(h.conn.run_again);  // no reply yet: the network layer waits, then runs it again
  CHECK(h.conn.block_ms > 0);
  CHECK(waiting.get_view().empty());
  auto writer = h.server.open_connection();
  REQUIRE(ok(h.run(R"({"insert": "capped", "documents": [{"_id": 2}]})", &writer)));
  auto arrived = h.run(get_more);  // the same request again: the new document
  REQUIRE(ok(arrived));
  CHECK(arrived.get_view().find_path("cursor.nextBatch").as_array()->count() == 1);
  CHECK(h.conn.await_data_deadline_ms == 0);
  h.run(get_more);  // waits again
  REQUIRE(h.conn.run_again);
  h.now += std::chrono::milliseconds(150);  // past maxTimeMS
  auto timed_out = h.run(get_more);
  REQUIRE(ok(timed_out));
  CHECK(timed_out.get_view().find_path("cursor.nextBatch").as_array()->count() == 0);
  CHECK(timed_out.get_view().find_path("cursor.id").as_int64() == id);
}

// create.cpp and the capped collection documentation: the size is at least 4096 bytes, else
// rounded up to a multiple of 256; an insert past the size or the document limit removes the
// oldest documents; a tailable cursor whose last document went gets CappedPositionLost (136).
TEST_CASE("capped collections keep their newest documents within size and max") {
  harness h;
  REQUIRE(ok(h.run(R"({"create": "c", "capped": true, "size": 100, "max": 3})")));
  for (int i = 1; i <= 5; ++i)
    REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": )" + std::to_string(i) + "}]}")));
  CHECK(count_docs(h) == 3);
  CHECK(first_batch(h.run(R"({"find": "c"})")) ==
        std::vector<std::string>{R"({ "_id" : 3 })", R"({ "_id" : 4 })", R"({ "_id" : 5 })"});
  // 100 bytes became 4096: 40 documents of 112 bytes no longer fit, the oldest go.
  REQUIRE(ok(h.run(R"({"create": "big", "capped": true, "size": 100})")));
  const std::string padding(90, 'x');
  const auto doc_size = std::int64_t(bson::document::from_json(R"({"_id": 1, "s": ")" + padding + R"("})").size());
  for (int i = 1; i <= 40; ++i)
    REQUIRE(ok(h.run(R"({"insert": "big", "documents": [{"_id": )" + std::to_string(i) + R"(, "s": ")" + padding +
                     R"("}]})")));
  const auto kept = h.run(R"({"count": "big"})")["n"].as_integer().value_or(-1);
  CHECK(kept == 4096 / doc_size);
  const std::string too_big(4100, 'x');
  auto refused = h.run(R"({"insert": "big", "documents": [{"_id": 0, "s": ")" + too_big + R"("}]})");
  CHECK(refused.get_view().find_path("writeErrors.0.code").as_int32() == 2);
  CHECK(h.run(R"({"count": "big"})")["n"].as_integer() == kept);  // nothing removed for it
  auto oldest = first_batch(h.run(R"({"find": "big", "limit": 1})"));
  REQUIRE(oldest.size() == 1);
  CHECK(oldest[0].find("\"_id\" : " + std::to_string(40 - kept + 1) + ",") != std::string::npos);
}

TEST_CASE("a tailable cursor whose position was deleted by the cap gets CappedPositionLost") {
  harness h;
  REQUIRE(ok(h.run(R"({"create": "c", "capped": true, "size": 4096, "max": 2})")));
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}]})")));
  auto found = h.run(R"({"find": "c", "tailable": true})");
  const auto id = found.get_view().find_path("cursor.id").as_int64().value_or(0);
  REQUIRE(id != 0);
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 3}, {"_id": 4}]})")));  // 1 and 2 go
  const std::string get_more = R"({"getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "c"})";
  auto lost = h.run(get_more);
  CHECK(code_of(lost) == 136);
  CHECK(lost["codeName"].as_string() == "CappedPositionLost");
  CHECK(code_of(h.run(get_more)) == 43);  // the error killed the cursor
}
