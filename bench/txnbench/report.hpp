// txnbench's outputs: the text report, the single JSON object, and the sanity checks
// whose failure makes txnbench exit non-zero.
#pragma once

#include <string>

#include "options.hpp"
#include "workload.hpp"

namespace txnbench {

struct run_context {
  std::string server;  // "embedded 127.0.0.1:port" or the URI
};

// Adds to result.errors what contradicts the protocol or the workload (no commit, failed
// transactions, round trips per transaction other than ops + 1 without retries).
void check_sanity(const bench_options& o, run_result& result);

void print_text(const bench_options& o, const run_context& ctx, const run_result& r, const run_result* reference);
void print_json(const bench_options& o, const run_context& ctx, const run_result& r, const run_result* reference);

}  // namespace txnbench
