#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

namespace {
std::string retryable(const std::string& body, int s, long long txn) {
  return "{" + body + ", " + session_fields(s, txn) + "}";
}
}  // namespace

TEST_CASE("retrying an insert with the same lsid and txnNumber returns the recorded result without inserting again") {
  harness h;
  auto cmd = retryable(R"("insert": "c", "documents": [{"_id": 1}, {"_id": 2}])", 1, 1);
  auto first = h.run(cmd);
  REQUIRE(first["n"].as_int32() == 2);
  auto retry = h.run(cmd);
  CHECK(ok(retry));
  CHECK(retry["n"].as_int32() == 2);
  CHECK_FALSE(retry.get_view().contains("writeErrors"));
  CHECK(retry.get_view().find_path("retriedStmtIds.1").as_int32() == 1);
  CHECK(count_docs(h) == 2);
}

TEST_CASE("retrying an update or delete does not apply it twice") {
  harness h;
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 1, "x": 1}, {"_id": 2}]})")));
  auto inc = retryable(R"("update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"x": 1}}}])", 1, 1);
  h.run(inc);
  auto again = h.run(inc);
  CHECK(again["nModified"].as_int32() == 1);
  CHECK(first_batch(h.run(R"({"find": "c", "filter": {"_id": 1}})")) ==
        std::vector<std::string>{R"({ "_id" : 1, "x" : 2 })"});
  auto del = retryable(R"("delete": "c", "deletes": [{"q": {}, "limit": 1}])", 1, 2);
  h.run(del);
  CHECK(h.run(del)["n"].as_int32() == 1);
  CHECK(count_docs(h) == 1);
}

TEST_CASE("retrying findAndModify returns the recorded pre-image") {
  harness h;
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 1, "x": 1}]})")));
  auto fam = retryable(R"("findAndModify": "c", "query": {"_id": 1}, "update": {"$inc": {"x": 1}})", 1, 1);
  auto first = h.run(fam);
  auto retry = h.run(fam);
  CHECK(retry.get_view().find_path("value.x").as_int32() == 1);
  CHECK(retry.get_view().find_path("value").as_document() == first.get_view().find_path("value").as_document());
  CHECK(first_batch(h.run(R"({"find": "c"})")) == std::vector<std::string>{R"({ "_id" : 1, "x" : 2 })"});
}

TEST_CASE("a failed statement is not recorded, so its retry executes") {
  harness h;
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 1}]})")));
  auto cmd = retryable(R"("insert": "c", "documents": [{"_id": 1}])", 1, 1);
  CHECK(h.run(cmd).get_view().find_path("writeErrors.0.code").as_int32() == 11000);
  CHECK(h.run(cmd).get_view().find_path("writeErrors.0.code").as_int32() == 11000);
}

TEST_CASE("a lower txnNumber for a retryable write is TransactionTooOld") {
  harness h;
  REQUIRE(ok(h.run(retryable(R"("insert": "c", "documents": [{}])", 1, 3))));
  auto r = h.run(retryable(R"("insert": "c", "documents": [{}])", 1, 2));
  CHECK(code_of(r) == 225);
  CHECK(errmsg(r).find("Retryable write with txnNumber 2 is prohibited") == 0);
}

TEST_CASE("txnNumber on a command that is not a retryable write is rejected") {
  harness h;
  auto r = h.run(retryable(R"("find": "c")", 1, 1));
  CHECK(code_of(r) == 50768);
}

TEST_CASE("retryable writes refuse multi updates and limit 0 deletes") {
  harness h;
  auto u = h.run(retryable(R"("update": "c", "updates": [{"q": {}, "u": {"$set": {"a": 1}}, "multi": true}])", 1, 1));
  CHECK(u.get_view().find_path("writeErrors.0.code").as_int32() == 72);
  auto d = h.run(retryable(R"("delete": "c", "deletes": [{"q": {}, "limit": 0}])", 1, 2));
  CHECK(d.get_view().find_path("writeErrors.0.code").as_int32() == 72);
}

TEST_CASE("retrying a txnNumber that was used by a transaction is IncompleteTransactionHistory") {
  harness h;
  REQUIRE(ok(h.run("{\"insert\": \"c\", \"documents\": [{}], " + session_fields(1, 1) +
                   R"(, "autocommit": false, "startTransaction": true})")));
  auto r = h.run(retryable(R"("insert": "c", "documents": [{}])", 1, 1));
  CHECK(code_of(r) == 217);
}
