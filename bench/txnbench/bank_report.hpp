// The bank soak's text report and its --json object (with the `bank` member).
#pragma once

#include <string>
#include <vector>

#include "bank.hpp"

namespace txnbench::bank {

struct bank_report {
  const bench_options& o;
  std::string server;
  const outcomes& seen;
  const fault_counts& faults;
  const check_result& check;
  const log_linear_histogram& latency_ns;  // committed transfers
  std::uint64_t failovers = 0;
  std::uint64_t write_conflicts = 0;  // the clients' gauges
  std::uint64_t reruns = 0;           // callback runs beyond the first
  double elapsed_s = 0;
  std::vector<std::string> failover_errors;
};

void print_bank_text(const bank_report& r);
void print_bank_json(const bank_report& r);

}  // namespace txnbench::bank
