// The retry loop of ClientSession.withTransaction (transactions-convenient-api.md,
// "Sequence of Actions"), as pure decisions: the caller measures elapsed time with a
// monotonic clock and passes it in, with a random jitter in [0, 1).
#pragma once

#include <chrono>

#include "mongowire/error.hpp"
#include "proto/txn/transaction_state.hpp"

namespace mongowire::detail {

// "drivers MUST enforce a 120-second timeout" when timeoutMS is unset.
inline constexpr std::chrono::milliseconds with_transaction_time_limit{120000};
// "BACKOFF_INITIAL is 5ms", "BACKOFF_MAX is 500ms", growth 1.5.
inline constexpr std::chrono::milliseconds with_transaction_backoff_initial{5};
inline constexpr std::chrono::milliseconds with_transaction_backoff_max{500};

// Step 2: jitter * min(BACKOFF_INITIAL * 1.5^transactionAttempt, BACKOFF_MAX), where
// transactionAttempt counts the transactions started so far (>= 1 when retrying: the first
// retry waits up to 7.5 ms).
std::chrono::microseconds with_transaction_backoff(int transaction_attempt, double jitter) noexcept;

enum class with_transaction_step {
  commit,             // call commitTransaction
  retry_commit,       // call commitTransaction again (it applies w:majority itself)
  retry_transaction,  // sleep `backoff`, then startTransaction and run the callback again
  done,               // success, or the callback ended the transaction itself
  return_error,       // propagate the error as is
  return_timeout,     // the time limit is reached: report a timeout error wrapping this error
                      // ("Timeout Error propagation")
};

struct with_transaction_decision {
  with_transaction_step step = with_transaction_step::done;
  std::chrono::microseconds backoff{0};  // retry_transaction only
};

struct with_transaction_clock {
  // Since withTransaction began, measured after the abort of step 7.1 (which may take up to
  // serverSelectionTimeoutMS): the pseudo-code reads the clock after abortTransaction.
  std::chrono::milliseconds elapsed{0};
  std::chrono::milliseconds limit = with_transaction_time_limit;  // timeoutMS when set
  int transaction_attempt = 1;                                    // transactions started so far
  double jitter = 0;                                              // random in [0, 1)
};

// Step 7.1: a failed callback that left the transaction open ("starting transaction" or
// "transaction in progress") is aborted before anything else is decided.
bool abort_after_callback_error(transaction_state state) noexcept;

// Steps 6-8: the callback returned (`error` null) or failed; `state` is the session's
// transaction state when the callback returned (before the abort of step 7.1).
with_transaction_decision after_callback(const diagnostics* error, transaction_state state,
                                         const with_transaction_clock& clock);

// Steps 10-11: commitTransaction returned (`error` null) or failed.
with_transaction_decision after_commit(const diagnostics* error, const with_transaction_clock& clock);

}  // namespace mongowire::detail
