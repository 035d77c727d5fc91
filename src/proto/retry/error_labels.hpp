// The error labels the driver adds itself (transactions.md "Error Labels",
// retryable-writes.md "Determining Retryable Errors"), and the MMAPv1 message rewrite.
#pragma once

#include <cstdint>
#include <string_view>

#include "mongowire/error.hpp"

namespace mongowire::detail {

// Where a failed attempt failed.
enum class failure_kind {
  server_reply,      // ok:0, or ok:1 with writeConcernError; `diagnostics` filled from the reply
  network,           // socket error or timeout with the server, including during the handshake
  server_selection,  // no suitable server was found
  pool_cleared,      // PoolClearedError at connection checkout
  // WaitQueueTimeoutError or a closed pool at connection checkout. Not a network error for
  // retryable reads/writes, but in a transaction it is labeled like one (transactions.md
  // "Network Error": "any error or timeout that occurs while selecting a server ...").
  checkout_failed,
  client,  // any other error raised by the driver itself: never labeled
};

enum class retry_family {
  write,   // a retryable write outside a transaction (txnNumber attached)
  read,    // a retryable read outside a transaction
  commit,  // commitTransaction
  abort,   // abortTransaction
  other,   // anything else: getMore, updateMany, runCommand, commands in a transaction...
};

// commitTransaction or abortTransaction (transactions.md: retried as retryable writes).
constexpr bool is_transaction_end(retry_family f) noexcept {
  return f == retry_family::commit || f == retry_family::abort;
}

struct label_context {
  retry_family family = retry_family::other;
  // The command belongs to a transaction (commitTransaction/abortTransaction included).
  bool in_transaction = false;
  // retryWrites is on and the command is a retryable write carrying a txnNumber outside a
  // transaction. commitTransaction/abortTransaction count as retryable writes regardless.
  bool retryable_write = false;
  // Of the server that replied (server_reply only).
  std::int32_t max_wire_version = 0;
  bool from_mongos = false;
};

// Servers from 4.4 (wire version 9) label retryable errors themselves.
inline constexpr std::int32_t server_labels_retryable_writes_wire_version = 9;

// Adds to d.labels the labels the driver owes:
// - TransientTransactionError: network, server selection, PoolClearedError and checkout
//   failures of any command in a transaction except commitTransaction.
// - RetryableWriteError (retryable writes, commit and abort only; never other commands in a
//   transaction): network errors and PoolClearedError; and, for servers before 4.4, a
//   retryable code at top level or (mongod only) in writeConcernError.
// - UnknownTransactionCommitResult (commitTransaction only): server selection, network,
//   PoolClearedError and checkout failures, retryable write errors, MaxTimeMSExpired, and write concern
//   failures except UnsatisfiableWriteConcern and UnknownReplWriteConcern. It replaces
//   TransientTransactionError, so the two never appear together.
void add_client_labels(failure_kind kind, diagnostics& d, const label_context& ctx);

// MaxTimeMSExpired as a top-level code or inside writeConcernError
// (transactions-convenient-api.md, "isMaxTimeMSExpiredError").
bool is_max_time_ms_expired(const diagnostics& d) noexcept;

// retryable-writes.md, "Supported Server Versions": a retryable write refused with
// IllegalOperation (20) and errmsg starting "Transaction numbers" (MMAPv1) gets the
// replacement message below. Returns true when it set d.client_message.
bool rewrite_retryable_writes_unsupported(diagnostics& d);

inline constexpr std::string_view retryable_writes_unsupported_message =
    "This MongoDB deployment does not support retryable writes. Please add retryWrites=false to your "
    "connection string.";

}  // namespace mongowire::detail
