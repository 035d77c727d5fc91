#include "workload.hpp"

#include <time.h>

#include "alloc_counter.hpp"

namespace txnbench {

std::string_view to_string(retry_label l) noexcept {
  switch (l) {
    case retry_label::transient_transaction_error: return "TransientTransactionError";
    case retry_label::unknown_transaction_commit_result: return "UnknownTransactionCommitResult";
    case retry_label::retryable_write_error: return "RetryableWriteError";
    case retry_label::other: return "other";
  }
  return "other";
}

bool run_control::begin_transaction(bool& measured) noexcept {
  auto p = phase();
  if (p == stop) return false;
  measured = p == measure;
  if (measured && target_ && tickets_.fetch_add(1, std::memory_order_relaxed) >= *target_) return false;
  return true;
}

void run_control::end_measured_transaction() noexcept {
  if (target_ && measured_done_.fetch_add(1, std::memory_order_acq_rel) + 1 == *target_) end_window();
}

void run_control::transaction_done(std::uint64_t commits_done, std::uint64_t retries_done,
                                   bench_clock::duration elapsed) noexcept {
  commits.fetch_add(commits_done, std::memory_order_relaxed);
  retries.fetch_add(retries_done, std::memory_order_relaxed);
  if (commits_done) latency_ns.record(static_cast<std::uint64_t>(elapsed.count()));
}

void run_control::begin_window() {
  std::lock_guard lock(window_mutex_);
  if (phase() != warmup) return;
  start_ = bench_clock::now();
  ops_at_start_ = ops.load();
  allocs_at_start_ = alloc::total();
  phase_.store(measure, std::memory_order_release);
}

void run_control::end_window() {
  std::lock_guard lock(window_mutex_);
  if (phase() != measure) return;
  end_ = bench_clock::now();
  ops_at_end_ = ops.load();
  allocs_at_end_ = alloc::total();
  phase_.store(stop, std::memory_order_release);
}

void run_control::stop_now() {
  std::lock_guard lock(window_mutex_);
  if (phase() == warmup) {
    start_ = end_ = bench_clock::now();
    phase_.store(stop, std::memory_order_release);
  }
}

double run_control::window_seconds() const { return std::chrono::duration<double>(end_ - start_).count(); }

void txn_counters::add(const txn_counters& o) {
  commits += o.commits;
  failed += o.failed;
  aborts += o.aborts;
  ops += o.ops;
  for (std::size_t i = 0; i < retries.size(); ++i) retries[i] += o.retries[i];
}

std::uint64_t txn_counters::total_retries() const noexcept {
  std::uint64_t n = 0;
  for (auto r : retries) n += r;
  return n;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string padding_for(std::size_t doc_size) {
  // Fixed overhead of {_id: int64, n: int32, pad: ""}: 4 + 13 + 7 + 10 + 1 bytes.
  constexpr std::size_t overhead = 35;
  return std::string(doc_size > overhead ? doc_size - overhead : 0, 'x');
}

void build_document(mongowire::bson::document& out, std::int64_t id, std::string_view pad) {
  out.clear();
  out.append("_id", id).append("n", std::int32_t{0}).append("pad", pad);
}

}  // namespace txnbench
