#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "proto/reply/command_reply.hpp"
#include "proto/reply/cursor_reply.hpp"
#include "proto/reply/write_reply.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

using parser = std::function<error_code(bson::view, diagnostics&)>;

const parser check_ok = [](bson::view r, diagnostics& d) { return check_command_reply(r, d); };
const parser check_wc = [](bson::view r, diagnostics& d) { return check_write_concern_reply(r, d); };
const parser metadata = [](bson::view r, diagnostics& d) {
  reply_metadata m;
  return parse_reply_metadata(r, m, d);
};
const parser write = [](bson::view r, diagnostics& d) {
  write_result w;
  return parse_write_reply(r, w, d);
};
const parser fam = [](bson::view r, diagnostics& d) {
  find_and_modify_result f;
  return parse_find_and_modify_reply(r, f, d);
};
const parser cursor = [](bson::view r, diagnostics& d) {
  cursor_reply c;
  return parse_cursor_reply(r, c, d);
};
const parser count = [](bson::view r, diagnostics& d) {
  std::int64_t n = 0;
  return parse_count_reply(r, n, d);
};
const parser count_documents = [](bson::view r, diagnostics& d) {
  std::int64_t n = 0;
  return parse_count_documents_reply(r, n, d);
};
const parser distinct = [](bson::view r, diagnostics& d) {
  bson::view values;
  return parse_distinct_reply(r, values, d);
};

struct malformed_case {
  const char* what;
  const parser* parse;
  const char* reply;
  const char* message;  // exact diagnostics message
};

