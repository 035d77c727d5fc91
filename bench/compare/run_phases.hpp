// What the three clients of bench/compare share: the options of one run, the phases (every
// worker warms up, then the measured transactions start together), per-transaction latency,
// and the result of one run (one JSON line, read by compare.py).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace compare {

using bench_clock = std::chrono::steady_clock;

// The workload, identical for every client: in one transaction, update one document by _id
// ($inc), insert one new document, commit. Three round trips.
inline constexpr const char* database_name = "bench";
inline constexpr const char* collection_name = "compare";

struct run_options {
  std::string client;  // floor, mongoc or mongowire
  std::string uri;     // mongodb://host:port/?replicaSet=rs0
  std::string host = "127.0.0.1";
  int port = 27017;
  int concurrency = 1;
  std::uint64_t transactions = 1000;  // measured, split among the workers
  std::uint64_t warmup = 50;          // per worker
};

// CPU time of the whole process (every client thread), in seconds.
double process_cpu_seconds();

class run_phases {
 public:
  explicit run_phases(int workers) : workers_(workers) {}
  // Once per worker, after its warm-up: the last one starts the measured window.
  void warmed_up();
  bool measuring() const noexcept { return measuring_.load(std::memory_order_acquire); }
  // Once per worker, after its measured share: the last one ends the window.
  void finished();
  double window_seconds() const { return std::chrono::duration<double>(end_ - start_).count(); }
  double window_cpu_seconds() const { return cpu_end_ - cpu_start_; }

 private:
  const int workers_;
  std::atomic<int> arrived_{0}, done_{0};
  std::atomic<bool> measuring_{false};
  bench_clock::time_point start_{}, end_{};
  double cpu_start_ = 0, cpu_end_ = 0;
};

// Per-transaction latencies of all workers, and the first error.
class run_record {
 public:
  void add(std::vector<std::uint64_t>&& latencies_ns);
  void fail(const std::string& what);
  bool failed() const;
  // The JSON line compare.py reads.
  std::string json(const run_options& o, const run_phases& phases);

 private:
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> latencies_ns_;
  std::string error_;
};

// The share of measured transactions of worker `w`.
inline std::uint64_t share_of(const run_options& o, int w) {
  const auto n = static_cast<std::uint64_t>(o.concurrency);
  return o.transactions / n + (static_cast<std::uint64_t>(w) < o.transactions % n ? 1 : 0);
}

// One worker's schedule: its warm-up, unmeasured load until every worker is warm (so that
// the measured window starts at full concurrency), then its measured share:
//   while (error.empty() && loop.next(timed)) { run one transaction; if (timed) loop.record(ns); }
class worker_loop {
 public:
  worker_loop(const run_options& o, int w, run_phases& phases);
  // Before each transaction: false when the worker is done; `timed`: record this one.
  bool next(bool& timed);
  void record(std::uint64_t latency_ns) { latencies_.push_back(latency_ns); }
  // After the loop (also after an error): hands the latencies and the error to `record`.
  void finish(run_record& record, const std::string& error);

 private:
  const run_options& o_;
  run_phases& phases_;
  std::uint64_t share_, warm_ = 0, measured_ = 0;
  bool arrived_ = false;
  std::vector<std::uint64_t> latencies_;
};

// The three clients; each runs o.concurrency workers and fills `record`.
void run_floor(const run_options& o, run_phases& phases, run_record& record);
void run_mongoc(const run_options& o, run_phases& phases, run_record& record);
void run_mongowire(const run_options& o, run_phases& phases, run_record& record);

}  // namespace compare
