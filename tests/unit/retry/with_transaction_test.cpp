// transactions-convenient-api.md, "Sequence of Actions": the withTransaction decision table.
#include <doctest/doctest.h>

#include "proto/retry/with_transaction.hpp"

#include <cmath>

using namespace mongowire;
using namespace mongowire::detail;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using step = with_transaction_step;
using ts = transaction_state;

namespace {

diagnostics with_labels(std::initializer_list<std::string_view> labels, std::int32_t code = 0) {
  diagnostics d;
  d.server_code = code;
  for (auto l : labels) d.labels.add(l);
  return d;
}

with_transaction_clock at(milliseconds elapsed, int attempt = 1, double jitter = 0) {
  return {.elapsed = elapsed, .limit = with_transaction_time_limit, .transaction_attempt = attempt, .jitter = jitter};
}

const diagnostics transient = with_labels({label::transient_transaction_error}, 112);
const diagnostics unknown_commit = with_labels({label::unknown_transaction_commit_result}, 91);
const diagnostics plain = with_labels({}, 11000);

}  // namespace

TEST_CASE("withTransaction step 8-9: a callback that returns commits, unless it ended the transaction itself") {
  CHECK(after_callback(nullptr, ts::in_progress, at(milliseconds(0))).step == step::commit);
  CHECK(after_callback(nullptr, ts::starting, at(milliseconds(0))).step == step::commit);
  for (ts s : {ts::none, ts::committed, ts::committed_empty, ts::aborted}) {
    CHECK(after_callback(nullptr, s, at(milliseconds(0))).step == step::done);
    CHECK_FALSE(abort_after_callback_error(s));
  }
}

TEST_CASE("withTransaction step 7: a callback error aborts an open transaction; TransientTransactionError retries it") {
  CHECK(abort_after_callback_error(ts::in_progress));
  CHECK(abort_after_callback_error(ts::starting));
  auto d = after_callback(&transient, ts::in_progress, at(milliseconds(10), 1, 1.0));
  CHECK(d.step == step::retry_transaction);
  CHECK(d.backoff == microseconds(7500));

  auto closed = after_callback(&transient, ts::aborted, at(milliseconds(10)));
  CHECK(closed.step == step::retry_transaction);
  CHECK_FALSE(abort_after_callback_error(ts::aborted));  // nothing left to abort

  CHECK(after_callback(&plain, ts::starting, at(milliseconds(10))).step == step::return_error);
  // 7.3: the callback committed itself and the result is unknown: propagate.
  CHECK(after_callback(&unknown_commit, ts::committed, at(milliseconds(10))).step == step::return_error);
}

TEST_CASE("withTransaction: the transaction is not retried past 120 s; the last error is reported as a timeout") {
  CHECK(after_callback(&transient, ts::in_progress, at(milliseconds(119999))).step == step::retry_transaction);
  CHECK(after_callback(&transient, ts::in_progress, at(milliseconds(120000))).step == step::return_timeout);
  // Step 2: elapsed + backoff reaching the limit also stops (attempt 1, jitter 1: 7.5 ms).
  CHECK(after_callback(&transient, ts::in_progress, at(milliseconds(119993), 1, 1.0)).step == step::return_timeout);
  CHECK(after_callback(&transient, ts::in_progress, at(milliseconds(119992), 1, 1.0)).step == step::retry_transaction);
}

TEST_CASE("withTransaction: timeoutMS replaces the 120 s limit") {
  with_transaction_clock c{
      .elapsed = milliseconds(600), .limit = milliseconds(500), .transaction_attempt = 1, .jitter = 0};
  CHECK(after_callback(&transient, ts::in_progress, c).step == step::return_timeout);
  CHECK(after_commit(&unknown_commit, c).step == step::return_timeout);
  c.limit = milliseconds(1000);
  CHECK(after_commit(&unknown_commit, c).step == step::retry_commit);
}

