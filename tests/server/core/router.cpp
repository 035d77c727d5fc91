// The mongos side of a sharded core (server_options::sharded): each router keeps the
// transactions it coordinates, as mongos's TransactionRouter does (s/transaction_router.cpp),
// while the data and its transaction decisions live in the shared store (the shards).
#include "core/core_impl.hpp"

namespace mongowire::testd {

// transaction_router.cpp beginOrContinueTxn: a statement continuing a transaction this
// router never started fails with NoSuchTransaction (labelled TransientTransactionError by
// append_labels). commitTransaction and abortTransaction carrying a recoveryToken reach the
// recovery shard (transactions.md "recoveryToken field"), which knows only a decision the
// coordinating router made: a commit not yet decided is aborted there and fails with
// NoSuchTransaction (coordinateCommitTransaction's fallback to the local participant).
void server_core::impl::route_transaction(op_context& op) {
  if (!options.sharded || !op.in_txn()) return;
  auto& coordinated = router_transactions[op.conn->router];
  if (op.start_transaction) {
    coordinated[op.lsid_key] = *op.txn_number;
    return;
  }
  if (auto it = coordinated.find(op.lsid_key); it != coordinated.end() && it->second == *op.txn_number) return;
  const bool recovering = is_commit_or_abort(op.name) && op.cmd["recoveryToken"].is_document();
  if (recovering && op.name == "abortTransaction") return;
  if (recovering) {
    auto s = sessions.find(op.lsid_key);
    const bool known = s != sessions.end() && s->second.txn_number == *op.txn_number;
    if (known && s->second.phase == txn_phase::committed) return;
    if (known && s->second.phase == txn_phase::in_progress) abort_transaction_of(s->second);
  }
  throw command_error(code::no_such_transaction, "cannot continue txnId " + std::to_string(*op.txn_number) +
                                                     " for session " + op.lsid_key +
                                                     ": this router did not start the transaction");
}

// mongos appends the recovery token, naming the shard that can recover the commit decision,
// to its replies to commands in a transaction (TransactionRouter::appendRecoveryToken).
void server_core::impl::append_recovery_token(const op_context& op, bson::document& reply) const {
  if (!options.sharded || !op.in_txn()) return;
  reply.append_document("recoveryToken", [](bson::document& token) { token.append("recoveryShardId", "shard0"); });
}

}  // namespace mongowire::testd