const malformed_case malformed_cases[] = {
    {"ok missing", &check_ok, R"({"n": 1})", "invalid reply: field 'ok' is missing"},
    {"ok string", &check_ok, R"({"ok": "1"})", "invalid reply: field 'ok' has type string, expected number or bool"},
    {"ok null", &check_ok, R"({"ok": null})", "invalid reply: field 'ok' has type null, expected number or bool"},
    {"code string", &check_ok, R"({"ok": 0, "code": "112"})",
     "invalid reply: field 'code' has type string, expected 32-bit integer"},
    {"code fraction", &check_ok, R"({"ok": 0, "code": 1.5})",
     "invalid reply: field 'code' has type double, expected 32-bit integer"},
    {"code beyond int32", &check_ok, R"({"ok": 0, "code": {"$numberLong": "4294967296"}})",
     "invalid reply: field 'code' has type long, expected 32-bit integer"},
    {"codeName int", &check_ok, R"({"ok": 0, "code": 1, "codeName": 5})",
     "invalid reply: field 'codeName' has type int, expected string"},
    {"errmsg object", &check_ok, R"({"ok": 0, "code": 1, "errmsg": {}})",
     "invalid reply: field 'errmsg' has type object, expected string"},
    {"errorLabels string", &check_ok, R"({"ok": 0, "code": 1, "errorLabels": "TransientTransactionError"})",
     "invalid reply: field 'errorLabels' has type string, expected array of strings"},
    {"errorLabels entry int", &check_ok, R"({"ok": 0, "code": 1, "errorLabels": ["A", 2]})",
     "invalid reply: field 'errorLabels[1]' has type int, expected string"},
    {"ok:1 errorLabels entry", &check_ok, R"({"ok": 1, "errorLabels": [null]})",
     "invalid reply: field 'errorLabels[0]' has type null, expected string"},

    {"writeConcernError array", &check_wc, R"({"ok": 1, "writeConcernError": []})",
     "invalid reply: field 'writeConcernError' has type array, expected object"},
    {"writeConcernError no code", &check_wc, R"({"ok": 1, "writeConcernError": {"errmsg": "x"}})",
     "invalid reply: field 'writeConcernError.code' is missing"},
    {"writeConcernError code string", &check_wc, R"({"ok": 1, "writeConcernError": {"code": "64"}})",
     "invalid reply: field 'writeConcernError.code' has type string, expected 32-bit integer"},
    {"writeConcernError code 0", &check_wc, R"({"ok": 1, "writeConcernError": {"code": 0}})",
     "invalid reply: field 'writeConcernError.code' is 0, expected a non-zero error code"},
    {"writeConcernError codeName", &check_wc, R"({"ok": 1, "writeConcernError": {"code": 64, "codeName": true}})",
     "invalid reply: field 'writeConcernError.codeName' has type bool, expected string"},
    {"writeConcernError errmsg", &check_wc, R"({"ok": 1, "writeConcernError": {"code": 64, "errmsg": 1}})",
     "invalid reply: field 'writeConcernError.errmsg' has type int, expected string"},
    {"writeConcernError errInfo", &check_wc, R"({"ok": 1, "writeConcernError": {"code": 64, "errInfo": "x"}})",
     "invalid reply: field 'writeConcernError.errInfo' has type string, expected object"},
    {"writeConcernError labels", &check_wc, R"({"ok": 1, "writeConcernError": {"code": 64, "errorLabels": [true]}})",
     "invalid reply: field 'writeConcernError.errorLabels[0]' has type bool, expected string"},

    {"n string", &write, R"({"ok": 1, "n": "1"})", "invalid reply: field 'n' has type string, expected integer"},
    {"nModified fraction", &write, R"({"ok": 1, "n": 1, "nModified": 0.5})",
     "invalid reply: field 'nModified' has type double, expected integer"},
    {"upserted object", &write, R"({"ok": 1, "upserted": {}})",
     "invalid reply: field 'upserted' has type object, expected array"},
    {"upserted entry", &write, R"({"ok": 1, "upserted": [1]})",
     "invalid reply: field 'upserted[0]' has type int, expected object"},
    {"upserted index missing", &write, R"({"ok": 1, "upserted": [{"_id": 1}]})",
     "invalid reply: field 'upserted[0].index' is missing"},
    {"upserted index string", &write, R"({"ok": 1, "upserted": [{"index": "0", "_id": 1}]})",
     "invalid reply: field 'upserted[0].index' has type string, expected 32-bit integer"},
    {"upserted _id missing", &write, R"({"ok": 1, "upserted": [{"index": 0, "_id": 1}, {"index": 1}]})",
     "invalid reply: field 'upserted[1]._id' is missing"},
    {"writeErrors object", &write, R"({"ok": 1, "writeErrors": {}})",
     "invalid reply: field 'writeErrors' has type object, expected array"},
    {"writeErrors entry", &write, R"({"ok": 1, "writeErrors": ["x"]})",
     "invalid reply: field 'writeErrors[0]' has type string, expected object"},
    {"writeErrors index missing", &write, R"({"ok": 1, "writeErrors": [{"code": 11000}]})",
     "invalid reply: field 'writeErrors[0].index' is missing"},
    {"writeErrors index string", &write, R"({"ok": 1, "writeErrors": [{"index": "0", "code": 11000}]})",
     "invalid reply: field 'writeErrors[0].index' has type string, expected 32-bit integer"},
    {"writeErrors code missing", &write, R"({"ok": 1, "writeErrors": [{"index": 0, "code": 1}, {"index": 1}]})",
     "invalid reply: field 'writeErrors[1].code' is missing"},
    {"writeErrors code string", &write, R"({"ok": 1, "writeErrors": [{"index": 0, "code": "E"}]})",
     "invalid reply: field 'writeErrors[0].code' has type string, expected 32-bit integer"},
    {"writeErrors code 0", &write, R"({"ok": 1, "writeErrors": [{"index": 0, "code": 0}]})",
     "invalid reply: field 'writeErrors[0].code' is 0, expected a non-zero error code"},
    {"writeErrors codeName", &write, R"({"ok": 1, "writeErrors": [{"index": 0, "code": 1, "codeName": []}]})",
     "invalid reply: field 'writeErrors[0].codeName' has type array, expected string"},
    {"writeErrors errmsg", &write, R"({"ok": 1, "writeErrors": [{"index": 0, "code": 1, "errmsg": null}]})",
     "invalid reply: field 'writeErrors[0].errmsg' has type null, expected string"},
    {"writeErrors errInfo", &write, R"({"ok": 1, "writeErrors": [{"index": 0, "code": 1, "errInfo": 3}]})",
     "invalid reply: field 'writeErrors[0].errInfo' has type int, expected object"},
    {"write reply with bad writeConcernError", &write, R"({"ok": 1, "n": 1, "writeConcernError": 1})",
     "invalid reply: field 'writeConcernError' has type int, expected object"},

    {"cursor missing", &cursor, R"({"ok": 1})", "invalid reply: field 'cursor' is missing"},
    {"cursor array", &cursor, R"({"ok": 1, "cursor": []})",
     "invalid reply: field 'cursor' has type array, expected object"},
    {"cursor id missing", &cursor, R"({"ok": 1, "cursor": {"ns": "a.b", "firstBatch": []}})",
     "invalid reply: field 'cursor.id' is missing"},
    {"cursor id int32", &cursor, R"({"ok": 1, "cursor": {"id": 0, "ns": "a.b", "firstBatch": []}})",
     "invalid reply: field 'cursor.id' has type int, expected long"},
    {"cursor id double", &cursor, R"({"ok": 1, "cursor": {"id": 1.0, "ns": "a.b", "firstBatch": []}})",
     "invalid reply: field 'cursor.id' has type double, expected long"},
    {"cursor ns missing", &cursor, R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "firstBatch": []}})",
     "invalid reply: field 'cursor.ns' is missing"},
    {"cursor ns int", &cursor, R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": 1, "firstBatch": []}})",
     "invalid reply: field 'cursor.ns' has type int, expected string"},
    {"cursor no batch", &cursor, R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "a.b"}})",
     "invalid reply: field 'cursor' has neither firstBatch nor nextBatch"},
    {"firstBatch object", &cursor,
     R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "a.b", "firstBatch": {}}})",
     "invalid reply: field 'cursor.firstBatch' has type object, expected array"},
    {"nextBatch string", &cursor, R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "a.b", "nextBatch": "x"}})",
     "invalid reply: field 'cursor.nextBatch' has type string, expected array"},
    {"batch entry", &cursor, R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "a.b", "firstBatch": [{}, 1]}})",
     "invalid reply: field 'cursor.firstBatch[1]' has type int, expected object"},
    {"postBatchResumeToken", &cursor,
     R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "a.b", "nextBatch": [], "postBatchResumeToken": 1}})",
     "invalid reply: field 'cursor.postBatchResumeToken' has type int, expected object"},

    {"$clusterTime string", &metadata, R"({"ok": 1, "$clusterTime": "x"})",
     "invalid reply: field '$clusterTime' has type string, expected object"},
    {"clusterTime missing", &metadata, R"({"ok": 1, "$clusterTime": {"signature": {}}})",
     "invalid reply: field '$clusterTime.clusterTime' is missing"},
    {"clusterTime long", &metadata, R"({"ok": 1, "$clusterTime": {"clusterTime": {"$numberLong": "1"}}})",
     "invalid reply: field '$clusterTime.clusterTime' has type long, expected timestamp"},
    {"signature string", &metadata,
     R"({"ok": 1, "$clusterTime": {"clusterTime": {"$timestamp": {"t": 1, "i": 1}}, "signature": "s"}})",
     "invalid reply: field '$clusterTime.signature' has type string, expected object"},
    {"operationTime date", &metadata, R"({"ok": 1, "operationTime": {"$date": {"$numberLong": "1"}}})",
     "invalid reply: field 'operationTime' has type date, expected timestamp"},
    {"recoveryToken string", &metadata, R"({"ok": 1, "recoveryToken": "t"})",
     "invalid reply: field 'recoveryToken' has type string, expected object"},
    {"topologyVersion int", &metadata, R"({"ok": 1, "topologyVersion": 1})",
     "invalid reply: field 'topologyVersion' has type int, expected object"},

    {"findAndModify value string", &fam, R"({"ok": 1, "value": "x"})",
     "invalid reply: field 'value' has type string, expected object or null"},
    {"lastErrorObject int", &fam, R"({"ok": 1, "value": null, "lastErrorObject": 1})",
     "invalid reply: field 'lastErrorObject' has type int, expected object"},
    {"lastErrorObject.n string", &fam, R"({"ok": 1, "lastErrorObject": {"n": "1"}})",
     "invalid reply: field 'lastErrorObject.n' has type string, expected integer"},
    {"updatedExisting int", &fam, R"({"ok": 1, "lastErrorObject": {"n": 1, "updatedExisting": 1}})",
     "invalid reply: field 'lastErrorObject.updatedExisting' has type int, expected bool"},

    {"count n missing", &count, R"({"ok": 1})", "invalid reply: field 'n' is missing"},
    {"count n string", &count, R"({"ok": 1, "n": "3"})", "invalid reply: field 'n' has type string, expected integer"},
    {"countDocuments n missing", &count_documents,
     R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "a.b", "firstBatch": [{"_id": 1}]}})",
     "invalid reply: field 'cursor.firstBatch[0].n' is missing"},
    {"distinct values missing", &distinct, R"({"ok": 1})", "invalid reply: field 'values' is missing"},
    {"distinct values object", &distinct, R"({"ok": 1, "values": {}})",
     "invalid reply: field 'values' has type object, expected array"},
};

}  // namespace

