#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

namespace {
std::string retryable(const std::string& body, int s, long long txn) {
  return "{" + body + ", " + session_fields(s, txn) + "}";
}
}  // namespace

TEST_CASE("failCommand errorCode fails the named command the configured number of times") {
  harness h;
  auto cfg = h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 2}, "data": {"failCommands": ["insert"], "errorCode": 91}})");
  REQUIRE(ok(cfg));
  CHECK(cfg["count"].as_int64() == 0);
  CHECK(ok(h.run(R"({"find": "c"})")));  // not named
  auto r = h.run(R"({"insert": "c", "documents": [{}]})");
  CHECK(code_of(r) == 91);
  CHECK(r["codeName"].as_string() == "ShutdownInProgress");
  CHECK(errmsg(r) == "Failing command via 'failCommand' failpoint");
  CHECK_FALSE(r.get_view().contains("topologyVersion"));  // shutdown errors only carry it in quiesce mode
  CHECK(code_of(h.run(R"({"insert": "c", "documents": [{}]})")) == 91);
  CHECK(ok(h.run(R"({"insert": "c", "documents": [{}]})")));
  CHECK(count_docs(h) == 1);  // failed attempts wrote nothing
  CHECK(h.admin(R"({"configureFailPoint": "failCommand", "mode": "off"})")["count"].as_int64() == 2);
}

TEST_CASE("failCommand skip lets the first n matching commands through, then stays on") {
  harness h;
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"skip": 1}, "data": {"failCommands": ["ping"], "errorCode": 2}})")));
  CHECK(ok(h.admin(R"({"ping": 1})")));
  CHECK(code_of(h.admin(R"({"ping": 1})")) == 2);
  CHECK(code_of(h.admin(R"({"ping": 1})")) == 2);
}

TEST_CASE("failCommand alwaysOn until off; configureFailPoint itself is never failed") {
  harness h;
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": "alwaysOn", "data": {"failCommands": ["configureFailPoint", "find"], "errorCode": 2}})")));
  CHECK(code_of(h.run(R"({"find": "c"})")) == 2);
  CHECK(code_of(h.run(R"({"find": "c"})")) == 2);
  REQUIRE(ok(h.admin(R"({"configureFailPoint": "failCommand", "mode": "off"})")));
  CHECK(ok(h.run(R"({"find": "c"})")));
}

TEST_CASE("failCommand names match any alias, and hello is only failed when named") {
  harness h;
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": "alwaysOn", "data": {"failCommands": ["insert"], "errorCode": 2}})")));
  CHECK(ok(h.admin(R"({"hello": 1})")));
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["isMaster"], "closeConnection": true}})")));
  auto r = h.admin(R"({"hello": 1})");
  CHECK(h.conn.close_connection);
  CHECK(r.get_view().empty());
}

TEST_CASE(
    "failCommand closeConnection asks the network layer to close instead of replying, without running the command") {
  harness h;
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "closeConnection": true}})")));
  auto r = h.run(R"({"insert": "c", "documents": [{}]})");
  CHECK(h.conn.close_connection);
  CHECK(r.get_view().empty());
  CHECK(count_docs(h) == 0);
  CHECK_FALSE(h.conn.close_connection);  // reset by the next command
}

TEST_CASE("failCommand appName restricts the failpoint to connections of that application") {
  harness h;
  auto other = h.server.open_connection();
  h.admin(R"({"hello": 1, "client": {"application": {"name": "target"}}})");
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["find"], "errorCode": 2, "appName": "target"}})")));
  CHECK(ok(h.run(R"({"find": "c"})", &other)));
  CHECK(code_of(h.run(R"({"find": "c"})")) == 2);
}

