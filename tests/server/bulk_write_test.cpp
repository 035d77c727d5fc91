// bulkWrite as mongod 8.0 runs it (bulk_write.cpp): only at maxWireVersion 25 and on admin;
// per-write results in a cursor, errorsOnly, summary counts (nMatched without upserts),
// ordered vs unordered write errors, retryable-write records, transactions, and results
// beyond 16 MB left in the cursor for getMore.
#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

namespace {

server_options mongod_8_0() {
  server_options o;
  o.max_wire_version = 25;
  return o;
}

// {"cursor": ..., counts} of a bulkWrite with `ops` and `ns_info` as document sequences.
bson::document bulk_write(harness& h, const std::string& body_json, const std::vector<std::string>& ops,
                          const std::vector<std::string>& ns_info) {
  auto body = bson::document::from_json(body_json);
  if (!body.get_view().contains("$db")) body.append("$db", "admin");
  std::vector<bson::document> op_docs, ns_docs;
  for (const auto& j : ops) op_docs.push_back(bson::document::from_json(j));
  for (const auto& j : ns_info) ns_docs.push_back(bson::document::from_json(j));
  sequence seqs[2] = {{"ops", {}}, {"nsInfo", {}}};
  for (const auto& d : op_docs) seqs[0].docs.push_back(d.get_view());
  for (const auto& d : ns_docs) seqs[1].docs.push_back(d.get_view());
  return h.server.handle(body, seqs, h.conn);
}

std::int64_t count_of(const bson::document& reply, std::string_view field) {
  return reply[field].as_integer().value_or(-1);
}

// The documents of "db.<coll>".
std::vector<std::string> find_all(harness& h, const std::string& coll) {
  return first_batch(h.run(R"({"find": ")" + coll + R"(", "filter": {}, "$db": "db"})"));
}

}  // namespace

TEST_CASE("bulkWrite is not a command of MongoDB 7.0 (maxWireVersion 21): CommandNotFound") {
  harness h;
  auto r = bulk_write(h, R"({"bulkWrite": 1})", {R"({"insert": 0, "document": {"_id": 1}})"}, {R"({"ns": "db.c"})"});
  CHECK_FALSE(ok(r));
  CHECK(code_of(r) == 59);
}

TEST_CASE("bulkWrite runs only on admin (Unauthorized elsewhere)") {
  harness h(mongod_8_0());
  auto r = bulk_write(h, R"({"bulkWrite": 1, "$db": "test"})", {R"({"insert": 0, "document": {"_id": 1}})"},
                      {R"({"ns": "db.c"})"});
  CHECK_FALSE(ok(r));
  CHECK(code_of(r) == 13);
}

TEST_CASE("bulkWrite writes to several namespaces and reports each write and the summary counts") {
  harness h(mongod_8_0());
  h.run(R"({"insert": "c", "documents": [{"_id": 1, "x": 1}, {"_id": 2, "x": 2}], "$db": "db"})");
  auto r = bulk_write(h, R"({"bulkWrite": 1, "errorsOnly": false})",
                      {R"({"insert": 1, "document": {"_id": 7}})",
                       R"({"update": 0, "filter": {"_id": 1}, "updateMods": {"$set": {"x": 10}}, "multi": false})",
                       R"({"update": 0, "filter": {"_id": 9}, "updateMods": {"x": 9}, "upsert": true})",
                       R"({"delete": 0, "filter": {}, "multi": true})"},
                      {R"({"ns": "db.c"})", R"({"ns": "other.d"})"});
  REQUIRE(ok(r));
  CHECK(count_of(r, "nErrors") == 0);
  CHECK(count_of(r, "nInserted") == 1);
  CHECK(count_of(r, "nMatched") == 1);  // the upsert is counted in nUpserted only
  CHECK(count_of(r, "nModified") == 1);
  CHECK(count_of(r, "nUpserted") == 1);
  CHECK(count_of(r, "nDeleted") == 3);
  CHECK(r.get_view().find_path("cursor.ns").as_string() == std::optional<std::string_view>("admin.$cmd.bulkWrite"));
  CHECK(first_batch(r) ==
        std::vector<std::string>{R"({ "ok" : 1.0, "idx" : 0, "n" : 1 })",
                                 R"({ "ok" : 1.0, "idx" : 1, "n" : 1, "nModified" : 1 })",
                                 R"({ "ok" : 1.0, "idx" : 2, "n" : 1, "nModified" : 0, "upserted" : { "_id" : 9 } })",
                                 R"({ "ok" : 1.0, "idx" : 3, "n" : 3 })"});
  CHECK(find_all(h, "c").empty());
  CHECK(first_batch(h.run(R"({"find": "d", "filter": {}, "$db": "other"})")) ==
        std::vector<std::string>{R"({ "_id" : 7 })"});
}

