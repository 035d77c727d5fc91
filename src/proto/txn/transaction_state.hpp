// The client-side transaction state machine of transactions.md ("ClientSession changes"),
// sans-I/O: each call says what to send (if anything) or which client error the spec
// requires. Client-side errors never change the state.
//
// Use by the executor:
//   start_transaction(...)            -> starting (txnNumber incremented on the server session)
//   prepare_operation(...)            -> the fields for one command (call again for a retry)
//   on_command_sent()                 -> each time a command of the session actually went out
//   commit_transaction() / abort_transaction() -> finish_action: send it, or nothing to send
//   on_commit_attempt(outcome)        -> after each commit attempt, so a retry picks its write concern
//   next_commit_attempt()             -> the fields of the driver's own retry of commitTransaction
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"
#include "mongowire/transaction_state.hpp"
#include "proto/command/command_fields.hpp"
#include "proto/retry/error_labels.hpp"
#include "proto/txn/transaction_options.hpp"

namespace mongowire::detail {

struct server_session;  // proto/txn/server_session_pool.hpp

using mongowire::transaction_state;  // declared once, in the public header

// The session and transaction fields one command must carry. The command builder appends
// each present field; absent ones are not sent.
struct txn_fields {
  session_id lsid{};
  std::int64_t txn_number = 0;
  bool start_transaction = false;  // startTransaction: true
  std::optional<bool> autocommit;  // autocommit: false inside a transaction
  std::optional<bson::document> read_concern;
  std::optional<bson::document> write_concern;
  std::optional<std::int64_t> max_time_ms;
  std::optional<bson::document> recovery_token;
};

// A client-side refusal: the error plus the spec's exact wording when it is more precise
// than ec.message() (to go into diagnostics::message).
struct client_refusal {
  error_code ec;
  std::string_view message;
};

// What commitTransaction/abortTransaction/endSession must do. `fields` is empty when there is
// nothing to send (the transaction never ran a command). Both commands go to "admin".
struct finish_action {
  retry_family command = retry_family::commit;  // commit or abort
  std::optional<txn_fields> fields;
  bool sends() const noexcept { return fields.has_value(); }
};

// mongod aborts a transaction when one of its statements fails on the server (an ok: 0 reply
// or a write error such as DuplicateKey): its commit can then only fail with
// NoSuchTransaction. `ec` and `d` describe the statement's failure.
bool statement_error_aborts_transaction(error_code ec, const diagnostics& d) noexcept;

// What an operation run with the session asks of the transaction rules.
struct operation_request {
  bool is_read = false;                    // uses a read preference (transactions.md, "Read operation")
  bool has_explicit_read_concern = false;  // given on the operation itself
  bool has_explicit_write_concern = false;
  // causal-consistency.md: the session's operationTime when it is causally consistent and
  // the deployment supports cluster times; goes into readConcern.afterClusterTime.
  std::optional<bson::timestamp> after_cluster_time{};
};

// How one commitTransaction attempt ended (for the write concern of the next attempt).
enum class commit_attempt_outcome { succeeded, failed_overload, failed_other };

template <class T>
struct txn_result {
  std::optional<T> value;
  client_refusal refusal;
  explicit operator bool() const noexcept { return !refusal.ec; }
};

class transaction {
 public:
  transaction_state state() const noexcept { return state_; }
  bool in_transaction() const noexcept {
    return state_ == transaction_state::starting || state_ == transaction_state::in_progress;
  }
  bool ended() const noexcept { return ended_; }
  const transaction_options& options() const noexcept { return options_; }

  // transactions.md, "startTransaction". `resolved` comes from resolve_transaction_options.
  // Increments session.txn_number. Refuses on an ended session, while a transaction is in
  // progress, and for an unacknowledged write concern.
  client_refusal start_transaction(server_session& session, transaction_options resolved);

  // Fields for a command run with this session. Inside a transaction: lsid, txnNumber,
  // autocommit:false, plus startTransaction and readConcern on the first command
  // ("Constructing the first command within a transaction"). Outside one: no value (the
  // caller attaches lsid, and txnNumber for a retryable write).
  txn_result<txn_fields> prepare_operation(const operation_request& op) const;

  // A command other than commitTransaction/abortTransaction went out with this session
  // (pymongo applies it as the command is built on a connection): starting -> in_progress;
  // committed/aborted -> none ("any operation ... MUST reset the session state"). Not called
  // for attempts that sent nothing (selection, checkout or encoding failures): "Client-side
  // errors MUST NOT change transaction state".
  void on_command_sent();

  // transactions.md, "commitTransaction".
  txn_result<finish_action> commit_transaction();
  void on_commit_attempt(commit_attempt_outcome outcome) noexcept;
  // The driver's own retry of the commit just attempted.
  txn_fields next_commit_attempt() const;

  // transactions.md, "abortTransaction". A driver retry of abort resends the same fields.
  txn_result<finish_action> abort_transaction();

  // transactions.md, "endSession changes": aborts a transaction in progress (errors
  // ignored by the caller). Later calls refuse with session_ended. Idempotent.
  finish_action end_session();

  // transactions.md, "recoveryToken field": keep the latest one from an ok:1 reply.
  void on_recovery_token(bson::view token);

 private:
  txn_fields base_fields() const;
  txn_fields finish_fields(bool for_commit) const;
  void reset_to(transaction_state s);

  transaction_state state_ = transaction_state::none;
  transaction_options options_;
  session_id lsid_{};
  std::int64_t txn_number_ = 0;
  std::optional<bson::document> recovery_token_;
  // A commit attempt whose outcome was not a retryable overload error was made: every later
  // attempt uses the majority write concern (transactions.md, "Interaction with Client Backpressure").
  bool commit_needs_majority_ = false;
  bool ended_ = false;
};

}  // namespace mongowire::detail
