// txnbench's outputs: the text report, the single JSON object, and the sanity checks
// whose failure makes txnbench exit non-zero.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "memory_report.hpp"
#include "options.hpp"
#include "workload.hpp"

namespace txnbench {

struct run_context {
  std::string server;     // "embedded 127.0.0.1:port" or the URI
  memory_figures memory;  // RSS at the measured window's start and the run's end
};

// Adds to result.errors what contradicts the protocol or the workload (no commit, failed
// transactions, round trips per transaction other than ops + 1 without retries).
void check_sanity(const bench_options& o, run_result& result);

// `s` as a JSON string literal, quotes included.
std::string json_string(std::string_view s);

// `runs`: for each mode run (txn first), the main driver's run then, with --driver both,
// libmongoc's. With both modes, the transaction's overhead over plain writes follows.
void print_text(const bench_options& o, const run_context& ctx, const std::vector<run_result>& runs);
void print_json(const bench_options& o, const run_context& ctx, const std::vector<run_result>& runs);

// Figures per transaction (or plain group of the same operations) of one run.
struct run_figures {
  double tps = 0, ops_per_s = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0, mean_us = 0;
  std::uint64_t txns_all = 0;
  double round_trips_per_txn = 0, bytes_sent_per_txn = 0, bytes_received_per_txn = 0;
  double allocs_per_op = -1;  // -1: not measured
  double cpu_us_per_txn = 0;
};
run_figures figures_of(const run_result& r);

// One line of "what does a transaction cost": the same figure in transactions and in plain
// writes; the overhead is txn - plain and txn / plain.
struct overhead_row {
  const char* name;  // "p50 latency (us)"
  const char* key;   // "p50_us" (JSON, CSV)
  double txn, plain;
};
std::vector<overhead_row> overhead_rows(const run_result& txn, const run_result& plain);
// The run of `driver` in `mode` among `runs`, or null.
const run_result* find_run(const std::vector<run_result>& runs, std::string_view driver, bench_mode mode);

}  // namespace txnbench
