// Guards against the transaction traps of ../shared/reviews/driver-users-needs.md (issue 16):
// a callback that swallows a statement error, and two operations on one session at once.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>

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

namespace {

struct traced_attempt {
  std::string command;
  int attempt = 0;
  std::int32_t code = 0;
  bool transient = false;
  retry_decision decision = retry_decision::give_up;
  std::chrono::microseconds backoff{0};
};

// with_transaction over a callback that inserts once, against a server whose first two
// inserts fail with WriteConflict; then a retryable insert whose connection is closed once.
std::vector<traced_attempt> traced_run(std::uint64_t seed) {
  std::vector<traced_attempt> trace;  // outlives the client, whose close may still report
  fixture f;
  client_options o;
  o.jitter_seed = seed;
  o.on_retry = [&](const retry_event& e) {
    trace.push_back({std::string(e.command), e.attempt, e.server_code,
                     e.labels && e.labels->contains(label::transient_transaction_error), e.decision, e.backoff});
  };
  f.c = std::make_unique<client>(f.io.get_executor(), f.server.uri(), o);
  // One failCommand fail point: the first two inserts fail, then the first commit's connection closes.
  f.configure_fail_point(doc_from_json(R"({"times": 2})"),
                         doc_from_json(R"({"failCommands": ["insert"], "errorCode": 112})"));
  auto s = f.c->start_session();
  diagnostics diag;
  auto body = [](session& in, diagnostics& d) -> asio::awaitable<error_code> {
    insert_one_result r;
    const bson::document doc = doc_from_json("{}");
    co_return co_await in.get_collection("bank", "ledger").insert_one(doc, insert_one_options{}, r, d);
  };
  REQUIRE_FALSE(run(f.io, s.with_transaction(body, std::nullopt, diag)));
  f.fail_command("insert", 1, true);
  insert_one_result r;
  const bson::document doc = doc_from_json("{}");
  REQUIRE_FALSE(run(f.io, f.c->get_collection("bank", "ledger").insert_one(doc, insert_one_options{}, r, diag)));
  run(f.io, f.close_client());
  return std::vector<traced_attempt>(trace);
}

}  // namespace

TEST_CASE("retry trace: every failed attempt with the decision taken; a seeded jitter replays exactly") {
  const auto trace = traced_run(42);
  // Per transaction attempt: the insert fails (the executor gives up: no retries inside a
  // transaction), the abort of step 7.1 gets NoSuchTransaction (the server already aborted;
  // ignored), and with_transaction decides to rerun. Then the retryable insert is retried.
  const std::vector<std::pair<std::string, retry_decision>> expected = {
      {"insert", retry_decision::give_up},
      {"abortTransaction", retry_decision::give_up},
      {"withTransaction", retry_decision::rerun_transaction},
      {"insert", retry_decision::give_up},
      {"abortTransaction", retry_decision::give_up},
      {"withTransaction", retry_decision::rerun_transaction},
      {"insert", retry_decision::retry_command}};
  REQUIRE(trace.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(trace[i].command == expected[i].first);
    CHECK(trace[i].decision == expected[i].second);
  }
  for (int attempt : {1, 2}) {
    const auto& t = trace[static_cast<std::size_t>(3 * attempt - 1)];
    CHECK(t.attempt == attempt);
    CHECK(t.code == 112);
    CHECK(t.transient);
    // transactions-convenient-api.md: jitter * min(5 ms * 1.5^attempt, 500 ms).
    CHECK(t.backoff <= std::chrono::microseconds(static_cast<std::int64_t>(5000 * std::pow(1.5, attempt))));
  }
  CHECK(trace[1].code == 251);
  CHECK(trace.back().attempt == 1);
  CHECK(trace.back().code == 0);  // a network error
  const auto again = traced_run(42);
  REQUIRE(again.size() == trace.size());
  for (std::size_t i = 0; i < trace.size(); ++i) {
    CHECK(again[i].decision == trace[i].decision);
    CHECK(again[i].backoff == trace[i].backoff);
  }
  CHECK(to_string(retry_decision::rerun_transaction) == "rerun_transaction");
}

