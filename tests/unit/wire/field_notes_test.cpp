#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "proto/wire/describe.hpp"
#include "proto/wire/field_notes.hpp"
#include "proto/wire/op_msg.hpp"

using namespace mongowire;
using namespace mongowire::detail::wire;

namespace {

const field_note* find(const std::vector<field_note>& notes, std::string_view path) {
  for (const auto& n : notes)
    if (n.path == path) return &n;
  return nullptr;
}

bool cites(const field_note* n, std::string_view source) { return n && n->source == source; }

}  // namespace

TEST_CASE("field notes: the first command of a transaction explains each transaction field with its spec section") {
  auto body = bson::document::from_json(
      R"({"insert": "c", "lsid": {"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAA==", "subType": "04"}}},
    "txnNumber": {"$numberLong": "3"}, "startTransaction": true, "autocommit": false,
    "readConcern": {"level": "snapshot", "afterClusterTime": {"$timestamp": {"t": 5, "i": 1}}},
    "$clusterTime": {"clusterTime": {"$timestamp": {"t": 5, "i": 1}}}, "$db": "app"})");
  const auto notes = explain_command(body);
  CHECK(cites(find(notes, "lsid"), R"(driver-sessions.md "Sending the session ID to the server on all commands")"));
  CHECK(cites(find(notes, "txnNumber"), R"(transactions.md "Transactions Wire Protocol")"));
  CHECK(find(notes, "txnNumber")->value == "3");
  CHECK(cites(find(notes, "startTransaction"), R"(transactions.md "Behavior of the startTransaction field")"));
  CHECK(cites(find(notes, "autocommit"), R"(transactions.md "Behavior of the autocommit field")"));
  CHECK(cites(find(notes, "readConcern"), R"(transactions.md "Behavior of the readConcern field")"));
  CHECK(cites(find(notes, "readConcern.afterClusterTime"),
              R"(causal-consistency.md "Causally consistent read and write commands")"));
  CHECK(cites(find(notes, "$clusterTime"), R"(driver-sessions.md "Sending the highest seen cluster time")"));
  CHECK(cites(find(notes, "$db"), R"(OP_MSG.md "Global Command Arguments")"));
  CHECK(find(notes, "insert") == nullptr);  // an ordinary command name has no note
}

TEST_CASE("field notes: txnNumber outside a transaction is a retryable write's; a retried commit's writeConcern") {
  auto write = bson::document::from_json(R"({"insert": "c", "txnNumber": {"$numberLong": "1"}})");
  CHECK(cites(find(explain_command(write), "txnNumber"), R"(retryable-writes.md "Generating Transaction IDs")"));
  auto commit = bson::document::from_json(
      R"({"commitTransaction": 1, "autocommit": false, "writeConcern": {"w": "majority", "wtimeout": 10000},
          "recoveryToken": {"x": 1}})");
  const auto notes = explain_command(commit);
  CHECK(cites(find(notes, "commitTransaction"), R"(transactions.md "commitTransaction")"));
  CHECK(cites(find(notes, "writeConcern"), R"(transactions.md "Behavior of the writeConcern field")"));
  CHECK(
      cites(find(notes, "writeConcern.wtimeout"), R"(transactions.md "writeConcern for commitTransaction attempts")"));
  CHECK(cites(find(notes, "recoveryToken"), R"(transactions.md "recoveryToken field")"));
  auto first_commit =
      bson::document::from_json(R"({"commitTransaction": 1, "autocommit": false, "writeConcern": {"w": 1}})");
  CHECK(find(explain_command(first_commit), "writeConcern.wtimeout") == nullptr);
}

TEST_CASE("field notes: a reply's error labels are explained one by one") {
  auto reply = bson::document::from_json(
      R"({"ok": 0, "code": 112, "codeName": "WriteConflict", "errorLabels": ["TransientTransactionError", "Odd"],
          "operationTime": {"$timestamp": {"t": 1, "i": 2}}, "$clusterTime": {"clusterTime": {"$timestamp": {"t": 1, "i": 2}}}})");
  const auto notes = explain_reply(reply);
  CHECK(cites(find(notes, "ok"), R"(transactions.md "Command Error")"));
  CHECK(cites(find(notes, "errorLabels[0]"), R"(transactions.md "Transient Transaction Error")"));
  CHECK(find(notes, "errorLabels[0]")->value == R"("TransientTransactionError")");
  CHECK(cites(find(notes, "errorLabels[1]"), R"(transactions.md "Error Labels")"));
  CHECK(cites(find(notes, "operationTime"), R"(causal-consistency.md "Server Command Responses")"));
  CHECK(cites(find(notes, "$clusterTime"), R"(driver-sessions.md "Receiving the current cluster time")"));
  auto commit_failed = bson::document::from_json(
      R"({"ok": 0, "errorLabels": ["UnknownTransactionCommitResult", "RetryableWriteError"]})");
  const auto labels = explain_reply(commit_failed);
  CHECK(cites(find(labels, "errorLabels[0]"), R"(transactions.md "UnknownTransactionCommitResult")"));
  CHECK(cites(find(labels, "errorLabels[1]"), R"(retryable-writes.md "RetryableWriteError Labels")"));
}

TEST_CASE("describe_frame: requests get command notes, replies (responseTo set) get reply notes") {
  auto cmd = bson::document::from_json(R"({"find": "c", "autocommit": false, "$db": "d"})");
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(7);
  REQUIRE_FALSE(enc.body(cmd));
  REQUIRE_FALSE(enc.finish());
  std::string text = describe_frame(out);
  CHECK(text.find("- autocommit = false") != std::string::npos);
  CHECK(text.find(R"(transactions.md "Behavior of the autocommit field")") != std::string::npos);
  auto reply = bson::document::from_json(R"({"ok": 1, "autocommit": false})");
  enc.begin(8, 7);
  REQUIRE_FALSE(enc.body(reply));
  REQUIRE_FALSE(enc.finish());
  text = describe_frame(out);
  CHECK(text.find("- ok = 1") != std::string::npos);
  CHECK(text.find("- autocommit") == std::string::npos);  // not a request field in a reply
}
