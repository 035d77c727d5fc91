// endSessions as mongod's LogicalSessionCache handles it (T4): the sessions are only ended
// at the next refresh (logicalSessionRefreshMillis, 5 minutes), which kills their cursors and
// aborts their transactions; the transaction record that protects against an older txnNumber
// (TransactionTooOld) is reaped only once it is older than its lifetime (30 minutes).
#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

namespace {
std::string with_session(const std::string& body, int s, long long txn, const std::string& more = "") {
  return "{" + body + ", " + session_fields(s, txn) + more + "}";
}
std::string end_session_0() { return "{\"endSessions\": [" + session_fields(0).substr(8) + "]}"; }  // [{id: ...}]

void retryable_insert(harness& h, long long txn, std::int32_t expected_code) {
  auto r = h.run(with_session(R"("insert": "c", "documents": [{}])", 0, txn));
  CHECK(code_of(r) == expected_code);
}

server_options long_transactions() {
  server_options o;
  o.transaction_lifetime_limit = std::chrono::hours(2);  // only the session cache may end them here
  return o;
}
}  // namespace

TEST_CASE("endSessions does not forget a session at once: an older txnNumber is still TransactionTooOld") {
  harness h;
  retryable_insert(h, 5, 0);
  REQUIRE(ok(h.admin(end_session_0())));
  retryable_insert(h, 3, 225);
  h.now += std::chrono::minutes(6);  // the refresh ends the session, but its record stays
  retryable_insert(h, 3, 225);
}

TEST_CASE("an ended session's record is reaped once older than the record lifetime") {
  harness h;
  retryable_insert(h, 5, 0);
  REQUIRE(ok(h.admin(end_session_0())));
  h.now += std::chrono::minutes(6);
  REQUIRE(ok(h.run(R"({"ping": 1})")));  // refresh: the session is ended
  h.now += std::chrono::minutes(31);
  REQUIRE(ok(h.run(R"({"ping": 1})")));  // refresh: the reaper forgets it
  retryable_insert(h, 3, 0);
}

TEST_CASE("a transaction stays open after endSessions until the session cache refreshes, which aborts it") {
  harness h(long_transactions());
  const std::string txn = R"(, "autocommit": false)";
  REQUIRE(ok(
      h.run(with_session(R"("insert": "c", "documents": [{"_id": 1}])", 0, 1, txn + R"(, "startTransaction": true)"))));
  REQUIRE(ok(h.admin(end_session_0())));
  CHECK(ok(h.run(with_session(R"("insert": "c", "documents": [{"_id": 2}])", 0, 1, txn))));
  h.now += std::chrono::minutes(5);
  auto commit = h.admin(with_session(R"("commitTransaction": 1)", 0, 1, txn));
  CHECK(code_of(commit) == 251);  // NoSuchTransaction: the refresh aborted it
}

TEST_CASE("$listLocalSessions lists the session cache's records until endSessions takes effect") {
  harness h;
  REQUIRE(ok(h.run(with_session(R"("ping": 1)", 0, -1))));
  REQUIRE(ok(h.run(with_session(R"("ping": 1)", 1, -1))));
  const std::string list = R"({"aggregate": 1, "pipeline": [{"$listLocalSessions": {}}], "cursor": {}})";
  auto r = h.run(list);
  REQUIRE(ok(r));
  auto records = r.get_view().find_path("cursor.firstBatch").as_array();
  REQUIRE(records);
  CHECK(records->count() == 2);
  auto first = records->find("0").as_document();
  REQUIRE(first);
  CHECK(first->find_path("_id.id").as_binary()->subtype == BSON_SUBTYPE_UUID);
  CHECK(first->find_path("_id.uid").as_binary()->bytes.size() == 32);  // SHA-256 of the user ("")
  CHECK(first->find("lastUse").type() == BSON_TYPE_DATE_TIME);
  CHECK_FALSE(first->contains("user"));  // no access control: no user
  auto limited = h.run(R"({"aggregate": 1, "pipeline": [{"$listLocalSessions": {"allUsers": true}}, {"$limit": 1}],
                           "cursor": {}})");
  CHECK(limited.get_view().find_path("cursor.firstBatch").as_array()->count() == 1);
  REQUIRE(ok(h.admin(end_session_0())));
  h.now += std::chrono::minutes(6);  // the refresh ends session 0
  CHECK(h.run(list).get_view().find_path("cursor.firstBatch").as_array()->count() == 1);
}

TEST_CASE("$listLocalSessions runs only first in {aggregate: 1}, with allUsers or users only") {
  harness h;
  auto on_collection = h.run(R"({"aggregate": "c", "pipeline": [{"$listLocalSessions": {}}], "cursor": {}})");
  CHECK(code_of(on_collection) == 73);  // InvalidNamespace
  auto unknown = h.run(R"({"aggregate": 1, "pipeline": [{"$listLocalSessions": {"who": 1}}], "cursor": {}})");
  CHECK(code_of(unknown) == 40415);
  auto later = h.run(R"({"aggregate": 1, "pipeline": [{"$limit": 1}, {"$listLocalSessions": {}}], "cursor": {}})");
  CHECK_FALSE(ok(later));
}
