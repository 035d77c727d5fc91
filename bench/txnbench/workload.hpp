// What every txnbench driver shares: the run's phases (warm-up, measured window, stop),
// the documents of the workload, per-worker counters and the result of one driver's run.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "histogram.hpp"
#include "live_gauges.hpp"
#include "mongowire/bson.hpp"
#include "mongowire/transaction_accounting.hpp"
#include "options.hpp"

namespace txnbench {

using bench_clock = std::chrono::steady_clock;

// The error labels txnbench breaks retries down by; `other` is a failure without them.
enum class retry_label { transient_transaction_error, unknown_transaction_commit_result, retryable_write_error, other };
inline constexpr std::size_t retry_label_count = 4;
std::string_view to_string(retry_label l) noexcept;
// The label a failure is retried for, from its labels (TransientTransactionError first).
template <class HasLabel>
retry_label classify_labels(HasLabel&& has) {
  if (has("TransientTransactionError")) return retry_label::transient_transaction_error;
  if (has("UnknownTransactionCommitResult")) return retry_label::unknown_transaction_commit_result;
  if (has("RetryableWriteError")) return retry_label::retryable_write_error;
  return retry_label::other;
}

// Phases and the measured window, shared by all workers of all threads.
class run_control {
 public:
  enum phase_t : int { warmup, measure, stop };

  explicit run_control(std::optional<std::uint64_t> measured_transactions) : target_(measured_transactions) {}

  phase_t phase() const noexcept { return static_cast<phase_t>(phase_.load(std::memory_order_acquire)); }
  // A worker asks before each transaction: false means stop. In --transactions mode a
  // measured transaction needs a ticket; `measured` says whether this one is measured.
  bool begin_transaction(bool& measured) noexcept;
  // After a measured transaction: in --transactions mode the last one closes the window.
  void end_measured_transaction() noexcept;

  void begin_window();  // warm-up -> measure
  void end_window();    // measure -> stop (idempotent)
  void stop_now();      // warm-up -> stop (errors during warm-up)

  double window_seconds() const;
  std::uint64_t window_ops() const noexcept { return ops_at_end_ - ops_at_start_; }
  std::uint64_t window_allocations() const noexcept { return allocs_at_end_ - allocs_at_start_; }

  // Live counters (all phases), for the progress line, the per-second timeline and the
  // allocation window.
  std::atomic<std::uint64_t> ops{0};
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> aborts{0};
  std::atomic<std::uint64_t> retries{0};
  concurrent_histogram latency_ns;  // committed transactions, all phases
  live_gauges gauges;               // mongowire: the clients' gauges, sampled (progress line)
  // A worker ends a transaction (or plain group): the live counters and latency.
  void transaction_done(std::uint64_t commits_done, std::uint64_t retries_done, bench_clock::duration elapsed) noexcept;

 private:
  std::atomic<int> phase_{warmup};
  std::optional<std::uint64_t> target_;
  std::atomic<std::uint64_t> tickets_{0};
  std::atomic<std::uint64_t> measured_done_{0};
  std::mutex window_mutex_;
  bench_clock::time_point start_{}, end_{};
  std::uint64_t ops_at_start_ = 0, ops_at_end_ = 0, allocs_at_start_ = 0, allocs_at_end_ = 0;
};

// Counters of one worker (or one run, once merged).
struct txn_counters {
  std::uint64_t commits = 0;  // transactions (groups of operations in plain mode) that succeeded
  std::uint64_t failed = 0;   // gave up on a non-retryable error
  std::uint64_t aborts = 0;   // aborted attempts (abortTransaction sent or implied)
  std::uint64_t ops = 0;      // operations completed
  std::array<std::uint64_t, retry_label_count> retries{};
  void add(const txn_counters& o);
  std::uint64_t total_retries() const noexcept;
};

struct worker_stats {
  txn_counters measured;
  txn_counters all;  // every phase, for round trips and bytes per transaction
  // session::last_transaction_accounting() of every attempt (mongowire, txn mode).
  mongowire::transaction_accounting accounting_measured, accounting_all;
  // Committed transactions (measured window) by the mongos they were pinned to (sharded only).
  std::map<std::string, std::uint64_t> committed_per_router;
  log_linear_histogram latency_ns;
  std::string first_error;
};

enum class op_kind { insert, update, find };

class workload_rng {
 public:
  workload_rng(std::uint64_t seed, int worker_id) : gen_(seed * 1000003u + static_cast<std::uint64_t>(worker_id)) {}
  op_kind next_op(const op_mix& mix) {
    double r = unit_(gen_);
    if (r < mix.insert) return op_kind::insert;
    if (r < mix.insert + mix.update) return op_kind::update;
    return op_kind::find;
  }
  std::int64_t next_key(std::int64_t keys) {
    return static_cast<std::int64_t>(gen_() % static_cast<std::uint64_t>(keys));
  }

