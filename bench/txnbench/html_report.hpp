// txnbench --report: one self-contained HTML page (inline SVG, no JavaScript) with the run's
// parameters, a summary table, the latency histogram and CDF, throughput over time, retries
// by error label, round trips and bytes per transaction; every run (drivers, modes) overlaid.
#pragma once

#include <string>
#include <vector>

#include "options.hpp"
#include "report.hpp"
#include "workload.hpp"

namespace txnbench {

std::string html_report(const bench_options& o, const run_context& ctx, const std::vector<run_result>& runs);

}  // namespace txnbench