TEST_CASE("reply: every malformed field yields invalid_reply naming the field and the problem") {
  for (const malformed_case& c : malformed_cases) {
    CAPTURE(c.what);
    auto reply = bson::document::from_json(c.reply);
    diagnostics diag;
    error_code ec = (*c.parse)(reply, diag);
    CHECK(ec == client_errc::invalid_reply);
    CHECK(diag.client_message == c.message);  // our reading of the reply, not the server's words
    CHECK(diag.server_code == 0);
    CHECK(diag.reply.get_view() == reply.get_view());  // the evidence is kept
  }
}

TEST_CASE("reply: ok is read as any number or bool") {
  for (const char* json : {R"({"ok": 1})", R"({"ok": 1.0})", R"({"ok": true})", R"({"ok": {"$numberLong": "1"}})"}) {
    CAPTURE(json);
    diagnostics diag;
    CHECK_FALSE(check_command_reply(bson::document::from_json(json), diag));
    CHECK(diag.server_message.empty());
  }
  for (const char* json : {R"({"ok": 0})", R"({"ok": 0.0})", R"({"ok": false})"}) {
    CAPTURE(json);
    diagnostics diag;
    CHECK(check_command_reply(bson::document::from_json(json), diag).category() == server_category());
  }
}

TEST_CASE("reply: ok:0 keeps code, codeName, errmsg and errorLabels (transactions.md, Error Labels)") {
  auto reply = bson::document::from_json(R"({"ok": 0, "errmsg": "Write conflict", "code": 112,
      "codeName": "WriteConflict", "errorLabels": ["TransientTransactionError"]})");
  diagnostics diag;
  error_code ec = check_command_reply(reply, diag);
  CHECK(ec == make_server_error(server_code::write_conflict));
  CHECK(diag.server_code == 112);
  CHECK(diag.code_name == "WriteConflict");
  CHECK(diag.server_message == "Write conflict");
  CHECK(diag.has_label(label::transient_transaction_error));
  CHECK(diag.reply.get_view() == reply.get_view());
}