TEST_CASE("failCommand appName also fails the handshake hello that names the application (metadata preloaded)") {
  harness h;
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 2}, "data": {"failCommands": ["hello", "isMaster"], "errorCode": 91, "appName": "target"}})")));
  auto handshake = h.server.open_connection();
  auto other = h.server.open_connection();
  auto on = [&](connection_context& c, const char* json) {
    auto body = bson::document::from_json(json);
    body.append("$db", "admin");
    return h.server.handle(body, {}, c);
  };
  CHECK(ok(on(other, R"({"isMaster": 1, "client": {"application": {"name": "bystander"}}})")));
  CHECK(code_of(on(handshake, R"({"isMaster": 1, "client": {"application": {"name": "target"}}})")) == 91);
  CHECK(code_of(on(handshake, R"({"hello": 1})")) == 91);  // the connection keeps the name
  CHECK(ok(on(handshake, R"({"hello": 1})")));             // times: 2
}

TEST_CASE("failCommand blockConnection asks the network layer to wait blockTimeMS, then the command runs") {
  harness h;
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "blockConnection": true, "blockTimeMS": 150}})")));
  auto r = h.run(R"({"insert": "c", "documents": [{}]})");
  CHECK(ok(r));
  CHECK(h.conn.block_ms == 150);
  CHECK(count_docs(h) == 1);
  CHECK(h.conn.block_ms == 0);
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "blockConnection": true}})")));
  CHECK(code_of(h.run(R"({"insert": "c", "documents": [{}]})")) == 72);
}

TEST_CASE("failCommand writeConcernError keeps ok:1 and the write applied") {
  harness h;
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "writeConcernError": {"code": 91, "errmsg": "Replication is being shut down"}}})")));
  auto r = h.run(R"({"insert": "c", "documents": [{}]})");
  CHECK(ok(r));
  CHECK(r.get_view().find_path("writeConcernError.code").as_int32() == 91);
  CHECK(r.get_view().find_path("writeConcernError.errmsg").as_string() == "Replication is being shut down");
  CHECK(labels(r).empty());  // not a retryable write: no label
  CHECK(count_docs(h) == 1);
  CHECK_FALSE(h.run(R"({"insert": "c", "documents": [{}]})").get_view().contains("writeConcernError"));
}

TEST_CASE(
    "the server adds RetryableWriteError for retryable writes failing with a retryable code or write concern error") {
  harness h;
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "errorCode": 189}})")));
  auto r = h.run(retryable(R"("insert": "c", "documents": [{}])", 1, 1));
  CHECK(labels(r) == std::vector<std::string>{"RetryableWriteError"});
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "writeConcernError": {"code": 91, "errmsg": "x"}}})")));
  auto w = h.run(retryable(R"("insert": "c", "documents": [{}])", 1, 2));
  CHECK(ok(w));
  CHECK(labels(w) == std::vector<std::string>{"RetryableWriteError"});
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "errorCode": 11601}})")));
  CHECK(labels(h.run(retryable(R"("insert": "c", "documents": [{}])", 1, 3))).empty());  // Interrupted is not retriable
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "errorCode": 189}})")));
  CHECK(labels(h.run(R"({"insert": "c", "documents": [{}]})")).empty());  // no txnNumber: not a retryable write
}

TEST_CASE("NoWritesPerformed joins RetryableWriteError when this client wrote before but not in the failed command") {
  harness h;
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{}]})")));
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "errorCode": 91}})")));
  auto r = h.run(retryable(R"("insert": "c", "documents": [{}])", 1, 1));
  CHECK(labels(r) == std::vector<std::string>{"RetryableWriteError", "NoWritesPerformed"});
}

