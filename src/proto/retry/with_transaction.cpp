#include "proto/retry/with_transaction.hpp"

#include <algorithm>
#include <cmath>

#include "proto/retry/error_labels.hpp"
#include "proto/retry/retry_policy.hpp"

namespace mongowire::detail {
namespace {

using std::chrono::microseconds;

// Step 2: retry the transaction only when the backoff still ends inside the time limit
// (pseudo-code: "if (Date.now() + backoff - startTime >= timeout) throw makeTimeoutError").
with_transaction_decision retry_transaction_or_timeout(const with_transaction_clock& clock) {
  const microseconds backoff = with_transaction_backoff(clock.transaction_attempt, clock.jitter);
  if (clock.elapsed >= clock.limit || clock.elapsed + backoff >= clock.limit)
    return {with_transaction_step::return_timeout};
  return {with_transaction_step::retry_transaction, backoff};
}

}  // namespace

microseconds with_transaction_backoff(int transaction_attempt, double jitter) noexcept {
  const double exponent = std::max(transaction_attempt, 0);
  const double initial_us = static_cast<double>(microseconds(with_transaction_backoff_initial).count());
  const double max_us = static_cast<double>(microseconds(with_transaction_backoff_max).count());
  const double grown = std::min(initial_us * std::pow(1.5, exponent), max_us);
  return microseconds(static_cast<std::int64_t>(clamp_jitter(jitter) * grown));
}

bool abort_after_callback_error(transaction_state state) noexcept {
  return state == transaction_state::starting || state == transaction_state::in_progress;
}

with_transaction_decision after_callback(const diagnostics* error, transaction_state state,
                                         const with_transaction_clock& clock) {
  if (!error) {
    // Step 8: the callback committed or aborted on its own.
    if (!abort_after_callback_error(state)) return {with_transaction_step::done};
    return {with_transaction_step::commit};  // step 9
  }
  // Step 7.2 (after the caller's abort of step 7.1).
  if (error->has_label(label::transient_transaction_error)) return retry_transaction_or_timeout(clock);
  // Steps 7.3-7.4: UnknownTransactionCommitResult (the callback committed) or anything else.
  return {with_transaction_step::return_error};
}

with_transaction_decision after_commit(const diagnostics* error, const with_transaction_clock& clock) {
  if (!error) return {with_transaction_step::done};  // step 11
  // Step 10.1: the commit is retried unless it hit maxTimeMS, which the user chose.
  if (error->has_label(label::unknown_transaction_commit_result) && !is_max_time_ms_expired(*error)) {
    if (clock.elapsed < clock.limit) return {with_transaction_step::retry_commit};
    return {with_transaction_step::return_timeout};
  }
  // Step 10.2.
  if (error->has_label(label::transient_transaction_error)) return retry_transaction_or_timeout(clock);
  return {with_transaction_step::return_error};  // step 10.3
}

}  // namespace mongowire::detail