 private:
  std::mt19937_64 gen_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

// CPU time consumed so far by the calling thread.
double thread_cpu_seconds();

// {_id: int64, n: int32, pad: "xxx..."} of about doc_size bytes.
void build_document(mongowire::bson::document& out, std::int64_t id, std::string_view pad);
std::string padding_for(std::size_t doc_size);
// Inserted documents get ids above the seeded keys, distinct per worker.
inline std::int64_t inserted_id(int worker_id, std::uint64_t seq) {
  return (static_cast<std::int64_t>(worker_id) + 1) << 40 | static_cast<std::int64_t>(seq);
}

// One second of a run (the last sample may be shorter), from the live counters.
struct timeline_sample {
  double end_s = 0;                                  // since the run (warm-up included) started
  double interval_s = 0;                             // the sample's length
  run_control::phase_t phase = run_control::warmup;  // at the sample's end
  std::uint64_t commits = 0, ops = 0, aborts = 0, retries = 0;
  std::uint64_t latency_count = 0;  // committed transactions whose latency is below
  double p50_us = 0, p99_us = 0, max_us = 0;
};

// What new pooled connections cost (CMAP ConnectionReadyEvent; mongowire only): the time from
// ConnectionCreated to ConnectionReady (TCP, TLS, hello, authentication) and the command round
// trips of the handshake and authentication (hello, saslStart, saslContinue, ...).
struct connection_setup {
  log_linear_histogram time_ns;
  std::uint64_t round_trips = 0;  // of all of them
};

// The result of one driver's run.
struct run_result {
  std::string driver;  // "mongowire" or "mongoc"
  bench_mode mode = bench_mode::txn;
  txn_counters measured;
  txn_counters all;
  log_linear_histogram latency_ns;
  double window_s = 0;
  std::uint64_t window_ops = 0;
  std::optional<std::uint64_t> window_allocations;  // mongowire only
  std::uint64_t round_trips = 0;                    // commands sent over the whole run (after seeding)
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t driver_retries = 0;  // retries inside the driver (commit retry, retryable writes)
  double client_cpu_s = 0;           // CPU time of the client's threads over the whole run
  std::vector<std::string> errors;   // sanity-check failures and first errors
  std::vector<std::pair<std::uint64_t, std::string>> alloc_sites;  // --alloc-sites
  std::vector<timeline_sample> timeline;                           // per second, all phases
  std::optional<connection_setup> setup;                           // all phases; none for mongoc
  // The engine's per-transaction accounting, summed over the measured transactions (mongowire
  // in txn mode; none otherwise).
  std::optional<mongowire::transaction_accounting> accounting;
  std::map<std::string, std::uint64_t> committed_per_router;  // summed worker_stats'
  // The clients' gauges at the end of the run, before close (mongowire only): the report's table.
  std::optional<mongowire::client_gauges> gauges;
};

}  // namespace txnbench
