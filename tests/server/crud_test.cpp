#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

namespace {
void seed_three(harness& h) {
  REQUIRE(h.run(R"({"insert": "c", "documents": [{"_id": 1, "x": 11}, {"_id": 2, "x": 22}, {"_id": 3, "x": 33}]})")["n"]
              .as_int32() == 3);
}
}  // namespace

TEST_CASE("insert generates an ObjectId _id as the first field when missing") {
  harness h;
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"a": 1}]})")));
  auto docs = first_batch(h.run(R"({"find": "c"})"));
  REQUIRE(docs.size() == 1);
  CHECK(docs[0].starts_with(R"({ "_id" : { "$oid" : )"));
}

TEST_CASE("duplicate _id gives a DuplicateKey write error with mongod's errmsg, keyPattern and keyValue") {
  harness h;
  seed_three(h);
  auto r = h.run(R"({"insert": "c", "documents": [{"_id": 4}, {"_id": 1}, {"_id": 5}]})");
  CHECK(ok(r));
  CHECK(r["n"].as_int32() == 1);  // ordered: stops at the duplicate
  auto we = r.get_view().find_path("writeErrors.0");
  REQUIRE(we.is_document());
  auto e = *we.as_document();
  CHECK(e["index"].as_int32() == 1);
  CHECK(e["code"].as_int32() == 11000);
  CHECK(e["errmsg"].as_string() == "E11000 duplicate key error collection: test.c index: _id_ dup key: { _id: 1 }");
  CHECK(e.find_path("keyPattern._id").as_int32() == 1);
  CHECK(e.find_path("keyValue._id").as_int32() == 1);
  auto unordered = h.run(R"({"insert": "c", "documents": [{"_id": 1}, {"_id": 6}], "ordered": false})");
  CHECK(unordered["n"].as_int32() == 1);
}

TEST_CASE("unique secondary indexes are enforced and listed") {
  harness h;
  seed_three(h);
  auto ci = h.run(R"({"createIndexes": "c", "indexes": [{"key": {"x": 1}, "name": "x_1", "unique": true}]})");
  REQUIRE(ok(ci));
  CHECK(ci["numIndexesBefore"].as_int32() == 1);
  CHECK(ci["numIndexesAfter"].as_int32() == 2);
  auto r = h.run(R"({"insert": "c", "documents": [{"_id": 9, "x": 11}]})");
  CHECK(errmsg(r).empty());
  CHECK(r.get_view().find_path("writeErrors.0.errmsg").as_string() ==
        "E11000 duplicate key error collection: test.c index: x_1 dup key: { x: 11 }");
  auto li = h.run(R"({"listIndexes": "c"})");
  CHECK(first_batch(li).size() == 2);
  auto bad = h.run(R"({"createIndexes": "c", "indexes": [{"key": {"y": 1}, "name": "x_1"}]})");
  CHECK(code_of(bad) == 86);
}

TEST_CASE("dropIndexes drops by name, key pattern, list or '*', never _id_, as mongod 7.0 does") {
  harness h;
  seed_three(h);
  for (auto key : {"x", "y", "z"})
    REQUIRE(ok(h.run(std::string(R"({"createIndexes": "c", "indexes": [{"key": {")") + key + R"(": 1}, "name": ")" +
                     key + R"(_1"}]})")));
  CHECK(code_of(h.run(R"({"dropIndexes": "c", "index": "_id_"})")) == 72);
  CHECK(errmsg(h.run(R"({"dropIndexes": "c", "index": {"_id": 1}})")) == "cannot drop _id index");
  CHECK(errmsg(h.run(R"({"dropIndexes": "c", "index": "nope"})")) == "index not found with name [nope]");
  CHECK(code_of(h.run(R"({"dropIndexes": "c", "index": ["x_1", "nope"]})")) == 27);
  CHECK(code_of(h.run(R"({"dropIndexes": "c", "index": {"w": 1}})")) == 27);
  CHECK(code_of(h.run(R"({"dropIndexes": "c"})")) == 40414);
  CHECK(code_of(h.run(R"({"dropIndexes": "c", "index": 1})")) == 14);
  CHECK(errmsg(h.run(R"({"dropIndexes": "nosuch", "index": "*"})")) == "ns not found test.nosuch");
  CHECK(first_batch(h.run(R"({"listIndexes": "c"})")).size() == 4);  // the refused lists dropped nothing
  auto by_name = h.run(R"({"dropIndexes": "c", "index": "x_1"})");
  REQUIRE(ok(by_name));
  CHECK(by_name["nIndexesWas"].as_int32() == 4);
  CHECK(!by_name["msg"]);
  REQUIRE(ok(h.run(R"({"dropIndexes": "c", "index": {"y": 1}})")));
  CHECK(first_batch(h.run(R"({"listIndexes": "c"})")).size() == 2);
  auto all = h.run(R"({"dropIndexes": "c", "index": "*"})");
  CHECK(all["nIndexesWas"].as_int32() == 2);
  CHECK(all["msg"].as_string() == "non-_id indexes dropped for collection");
  CHECK(first_batch(h.run(R"({"listIndexes": "c"})")) ==
        std::vector<std::string>{R"({ "v" : 2, "key" : { "_id" : 1 }, "name" : "_id_" })"});
}