TEST_CASE("withTransaction step 10: commit errors — retry the commit, retry the transaction, or propagate") {
  CHECK(after_commit(nullptr, at(milliseconds(5))).step == step::done);
  CHECK(after_commit(&unknown_commit, at(milliseconds(5))).step == step::retry_commit);
  CHECK(after_commit(&unknown_commit, at(milliseconds(120000))).step == step::return_timeout);

  auto t = after_commit(&transient, at(milliseconds(5), 2, 1.0));
  CHECK(t.step == step::retry_transaction);
  CHECK(t.backoff == microseconds(11250));
  CHECK(after_commit(&transient, at(milliseconds(120000))).step == step::return_timeout);

  CHECK(after_commit(&plain, at(milliseconds(5))).step == step::return_error);
  CHECK(after_commit(&plain, at(milliseconds(200000))).step == step::return_error);
}

TEST_CASE(
    "withTransaction: a commit that failed with MaxTimeMSExpired is not retried, top-level or in writeConcernError") {
  diagnostics top = with_labels({label::unknown_transaction_commit_result}, 50);
  CHECK(after_commit(&top, at(milliseconds(5))).step == step::return_error);
  diagnostics wce = with_labels({label::unknown_transaction_commit_result});
  wce.write_concern.emplace();
  wce.write_concern->code = 50;
  CHECK(after_commit(&wce, at(milliseconds(5))).step == step::return_error);
  // A commit-level write concern timeout (64) is retried: "The commit is retried after a write concern timeout".
  diagnostics wtimeout = with_labels({label::unknown_transaction_commit_result});
  wtimeout.write_concern.emplace();
  wtimeout.write_concern->code = 64;
  CHECK(after_commit(&wtimeout, at(milliseconds(5))).step == step::retry_commit);
}

TEST_CASE("transactions-convenient-api.md step 2: backoff = jitter * min(5 ms * 1.5^transactionAttempt, 500 ms)") {
  // transactionAttempt counts the transactions already started: 1 before the first retry.
  CHECK(with_transaction_backoff(1, 1.0) == microseconds(7500));
  CHECK(with_transaction_backoff(2, 1.0) == microseconds(11250));
  CHECK(with_transaction_backoff(11, 1.0) == microseconds(432487));  // 5 ms * 1.5^11 = 432.487 ms
  CHECK(with_transaction_backoff(12, 1.0) == microseconds(500000));
  CHECK(with_transaction_backoff(1000, 1.0) == microseconds(500000));
  CHECK(with_transaction_backoff(1, 0.5) == microseconds(3750));
  CHECK(with_transaction_backoff(4, 0.0) == microseconds(0));
}

// The prose test "Retry Backoff is Enforced", computed from the decisions instead of timed:
// 13 commits fail with NoSuchTransaction (TransientTransactionError), the 14th succeeds; the
// run with jitter 1 must take 2.3 s +- 0.5 s longer than the run with jitter 0.
namespace {
std::chrono::microseconds total_backoff_of_13_failed_commits(double jitter) {
  const diagnostics no_such_transaction = with_labels({label::transient_transaction_error}, 251);
  std::chrono::microseconds total{0};
  for (int attempt = 1;; ++attempt) {
    REQUIRE(after_callback(nullptr, ts::in_progress, at(milliseconds(0), attempt, jitter)).step == step::commit);
    const bool fails = attempt <= 13;
    auto d = after_commit(fails ? &no_such_transaction : nullptr, at(milliseconds(0), attempt, jitter));
    if (d.step == step::done) break;
    REQUIRE(d.step == step::retry_transaction);
    total += d.backoff;
  }
  return total;
}
}  // namespace

TEST_CASE("transactions-convenient-api.md prose test \"Retry Backoff is Enforced\": 13 retries add about 2.3 s") {
  const auto no_backoff = total_backoff_of_13_failed_commits(0.0);
  const auto with_backoff = total_backoff_of_13_failed_commits(1.0);
  CHECK(no_backoff == microseconds(0));
  const double added_s = std::chrono::duration<double>(with_backoff - no_backoff).count();
  CHECK(std::abs(added_s - 2.3) < 0.5);
  // 7.5 + 11.25 + ... + 432.49 + 500 + 500 ms (attempts 1..13).
  CHECK(with_backoff == microseconds(2282459));
}
