#include "proto/txn/transaction_state.hpp"

#include <utility>

#include "proto/txn/server_session_pool.hpp"

namespace mongowire {

std::string_view to_string(transaction_state s) noexcept {
  switch (s) {
    case transaction_state::none: return "no transaction";
    case transaction_state::starting: return "starting transaction";
    case transaction_state::in_progress: return "transaction in progress";
    case transaction_state::committed: return "transaction committed";
    case transaction_state::committed_empty: return "transaction committed (empty)";
    case transaction_state::aborted: return "transaction aborted";
  }
  return "unknown";
}

}  // namespace mongowire

namespace mongowire::detail {

bool statement_error_aborts_transaction(error_code ec, const diagnostics& d) noexcept {
  return ec.category() == server_category() && (d.server_code != 0 || !d.write_errors.empty());
}
namespace {

client_refusal refuse(client_errc e, std::string_view spec_message = {}) { return {e, spec_message}; }

template <class T>
txn_result<T> refused(client_errc e, std::string_view spec_message = {}) {
  return {std::nullopt, refuse(e, spec_message)};
}

template <class T>
txn_result<T> accepted(T value) {
  return {std::move(value), {}};
}

finish_action nothing_to_send(retry_family c) { return {c, std::nullopt}; }

}  // namespace

client_refusal transaction::start_transaction(server_session& session, transaction_options resolved) {
  if (ended_) return refuse(client_errc::session_ended);
  if (in_transaction()) return refuse(client_errc::transaction_already_in_progress);
  // transactions.md, "writeConcern": refused whether given or inherited.
  if (resolved.write_concern && is_unacknowledged(*resolved.write_concern))
    return refuse(client_errc::unacknowledged_write_in_transaction,
                  "transactions do not support unacknowledged write concerns");
  // "Drivers MUST increment the txnNumber for the corresponding server session."
  ++session.txn_number;
  lsid_ = session.id;
  txn_number_ = session.txn_number;
  options_ = std::move(resolved);
  reset_to(transaction_state::starting);
  return {};
}

txn_result<txn_fields> transaction::prepare_operation(const operation_request& op) const {
  if (ended_) return refused<txn_fields>(client_errc::session_ended);
  if (!in_transaction()) return {std::nullopt, {}};
  // "Users cannot pass readConcern or writeConcern to operations in transactions".
  if (op.has_explicit_read_concern)
    return refused<txn_fields>(client_errc::option_in_transaction,
                               "Cannot set read concern after starting a transaction.");
  if (op.has_explicit_write_concern)
    return refused<txn_fields>(client_errc::option_in_transaction,
                               "Cannot set write concern after starting a transaction.");
  // "readPreference": checked for reads only, never for writes or in startTransaction.
  if (op.is_read && !is_primary(options_.read_preference))
    return refused<txn_fields>(client_errc::read_preference_not_primary);

  txn_fields f = base_fields();
  if (state_ == transaction_state::starting) {
    f.start_transaction = true;
    // "Behavior of the readConcern field" + "Interaction with Causal Consistency": the
    // transaction's read concern (when not the server default) and afterClusterTime, on the
    // first command only.
    bson::document rc;
    if (!is_server_default(options_.read_concern)) rc.concat(*options_.read_concern);
    if (op.after_cluster_time) rc.append("afterClusterTime", *op.after_cluster_time);
    if (!rc.get_view().empty()) f.read_concern = std::move(rc);
  }
  return accepted(std::move(f));
}

void transaction::on_command_sent() {
  switch (state_) {
    case transaction_state::starting: state_ = transaction_state::in_progress; break;
    case transaction_state::committed:
    case transaction_state::committed_empty:
    case transaction_state::aborted: reset_to(transaction_state::none); break;
    default: break;
  }
}

txn_result<finish_action> transaction::commit_transaction() {
  constexpr auto cmd = retry_family::commit;
  if (ended_) return refused<finish_action>(client_errc::session_ended);
  switch (state_) {
    case transaction_state::none: return refused<finish_action>(client_errc::no_transaction_started);
    case transaction_state::aborted: return refused<finish_action>(client_errc::commit_after_abort);
    default: break;
  }
  switch (state_) {
    case transaction_state::starting:
      // No command ran: "drivers MUST NOT run the commitTransaction command".
      state_ = transaction_state::committed_empty;
      return accepted(nothing_to_send(cmd));
    case transaction_state::committed_empty: return accepted(nothing_to_send(cmd));
    case transaction_state::in_progress:
      state_ = transaction_state::committed;
      commit_needs_majority_ = false;
      return accepted(finish_action{cmd, finish_fields(true)});
    case transaction_state::committed:
      // "re-run the previous commitTransaction", with w:majority ("Retrying commitTransaction").
      commit_needs_majority_ = true;
      return accepted(finish_action{cmd, finish_fields(true)});
    default: break;
  }
  return refused<finish_action>(client_errc::no_transaction_started);
}

void transaction::on_commit_attempt(commit_attempt_outcome outcome) noexcept {
  // Only a retryable overload error guarantees the server did no work; after anything else
  // the next attempt must use w:majority so the transaction cannot apply twice.
  if (outcome != commit_attempt_outcome::failed_overload) commit_needs_majority_ = true;
}

txn_fields transaction::next_commit_attempt() const { return finish_fields(true); }

txn_result<finish_action> transaction::abort_transaction() {
  constexpr auto cmd = retry_family::abort;
  if (ended_) return refused<finish_action>(client_errc::session_ended);
  switch (state_) {
    case transaction_state::none: return refused<finish_action>(client_errc::no_transaction_started);
    case transaction_state::committed:
    case transaction_state::committed_empty: return refused<finish_action>(client_errc::abort_after_commit);
    case transaction_state::aborted: return refused<finish_action>(client_errc::abort_twice);
    default: break;
  }
  if (state_ == transaction_state::starting) {
    state_ = transaction_state::aborted;  // nothing ran: "MUST NOT run the abortTransaction command"
    return accepted(nothing_to_send(cmd));
  }
  finish_action action{cmd, finish_fields(false)};
  state_ = transaction_state::aborted;
  return accepted(std::move(action));
}

finish_action transaction::end_session() {
  finish_action action = nothing_to_send(retry_family::abort);
  if (ended_) return action;
  if (state_ == transaction_state::in_progress) action.fields = finish_fields(false);
  if (in_transaction()) state_ = transaction_state::aborted;
  ended_ = true;
  return action;
}

void transaction::on_recovery_token(bson::view token) {
  if (in_transaction() || state_ == transaction_state::committed) recovery_token_.emplace(token);
}

txn_fields transaction::base_fields() const {
  txn_fields f;
  f.lsid = lsid_;
  f.txn_number = txn_number_;
  f.autocommit = false;  // "Behavior of the autocommit field": every command, commit and abort included
  return f;
}

txn_fields transaction::finish_fields(bool for_commit) const {
  txn_fields f = base_fields();
  if (for_commit && commit_needs_majority_) f.write_concern = commit_retry_write_concern(options_.write_concern);
  else if (!is_server_default(options_.write_concern)) f.write_concern = *options_.write_concern;
  if (for_commit) f.max_time_ms = options_.max_commit_time_ms;  // "maxCommitTimeMS": commit only
  f.recovery_token = recovery_token_;
  return f;
}

void transaction::reset_to(transaction_state s) {
  state_ = s;
  // "Drivers MUST clear a session's cached recoveryToken when transitioning to the
  // 'no transaction' or 'starting transaction' state."
  recovery_token_.reset();
  commit_needs_majority_ = false;
}

}  // namespace mongowire::detail
