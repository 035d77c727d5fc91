// Retry decisions: retryable-writes.md, retryable-reads.md, transactions.md (commit/abort),
// client-backpressure.md (overload retries, backoff, token bucket).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "proto/retry/retry_policy.hpp"

using namespace mongowire;
using namespace mongowire::detail;
using std::chrono::milliseconds;
using fk = failure_kind;

namespace {

diagnostics server_error(std::int32_t code, std::initializer_list<std::string_view> labels = {}) {
  diagnostics d;
  d.server_code = code;
  for (auto l : labels) d.labels.add(l);
  return d;
}
diagnostics labeled(std::initializer_list<std::string_view> labels) { return server_error(0, labels); }

const diagnostics retryable_write_err = server_error(91, {label::retryable_write_error});
const diagnostics overload_err = server_error(462, {label::system_overloaded, label::retryable_error});
const diagnostics no_labels{};

failed_attempt sent(fk k) { return {k, true}; }
failed_attempt unsent(fk k) { return {k, false}; }

}  // namespace

TEST_CASE("retryable-writes.md: a write is retried once on RetryableWriteError, and never on other errors") {
  retry_tracker t({.family = retry_family::write});
  CHECK(t.on_failure(sent(fk::server_reply), retryable_write_err, 0.5).retry);
  CHECK_FALSE(t.on_failure(sent(fk::server_reply), retryable_write_err, 0.5).retry);  // only one retry
  CHECK(t.retries_used() == 1);

  CHECK_FALSE(should_retry_write(fk::server_reply, server_error(11000), true));
  CHECK_FALSE(should_retry_write(fk::server_reply, server_error(91), true));  // code alone: the label decides
  CHECK(should_retry_write(fk::network, labeled({label::retryable_write_error}), true));
  CHECK_FALSE(should_retry_write(fk::server_reply, retryable_write_err, false));  // retryWrites=false
  CHECK_FALSE(should_retry_write(fk::client, retryable_write_err, true));
}

TEST_CASE(
    "retryable-writes.md: when the retry fails too, its error is reported unless it is driver-side or "
    "NoWritesPerformed") {
  {
    retry_tracker t({.family = retry_family::write});
    t.on_failure(sent(fk::server_reply), retryable_write_err, 0);
    t.on_failure(sent(fk::server_reply), server_error(10107, {label::retryable_write_error}), 0);
    CHECK(t.error_to_report() == 1);  // the later server error is more relevant
  }
  {
    // Case "NoWritesPerformed after an error with a RetryableWriteError label": the first error.
    retry_tracker t({.family = retry_family::write});
    t.on_failure(sent(fk::server_reply), retryable_write_err, 0);
    t.on_failure(sent(fk::server_reply),
                 server_error(10107, {label::retryable_write_error, label::no_writes_performed}), 0);
    CHECK(t.error_to_report() == 0);
  }
  {
    // "If all server errors are labeled NoWritesPerformed, then the first error should be raised."
    retry_tracker t({.family = retry_family::write});
    const diagnostics nwp = server_error(64, {label::retryable_write_error, label::no_writes_performed});
    t.on_failure(sent(fk::server_reply), nwp, 0);
    t.on_failure(sent(fk::server_reply), nwp, 0);
    CHECK(t.error_to_report() == 0);
  }
  for (fk driver_side : {fk::server_selection, fk::pool_cleared, fk::checkout_failed, fk::network, fk::client}) {
    // No server selected, no connection (a handshake network error included) or nothing encoded for the
    // retry: "any client-side error that occurs before a command is sent" -> the previous error.
    retry_tracker t({.family = retry_family::write});
    t.on_failure(sent(fk::network), labeled({label::retryable_write_error}), 0);
    t.on_failure(unsent(driver_side), labeled({label::retryable_write_error}), 0);
    CHECK(t.error_to_report() == 0);
  }
}

TEST_CASE("retryable-reads.md: a read is retried once on network errors, PoolClearedError and retryable read codes") {
  CHECK(should_retry_read(fk::network, no_labels, true));
  CHECK(should_retry_read(fk::pool_cleared, no_labels, true));
  CHECK(should_retry_read(fk::server_reply, server_error(134), true));
  CHECK(should_retry_read(fk::server_reply, server_error(262), true));
  CHECK_FALSE(should_retry_read(fk::server_reply, server_error(11000), true));
  CHECK_FALSE(should_retry_read(fk::server_reply, server_error(50), true));
  CHECK_FALSE(should_retry_read(fk::server_selection, no_labels, true));
  CHECK_FALSE(should_retry_read(fk::network, no_labels, false));  // retryReads=false

  retry_tracker t({.family = retry_family::read});
  CHECK(t.on_failure(sent(fk::network), no_labels, 0).retry);
  CHECK_FALSE(t.on_failure(sent(fk::server_reply), server_error(13436, {label::no_writes_performed}), 0).retry);
  CHECK(t.error_to_report() == 1);  // reads ignore NoWritesPerformed: the later server error

  retry_tracker p({.family = retry_family::read});
  p.on_failure(sent(fk::server_reply), server_error(91), 0);
  p.on_failure(unsent(fk::pool_cleared), no_labels, 0);
  CHECK(p.error_to_report() == 0);  // driver-side failure of the retry: the previous error
}

