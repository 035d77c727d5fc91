// The per-second figures of a run, sampled from the live counters by the controlling thread:
// the progress line, the CSV file (--csv) and the report's throughput-over-time plot.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "histogram.hpp"
#include "workload.hpp"

namespace txnbench {

class timeline_recorder {
 public:
  timeline_recorder(const run_control& control, bench_clock::time_point start);

  // Takes a sample once a second has passed since the last one, or now when `force` is set
  // (the run's last, shorter second). True when a sample was taken.
  bool tick(bench_clock::time_point now, bool force = false);
  const std::vector<timeline_sample>& samples() const noexcept { return samples_; }
  // Latencies recorded so far: of the measured window once it began, of the warm-up before.
  const log_linear_histogram& latency_so_far() const noexcept { return so_far_; }

 private:
  const run_control& control_;
  bench_clock::time_point start_, last_;
  std::uint64_t commits_ = 0, ops_ = 0, aborts_ = 0, retries_ = 0;
  log_linear_histogram last_latency_;    // the live histogram at the last sample
  log_linear_histogram window_latency_;  // the live histogram when the window began
  log_linear_histogram so_far_;
  bool window_seen_ = false;
  std::vector<timeline_sample> samples_;
};

// "[mongowire txn 3.0 s] measure  tps 1234.5  p50 812 us  p99 2301 us  commits 3702  retries 4"
std::string progress_line(const char* name, const timeline_sample& last, const log_linear_histogram& so_far,
                          std::uint64_t commits, std::uint64_t retries);

// The CSV header and one row per sample of each run (--csv).
void write_timeline_csv(std::FILE* out, const std::vector<const run_result*>& runs);

}  // namespace txnbench
