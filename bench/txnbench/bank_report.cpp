#include "bank_report.hpp"

#include <cstdio>

#include "report.hpp"

namespace txnbench::bank {

namespace {

std::uint64_t attempted(const outcomes& s) { return s.committed.size() + s.aborted.size() + s.unknown.size(); }

double us_at(const log_linear_histogram& h, double p) { return static_cast<double>(h.value_at_percentile(p)) / 1e3; }

std::string faults_json(const fault_counts& f) {
  std::string j = "{\"total\": " + std::to_string(f.total()) + ", \"fired\": " + std::to_string(f.fired);
  for (std::size_t k = 0; k < fault_kind_count; ++k)
    j += ", \"" + std::string(to_string(static_cast<fault_kind>(k))) + "\": " + std::to_string(f.injected[k]);
  return j + "}";
}

std::string problems_json(const std::vector<std::string>& problems) {
  std::string j = "[";
  for (std::size_t i = 0; i < problems.size(); ++i) j += (i ? ", " : "") + json_string(problems[i]);
  return j + "]";
}

std::string bank_json(const bank_report& r) {
  const auto& c = r.check;
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\"invariant_ok\": %s, \"lost\": %llu, \"duplicated\": %llu, \"leaked_sessions\": %llu, "
                "\"leaked_connections\": %s, \"injected_faults\": %llu, \"failovers\": %llu, "
                "\"aborted_present\": %llu, \"phantom\": %llu, \"ledger_mismatches\": %llu, "
                "\"expected_total\": %lld, \"actual_total\": %lld, \"unknown_commits\": %zu, "
                "\"unknown_resolved_committed\": %llu, \"unknown_resolved_aborted\": %llu, "
                "\"resolved_by_commit\": %llu, \"open_transactions\": %llu, \"client_sessions_in_use\": %llu",
                c.ok() ? "true" : "false", (unsigned long long)c.lost, (unsigned long long)c.duplicated,
                (unsigned long long)c.leaked_sessions(),
                c.leaked_connections ? std::to_string(*c.leaked_connections).c_str() : "null",
                (unsigned long long)r.faults.total(), (unsigned long long)r.failovers,
                (unsigned long long)c.aborted_present, (unsigned long long)c.phantom,
                (unsigned long long)c.ledger_mismatches, (long long)c.expected_total, (long long)c.actual_total,
                r.seen.unknown.size(), (unsigned long long)c.unknown_committed, (unsigned long long)c.unknown_aborted,
                (unsigned long long)r.seen.resolved_by_commit, (unsigned long long)c.open_transactions,
                (unsigned long long)c.client_sessions_in_use);
  return std::string(buf) + ", \"faults\": " + faults_json(r.faults) + ", \"problems\": " + problems_json(c.problems) +
         "}";
}

}  // namespace

void print_bank_json(const bank_report& r) {
  const double tps = r.elapsed_s > 0 ? static_cast<double>(r.seen.committed.size()) / r.elapsed_s : 0;
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\"workload\": \"bank\", \"driver\": \"mongowire\", \"api\": \"%s\", \"server\": %s, "
                "\"accounts\": %lld, \"concurrency\": %d, \"threads\": %d, \"faults_fraction\": %g, "
                "\"transactions\": %llu, \"committed\": %zu, \"declined\": %llu, \"failed\": %llu, "
                "\"reruns\": %llu, \"write_conflicts\": %llu, \"transfers_present\": %llu, \"elapsed_s\": %.3f, "
                "\"tps\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f",
                to_string(r.o.api), json_string(r.server).c_str(), (long long)r.o.accounts, r.o.concurrency,
                r.o.threads, r.o.faults, (unsigned long long)attempted(r.seen), r.seen.committed.size(),
                (unsigned long long)r.seen.declined, (unsigned long long)r.seen.failed, (unsigned long long)r.reruns,
                (unsigned long long)r.write_conflicts, (unsigned long long)r.check.transfers_present, r.elapsed_s, tps,
                us_at(r.latency_ns, 50), us_at(r.latency_ns, 99), static_cast<double>(r.latency_ns.max()) / 1e3);
  std::printf("%s, \"errors\": %s, \"bank\": %s}\n", buf, problems_json(r.seen.first_errors).c_str(),
              bank_json(r).c_str());
}

void print_bank_text(const bank_report& r) {
  const auto& s = r.seen;
  const auto& c = r.check;
  std::printf("txnbench bank: %llu accounts on %s, %s API, concurrency %d on %d thread(s)\n",
              (unsigned long long)r.o.accounts, r.server.c_str(), to_string(r.o.api), r.o.concurrency, r.o.threads);
  std::printf(
      "  %llu transfers in %.2f s: %zu committed (%.0f/s), %llu declined (insufficient funds), %llu failed, "
      "%zu commit outcome(s) unknown; %llu rerun(s), %llu write conflict(s)\n",
      (unsigned long long)attempted(s), r.elapsed_s, s.committed.size(),
      r.elapsed_s > 0 ? static_cast<double>(s.committed.size()) / r.elapsed_s : 0.0, (unsigned long long)s.declined,
      (unsigned long long)s.failed, s.unknown.size(), (unsigned long long)r.reruns,
      (unsigned long long)r.write_conflicts);
  std::printf("  latency of committed transfers: p50 %.1f us, p99 %.1f us, max %.1f us\n", us_at(r.latency_ns, 50),
              us_at(r.latency_ns, 99), static_cast<double>(r.latency_ns.max()) / 1e3);
  std::printf("  faults injected %llu (fail points entered %llu):", (unsigned long long)r.faults.total(),
              (unsigned long long)r.faults.fired);
  for (std::size_t k = 0; k < fault_kind_count; ++k)
    std::printf(" %s %llu", std::string(to_string(static_cast<fault_kind>(k))).c_str(),
                (unsigned long long)r.faults.injected[k]);
  std::printf("\n  failovers %llu\n", (unsigned long long)r.failovers);
  for (const auto& e : r.failover_errors) std::printf("  failover error: %s\n", e.c_str());
  for (const auto& e : s.first_errors) std::printf("  transfer error: %s\n", e.c_str());
  std::printf(
      "  check: total %lld of %lld, %llu transfers present, lost %llu, duplicated %llu, aborted present %llu, "
      "unknown resolved by reading %llu committed / %llu aborted, leaked sessions %llu, leaked connections %s\n",
      (long long)c.actual_total, (long long)c.expected_total, (unsigned long long)c.transfers_present,
      (unsigned long long)c.lost, (unsigned long long)c.duplicated, (unsigned long long)c.aborted_present,
      (unsigned long long)c.unknown_committed, (unsigned long long)c.unknown_aborted,
      (unsigned long long)c.leaked_sessions(),
      c.leaked_connections ? std::to_string(*c.leaked_connections).c_str() : "not known (--uri)");
  for (const auto& p : c.problems) std::printf("  FAILED: %s\n", p.c_str());
  std::printf("  %s\n", c.ok() ? "invariants hold" : "INVARIANTS BROKEN");
}

}  // namespace txnbench::bank
