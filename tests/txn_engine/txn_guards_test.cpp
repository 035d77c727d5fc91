// Guards against the transaction traps of ../shared/reviews/driver-users-needs.md (issue 16):
// a callback that swallows a statement error, and two operations on one session at once.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/client_access.hpp"
#include "txn_support.hpp"

using namespace txn_test;

namespace {

// Inserts {_id: 1} and swallows whatever happens: the trap of specs#1475 (DRIVERS-2584).
asio::awaitable<error_code> insert_swallowing(session& s, diagnostics&) {
  insert_one_result r;
  diagnostics ignored;
  const bson::document doc = doc_from_json(R"({"_id": 1})");
  co_await s.get_collection("bank", "ledger").insert_one(doc, insert_one_options{}, r, ignored);
  co_return error_code{};
}

void seed_duplicate(fixture& f) {
  run(f.io, [&]() -> asio::awaitable<void> {
    insert_one_result r;
    diagnostics diag;
    const bson::document doc = doc_from_json(R"({"_id": 1})");
    REQUIRE_FALSE(co_await f.c->get_collection("bank", "ledger").insert_one(doc, insert_one_options{}, r, diag));
  }());
}

}  // namespace

TEST_CASE("swallowed-error guard: with_transaction raises the DuplicateKey its callback swallowed, at once") {
  fixture f;
  seed_duplicate(f);
  // Without the guard the commit gets NoSuchTransaction + TransientTransactionError and the
  // callback reruns until the limit: a short limit makes that a with_transaction_timeout.
  detail::client_access::impl(*f.c).with_transaction_limit = std::chrono::milliseconds(1500);
  auto s = f.c->start_session();
  diagnostics diag;
  f.rec.clear();
  auto ec = run(f.io, s.with_transaction(insert_swallowing, std::nullopt, diag));
  CHECK(ec == make_server_error(11000));
  CHECK(diag.write_errors.size() == 1);
  CHECK_FALSE(diag.has_label(label::transient_transaction_error));
  CHECK(f.rec.named("insert").size() == 1);            // the callback ran once
  CHECK(f.rec.named("commitTransaction").empty());     // nothing committed into NoSuchTransaction
  CHECK(f.rec.named("abortTransaction").size() == 1);  // step 7.1: the transaction is aborted
  CHECK(f.count("bank", "ledger") == 1);
}

TEST_CASE("swallowed-error guard: a swallowed transient error still reruns the callback (it may succeed)") {
  fixture f;
  f.fail_command("insert", 1, false, 112);  // WriteConflict once: TransientTransactionError
  auto s = f.c->start_session();
  diagnostics diag;
  f.rec.clear();
  auto ec = run(f.io, s.with_transaction(insert_swallowing, std::nullopt, diag));
  CHECK_FALSE(ec);
  CHECK(f.rec.named("insert").size() == 2);
  CHECK(f.rec.named("commitTransaction").size() == 1);
  CHECK(f.count("bank", "ledger") == 1);
}

TEST_CASE("swallowed-error guard: the manual API still commits as transactions.md says (NoSuchTransaction)") {
  fixture f;
  seed_duplicate(f);
  auto s = f.c->start_session();
  diagnostics diag;
  REQUIRE_FALSE(s.start_transaction());
  REQUIRE_FALSE(run(f.io, insert_swallowing(s, diag)));
  auto ec = run(f.io, s.commit_transaction(diag));
  CHECK(ec == make_server_error(251));
  CHECK(diag.has_label(label::transient_transaction_error));
}

TEST_CASE("driver-sessions.md: a second operation on a session in use is refused before anything is sent") {
  fixture f;
  auto s = f.c->start_session();
  auto coll = s.get_collection("bank", "ledger");
  const bson::document first = doc_from_json(R"({"_id": 1})");
  const bson::document second = doc_from_json(R"({"_id": 2})");
  insert_one_result r1, r2;
  diagnostics d1, d2;
  error_code e1 = make_error_code(client_errc::invalid_argument), e2 = e1;
  f.rec.clear();
  run(f.io, [&]() -> asio::awaitable<void> {
    // Both start on the same strand: the first is waiting for its reply when the second starts.
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, coll.insert_one(first, insert_one_options{}, r1, d1),
                   [&](std::exception_ptr, error_code ec) { e1 = ec; });
    e2 = co_await coll.insert_one(second, insert_one_options{}, r2, d2);
    asio::steady_timer t(ex, std::chrono::milliseconds(200));
    co_await t.async_wait(asio::use_awaitable);
  }());
  CHECK_FALSE(e1);
  CHECK(e2 == client_errc::session_in_use);
  CHECK(d2.client_message.find("one operation at a time") != std::string::npos);
  CHECK(f.rec.named("insert").size() == 1);  // the second was never sent
  // The session is free again once the first has finished.
  diagnostics d3;
  CHECK_FALSE(run(f.io, coll.insert_one(second, insert_one_options{}, r2, d3)));
}
