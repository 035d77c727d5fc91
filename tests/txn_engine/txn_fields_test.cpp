// transactions.md: which fields go on which command of a transaction.
#include "txn_support.hpp"

using namespace txn_test;

namespace {

// Runs insert, update and find in one transaction with snapshot/majority, then commits.
asio::awaitable<error_code> three_ops_and_commit(session& s, diagnostics& diag) {
  if (auto ec = s.start_transaction(snapshot_majority(), diag)) co_return ec;
  auto coll = s.get_collection("shop", "orders");
  insert_one_result ins;
  if (auto ec = co_await coll.insert_one(doc_from_json(R"({"_id": 1, "qty": 1})"), insert_one_options{}, ins, diag))
    co_return ec;
  update_result upd;
  const auto by_id = doc_from_json(R"({"_id": 1})");
  const auto increment = doc_from_json(R"({"$inc": {"qty": 1}})");
  const update_options update_opts;  // named: no temporaries in co_await (g++ 12)
  if (auto ec = co_await coll.update_one(by_id, increment, update_opts, upd, diag)) co_return ec;
  std::optional<bson::document> found;
  const find_options find_opts;
  if (auto ec = co_await coll.find_one(by_id, find_opts, found, diag)) co_return ec;
  co_return co_await s.commit_transaction(diag);
}

}  // namespace

TEST_CASE(
    "transactions.md: the first command has lsid, int64 txnNumber, startTransaction, autocommit:false and "
    "readConcern") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  auto ec = run(f.io, three_ops_and_commit(s, diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 1);
  bson::view first = inserts[0]->doc;
  CHECK(inserts[0]->db == "shop");
  CHECK(first["$db"].as_string() == "shop");
  CHECK(!lsid_of(first).empty());
  CHECK(first["txnNumber"].type() == BSON_TYPE_INT64);
  CHECK(first["txnNumber"].as_int64() == s.txn_number());
  CHECK(first["startTransaction"].as_bool() == true);
  CHECK(first["autocommit"].as_bool() == false);
  auto rc = first["readConcern"].as_document();
  REQUIRE(rc);
  CHECK((*rc)["level"].as_string() == "snapshot");
  CHECK_FALSE(first.contains("writeConcern"));  // only commit/abort carry it
}

TEST_CASE("transactions.md: later commands have lsid, txnNumber, autocommit:false and no readConcern/writeConcern") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  auto ec = run(f.io, three_ops_and_commit(s, diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  const std::string lsid = lsid_of(f.rec.named("insert")[0]->doc);
  for (std::string_view name : {"update", "find"}) {
    auto cmds = f.rec.named(name);
    REQUIRE(cmds.size() == 1);
    bson::view later = cmds[0]->doc;
    INFO(name);
    CHECK(lsid_of(later) == lsid);
    CHECK(later["txnNumber"].type() == BSON_TYPE_INT64);
    CHECK(later["txnNumber"].as_int64() == s.txn_number());
    CHECK(later["autocommit"].as_bool() == false);
    CHECK_FALSE(later.contains("startTransaction"));
    CHECK_FALSE(later.contains("readConcern"));
    CHECK_FALSE(later.contains("writeConcern"));
  }
  // One round trip per operation plus the commit: nothing else was sent.
  CHECK(f.rec.started.size() == 4);
}

TEST_CASE("transactions.md: commitTransaction goes to admin with the transaction's writeConcern") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  auto ec = run(f.io, three_ops_and_commit(s, diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  auto commits = f.rec.named("commitTransaction");
  REQUIRE(commits.size() == 1);
  bson::view commit = commits[0]->doc;
  CHECK(commits[0]->db == "admin");
  CHECK(commit["$db"].as_string() == "admin");
  CHECK(commit["commitTransaction"].as_integer() == 1);
  CHECK(lsid_of(commit) == lsid_of(f.rec.named("insert")[0]->doc));
  CHECK(commit["txnNumber"].as_int64() == s.txn_number());
  CHECK(commit["autocommit"].as_bool() == false);
  CHECK_FALSE(commit.contains("startTransaction"));
  CHECK_FALSE(commit.contains("readConcern"));
  auto wc = commit["writeConcern"].as_document();
  REQUIRE(wc);
  CHECK((*wc)["w"].as_string() == "majority");
  CHECK_FALSE(wc->contains("wtimeout"));  // only on a retried commit
  CHECK(s.current_transaction_state() == transaction_state::committed);
  CHECK(f.count("shop", "orders") == 1);
}

TEST_CASE("transactions.md: committing an empty transaction sends nothing") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  auto ec = run(f.io, s.commit_transaction(diag));
  CHECK(!ec);
  CHECK(f.rec.started.empty());
  CHECK(s.current_transaction_state() == transaction_state::committed_empty);
  // ... and aborting an empty transaction sends nothing either.
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  CHECK(!run(f.io, s.abort_transaction(diag)));
  CHECK(f.rec.started.empty());
}

TEST_CASE("transactions.md: committing twice re-sends commitTransaction with w:majority and wtimeout 10000") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  auto ec = run(f.io, three_ops_and_commit(s, diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  ec = run(f.io, s.commit_transaction(diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  auto commits = f.rec.named("commitTransaction");
  REQUIRE(commits.size() == 2);
  bson::view again = commits[1]->doc;
  CHECK(again["txnNumber"].as_int64() == commits[0]->doc["txnNumber"].as_int64());
  CHECK(lsid_of(again) == lsid_of(commits[0]->doc));
  auto wc = again["writeConcern"].as_document();
  REQUIRE(wc);
  CHECK((*wc)["w"].as_string() == "majority");
  CHECK((*wc)["wtimeout"].as_integer() == 10000);
  CHECK(f.count("shop", "orders") == 1);
}

TEST_CASE("transactions.md: abortTransaction goes to admin with the transaction's lsid, txnNumber and writeConcern") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    if (auto e = s.start_transaction(snapshot_majority(), diag)) co_return e;
    insert_one_result r;
    if (auto e = co_await s.get_collection("shop", "orders")
                     .insert_one(doc_from_json(R"({"_id": 7})"), insert_one_options{}, r, diag))
      co_return e;
    co_return co_await s.abort_transaction(diag);
  }());
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  auto aborts = f.rec.named("abortTransaction");
  REQUIRE(aborts.size() == 1);
  bson::view abort = aborts[0]->doc;
  CHECK(aborts[0]->db == "admin");
  CHECK(abort["txnNumber"].as_int64() == f.rec.named("insert")[0]->doc["txnNumber"].as_int64());
  CHECK(abort["autocommit"].as_bool() == false);
  CHECK((*abort["writeConcern"].as_document())["w"].as_string() == "majority");
  CHECK(s.current_transaction_state() == transaction_state::aborted);
  CHECK(f.count("shop", "orders") == 0);
}

TEST_CASE("transactions.md: each transaction of a session takes the next txnNumber") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  for (int i = 0; i < 2; ++i) {
    auto ec = run(f.io, [&, i]() -> asio::awaitable<error_code> {
      if (auto e = s.start_transaction(snapshot_majority(), diag)) co_return e;
      insert_one_result r;
      bson::document d;
      d.append("_id", std::int32_t{100 + i});
      if (auto e = co_await s.get_collection("shop", "orders").insert_one(d, insert_one_options{}, r, diag))
        co_return e;
      co_return co_await s.commit_transaction(diag);
    }());
    REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  }
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 2);
  CHECK(*inserts[1]->doc["txnNumber"].as_int64() == *inserts[0]->doc["txnNumber"].as_int64() + 1);
  CHECK(inserts[1]->doc["startTransaction"].as_bool() == true);
}