TEST_CASE("reply: an ok:0 code sent as a double or int64 is accepted when integral") {
  diagnostics diag;
  CHECK(check_command_reply(bson::document::from_json(R"({"ok": 0, "code": 251.0})"), diag) ==
        make_server_error(server_code::no_such_transaction));
  diagnostics diag2;
  CHECK(check_command_reply(bson::document::from_json(R"({"ok": 0, "code": {"$numberLong": "50"}})"), diag2) ==
        make_server_error(server_code::max_time_ms_expired));
  CHECK(diag2.code_name == "MaxTimeMSExpired");  // filled from the table when absent
}

TEST_CASE("reply: ok:0 without a code falls back to codeName, else InternalError with server_code 0") {
  diagnostics by_name;
  CHECK(check_command_reply(bson::document::from_json(R"({"ok": 0, "codeName": "NotWritablePrimary"})"), by_name) ==
        make_server_error(server_code::not_writable_primary));
  CHECK(by_name.server_code == 10107);

  diagnostics no_code;
  error_code ec = check_command_reply(bson::document::from_json(R"({"ok": 0, "errmsg": "not master"})"), no_code);
  CHECK(ec == make_server_error(missing_error_code));
  CHECK(static_cast<bool>(ec));
  CHECK(no_code.server_code == 0);  // SDAM can still fall back to the message
  CHECK(no_code.server_message == "not master");
}