TEST_CASE(
    "transactions.md: commitTransaction and abortTransaction are retried once on retryable errors, even with "
    "retryWrites=false") {
  CHECK(should_retry_commit(fk::network,
                            labeled({label::retryable_write_error, label::unknown_transaction_commit_result})));
  CHECK(should_retry_abort(fk::network, labeled({label::retryable_write_error, label::transient_transaction_error})));
  // retryable-commit.json "commitTransaction is not retried after UnsatisfiableWriteConcern error" and
  // FAQ "Why don't drivers automatically retry commit after a write concern timeout error?"
  CHECK_FALSE(should_retry_commit(fk::server_reply, labeled({label::unknown_transaction_commit_result})));
  // retryable-abort.json "abortTransaction does not retry after Interrupted"
  CHECK_FALSE(should_retry_abort(fk::server_reply, server_error(11601)));

  retry_tracker commit({.family = retry_family::commit, .policy_enabled = false});  // policy flag ignored
  CHECK(commit.on_failure(sent(fk::network), labeled({label::retryable_write_error}), 0).retry);
  CHECK_FALSE(commit.on_failure(sent(fk::network), labeled({label::retryable_write_error}), 0)
                  .retry);  // "fails after two errors"
}

TEST_CASE("transactions.md: other commands in a transaction are not retried, except on retryable overload errors") {
  retry_tracker insert_in_txn({.family = retry_family::other});
  CHECK_FALSE(insert_in_txn.on_failure(sent(fk::network), labeled({label::transient_transaction_error}), 0).retry);

  retry_tracker overloaded({.family = retry_family::other});
  CHECK(overloaded.on_failure(sent(fk::server_reply), overload_err, 0).retry);
}

TEST_CASE("client-backpressure.md prose test 3: a retryable overload error is retried at most MAX_RETRIES (2) times") {
  for (retry_family f :
       {retry_family::write, retry_family::read, retry_family::commit, retry_family::abort, retry_family::other}) {
    retry_tracker t({.family = f});
    CHECK(t.on_failure(sent(fk::server_reply), overload_err, 0).retry);
    CHECK(t.on_failure(sent(fk::server_reply), overload_err, 0).retry);
    CHECK_FALSE(t.on_failure(sent(fk::server_reply), overload_err, 0).retry);
    CHECK(t.failed_attempts() == 3);  // backpressure-retryable-*.json: one attempt + 2 retries
  }
  // Prose test 4: maxAdaptiveRetries=1 -> 2 attempts; 0 turns overload retries off.
  for (int max : {0, 1, 5}) {
    retry_tracker t({.family = retry_family::read, .max_adaptive_retries = max});
    int retries = 0;
    while (t.on_failure(sent(fk::server_reply), overload_err, 0).retry) ++retries;
    CHECK(retries == max);
  }
}

TEST_CASE("client-backpressure.md: SystemOverloadedError without RetryableError is not a retryable overload error") {
  retry_tracker t({.family = retry_family::other});
  CHECK_FALSE(t.on_failure(sent(fk::server_reply), labeled({label::system_overloaded}), 0).retry);
  retry_tracker u({.family = retry_family::other});
  CHECK_FALSE(u.on_failure(sent(fk::server_reply), labeled({label::retryable_error}), 0).retry);
}

TEST_CASE("client-backpressure.md: after an overload error every retry policy is limited by maxAdaptiveRetries") {
  // A retryable write error that is also an overload error: backoff and the larger limit apply.
  retry_tracker t({.family = retry_family::write});
  const diagnostics overloaded_write = labeled({label::retryable_write_error, label::system_overloaded});
  auto first = t.on_failure(sent(fk::server_reply), overloaded_write, 1.0);
  CHECK(first.retry);
  CHECK(first.backoff == milliseconds(200));
  // Then a plain retryable write error: still retried, since an overload error was seen, and no backoff.
  auto second = t.on_failure(sent(fk::server_reply), retryable_write_err, 1.0);
  CHECK(second.retry);
  CHECK(second.backoff == milliseconds(0));
  CHECK_FALSE(t.on_failure(sent(fk::server_reply), retryable_write_err, 1.0).retry);
}

TEST_CASE("client-backpressure.md: overload retries are off when the command's retryReads/retryWrites setting is off") {
  retry_tracker t({.family = retry_family::other, .overload_retry_enabled = false});
  CHECK_FALSE(t.on_failure(sent(fk::server_reply), overload_err, 0).retry);
}

