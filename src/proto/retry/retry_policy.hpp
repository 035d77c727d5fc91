// Retry decisions for one operation, sans-I/O: the executor reports each failed attempt
// (with labels already added by add_client_labels) and learns whether to retry, how long
// to back off, and which error to report when it gives up.
//
// Rules combined here:
// - retryable-writes.md, "Executing Retryable Write Commands": retry on RetryableWriteError,
//   once; report the latest error unless no command was sent or it is labeled NoWritesPerformed.
// - retryable-reads.md, "Executing Retryable Read Commands": retry on network errors,
//   PoolClearedError and the retryable read codes, once; report the latest error that came
//   from an attempt that was made.
// - transactions.md: commitTransaction and abortTransaction are retried like retryable writes
//   even with retryWrites=false; no other command in a transaction is retried
//   ("Interaction with Retryable Writes"), except for overload errors.
// - client-backpressure.md, "Overload retry policy": any command is retried on a retryable
//   overload error (SystemOverloadedError + RetryableError) when its retryWrites/retryReads
//   setting allows; once an overload error is seen the retry limit becomes maxAdaptiveRetries
//   for every retry policy, and each retry after an overload error backs off
//   jitter * min(10 s, base * 2^attempt), base = the error's baseBackoffMS or 100 ms.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "mongowire/error.hpp"
#include "proto/retry/error_labels.hpp"
#include "proto/sdam/server_description.hpp"

namespace mongowire::detail {

// client-backpressure.md, "Overload retry policy", step 3: BASE_BACKOFF and MAX_BACKOFF.
inline constexpr std::chrono::milliseconds overload_base_backoff{100};
inline constexpr std::chrono::milliseconds overload_max_backoff{10000};
// Step 2.2: "The default value of MAX_RETRIES is 2" (the `maxAdaptiveRetries` URI option).
inline constexpr int default_max_adaptive_retries = 2;

// retryable-writes.md, "Supported Server Versions": the server has logicalSessionTimeoutMinutes
// in its hello and is not a standalone (retryable_writes_unsupported_reason, capabilities.hpp).
bool supports_retryable_writes(const sdam::server_description& server) noexcept;

struct retry_settings {
  retry_family family = retry_family::other;
  // The family's own policy may retry: write -> retryWrites on and the server supports
  // retryable writes; read -> retryReads on. Ignored for commit/abort (always retried) and
  // other (never, outside overload errors).
  bool policy_enabled = true;
  // client-backpressure.md, step 2.4: writes need retryWrites, reads retryReads, runCommand
  // both. Commands in transactions follow their read/write nature.
  bool overload_retry_enabled = true;
  int max_adaptive_retries = default_max_adaptive_retries;
  // Deprioritize the failed server for the retry: always on sharded clusters (retryable
  // reads/writes specs); on overload errors only with enableOverloadRetargeting.
  bool sharded = false;
  bool overload_retargeting = false;
  // client-side-operations-timeout.md "Retryability": with timeoutMS set, a retryable error is
  // retried as often as the deadline allows (the executor stops at the deadline), not once.
  bool retry_until_deadline = false;
};

// One failed attempt as the executor saw it.
struct failed_attempt {
  failure_kind kind = failure_kind::client;
  // False when the attempt failed before its command went out: server selection, connection
  // checkout (a network error of the new connection's handshake included), encoding, or a
  // retry refused by the newly selected server. retryable-writes.md: such errors "indicate
  // that no writes were attempted", so the previous error is reported.
  bool command_sent = true;
};

// A jitter drawn in [0, 1], clamped there (NaN counts as 0): backoffs never grow past their cap.
double clamp_jitter(double jitter) noexcept;

// client-backpressure.md, step 3: backoff = jitter * min(MAX_BACKOFF, base * 2^attempt),
// `attempt` the retry number (the first retry is 1).
std::chrono::milliseconds overload_backoff(int attempt, double jitter, std::chrono::milliseconds base) noexcept;

// Step 3.6: a positive `baseBackoffMS` on the error reply replaces BASE_BACKOFF.
std::chrono::milliseconds overload_base_backoff_of(const diagnostics& d) noexcept;

struct attempt_decision {
  bool retry = false;
  std::chrono::milliseconds backoff{0};  // wait this long first (overload errors only)
  bool deprioritize_failed_server = false;
};

class retry_tracker {
 public:
  explicit retry_tracker(retry_settings s) : settings_(s) {}

  // After a failed attempt. `jitter` is a random number in [0, 1).
  attempt_decision on_failure(const failed_attempt& f, const diagnostics& d, double jitter);

  // retryable-writes.md: the server selected for the first attempt decides whether the
  // write is a retryable write at all.
  void set_policy_enabled(bool enabled) noexcept { settings_.policy_enabled = enabled; }
  // The topology is known to be sharded only once discovered, possibly after the first attempt.
  void set_sharded(bool sharded) noexcept { settings_.sharded = sharded; }

  // 0-based index of the failed attempt whose error the operation reports when it stops.
  std::size_t error_to_report() const noexcept { return reported_; }
  int failed_attempts() const noexcept { return failures_; }
  int retries_used() const noexcept { return retries_; }
  bool saw_overload() const noexcept { return saw_overload_; }

 private:
  bool family_retryable(failure_kind kind, const diagnostics& d) const noexcept;
  void choose_error_to_report(const failed_attempt& f, const diagnostics& d) noexcept;

  retry_settings settings_;
  int failures_ = 0;
  int retries_ = 0;
  bool saw_overload_ = false;
  std::size_t reported_ = 0;
};

// Convenience one-shot checks for a first failed attempt that sent its command.
bool should_retry_write(failure_kind kind, const diagnostics& d, bool retry_writes_enabled);
bool should_retry_read(failure_kind kind, const diagnostics& d, bool retry_reads_enabled);
bool should_retry_commit(failure_kind kind, const diagnostics& d);
bool should_retry_abort(failure_kind kind, const diagnostics& d);

}  // namespace mongowire::detail