TEST_CASE("reply: top-level labels of an ok:1 reply are kept (4.4+ write concern errors)") {
  auto reply = bson::document::from_json(R"({"ok": 1, "errorLabels": ["RetryableWriteError"],
      "writeConcernError": {"code": 91, "errmsg": "shutdown"}})");
  diagnostics diag;
  CHECK(check_write_concern_reply(reply, diag) == make_server_error(server_code::shutdown_in_progress));
  CHECK(diag.has_label(label::retryable_write_error));
  REQUIRE(diag.write_concern);
  CHECK(diag.write_concern->code_name == "ShutdownInProgress");
}

TEST_CASE("reply: writeConcernError keeps its code, message, errInfo and its own labels (pre-4.4 servers)") {
  auto reply =
      bson::document::from_json(R"({"ok": 1, "writeConcernError": {"code": 64, "codeName": "WriteConcernFailed",
      "errmsg": "waiting for replication timed out", "errInfo": {"wtimeout": true},
      "errorLabels": ["RetryableWriteError"]}})");
  diagnostics diag;
  CHECK(check_write_concern_reply(reply, diag) == make_server_error(server_code::write_concern_failed));
  REQUIRE(diag.write_concern);
  CHECK(diag.write_concern->errmsg == "waiting for replication timed out");
  CHECK(diag.write_concern->err_info.find("wtimeout").as_bool() == true);
  CHECK(diag.write_concern->labels.contains(label::retryable_write_error));
  CHECK(diag.labels.empty());  // the top-level set is the caller's to merge
  diagnostics none;
  CHECK_FALSE(check_write_concern_reply(bson::document::from_json(R"({"ok": 1})"), none));
}

// mongod waits for the write concern on a failed command too (NoSuchTransaction after a no-op
// write): the commit's UnknownTransactionCommitResult label depends on that writeConcernError.
TEST_CASE("reply: an ok:0 reply keeps its own error and its writeConcernError (transactions.md)") {
  auto reply = bson::document::from_json(R"({"ok": 0, "code": 251, "codeName": "NoSuchTransaction",
      "errmsg": "no such transaction", "writeConcernError": {"code": 64, "codeName": "WriteConcernFailed",
      "errmsg": "waiting for replication timed out", "errInfo": {"wtimeout": true}}})");
  diagnostics diag;
  CHECK(check_write_concern_reply(reply, diag) == make_server_error(server_code::no_such_transaction));
  CHECK(diag.server_code == 251);
  REQUIRE(diag.write_concern);
  CHECK(diag.write_concern->code == 64);
  diagnostics malformed;  // the server's error stands; the bad writeConcernError is dropped
  auto bad = bson::document::from_json(R"({"ok": 0, "code": 251, "writeConcernError": {"errmsg": "x"}})");
  CHECK(check_write_concern_reply(bad, malformed) == make_server_error(server_code::no_such_transaction));
  CHECK_FALSE(malformed.write_concern);
}

TEST_CASE("reply: write results keep n, nModified and upserted as views") {
  auto reply = bson::document::from_json(R"({"ok": 1, "n": 2, "nModified": 1,
      "upserted": [{"index": 1, "_id": {"$oid": "000000000000000000000001"}}]})");
  write_result w;
  diagnostics diag;
  REQUIRE_FALSE(parse_write_reply(reply, w, diag));
  CHECK(w.n == 2);
  CHECK(w.n_modified == 1);
  CHECK(w.upserted_count == 1);
  auto entry = upserted_entry_of(*w.upserted.begin());
  CHECK(entry.index == 1);
  CHECK(entry.id.type() == BSON_TYPE_OID);
  CHECK(w.upserted.data() >= reply.data());
  CHECK(w.upserted.data() < reply.data() + reply.size());  // a view into the reply

  write_result insert_only;
  REQUIRE_FALSE(parse_write_reply(bson::document::from_json(R"({"ok": 1, "n": 1})"), insert_only, diag));
  CHECK_FALSE(insert_only.n_modified);
  CHECK(insert_only.upserted_count == 0);
}

