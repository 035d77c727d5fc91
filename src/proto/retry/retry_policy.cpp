#include "proto/retry/retry_policy.hpp"

#include <algorithm>
#include <cmath>

#include "proto/retry/retryable_codes.hpp"
#include "proto/txn/capabilities.hpp"

namespace mongowire::detail {
namespace {

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

}  // namespace

double clamp_jitter(double jitter) noexcept {
  if (!(jitter >= 0)) return 0;  // also NaN
  return std::min(jitter, 1.0);
}

bool supports_retryable_writes(const sdam::server_description& server) noexcept {
  return retryable_writes_unsupported_reason(server).empty();
}

std::chrono::milliseconds overload_backoff(int attempt, double jitter, std::chrono::milliseconds base) noexcept {
  const double cap = static_cast<double>(overload_max_backoff.count());
  const double exponent = std::max(attempt, 0);
  const double grown = std::min(cap, static_cast<double>(base.count()) * std::pow(2.0, exponent));
  return std::chrono::milliseconds(static_cast<std::int64_t>(clamp_jitter(jitter) * grown));
}

std::chrono::milliseconds overload_base_backoff_of(const diagnostics& d) noexcept {
  auto element = d.reply.get_view()["baseBackoffMS"];
  std::optional<double> value;
  if (auto i = element.as_integer()) value = static_cast<double>(*i);
  else if (auto f = element.as_double()) value = *f;
  // "has a positive value"; anything above MAX_BACKOFF is capped by the formula anyway.
  if (!value || !(*value > 0)) return overload_base_backoff;
  const double capped = std::min(*value, static_cast<double>(overload_max_backoff.count()));
  return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(capped)));
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

void retry_tracker::choose_error_to_report(const failed_attempt& f, const diagnostics& d) noexcept {
  const std::size_t current = static_cast<std::size_t>(failures_ - 1);
  // Keep the first error until an attempt that reached the server fails.
  if (current == 0 || !f.command_sent) return;
  const bool write_like = settings_.family != retry_family::read;
  // retryable-writes.md: an error labeled NoWritesPerformed does not replace the previous
  // one; when every error has it, the first error is reported.
  if (write_like && d.has_label(label::no_writes_performed)) return;
  reported_ = current;
}

attempt_decision retry_tracker::on_failure(const failed_attempt& f, const diagnostics& d, double jitter) {
  ++failures_;
  choose_error_to_report(f, d);

  const bool overload = d.has_label(label::system_overloaded);
  const bool retryable =
      family_retryable(f.kind, d) || (settings_.overload_retry_enabled && retryable_overload_error(d));
  if (!retryable) return {};

  if (overload) saw_overload_ = true;
  const int allowed = saw_overload_ ? settings_.max_adaptive_retries : 1;
  if (retries_ + 1 > allowed && (saw_overload_ || !settings_.retry_until_deadline)) return {};

  attempt_decision decision;
  ++retries_;
  // "attempt is the retry number", counting retries for non-overload errors too.
  if (overload) decision.backoff = overload_backoff(retries_, jitter, overload_base_backoff_of(d));
  decision.retry = true;
  decision.deprioritize_failed_server = settings_.sharded || (overload && settings_.overload_retargeting);
  return decision;
}

namespace {

bool retried_after_sent_failure(retry_settings s, failure_kind kind, const diagnostics& d) {
  return retry_tracker(s).on_failure({kind, true}, d, 0).retry;
}

}  // namespace

bool should_retry_write(failure_kind kind, const diagnostics& d, bool retry_writes_enabled) {
  return retried_after_sent_failure({.family = retry_family::write,
                                     .policy_enabled = retry_writes_enabled,
                                     .overload_retry_enabled = retry_writes_enabled},
                                    kind, d);
}

bool should_retry_read(failure_kind kind, const diagnostics& d, bool retry_reads_enabled) {
  return retried_after_sent_failure({.family = retry_family::read,
                                     .policy_enabled = retry_reads_enabled,
                                     .overload_retry_enabled = retry_reads_enabled},
                                    kind, d);
}

bool should_retry_commit(failure_kind kind, const diagnostics& d) {
  return retried_after_sent_failure({.family = retry_family::commit}, kind, d);
}

bool should_retry_abort(failure_kind kind, const diagnostics& d) {
  return retried_after_sent_failure({.family = retry_family::abort}, kind, d);
}

}  // namespace mongowire::detail
