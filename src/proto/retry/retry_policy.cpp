#include "proto/retry/retry_policy.hpp"

#include <algorithm>
#include <cmath>

#include "proto/retry/retryable_codes.hpp"

namespace mongowire::detail {
namespace {

// The caller cannot infer that an attempt reached the server (retryable-writes.md: "If an
// error would not allow the caller to infer that an attempt was made (e.g. connection pool
// exception originating from the driver)").
bool attempt_not_made(failure_kind kind) noexcept {
  return kind == failure_kind::server_selection || kind == failure_kind::pool_cleared ||
         kind == failure_kind::client;
}

bool retryable_read_error(failure_kind kind, const diagnostics& d) noexcept {
  switch (kind) {
    case failure_kind::network:
    case failure_kind::pool_cleared: return true;
    case failure_kind::server_reply: return is_retryable_read_code(d.server_code);
    default: return false;
  }
}

bool retryable_write_error(failure_kind kind, const diagnostics& d) noexcept {
  return kind != failure_kind::client && d.has_label(label::retryable_write_error);
}

bool retryable_overload_error(const diagnostics& d) noexcept {
  return d.has_label(label::system_overloaded) && d.has_label(label::retryable_error);
}

double clamp_jitter(double jitter) noexcept {
  if (!(jitter >= 0)) return 0;  // also NaN
  return std::min(jitter, 1.0);
}

}  // namespace

bool retry_token_bucket::consume(double n) noexcept {
  if (tokens_ < n) return false;
  tokens_ -= n;
  return true;
}

void retry_token_bucket::deposit(double n) noexcept { tokens_ = std::min(capacity_, tokens_ + n); }

std::chrono::milliseconds overload_backoff(int retry, double jitter) noexcept {
  const double exponent = std::max(retry - 1, 0);
  const double cap = static_cast<double>(overload_max_backoff.count());
  const double grown = std::min(cap, static_cast<double>(overload_base_backoff.count()) * std::pow(2.0, exponent));
  return std::chrono::milliseconds(static_cast<std::int64_t>(clamp_jitter(jitter) * grown));
}

bool retry_tracker::family_retryable(failure_kind kind, const diagnostics& d) const noexcept {
  switch (settings_.family) {
    case retry_family::write: return settings_.policy_enabled && retryable_write_error(kind, d);
    case retry_family::read: return settings_.policy_enabled && retryable_read_error(kind, d);
    case retry_family::commit:
    case retry_family::abort: return retryable_write_error(kind, d);
    case retry_family::other: return false;
  }
  return false;
}

void retry_tracker::choose_error_to_report(failure_kind kind, const diagnostics& d) noexcept {
  const std::size_t current = static_cast<std::size_t>(failures_ - 1);
  if (current == 0 || attempt_not_made(kind)) return;  // keep the first / previous error
  const bool write_like = settings_.family != retry_family::read;
  // retryable-writes.md: an error labeled NoWritesPerformed does not replace the previous
  // one; when every error has it, the first error is reported.
  if (write_like && d.has_label(label::no_writes_performed)) return;
  reported_ = current;
}

retry_decision retry_tracker::on_failure(failure_kind kind, const diagnostics& d, double jitter) {
  ++failures_;
  choose_error_to_report(kind, d);

  const bool overload = d.has_label(label::system_overloaded);
  // "If a retry attempt fails with an error that is not an overload error, deposit 1 token."
  if (bucket_ && retries_ > 0 && !overload) bucket_->deposit(1);

  const bool retryable =
      family_retryable(kind, d) || (settings_.overload_retry_enabled && retryable_overload_error(d));
  if (!retryable) return {};

  if (overload) saw_overload_ = true;
  const int allowed = saw_overload_ ? settings_.max_overload_retries : 1;
  if (retries_ + 1 > allowed) return {};

  retry_decision decision;
  if (overload) {
    decision.backoff = overload_backoff(retries_ + 1, jitter);
    if (bucket_ && !bucket_->consume(1)) return {};
  }
  ++retries_;
  decision.retry = true;
  decision.deprioritize_failed_server = settings_.sharded || (overload && settings_.overload_retargeting);
  return decision;
}

void retry_tracker::on_success() noexcept {
  if (!bucket_) return;
  bucket_->deposit(retry_token_bucket::return_rate + (retries_ > 0 ? 1.0 : 0.0));
}

bool should_retry_write(failure_kind kind, const diagnostics& d, bool retry_writes_enabled) {
  return retry_tracker({.family = retry_family::write, .policy_enabled = retry_writes_enabled,
                        .overload_retry_enabled = retry_writes_enabled})
      .on_failure(kind, d, 0)
      .retry;
}

bool should_retry_read(failure_kind kind, const diagnostics& d, bool retry_reads_enabled) {
  return retry_tracker({.family = retry_family::read, .policy_enabled = retry_reads_enabled,
                        .overload_retry_enabled = retry_reads_enabled})
      .on_failure(kind, d, 0)
      .retry;
}

bool should_retry_commit(failure_kind kind, const diagnostics& d) {
  return retry_tracker({.family = retry_family::commit}).on_failure(kind, d, 0).retry;
}

bool should_retry_abort(failure_kind kind, const diagnostics& d) {
  return retry_tracker({.family = retry_family::abort}).on_failure(kind, d, 0).retry;
}

}  // namespace mongowire::detail