TEST_CASE("commitTransaction errors get RetryableWriteError, and NoSuchTransaction on commit is transient") {
  harness h;
  auto txn = [&](long long n, const std::string& body, bool first) {
    return h.run("{" + body + ", " + session_fields(1, n) + R"(, "autocommit": false)" +
                 (first ? R"(, "startTransaction": true})" : "}"));
  };
  REQUIRE(ok(txn(1, R"("insert": "c", "documents": [{}])", true)));
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["commitTransaction"], "errorCode": 91}})")));
  auto r = txn(1, R"("commitTransaction": 1)", false);
  CHECK(labels(r) == std::vector<std::string>{"RetryableWriteError"});
  CHECK(ok(txn(1, R"("commitTransaction": 1)", false)));  // the failpoint ran before the commit
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["commitTransaction"], "errorCode": 251}})")));
  auto nst = txn(1, R"("commitTransaction": 1)", false);
  CHECK(labels(nst) == std::vector<std::string>{"TransientTransactionError"});
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "errorCode": 91}})")));
  auto in_txn = txn(2, R"("insert": "c", "documents": [{}])", true);
  CHECK(labels(in_txn) == std::vector<std::string>{"TransientTransactionError"});
}

TEST_CASE("errorLabels in failCommand data replace the labels the server would add") {
  harness h;
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 2}, "data": {"failCommands": ["insert"], "errorCode": 64, "errorLabels": ["NoWritesPerformed", "RetryableWriteError"]}})")));
  auto r = h.run(R"({"insert": "c", "documents": [{}]})");
  CHECK(labels(r) == std::vector<std::string>{"NoWritesPerformed", "RetryableWriteError"});
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["insert"], "errorCode": 189, "errorLabels": []}})")));
  CHECK(labels(h.run(retryable(R"("insert": "c", "documents": [{}])", 1, 1))).empty());
}

TEST_CASE(
    "onPrimaryTransactionalWrite closes the connection after committing a retryable write; the retry returns the "
    "record") {
  harness h;
  REQUIRE(ok(h.admin(R"({"configureFailPoint": "onPrimaryTransactionalWrite", "mode": {"times": 1}})")));
  auto cmd = retryable(R"("insert": "c", "documents": [{"_id": 3}])", 1, 1);
  auto r = h.run(cmd);
  CHECK(h.conn.close_connection);
  CHECK(r.get_view().empty());
  CHECK(count_docs(h) == 1);
  auto retry = h.run(cmd);
  CHECK(retry["n"].as_int32() == 1);
  CHECK(count_docs(h) == 1);
}

TEST_CASE("onPrimaryTransactionalWrite failBeforeCommitExceptionCode closes the connection and does not commit") {
  harness h;
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "onPrimaryTransactionalWrite", "mode": {"times": 2}, "data": {"failBeforeCommitExceptionCode": 1}})")));
  auto cmd = retryable(R"("insert": "c", "documents": [{"_id": 3}])", 1, 1);
  h.run(cmd);
  CHECK(h.conn.close_connection);
  h.run(cmd);
  CHECK(h.conn.close_connection);
  CHECK(count_docs(h) == 0);
  CHECK(h.run(cmd)["n"].as_int32() == 1);
  // Writes without txnNumber never trigger it.
  REQUIRE(ok(h.admin(
      R"({"configureFailPoint": "onPrimaryTransactionalWrite", "mode": "alwaysOn", "data": {"closeConnection": false, "failBeforeCommitExceptionCode": 1}})")));
  CHECK(ok(h.run(R"({"insert": "c", "documents": [{}]})")));
  auto failed = h.run(retryable(R"("update": "c", "updates": [{"q": {"_id": 3}, "u": {"$set": {"a": 1}}}])", 1, 2));
  CHECK_FALSE(h.conn.close_connection);
  CHECK(failed.get_view().find_path("writeErrors.0.code").as_int32() == 1);
}

TEST_CASE("configureFailPoint only runs on admin and rejects unknown failpoints and modes") {
  harness h;
  CHECK(code_of(h.run(R"({"configureFailPoint": "failCommand", "mode": "off"})")) == 13);
  CHECK_FALSE(ok(h.admin(R"({"configureFailPoint": "noSuchFailPoint", "mode": "off"})")));
  CHECK_FALSE(ok(h.admin(R"({"configureFailPoint": "failCommand", "mode": "sometimes"})")));
}
