// Per-transaction accounting (issue 16 "per-transaction accounting"): what one transaction
// cost on the wire, how many times something was tried again and why, and where its time
// went. The engine fills it while the transaction runs (fixed counters, no allocation);
// session::last_transaction_accounting() reads it.
#pragma once

#include <chrono>
#include <cstdint>

namespace mongowire {

struct transaction_accounting {
  // Requests sent for the transaction (its statements, commitTransaction, abortTransaction;
  // every attempt, including one whose connection failed before the reply) and their bytes
  // on the wire (headers included; compressed size when compressing). A new connection's
  // handshake is not counted here: it is in pool_wait.
  std::uint64_t round_trips = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;

  // Attempts by cause.
  std::uint64_t transient_reruns = 0;         // with_transaction ran the callback again (TransientTransactionError)
  std::uint64_t commit_retries = 0;           // commit_transaction called again (with_transaction, resolve_commit, or
                                              // the caller) after a commit that reached the server
  std::uint64_t retryable_write_retries = 0;  // commit/abortTransaction resent by the engine after a retryable error
                                              // (transactions.md: once, as a retryable write)
  std::uint64_t overload_retries = 0;         // a command resent after SystemOverloadedError (client-backpressure.md)

  // transactions.md "Mongos Pinning" (sharded, load-balanced): a mongos was pinned by the
  // transaction's first command or by a commit/abort retried after an unpin; an error unpinned
  // it ("When to unpin", rules 1-3). 0 on a replica set.
  std::uint64_t pins = 0;
  std::uint64_t unpins = 0;

  // Time. `total` runs from start_transaction (with_transaction: its first) to the end of the
  // last commit or abort (with_transaction: to its return); the next four are parts of it, and
  // the rest is the caller's own time between operations (the with_transaction callback's) and
  // the client's CPU.
  std::chrono::nanoseconds total{0};
  std::chrono::nanoseconds server_selection{0};
  std::chrono::nanoseconds pool_wait{0};  // connection checkout, a new connection's connect and handshake included
  // Each request from encoding to its decoded reply: the network both ways and the server's
  // work. There is no separate server-reported time: mongod's replies carry no execution time
  // (operationTime is a cluster timestamp, not a duration), so the server's share stays here.
  std::chrono::nanoseconds wire{0};
  std::chrono::nanoseconds backoff{0};  // sleeps before retries (the engine's and with_transaction's)
  // Inside commit_transaction calls, overlapping the buckets above (their selection, checkout,
  // wire and backoff time).
  std::chrono::nanoseconds commit{0};

  // Sums another transaction's figures (txnbench adds them up).
  transaction_accounting& operator+=(const transaction_accounting& o) noexcept {
    round_trips += o.round_trips;
    bytes_sent += o.bytes_sent;
    bytes_received += o.bytes_received;
    transient_reruns += o.transient_reruns;
    commit_retries += o.commit_retries;
    retryable_write_retries += o.retryable_write_retries;
    overload_retries += o.overload_retries;
    pins += o.pins;
    unpins += o.unpins;
    total += o.total;
    server_selection += o.server_selection;
    pool_wait += o.pool_wait;
    wire += o.wire;
    backoff += o.backoff;
    commit += o.commit;
    return *this;
  }
};

}  // namespace mongowire