TEST_CASE("bulkWrite errorsOnly: the cursor holds the failed writes only; ordered stops at the first") {
  harness h(mongod_8_0());
  const std::vector<std::string> ops = {R"({"insert": 0, "document": {"_id": 1}})",
                                        R"({"insert": 0, "document": {"_id": 1}})",
                                        R"({"insert": 0, "document": {"_id": 2}})"};
  auto ordered = bulk_write(h, R"({"bulkWrite": 1, "errorsOnly": true})", ops, {R"({"ns": "db.o"})"});
  REQUIRE(ok(ordered));
  CHECK(count_of(ordered, "nErrors") == 1);
  CHECK(count_of(ordered, "nInserted") == 1);
  auto errors = first_batch(ordered);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find(R"("idx" : 1)") != std::string::npos);
  CHECK(errors[0].find(R"("code" : 11000)") != std::string::npos);
  CHECK(errors[0].find(R"("codeName" : "DuplicateKey")") != std::string::npos);

  auto unordered =
      bulk_write(h, R"({"bulkWrite": 1, "errorsOnly": true, "ordered": false})", ops, {R"({"ns": "db.u"})"});
  CHECK(count_of(unordered, "nErrors") == 1);
  CHECK(count_of(unordered, "nInserted") == 2);
}

TEST_CASE("bulkWrite refuses a malformed ops entry or nsInfo index before writing anything") {
  harness h(mongod_8_0());
  auto bad_index = bulk_write(h, R"({"bulkWrite": 1})",
                              {R"({"insert": 0, "document": {"_id": 1}})", R"({"insert": 3, "document": {"_id": 2}})"},
                              {R"({"ns": "db.c"})"});
  CHECK_FALSE(ok(bad_index));
  CHECK(code_of(bad_index) == 2);
  CHECK(errmsg(bad_index).find("invalid nsInfo index") != std::string::npos);
  CHECK(find_all(h, "c").empty());
  auto bad_ns = bulk_write(h, R"({"bulkWrite": 1})", {R"({"insert": 0, "document": {}})"}, {R"({"ns": "nodot"})"});
  CHECK(code_of(bad_ns) == 73);
  auto bad_op = bulk_write(h, R"({"bulkWrite": 1})", {R"({"upsert": 0})"}, {R"({"ns": "db.c"})"});
  CHECK(code_of(bad_op) == 9);
}

TEST_CASE("bulkWrite as a retryable write: a retry answers from the statement records, writes nothing twice") {
  harness h(mongod_8_0());
  const std::string body = R"({"bulkWrite": 1, "errorsOnly": false, )" + session_fields(0, 1) + "}";
  const std::vector<std::string> ops = {R"({"insert": 0, "document": {"_id": 1}})",
                                        R"({"update": 0, "filter": {"_id": 1}, "updateMods": {"$inc": {"x": 1}}})"};
  auto first = bulk_write(h, body, ops, {R"({"ns": "db.r"})"});
  auto retry = bulk_write(h, body, ops, {R"({"ns": "db.r"})"});
  REQUIRE(ok(retry));
  CHECK(first_batch(retry) == first_batch(first));
  CHECK(find_all(h, "r") == std::vector<std::string>{R"({ "_id" : 1, "x" : 1 })"});
  CHECK(retry["retriedStmtIds"].is_array());
  auto multi = bulk_write(h, R"({"bulkWrite": 1, )" + session_fields(0, 2) + "}",
                          {R"({"delete": 0, "filter": {}, "multi": true})"}, {R"({"ns": "db.r"})"});
  CHECK(count_of(multi, "nErrors") == 1);  // multi writes are not retryable
}

TEST_CASE("bulkWrite inside a transaction: a write error aborts the transaction") {
  harness h(mongod_8_0());
  const std::string txn = session_fields(1, 1) + R"(, "autocommit": false)";
  auto r = bulk_write(h, R"({"bulkWrite": 1, "startTransaction": true, )" + txn + "}",
                      {R"({"insert": 0, "document": {"_id": 1}})", R"({"insert": 0, "document": {"_id": 1}})"},
                      {R"({"ns": "db.t"})"});
  REQUIRE(ok(r));
  CHECK(count_of(r, "nErrors") == 1);
  auto commit = h.admin(R"({"commitTransaction": 1, )" + txn + "}");
  CHECK(code_of(commit) == 251);  // NoSuchTransaction
  CHECK(find_all(h, "t").empty());
}

TEST_CASE("bulkWrite results beyond 16 MB stay in the cursor for getMore") {
  harness h(mongod_8_0());
  const std::string big(9 * 1024 * 1024, 'a');
  std::vector<std::string> ops;
  for (char c : {'a', 'b'}) {
    std::string id = big;
    id[0] = c;
    ops.push_back(R"({"update": 0, "filter": {"_id": ")" + id +
                  R"("}, "updateMods": {"$set": {"x": 1}}, "upsert": true})");
  }
  auto r = bulk_write(h, R"({"bulkWrite": 1, "errorsOnly": false})", ops, {R"({"ns": "db.big"})"});
  REQUIRE(ok(r));
  CHECK(r.get_view().find_path("cursor.firstBatch").as_array()->count() == 1);
  const auto id = r.get_view().find_path("cursor.id").as_int64().value_or(0);
  REQUIRE(id != 0);
  bson::document more;
  more.append("getMore", id);
  more.append("collection", "$cmd.bulkWrite");
  more.append("$db", "admin");
  auto next = h.server.handle(more, {}, h.conn);
  REQUIRE(ok(next));
  CHECK(next.get_view().find_path("cursor.nextBatch").as_array()->count() == 1);
  CHECK(next.get_view().find_path("cursor.id").as_int64() == 0);
}
