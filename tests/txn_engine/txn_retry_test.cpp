// Retries: with_transaction over a write conflict, the driver's commit retry and the
// retryable write across a closed connection (transactions.md, retryable-writes.md,
// transactions-convenient-api.md).
#include "txn_support.hpp"

using namespace txn_test;

namespace {

asio::awaitable<error_code> seed_counter(client& c, diagnostics& diag) {
  insert_one_result r;
  co_return co_await c.get_collection("bank", "accounts").insert_one(doc_from_json(R"({"_id": 1, "n": 0})"), r, diag);
}

asio::awaitable<error_code> increment(session& s, diagnostics& diag) {
  update_result u;
  co_return co_await s.get_collection("bank", "accounts")
      .update(doc_from_json(R"({"_id": 1})"), doc_from_json(R"({"$inc": {"n": 1}})"), false, false, u, diag);
}

}  // namespace

TEST_CASE("transactions-convenient-api.md: with_transaction reruns the callback after a write conflict with another session") {
  fixture f;
  diagnostics diag;
  REQUIRE(!run(f.io, seed_counter(*f.c, diag)));
  auto holder = f.c->start_session();
  auto writer = f.c->start_session();
  // The holder's open transaction has written the document: the writer conflicts with it.
  REQUIRE(!holder.start_transaction(snapshot_majority(), diag));
  REQUIRE(!run(f.io, increment(holder, diag)));

  int attempts = 0;
  std::vector<bool> transient_label_seen;
  auto ec = run(f.io, writer.with_transaction(
                          [&](session& s, diagnostics& d) -> asio::awaitable<error_code> {
                            ++attempts;
                            auto e = co_await increment(s, d);
                            transient_label_seen.push_back(d.has_label(label::transient_transaction_error));
                            if (e && attempts == 1) {
                              // Let the other transaction finish so that the rerun can succeed.
                              diagnostics cd;
                              auto commit_ec = co_await holder.commit_transaction(cd);
                              REQUIRE_MESSAGE(!commit_ec, commit_ec.message() << " " << cd.message);
                            }
                            co_return e;
                          },
                          snapshot_majority(), diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << diag.message);
  CHECK(attempts == 2);
  REQUIRE(transient_label_seen.size() == 2);
  CHECK(transient_label_seen[0]);  // WriteConflict in a transaction: TransientTransactionError
  // The failed attempt was aborted, the rerun committed, with a new txnNumber.
  CHECK(f.rec.named("abortTransaction").size() >= 1);
  auto updates = f.rec.named("update");
  REQUIRE(updates.size() == 3);  // holder, writer attempt 1, writer attempt 2
  CHECK(*updates[2]->doc["txnNumber"].as_int64() == *updates[1]->doc["txnNumber"].as_int64() + 1);
  CHECK(updates[2]->doc["startTransaction"].as_bool() == true);
  std::optional<bson::document> doc;
  REQUIRE(!run(f.io, f.c->get_collection("bank", "accounts").find_one(doc_from_json(R"({"_id": 1})"), doc, diag)));
  REQUIRE(doc);
  CHECK((*doc)["n"].as_integer() == 2);  // both increments, each exactly once
}

TEST_CASE("transactions.md: a commit whose connection is closed is retried once and commits exactly once") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  insert_one_result r;
  REQUIRE(!run(f.io, s.get_collection("bank", "ledger").insert_one(doc_from_json(R"({"_id": "t1"})"), r, diag)));
  f.fail_command("commitTransaction", 1, true);
  f.rec.clear();
  auto ec = run(f.io, s.commit_transaction(diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << diag.message);
  auto commits = f.rec.named("commitTransaction");
  REQUIRE(commits.size() == 2);
  CHECK(f.rec.failed_names.size() == 1);
  CHECK(commits[0]->doc["txnNumber"].as_int64() == commits[1]->doc["txnNumber"].as_int64());
  CHECK(lsid_of(commits[0]->doc) == lsid_of(commits[1]->doc));
  // transactions.md "Retry commitTransaction": the retry uses w:"majority" with wtimeout 10000.
  auto wc = commits[1]->doc["writeConcern"].as_document();
  REQUIRE(wc);
  CHECK((*wc)["w"].as_string() == "majority");
  CHECK((*wc)["wtimeout"].as_integer() == 10000);
  CHECK(f.count("bank", "ledger") == 1);
  CHECK(s.current_transaction_state() == transaction_state::committed);
}

TEST_CASE("retryable-writes.md: an insert whose connection is closed is retried and applied once, with the same txnNumber") {
  fixture f;
  diagnostics diag;
  f.fail_command("insert", 1, true);
  f.rec.clear();
  insert_one_result r;
  auto ec = run(f.io, f.c->get_collection("bank", "ledger").insert_one(doc_from_json(R"({"_id": "w1"})"), r, diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << diag.message);
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 2);
  REQUIRE(inserts[0]->doc["txnNumber"].type() == BSON_TYPE_INT64);
  CHECK(inserts[0]->doc["txnNumber"].as_int64() == inserts[1]->doc["txnNumber"].as_int64());
  CHECK(lsid_of(inserts[0]->doc) == lsid_of(inserts[1]->doc));
  CHECK_FALSE(inserts[0]->doc.get_view().contains("autocommit"));  // not a transaction
  CHECK(f.count("bank", "ledger") == 1);
}

TEST_CASE("retryable-writes.md: with retryWrites=false a closed connection fails the insert without retry") {
  fixture f("&retryWrites=false");
  diagnostics diag;
  f.fail_command("insert", 1, true);
  f.rec.clear();
  insert_one_result r;
  auto ec = run(f.io, f.c->get_collection("bank", "ledger").insert_one(doc_from_json(R"({"_id": "w2"})"), r, diag));
  CHECK(ec);
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 1);
  CHECK_FALSE(inserts[0]->doc.get_view().contains("txnNumber"));
}

TEST_CASE("transactions.md: a command inside a transaction is not retried after a closed connection") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  f.fail_command("insert", 1, true);
  f.rec.clear();
  insert_one_result r;
  auto ec = run(f.io, s.get_collection("bank", "ledger").insert_one(doc_from_json(R"({"_id": "x"})"), r, diag));
  CHECK(ec);
  CHECK(f.rec.named("insert").size() == 1);
  // A network error inside a transaction is a TransientTransactionError.
  CHECK(diag.has_label(label::transient_transaction_error));
}
