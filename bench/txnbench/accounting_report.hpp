// The engine's per-transaction accounting (session::last_transaction_accounting, issue 16) in
// txnbench's outputs: means per committed transaction of the measured window, attempts by cause.
#pragma once

#include <optional>
#include <string>

#include "workload.hpp"

namespace txnbench {

struct accounting_means {
  std::uint64_t transactions = 0;  // committed in the measured window: the divisor
  double round_trips = 0, bytes_sent = 0, bytes_received = 0;
  double total_us = 0, server_selection_us = 0, pool_wait_us = 0, wire_us = 0, backoff_us = 0, commit_us = 0;
  // What no bucket holds: the client's CPU and the workload's own time between operations.
  double elsewhere_us() const noexcept { return total_us - server_selection_us - pool_wait_us - wire_us - backoff_us; }
};

// None without accounting (libmongoc, plain mode) or without a committed transaction.
std::optional<accounting_means> accounting_means_of(const run_result& r);

// The "accounting" member's value: an object, or null.
std::string accounting_json(const run_result& r);
void print_accounting_text(const run_result& r);

}  // namespace txnbench
