#include "proto/retry/error_labels.hpp"

#include "proto/retry/retryable_codes.hpp"

namespace mongowire::detail {
namespace {

bool no_server_reply(failure_kind kind) noexcept {
  return kind == failure_kind::network || kind == failure_kind::server_selection ||
         kind == failure_kind::pool_cleared || kind == failure_kind::checkout_failed;
}

bool takes_retryable_write_label(const label_context& ctx) noexcept {
  // transactions.md, "Interaction with Retryable Writes": commit and abort are retryable
  // writes even with retryWrites=false; other writes in a transaction never get the label.
  if (is_transaction_end(ctx.family)) return true;
  return ctx.retryable_write && !ctx.in_transaction;
}

bool pre_44_reply_is_retryable(const diagnostics& d, const label_context& ctx) noexcept {
  if (ctx.max_wire_version >= server_labels_retryable_writes_wire_version) return false;
  if (is_retryable_write_code(d.server_code)) return true;
  // Only a mongod's writeConcernError counts; never writeErrors[].code.
  return !ctx.from_mongos && d.write_concern && is_retryable_write_code(d.write_concern->code);
}

bool needs_retryable_write_label(failure_kind kind, const diagnostics& d, const label_context& ctx) noexcept {
  if (!takes_retryable_write_label(ctx)) return false;
  switch (kind) {
    case failure_kind::network:
    case failure_kind::pool_cleared: return true;
    case failure_kind::server_reply: return pre_44_reply_is_retryable(d, ctx);
    default: return false;
  }
}

bool is_write_concern_failure(const diagnostics& d) noexcept {
  if (d.server_code == server_code::write_concern_failed) return true;
  if (!d.write_concern) return false;
  // These two mean the write concern itself is invalid: a retry fails the same way.
  const std::int32_t code = d.write_concern->code;
  return code != server_code::unsatisfiable_write_concern && code != server_code::unknown_repl_write_concern;
}

bool commit_result_unknown(failure_kind kind, const diagnostics& d) noexcept {
  if (no_server_reply(kind)) return true;
  if (kind != failure_kind::server_reply) return false;
  return d.has_label(label::retryable_write_error) || is_max_time_ms_expired(d) || is_write_concern_failure(d);
}

}  // namespace

bool is_max_time_ms_expired(const diagnostics& d) noexcept {
  return d.server_code == server_code::max_time_ms_expired ||
         (d.write_concern && d.write_concern->code == server_code::max_time_ms_expired);
}

void add_client_labels(failure_kind kind, diagnostics& d, const label_context& ctx) {
  if (kind == failure_kind::client) return;

  if (ctx.in_transaction && ctx.family != retry_family::commit && no_server_reply(kind))
    d.labels.add(label::transient_transaction_error);

  if (needs_retryable_write_label(kind, d, ctx)) d.labels.add(label::retryable_write_error);

  if (ctx.family == retry_family::commit && commit_result_unknown(kind, d)) {
    d.labels.add(label::unknown_transaction_commit_result);
    d.labels.remove(label::transient_transaction_error);
  }
}

bool rewrite_retryable_writes_unsupported(diagnostics& d) {
  if (d.server_code != server_code::illegal_operation || !d.server_message.starts_with("Transaction numbers"))
    return false;
  d.client_message = retryable_writes_unsupported_message;  // the server's errmsg is kept
  return true;
}

}  // namespace mongowire::detail