TEST_CASE("reply: write errors make the reply an error with the first code; counts stay available") {
  auto reply = bson::document::from_json(R"({"ok": 1, "n": 1, "writeErrors": [
      {"index": 1, "code": 11000, "errmsg": "E11000 duplicate key", "errInfo": {"k": 1}},
      {"index": 2, "code": 121, "codeName": "DocumentValidationFailure"}]})");
  write_result w;
  diagnostics diag;
  CHECK(parse_write_reply(reply, w, diag) == make_server_error(server_code::duplicate_key));
  CHECK(w.n == 1);
  REQUIRE(diag.write_errors.size() == 2);
  CHECK(diag.write_errors[0].index == 1);
  CHECK(diag.write_errors[0].code_name == "DuplicateKey");
  CHECK(diag.write_errors[0].err_info.find("k").as_int32() == 1);
  CHECK(diag.write_errors[1].code_name == "DocumentValidationFailure");
  CHECK(diag.reply.get_view() == reply.get_view());
}

TEST_CASE("reply: a write error wins over a write concern error; alone, the write concern error decides") {
  auto both = bson::document::from_json(R"({"ok": 1, "n": 0, "writeErrors": [{"index": 0, "code": 11000}],
      "writeConcernError": {"code": 64}})");
  write_result w;
  diagnostics diag;
  CHECK(parse_write_reply(both, w, diag) == make_server_error(11000));
  CHECK(diag.write_concern);

  auto wc_only = bson::document::from_json(R"({"ok": 1, "n": 1, "writeConcernError": {"code": 100}})");
  diagnostics diag2;
  CHECK(parse_write_reply(wc_only, w, diag2) == make_server_error(server_code::unsatisfiable_write_concern));
  CHECK(w.n == 1);
  CHECK(write_reply_error(diag2) == make_server_error(100));
  CHECK_FALSE(write_reply_error(diagnostics{}));
}

TEST_CASE("reply: an ok:0 write reply is a command error, not a write error") {
  write_result w;
  w.n = 99;
  diagnostics diag;
  CHECK(parse_write_reply(bson::document::from_json(R"({"ok": 0, "code": 112, "n": 1})"), w, diag) ==
        make_server_error(112));
  CHECK(w.n == 99);  // untouched
}

TEST_CASE("reply: cursor replies give id, ns and the batch as views (find_getmore_killcursors.md)") {
  auto first = bson::document::from_json(R"({"ok": 1, "cursor": {"id": {"$numberLong": "123"}, "ns": "db.c",
      "firstBatch": [{"_id": 1}, {"_id": 2}]}})");
  cursor_reply c;
  diagnostics diag;
  REQUIRE_FALSE(parse_cursor_reply(first, c, diag));
  CHECK(c.id == 123);
  CHECK(c.ns == "db.c");
  CHECK(c.is_first_batch);
  CHECK(c.batch_count == 2);
  CHECK(c.batch == *first.get_view().find_path("cursor.firstBatch").as_array());
  CHECK_FALSE(c.post_batch_resume_token);

  auto next = bson::document::from_json(R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "db.c",
      "nextBatch": [], "postBatchResumeToken": {"_data": "82"}}})");
  REQUIRE_FALSE(parse_cursor_reply(next, c, diag));
  CHECK(c.id == 0);
  CHECK_FALSE(c.is_first_batch);
  CHECK(c.batch_count == 0);
  REQUIRE(c.post_batch_resume_token);
  CHECK(c.post_batch_resume_token->find("_data").as_string() == "82");

  cursor_reply untouched;
  untouched.id = 5;
  CHECK(parse_cursor_reply(bson::document::from_json(R"({"ok": 0, "code": 43})"), untouched, diag) ==
        make_server_error(server_code::cursor_not_found));
  CHECK(untouched.id == 5);
}

