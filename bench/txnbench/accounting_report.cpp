#include "accounting_report.hpp"

#include <cstdio>
#include <string>

namespace txnbench {

namespace {

double us(std::chrono::nanoseconds t) { return static_cast<double>(t.count()) / 1000.0; }

// Sharded: mongos pins and unpins of the measured transactions, and their share per router.
std::string pinning_json(const run_result& r) {
  const auto& a = *r.accounting;
  std::string out = ", \"pinning\": {\"pins\": " + std::to_string(a.pins) +
                    ", \"unpins\": " + std::to_string(a.unpins) + ", \"committed_per_router\": {";
  const char* sep = "";
  for (const auto& [router, n] : r.committed_per_router) {
    out += sep + ("\"" + router + "\": ") + std::to_string(n);
    sep = ", ";
  }
  return out + "}}";
}

void print_pinning_text(const run_result& r) {
  const auto& a = *r.accounting;
  if (a.pins == 0 && r.committed_per_router.empty()) return;
  std::printf("                 mongos pinning: %llu pins, %llu unpins; committed per router:",
              static_cast<unsigned long long>(a.pins), static_cast<unsigned long long>(a.unpins));
  for (const auto& [router, n] : r.committed_per_router)
    std::printf(" %s %.1f%%", router.c_str(), 100.0 * static_cast<double>(n) / static_cast<double>(r.measured.commits));
  std::printf("\n");
}

}  // namespace

std::optional<accounting_means> accounting_means_of(const run_result& r) {
  if (!r.accounting || r.measured.commits == 0) return std::nullopt;
  const auto& a = *r.accounting;
  const double n = static_cast<double>(r.measured.commits);
  accounting_means m;
  m.transactions = r.measured.commits;
  m.round_trips = static_cast<double>(a.round_trips) / n;
  m.bytes_sent = static_cast<double>(a.bytes_sent) / n;
  m.bytes_received = static_cast<double>(a.bytes_received) / n;
  m.total_us = us(a.total) / n;
  m.server_selection_us = us(a.server_selection) / n;
  m.pool_wait_us = us(a.pool_wait) / n;
  m.wire_us = us(a.wire) / n;
  m.backoff_us = us(a.backoff) / n;
  m.commit_us = us(a.commit) / n;
  return m;
}

std::string accounting_json(const run_result& r) {
  const auto m = accounting_means_of(r);
  if (!m) return "null";
  const auto& a = *r.accounting;
  char buf[640];
  std::snprintf(
      buf, sizeof buf,
      "{\"transactions\": %llu, \"round_trips_per_txn\": %.6g, \"bytes_sent_per_txn\": %.6g, "
      "\"bytes_received_per_txn\": %.6g, \"time_us_per_txn\": {\"total\": %.6g, \"server_selection\": %.6g, "
      "\"pool_wait\": %.6g, \"wire\": %.6g, \"backoff\": %.6g, \"elsewhere\": %.6g, \"commit\": %.6g}, "
      "\"attempts\": {\"transient_reruns\": %llu, \"commit_retries\": %llu, \"retryable_write_retries\": "
      "%llu, \"overload_retries\": %llu}",
      static_cast<unsigned long long>(m->transactions), m->round_trips, m->bytes_sent, m->bytes_received, m->total_us,
      m->server_selection_us, m->pool_wait_us, m->wire_us, m->backoff_us, m->elsewhere_us(), m->commit_us,
      static_cast<unsigned long long>(a.transient_reruns), static_cast<unsigned long long>(a.commit_retries),
      static_cast<unsigned long long>(a.retryable_write_retries), static_cast<unsigned long long>(a.overload_retries));
  return buf + pinning_json(r) + "}";
}

void print_accounting_text(const run_result& r) {
  const auto m = accounting_means_of(r);
  if (!m) return;
  const auto& a = *r.accounting;
  std::printf("  accounting     per committed txn (engine's session::last_transaction_accounting, measured window):\n");
  std::printf("                 round trips %.3f, bytes %.0f sent + %.0f received\n", m->round_trips, m->bytes_sent,
              m->bytes_received);
  std::printf(
      "                 time (us) %.1f = server selection %.1f + pool wait %.1f + wire %.1f + backoff %.1f + "
      "elsewhere %.1f; commit %.1f of it\n",
      m->total_us, m->server_selection_us, m->pool_wait_us, m->wire_us, m->backoff_us, m->elsewhere_us(), m->commit_us);
  std::printf(
      "                 attempts: transient reruns %llu, commit retries %llu, retryable-write retries %llu, "
      "overload retries %llu\n",
      static_cast<unsigned long long>(a.transient_reruns), static_cast<unsigned long long>(a.commit_retries),
      static_cast<unsigned long long>(a.retryable_write_retries), static_cast<unsigned long long>(a.overload_retries));
  print_pinning_text(r);
}

}  // namespace txnbench