TEST_CASE(
    "client-backpressure.md step 3: backoff = jitter * min(10 s, 100 ms * 2^attempt), the first retry is attempt 1") {
  CHECK(overload_backoff(1, 1.0, overload_base_backoff) == milliseconds(200));
  CHECK(overload_backoff(2, 1.0, overload_base_backoff) == milliseconds(400));
  CHECK(overload_backoff(5, 1.0, overload_base_backoff) == milliseconds(3200));
  CHECK(overload_backoff(7, 1.0, overload_base_backoff) == milliseconds(10000));
  CHECK(overload_backoff(40, 1.0, overload_base_backoff) == milliseconds(10000));
  CHECK(overload_backoff(1, 0.5, overload_base_backoff) == milliseconds(100));  // "delays of 100ms and 200ms"
  CHECK(overload_backoff(2, 0.5, overload_base_backoff) == milliseconds(200));  //  on average
  CHECK(overload_backoff(3, 0.0, overload_base_backoff) == milliseconds(0));
  CHECK(overload_backoff(3, std::numeric_limits<double>::quiet_NaN(), overload_base_backoff) == milliseconds(0));
  CHECK(overload_backoff(1, 7.0, overload_base_backoff) == milliseconds(200));  // jitter clamped to [0, 1]

  // Prose test 1: with jitter 1 the two backoffs add up to 0.6 s.
  retry_tracker t({.family = retry_family::write});
  auto b1 = t.on_failure(sent(fk::server_reply), overload_err, 1.0).backoff;
  auto b2 = t.on_failure(sent(fk::server_reply), overload_err, 1.0).backoff;
  CHECK(b1 + b2 == milliseconds(600));

  retry_tracker w({.family = retry_family::write});
  CHECK(w.on_failure(sent(fk::network), labeled({label::retryable_write_error}), 1.0).backoff == milliseconds(0));
}

TEST_CASE("client-backpressure.md step 3.6: a positive baseBackoffMS on the error replaces BASE_BACKOFF") {
  diagnostics with_base = overload_err;
  with_base.reply = bson::document::from_json(R"({"ok": 0, "code": 462, "baseBackoffMS": 30})");
  CHECK(overload_base_backoff_of(with_base) == milliseconds(30));
  // Prose test 5 (there with 50 ms): with jitter 1, 60 ms + 120 ms instead of 200 ms + 400 ms.
  retry_tracker t({.family = retry_family::write});
  auto b1 = t.on_failure(sent(fk::server_reply), with_base, 1.0).backoff;
  auto b2 = t.on_failure(sent(fk::server_reply), with_base, 1.0).backoff;
  CHECK(b1 == milliseconds(60));
  CHECK(b2 == milliseconds(120));

  for (const char* json : {R"({"ok": 0, "baseBackoffMS": 0})", R"({"ok": 0, "baseBackoffMS": -5})",
                           R"({"ok": 0, "baseBackoffMS": "50"})", R"({"ok": 0})"}) {
    diagnostics d = overload_err;
    d.reply = bson::document::from_json(json);
    CHECK(overload_base_backoff_of(d) == overload_base_backoff);
  }
  diagnostics as_double = overload_err;
  as_double.reply = bson::document::from_json(R"({"ok": 0, "baseBackoffMS": 25.0})");
  CHECK(overload_base_backoff_of(as_double) == milliseconds(25));
  diagnostics as_long = overload_err;
  as_long.reply = bson::document::from_json(R"({"ok": 0, "baseBackoffMS": {"$numberLong": "75"}})");
  CHECK(overload_base_backoff_of(as_long) == milliseconds(75));
}

TEST_CASE("retryable reads/writes and client-backpressure.md: which retries deprioritize the failed server") {
  retry_tracker sharded({.family = retry_family::write, .sharded = true});
  CHECK(sharded.on_failure(sent(fk::network), labeled({label::retryable_write_error}), 0).deprioritize_failed_server);

  retry_tracker replset({.family = retry_family::write});
  CHECK_FALSE(
      replset.on_failure(sent(fk::network), labeled({label::retryable_write_error}), 0).deprioritize_failed_server);

  retry_tracker retarget({.family = retry_family::other, .overload_retargeting = true});
  CHECK(retarget.on_failure(sent(fk::server_reply), overload_err, 0).deprioritize_failed_server);
  retry_tracker no_retarget({.family = retry_family::other});
  CHECK_FALSE(no_retarget.on_failure(sent(fk::server_reply), overload_err, 0).deprioritize_failed_server);
}

TEST_CASE("client-side-operations-timeout.md Retryability: with timeoutMS a retryable error is retried beyond once") {
  retry_tracker t({.family = retry_family::write, .retry_until_deadline = true});
  for (int i = 0; i < 5; ++i) CHECK(t.on_failure(sent(fk::server_reply), retryable_write_err, 0.5).retry);
  CHECK(t.retries_used() == 5);
  CHECK_FALSE(t.on_failure(sent(fk::server_reply), server_error(11000), 0.5).retry);  // still never a non-retryable one

  retry_tracker read({.family = retry_family::read, .retry_until_deadline = true});
  CHECK(read.on_failure(sent(fk::network), no_labels, 0.5).retry);
  CHECK(read.on_failure(sent(fk::network), no_labels, 0.5).retry);
  retry_tracker other({.family = retry_family::other, .overload_retry_enabled = false, .retry_until_deadline = true});
  CHECK_FALSE(other.on_failure(sent(fk::network), no_labels, 0.5).retry);  // runCommand is never retried
}