TEST_CASE("reply: $clusterTime, operationTime, recoveryToken and topologyVersion are read from any reply") {
  auto reply = bson::document::from_json(R"({"ok": 0, "code": 251,
      "$clusterTime": {"clusterTime": {"$timestamp": {"t": 10, "i": 3}},
                       "signature": {"hash": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "subType": "00"}},
                                     "keyId": {"$numberLong": "0"}}},
      "operationTime": {"$timestamp": {"t": 10, "i": 2}}, "recoveryToken": {"shard": "s0"},
      "topologyVersion": {"processId": {"$oid": "000000000000000000000001"}, "counter": {"$numberLong": "4"}}})");
  reply_metadata m;
  diagnostics diag;
  REQUIRE_FALSE(parse_reply_metadata(reply, m, diag));
  REQUIRE(m.cluster_time);
  CHECK(m.cluster_time->cluster_time == bson::timestamp{10, 3});
  CHECK(m.cluster_time->document == *reply.find("$clusterTime").as_document());
  REQUIRE(m.cluster_time->signature);
  CHECK(m.cluster_time->signature->find("keyId").as_int64() == 0);
  CHECK(m.operation_time == bson::timestamp{10, 2});
  CHECK(m.recovery_token->find("shard").as_string() == "s0");
  CHECK(m.topology_version->find("counter").as_int64() == 4);

  reply_metadata empty;
  REQUIRE_FALSE(parse_reply_metadata(bson::document::from_json(R"({"ok": 1})"), empty, diag));
  CHECK_FALSE(empty.cluster_time);
  CHECK_FALSE(empty.operation_time);
  CHECK_FALSE(empty.recovery_token);
  CHECK_FALSE(empty.topology_version);
}

TEST_CASE("reply: findAndModify gives value (null -> none) and lastErrorObject") {
  auto updated = bson::document::from_json(R"({"ok": 1, "value": {"_id": 1, "x": 2},
      "lastErrorObject": {"n": 1, "updatedExisting": true}})");
  find_and_modify_result r;
  diagnostics diag;
  REQUIRE_FALSE(parse_find_and_modify_reply(updated, r, diag));
  REQUIRE(r.value);
  CHECK(r.value->find("x").as_int32() == 2);
  CHECK(r.n == 1);
  CHECK(r.updated_existing == true);
  CHECK_FALSE(r.upserted_id);

  auto upserted = bson::document::from_json(R"({"ok": 1, "value": null,
      "lastErrorObject": {"n": 1, "updatedExisting": false, "upserted": 7}, "writeConcernError": {"code": 64}})");
  CHECK(parse_find_and_modify_reply(upserted, r, diag) == make_server_error(server_code::write_concern_failed));
  CHECK_FALSE(r.value);
  REQUIRE(r.upserted_id);
  CHECK(r.upserted_id->as_int32() == 7);
}

TEST_CASE("reply: count, countDocuments and distinct results") {
  std::int64_t n = -1;
  diagnostics diag;
  REQUIRE_FALSE(parse_count_reply(bson::document::from_json(R"({"ok": 1, "n": 5.0})"), n, diag));
  CHECK(n == 5);
  REQUIRE_FALSE(parse_count_documents_reply(
      bson::document::from_json(R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "a.b", "firstBatch": []}})"),
      n, diag));
  CHECK(n == 0);  // crud.md: no group document means no matching documents
  REQUIRE_FALSE(parse_count_documents_reply(
      bson::document::from_json(
          R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "a.b", "firstBatch": [{"_id": 1, "n": 42}]}})"),
      n, diag));
  CHECK(n == 42);
  bson::view values;
  auto reply = bson::document::from_json(R"({"ok": 1, "values": [1, "a"]})");
  REQUIRE_FALSE(parse_distinct_reply(reply, values, diag));
  CHECK(values.count() == 2);
}