TEST_CASE("update with operators, replacement, multi and upsert reports n, nModified and upserted") {
  harness h;
  seed_three(h);
  auto r = h.run(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"x": 1}}}]})");
  CHECK(r["n"].as_int32() == 1);
  CHECK(r["nModified"].as_int32() == 1);
  auto same = h.run(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"x": 12}}}]})");
  CHECK(same["n"].as_int32() == 1);
  CHECK(same["nModified"].as_int32() == 0);
  auto multi = h.run(R"({"update": "c", "updates": [{"q": {}, "u": {"$set": {"y": 1}}, "multi": true}]})");
  CHECK(multi["n"].as_int32() == 3);
  auto repl = h.run(R"({"update": "c", "updates": [{"q": {"_id": 2}, "u": {"z": 1}}]})");
  CHECK(repl["nModified"].as_int32() == 1);
  CHECK(first_batch(h.run(R"({"find": "c", "filter": {"_id": 2}})")) ==
        std::vector<std::string>{R"({ "_id" : 2, "z" : 1 })"});
  auto up = h.run(R"({"update": "c", "updates": [{"q": {"_id": 7}, "u": {"$set": {"x": 77}}, "upsert": true}]})");
  CHECK(up["n"].as_int32() == 1);
  CHECK(up["nModified"].as_int32() == 0);
  CHECK(up.get_view().find_path("upserted.0._id").as_int32() == 7);
  CHECK(up.get_view().find_path("upserted.0.index").as_int32() == 0);
}

TEST_CASE("delete honours limit 1 and 0 and rejects other limits") {
  harness h;
  seed_three(h);
  CHECK(h.run(R"({"delete": "c", "deletes": [{"q": {}, "limit": 1}]})")["n"].as_int32() == 1);
  CHECK(h.run(R"({"delete": "c", "deletes": [{"q": {}, "limit": 0}]})")["n"].as_int32() == 2);
  auto bad = h.run(R"({"delete": "c", "deletes": [{"q": {}, "limit": 2}]})");
  CHECK(bad.get_view().find_path("writeErrors.0.code").as_int32() == 9);
}

TEST_CASE("find applies filter, sort, skip, limit, projection and batches with getMore") {
  harness h;
  seed_three(h);
  auto r = h.run(R"({"find": "c", "filter": {"x": {"$gt": 11}}, "sort": {"x": -1}, "projection": {"_id": 0, "x": 1}})");
  CHECK(first_batch(r) == std::vector<std::string>{R"({ "x" : 33 })", R"({ "x" : 22 })"});
  CHECK(r.get_view().find_path("cursor.id").as_int64() == 0);
  CHECK(r.get_view().find_path("cursor.ns").as_string() == "test.c");
  auto sl = h.run(R"({"find": "c", "sort": {"_id": 1}, "skip": 1, "limit": 1})");
  CHECK(first_batch(sl) == std::vector<std::string>{R"({ "_id" : 2, "x" : 22 })"});

  auto b = h.run(R"({"find": "c", "batchSize": 2})");
  CHECK(first_batch(b).size() == 2);
  auto id = *b.get_view().find_path("cursor.id").as_int64();
  REQUIRE(id != 0);
  auto more = h.run(R"({"getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "c"})");
  CHECK(more.get_view().find_path("cursor.nextBatch.0._id").as_int32() == 3);
  CHECK(more.get_view().find_path("cursor.id").as_int64() == 0);
  auto gone = h.run(R"({"getMore": {"$numberLong": ")" + std::to_string(id) + R"("}, "collection": "c"})");
  CHECK(code_of(gone) == 43);
  CHECK(first_batch(h.run(R"({"find": "c", "batchSize": 1, "singleBatch": true})")).size() == 1);
}

TEST_CASE("killCursors reports killed and unknown cursors") {
  harness h;
  seed_three(h);
  auto id = *h.run(R"({"find": "c", "batchSize": 1})").get_view().find_path("cursor.id").as_int64();
  auto r = h.run(R"({"killCursors": "c", "cursors": [{"$numberLong": ")" + std::to_string(id) +
                 R"("}, {"$numberLong": "5"}]})");
  CHECK(r.get_view().find_path("cursorsKilled.0").as_int64() == id);
  CHECK(r.get_view().find_path("cursorsNotFound.0").as_int64() == 5);
}