namespace {

asio::awaitable<error_code> insert_in(session& s, std::string_view json, diagnostics& diag) {
  insert_one_result r;
  const bson::document doc = doc_from_json(json);
  co_return co_await s.get_collection("bank", "ledger").insert_one(doc, insert_one_options{}, r, diag);
}

}  // namespace

TEST_CASE("known commit outcomes: unknown after UnknownTransactionCommitResult, then resolved without rerunning") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  REQUIRE_FALSE(s.start_transaction());
  REQUIRE_FALSE(run(f.io, insert_in(s, R"({"_id": "t1"})", diag)));
  f.fail_command("commitTransaction", 2, true);  // the commit and the driver's retry lose their connection
  f.rec.clear();
  auto ec = run(f.io, s.commit_transaction(diag));
  REQUIRE(ec);
  CHECK(s.last_commit().outcome == commit_outcome::unknown);
  CHECK(s.last_commit().attempts == 1);
  CHECK(std::find(s.last_commit().labels.begin(), s.last_commit().labels.end(),
                  std::string(label::unknown_transaction_commit_result)) != s.last_commit().labels.end());
  ec = run(f.io, s.resolve_commit(std::chrono::seconds(10), diag));
  CHECK_FALSE(ec);
  CHECK(s.last_commit().outcome == commit_outcome::committed);
  CHECK(s.last_commit().attempts == 2);
  CHECK(f.rec.named("insert").empty());  // the statements were never sent again
  for (const auto* c : f.rec.named("commitTransaction")) CHECK(c->doc["txnNumber"].as_int64() == s.txn_number());
  CHECK(f.count("bank", "ledger") == 1);
  CHECK(to_string(commit_outcome::committed) == "committed");
}

TEST_CASE("known commit outcomes: a definite refusal is aborted; a new transaction starts from none") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  REQUIRE_FALSE(s.start_transaction());
  REQUIRE_FALSE(run(f.io, insert_in(s, R"({"_id": "t2"})", diag)));
  f.fail_command("commitTransaction", 1, false, 251);  // NoSuchTransaction: the server has no such transaction
  CHECK(run(f.io, s.commit_transaction(diag)) == make_server_error(251));
  CHECK(s.last_commit().outcome == commit_outcome::aborted);
  CHECK_FALSE(run(f.io, s.resolve_commit(std::chrono::seconds(1), diag)) == error_code{});  // nothing to learn
  REQUIRE_FALSE(s.start_transaction());
  CHECK(s.last_commit().outcome == commit_outcome::none);
}

TEST_CASE("known commit outcomes: a session ended while the outcome is unknown does not pool its server session") {
  fixture f;
  std::string lsid;
  {
    auto s = f.c->start_session();
    diagnostics diag;
    REQUIRE_FALSE(s.start_transaction());
    REQUIRE_FALSE(run(f.io, insert_in(s, R"({"_id": "t3"})", diag)));
    // A write concern timeout: UnknownTransactionCommitResult on a healthy connection, so the
    // server session is not dirty (a network error would already discard it).
    f.configure_fail_point(doc_from_json(R"({"times": 1})"), doc_from_json(R"({"failCommands": ["commitTransaction"],
                                            "writeConcernError": {"code": 64, "errmsg": "waiting for replication timed out"}})"));
    REQUIRE(run(f.io, s.commit_transaction(diag)));
    REQUIRE(s.last_commit().outcome == commit_outcome::unknown);
    const bson::document id_doc = s.id();
    const auto id = id_doc["id"].as_binary();
    REQUIRE(id);
    lsid.assign(reinterpret_cast<const char*>(id->bytes.data()), id->bytes.size());
    CHECK_FALSE(s.is_dirty());  // a network error would already have discarded it
    run(f.io, s.end());
  }
  REQUIRE(lsid.size() == 16);
  for (const auto& pooled : detail::client_access::impl(*f.c).session_pool().sessions())
    CHECK(std::string(reinterpret_cast<const char*>(pooled.id.data()), pooled.id.size()) != lsid);
}
