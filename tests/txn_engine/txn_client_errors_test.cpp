// transactions.md, "Client-side errors": misuse is refused before anything is sent.
#include "txn_support.hpp"

using namespace txn_test;

namespace {

asio::awaitable<error_code> insert_in(session& s, int id, diagnostics& diag) {
  insert_one_result r;
  bson::document d;
  d.append("_id", std::int32_t{id});
  co_return co_await s.get_collection("app", "items").insert_one(d, r, diag);
}

}  // namespace

TEST_CASE("transactions.md: commitTransaction after abortTransaction is refused") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  REQUIRE(!run(f.io, insert_in(s, 1, diag)));
  REQUIRE(!run(f.io, s.abort_transaction(diag)));
  const auto sent = f.rec.started.size();
  auto ec = run(f.io, s.commit_transaction(diag));
  CHECK(ec == client_errc::commit_after_abort);
  CHECK(ec.message() == "Cannot call commitTransaction after calling abortTransaction");  // the spec's wording
  CHECK(f.rec.started.size() == sent);
}

TEST_CASE("transactions.md: abortTransaction twice is refused") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  REQUIRE(!run(f.io, insert_in(s, 1, diag)));
  REQUIRE(!run(f.io, s.abort_transaction(diag)));
  auto ec = run(f.io, s.abort_transaction(diag));
  CHECK(ec == client_errc::abort_twice);
  CHECK(ec.message() == "Cannot call abortTransaction twice");
  CHECK(f.rec.named("abortTransaction").size() == 1);
}

TEST_CASE("transactions.md: abortTransaction after commitTransaction is refused") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  REQUIRE(!run(f.io, insert_in(s, 1, diag)));
  REQUIRE(!run(f.io, s.commit_transaction(diag)));
  CHECK(run(f.io, s.abort_transaction(diag)) == client_errc::abort_after_commit);
  CHECK(f.rec.named("abortTransaction").empty());
  CHECK(f.count("app", "items") == 1);
}

TEST_CASE("transactions.md: commit or abort without a transaction is refused") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  CHECK(run(f.io, s.commit_transaction(diag)) == client_errc::no_transaction_started);
  CHECK(run(f.io, s.abort_transaction(diag)) == client_errc::no_transaction_started);
  CHECK(f.rec.started.empty());
}

TEST_CASE("transactions.md: startTransaction while a transaction is in progress is refused") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  CHECK(s.start_transaction(snapshot_majority(), diag) == client_errc::transaction_already_in_progress);
  REQUIRE(!run(f.io, insert_in(s, 1, diag)));
  CHECK(s.start_transaction(std::nullopt, diag) == client_errc::transaction_already_in_progress);
}

TEST_CASE("transactions.md: an unacknowledged writeConcern is refused at startTransaction") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  transaction_options o;
  o.write_concern = doc_from_json(R"({"w": 0})");
  CHECK(s.start_transaction(o, diag) == client_errc::unacknowledged_write_in_transaction);
  CHECK(s.current_transaction_state() == transaction_state::none);
}

TEST_CASE("transactions.md: after a commit the next operation resets the state, and a new transaction may start") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  REQUIRE(!run(f.io, insert_in(s, 1, diag)));
  REQUIRE(!run(f.io, s.commit_transaction(diag)));
  REQUIRE(!run(f.io, insert_in(s, 2, diag)));  // outside a transaction
  CHECK(s.current_transaction_state() == transaction_state::none);
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 2);
  CHECK_FALSE(inserts[1]->doc.get_view().contains("autocommit"));
  CHECK_FALSE(inserts[1]->doc.get_view().contains("startTransaction"));
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
}