TEST_CASE("findAndModify returns pre or post images, removes, and upserts") {
  harness h;
  seed_three(h);
  auto pre = h.run(R"({"findAndModify": "c", "query": {"_id": 1}, "update": {"$inc": {"x": 1}}})");
  CHECK(pre.get_view().find_path("value.x").as_int32() == 11);
  CHECK(pre.get_view().find_path("lastErrorObject.updatedExisting").as_bool() == true);
  auto post = h.run(R"({"findAndModify": "c", "query": {"_id": 1}, "update": {"$inc": {"x": 1}}, "new": true})");
  CHECK(post.get_view().find_path("value.x").as_int32() == 13);
  auto removed = h.run(R"({"findAndModify": "c", "query": {"_id": 2}, "remove": true})");
  CHECK(removed.get_view().find_path("value._id").as_int32() == 2);
  CHECK(removed.get_view().find_path("lastErrorObject.n").as_int32() == 1);
  auto up = h.run(
      R"({"findAndModify": "c", "query": {"_id": 8}, "update": {"$set": {"x": 8}}, "upsert": true, "new": true})");
  CHECK(up.get_view().find_path("lastErrorObject.upserted").as_int32() == 8);
  CHECK(up.get_view().find_path("value.x").as_int32() == 8);
  auto none = h.run(R"({"findAndModify": "c", "query": {"_id": 99}, "remove": true})");
  CHECK(none["value"].is_null());
  CHECK(code_of(h.run(R"({"findAndModify": "c", "query": {}, "remove": true, "update": {"$set": {"a": 1}}})")) == 9);
}

TEST_CASE("count and distinct") {
  harness h;
  seed_three(h);
  h.run(R"({"insert": "c", "documents": [{"_id": 4, "x": [11, 44]}]})");
  CHECK(h.run(R"({"count": "c", "query": {"_id": {"$gte": 2}}})")["n"].as_int32() == 3);
  CHECK(h.run(R"({"count": "c", "limit": 2})")["n"].as_int32() == 2);
  auto d = h.run(R"({"distinct": "c", "key": "x"})");
  REQUIRE(d["values"].is_array());
  CHECK(d["values"].as_array()->count() == 4);
}

TEST_CASE("aggregate runs the pipeline and $out replaces the target collection") {
  harness h;
  seed_three(h);
  auto r =
      h.run(R"({"aggregate": "c", "pipeline": [{"$match": {"x": {"$gt": 11}}}, {"$sort": {"x": 1}}], "cursor": {}})");
  CHECK(first_batch(r).size() == 2);
  auto out = h.run(R"({"aggregate": "c", "pipeline": [{"$match": {"x": 33}}, {"$out": "o"}], "cursor": {}})");
  CHECK(ok(out));
  CHECK(first_batch(h.run(R"({"find": "o"})")) == std::vector<std::string>{R"({ "_id" : 3, "x" : 33 })"});
  CHECK(code_of(h.run(R"({"aggregate": "c", "pipeline": []})")) == 9);
}

TEST_CASE("create, listCollections, drop and dropDatabase") {
  harness h;
  REQUIRE(ok(h.run(R"({"create": "a"})")));
  CHECK(code_of(h.run(R"({"create": "a"})")) == 48);
  h.run(R"({"insert": "b", "documents": [{}]})");
  auto names = first_batch(h.run(R"({"listCollections": 1, "nameOnly": true})"));
  CHECK(names.size() == 2);
  auto filtered = h.run(R"({"listCollections": 1, "filter": {"name": "a"}})");
  CHECK(first_batch(filtered).size() == 1);
  auto dropped = h.run(R"({"drop": "a"})");
  CHECK(dropped["ns"].as_string() == "test.a");
  CHECK(ok(h.run(R"({"drop": "missing"})")));
  CHECK(code_of(h.run(R"({"listIndexes": "a"})")) == 26);
  CHECK(ok(h.run(R"({"dropDatabase": 1})")));
  CHECK(first_batch(h.run(R"({"listCollections": 1})")).empty());
}

TEST_CASE("unknown and missing command fields are rejected like mongod's IDL parser") {
  harness h;
  auto unknown = h.run(R"({"find": "c", "bogus": 1})");
  CHECK(code_of(unknown) == 40415);
  CHECK(errmsg(unknown) == "BSON field 'find.bogus' is an unknown field.");
  auto missing = h.run(R"({"insert": "c"})");
  CHECK(code_of(missing) == 40414);
  CHECK(errmsg(missing) == "BSON field 'insert.documents' is missing but a required field");
}

TEST_CASE(
    "write concern: w up to the member count and majority succeed; more members or unknown tags give "
    "writeConcernError") {
  harness h;
  auto ok_w = h.run(R"({"insert": "c", "documents": [{}], "writeConcern": {"w": "majority"}})");
  CHECK(ok(ok_w));
  CHECK_FALSE(ok_w.get_view().contains("writeConcernError"));
  auto too_many = h.run(R"({"insert": "c", "documents": [{}], "writeConcern": {"w": 3}})");
  CHECK(ok(too_many));
  CHECK(too_many.get_view().find_path("writeConcernError.code").as_int32() == 100);
  CHECK(too_many.get_view().find_path("writeConcernError.errmsg").as_string() == "Not enough data-bearing nodes");
  auto tag = h.run(R"({"insert": "c", "documents": [{}], "writeConcern": {"w": "blah"}})");
  CHECK(tag.get_view().find_path("writeConcernError.code").as_int32() == 79);
}
