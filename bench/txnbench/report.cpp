#include "report.hpp"

#include <cstdio>
#include <string_view>

#include "accounting_report.hpp"

namespace txnbench {

namespace {

double per(double a, double b) { return b > 0 ? a / b : 0; }

}  // namespace

run_figures figures_of(const run_result& r) {
  run_figures d;
  d.tps = per(static_cast<double>(r.measured.commits), r.window_s);
  d.ops_per_s = per(static_cast<double>(r.measured.ops), r.window_s);
  auto us = [&](double pct) { return static_cast<double>(r.latency_ns.value_at_percentile(pct)) / 1000.0; };
  d.p50_us = us(50);
  d.p90_us = us(90);
  d.p99_us = us(99);
  d.p999_us = us(99.9);
  d.max_us = static_cast<double>(r.latency_ns.max()) / 1000.0;
  d.mean_us = r.latency_ns.mean() / 1000.0;
  d.txns_all = r.all.commits;
  d.round_trips_per_txn = per(static_cast<double>(r.round_trips), static_cast<double>(d.txns_all));
  d.bytes_sent_per_txn = per(static_cast<double>(r.bytes_sent), static_cast<double>(d.txns_all));
  d.bytes_received_per_txn = per(static_cast<double>(r.bytes_received), static_cast<double>(d.txns_all));
  d.cpu_us_per_txn = per(r.client_cpu_s * 1e6, static_cast<double>(d.txns_all));
  if (r.window_allocations && r.window_ops > 0)
    d.allocs_per_op = static_cast<double>(*r.window_allocations) / static_cast<double>(r.window_ops);
  return d;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

namespace {

std::string mix_text(const op_mix& m) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "insert %.0f%% update %.0f%% find %.0f%%", m.insert * 100, m.update * 100,
                m.find * 100);
  return buf;
}

// Per new connection, from run_result::setup.
struct setup_figures {
  unsigned long long connections = 0;
  double round_trips = 0, min_us = 0, p50_us = 0, mean_us = 0, max_us = 0;
};

setup_figures setup_figures_of(const connection_setup& s) {
  const auto& t = s.time_ns;
  return {static_cast<unsigned long long>(t.count()),
          per(static_cast<double>(s.round_trips), static_cast<double>(t.count())),
          static_cast<double>(t.min()) / 1000.0,
          static_cast<double>(t.value_at_percentile(50)) / 1000.0,
          t.mean() / 1000.0,
          static_cast<double>(t.max()) / 1000.0};
}

// {"connections": n, "round_trips_per_connection": x, "min_us": ..., "p50_us": ..., "mean_us": ..., "max_us": ...}
// or null (libmongoc publishes no connection events).
std::string json_setup(const run_result& r) {
  if (!r.setup) return "null";
  const setup_figures f = setup_figures_of(*r.setup);
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"connections\": %llu, \"round_trips_per_connection\": %.4g, \"min_us\": %.6g, \"p50_us\": %.6g, "
                "\"mean_us\": %.6g, "
                "\"max_us\": %.6g}",
                f.connections, f.round_trips, f.min_us, f.p50_us, f.mean_us, f.max_us);
  return buf;
}

std::string json_body(const bench_options& o, const run_context& ctx, const run_result& r) {
  const run_figures d = figures_of(r);
  std::string j;
  char buf[256];
  auto num = [&](const char* key, double v) {
    std::snprintf(buf, sizeof buf, "\"%s\": %.6g, ", key, v);
    j += buf;
  };
  auto integer = [&](const char* key, std::uint64_t v) {
    std::snprintf(buf, sizeof buf, "\"%s\": %llu, ", key, static_cast<unsigned long long>(v));
    j += buf;
  };
  j += "\"driver\": " + json_string(r.driver) + ", ";
  j += "\"server\": " + json_string(ctx.server) + ", ";
  j += "\"mode\": " + json_string(to_string(r.mode)) + ", ";
  j += "\"api\": " + json_string(to_string(o.api)) + ", ";
  integer("concurrency", static_cast<std::uint64_t>(o.concurrency));
  integer("threads", static_cast<std::uint64_t>(o.threads));
  integer("ops_per_txn", static_cast<std::uint64_t>(o.ops_per_txn));
  integer("doc_size", o.doc_size);
  integer("latency_us", static_cast<std::uint64_t>(o.latency_us));
  num("window_s", r.window_s);
  num("tps", d.tps);
  num("ops_per_s", d.ops_per_s);
  num("p50_us", d.p50_us);
  num("p90_us", d.p90_us);
  num("p99_us", d.p99_us);
  num("p999_us", d.p999_us);
  num("max_us", d.max_us);
  num("mean_us", d.mean_us);
  integer("commits", r.measured.commits);
  integer("aborts", r.measured.aborts);
  integer("failed", r.measured.failed);
  j += "\"retries\": {";
  for (std::size_t l = 0; l < retry_label_count; ++l) {
    std::snprintf(buf, sizeof buf, "%s%s: %llu", l ? ", " : "",
                  json_string(to_string(static_cast<retry_label>(l))).c_str(),
                  static_cast<unsigned long long>(r.measured.retries[l]));
    j += buf;
  }
  j += "}, ";
  integer("driver_retries", r.driver_retries);
  integer("transactions_total", d.txns_all);
  integer("round_trips_total", r.round_trips);
  num("round_trips_per_txn", d.round_trips_per_txn);
  num("bytes_per_txn", d.bytes_sent_per_txn + d.bytes_received_per_txn);
  num("bytes_sent_per_txn", d.bytes_sent_per_txn);
  num("bytes_received_per_txn", d.bytes_received_per_txn);
  num("client_cpu_us_per_txn", d.cpu_us_per_txn);
  if (r.window_allocations) {
    integer("allocations", *r.window_allocations);
    integer("window_ops", r.window_ops);
    num("allocs_per_op", d.allocs_per_op);
  } else {
    j += "\"allocs_per_op\": null, ";
  }
  j += "\"connection_setup\": " + json_setup(r) + ", ";
  j += "\"accounting\": " + accounting_json(r) + ", ";
  j += "\"errors\": [";
  for (std::size_t i = 0; i < r.errors.size(); ++i) j += (i ? ", " : "") + json_string(r.errors[i]);
  j += "]";
  return j;
}

}  // namespace

void check_sanity(const bench_options& o, run_result& r) {
  const run_figures d = figures_of(r);
  if (r.measured.commits == 0) r.errors.push_back("no transaction committed in the measured window");
  if (r.all.failed > 0)
    r.errors.push_back(std::to_string(r.all.failed) + " transaction(s) failed with a non-retryable error");
  const bool clean = r.all.total_retries() == 0 && r.all.aborts == 0 && r.driver_retries == 0 && r.all.failed == 0;
  if (clean && d.txns_all > 0) {
    // transactions.md: one command per operation, plus commitTransaction; none in plain mode.
    const std::uint64_t per_txn = static_cast<std::uint64_t>(o.ops_per_txn) + (r.mode == bench_mode::txn ? 1 : 0);
    if (r.round_trips != d.txns_all * per_txn)
      r.errors.push_back("round trips per transaction " + std::to_string(d.round_trips_per_txn) +
                         " != " + std::to_string(per_txn) + " (ops_per_txn" +
                         (r.mode == bench_mode::txn ? " + 1)" : ")") + " with no retries");
  }
}

namespace {

// The JSON members of one mode: the main run, then the reference driver and the ratios.
std::string json_members(const bench_options& o, const run_context& ctx, const run_result& r,
                         const run_result* reference) {
  std::string j = json_body(o, ctx, r);
  if (reference) {
    j += ", \"" + reference->driver + "\": {" + json_body(o, ctx, *reference) + "}";
    const run_figures a = figures_of(r), b = figures_of(*reference);
    char buf[256];
    std::snprintf(
        buf, sizeof buf,
        ", \"ratios_vs_%s\": {\"tps\": %.4g, \"p50_us\": %.4g, \"p99_us\": %.4g, \"client_cpu_us_per_txn\": %.4g, "
        "\"allocs_per_op\": %.4g}",
        reference->driver.c_str(), per(a.tps, b.tps), per(a.p50_us, b.p50_us), per(a.p99_us, b.p99_us),
        per(a.cpu_us_per_txn, b.cpu_us_per_txn), per(a.allocs_per_op, b.allocs_per_op));
    j += buf;
  }
  return j;
}

// {"tps": {"txn": x, "plain": y, "difference": x - y, "ratio": x / y}, ...}
std::string json_overhead(const run_result& txn, const run_result& plain) {
  std::string j = "{";
  char buf[256];
  for (const overhead_row& row : overhead_rows(txn, plain)) {
    std::snprintf(buf, sizeof buf, "%s\"%s\": {\"txn\": %.6g, \"plain\": %.6g, \"difference\": %.6g, \"ratio\": %.4g}",
                  j.size() > 1 ? ", " : "", row.key, row.txn, row.plain, row.txn - row.plain, per(row.txn, row.plain));
    j += buf;
  }
  return j + "}";
}

const run_result* reference_of(const std::vector<run_result>& runs, const run_result& main) {
  for (const auto& r : runs)
    if (&r != &main && r.mode == main.mode) return &r;
  return nullptr;
}

}  // namespace

const run_result* find_run(const std::vector<run_result>& runs, std::string_view driver, bench_mode mode) {
  for (const auto& r : runs)
    if (r.driver == driver && r.mode == mode) return &r;
  return nullptr;
}

std::vector<overhead_row> overhead_rows(const run_result& txn, const run_result& plain) {
  const run_figures t = figures_of(txn), p = figures_of(plain);
  return {
      {"throughput (per second)", "tps", t.tps, p.tps},
      {"p50 latency (us)", "p50_us", t.p50_us, p.p50_us},
      {"p99 latency (us)", "p99_us", t.p99_us, p.p99_us},
      {"mean latency (us)", "mean_us", t.mean_us, p.mean_us},
      {"round trips", "round_trips_per_txn", t.round_trips_per_txn, p.round_trips_per_txn},
      {"bytes", "bytes_per_txn", t.bytes_sent_per_txn + t.bytes_received_per_txn,
       p.bytes_sent_per_txn + p.bytes_received_per_txn},
      {"client CPU (us)", "client_cpu_us_per_txn", t.cpu_us_per_txn, p.cpu_us_per_txn},
  };
}

// One mode: the same object as ever. Both modes: the transaction runs at the top, the plain
// runs under "plain", and "txn_overhead" per driver.
void print_json(const bench_options& o, const run_context& ctx, const std::vector<run_result>& runs) {
  const run_result& main = runs.front();
  std::string j = "{" + json_members(o, ctx, main, reference_of(runs, main));
  if (const run_result* plain = find_run(runs, main.driver, bench_mode::plain); plain && plain != &main) {
    j += ", \"plain\": {" + json_members(o, ctx, *plain, reference_of(runs, *plain)) + "}";
    j += ", \"txn_overhead\": {";
    bool first = true;
    for (const auto& r : runs) {
      if (r.mode != bench_mode::txn) continue;
      if (const run_result* p = find_run(runs, r.driver, bench_mode::plain)) {
        j += (first ? "\"" : ", \"") + r.driver + "\": " + json_overhead(r, *p);
        first = false;
      }
    }
    j += "}";
  }
  j += ", \"memory\": " + memory_json(ctx.memory) + "}";
  std::printf("%s\n", j.c_str());
}

namespace {

// New pooled connections: CMAP ConnectionCreated -> ConnectionReady and the handshake's commands.
void print_setup_text(const run_result& r) {
  if (!r.setup || r.setup->time_ns.count() == 0) return;
  const setup_figures f = setup_figures_of(*r.setup);
  std::printf(
      "  connections    %llu new, %.2f round trips each (hello and authentication commands), set-up min %.1f us, "
      "p50 %.1f us, mean %.1f us, max %.1f us\n",
      f.connections, f.round_trips, f.min_us, f.p50_us, f.mean_us, f.max_us);
}

void print_mode_text(const bench_options& o, const run_context& ctx, const run_result& r, const run_result* reference) {
  std::printf("txnbench: %s against %s\n", r.driver.c_str(), ctx.server.c_str());
  std::printf("  mode %s%s, concurrency %d on %d thread(s), %d ops/txn (%s), documents of %zu bytes\n",
              to_string(r.mode),
              r.mode == bench_mode::txn ? (std::string(" (") + to_string(o.api) + " API)").c_str() : "", o.concurrency,
              o.threads, o.ops_per_txn, mix_text(o.mix).c_str(), o.doc_size);
  auto show = [&](const run_result& x) {
    const run_figures d = figures_of(x);
    std::printf("[%s] measured %.2f s after %.2f s warm-up\n", x.driver.c_str(), x.window_s, o.warmup_s);
    std::printf("  transactions   %llu committed, %llu aborted, %llu failed      tps %.1f\n",
                static_cast<unsigned long long>(x.measured.commits), static_cast<unsigned long long>(x.measured.aborts),
                static_cast<unsigned long long>(x.measured.failed), d.tps);
    std::printf("  operations     %llu                                     ops/s %.1f\n",
                static_cast<unsigned long long>(x.measured.ops), d.ops_per_s);
    std::printf("  latency (us)   p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (mean %.1f)\n", d.p50_us,
                d.p90_us, d.p99_us, d.p999_us, d.max_us, d.mean_us);
    std::printf("  retries        ");
    for (std::size_t l = 0; l < retry_label_count; ++l)
      std::printf("%s %llu%s", std::string(to_string(static_cast<retry_label>(l))).c_str(),
                  static_cast<unsigned long long>(x.measured.retries[l]), l + 1 < retry_label_count ? ", " : "\n");
    std::printf(
        "  round trips    %.3f per txn (%llu commands for %llu transactions, all phases; %llu inside the driver)\n",
        d.round_trips_per_txn, static_cast<unsigned long long>(x.round_trips),
        static_cast<unsigned long long>(d.txns_all), static_cast<unsigned long long>(x.driver_retries));
    std::printf("  bytes          %.0f per txn (%.0f sent, %.0f received)\n",
                d.bytes_sent_per_txn + d.bytes_received_per_txn, d.bytes_sent_per_txn, d.bytes_received_per_txn);
    std::printf("  client CPU     %.1f us per txn (the client's threads over the whole run)\n", d.cpu_us_per_txn);
    print_setup_text(x);
    print_accounting_text(x);
    if (x.window_allocations)
      std::printf("  allocations    %.3f per op (%llu over %llu operations in the window, client threads only)\n",
                  d.allocs_per_op, static_cast<unsigned long long>(*x.window_allocations),
                  static_cast<unsigned long long>(x.window_ops));
    for (const auto& [count, stack] : x.alloc_sites)
      std::printf("  allocation site, %llu samples:\n%s", static_cast<unsigned long long>(count), stack.c_str());
    for (const auto& e : x.errors) std::printf("  ERROR: %s\n", e.c_str());
  };
  show(r);
  if (reference) {
    show(*reference);
    const run_figures a = figures_of(r), b = figures_of(*reference);
    std::printf(
        "ratio %s/%s: tps %.2fx, p50 %.2fx, p99 %.2fx, round trips %.2fx, bytes %.2fx, client CPU %.2fx, "
        "allocations %.2fx\n",
        r.driver.c_str(), reference->driver.c_str(), per(a.tps, b.tps), per(a.p50_us, b.p50_us),
        per(a.p99_us, b.p99_us), per(a.round_trips_per_txn, b.round_trips_per_txn),
        per(a.bytes_sent_per_txn + a.bytes_received_per_txn, b.bytes_sent_per_txn + b.bytes_received_per_txn),
        per(a.cpu_us_per_txn, b.cpu_us_per_txn), per(a.allocs_per_op, b.allocs_per_op));
  }
}

void print_overhead_text(const run_result& txn, const run_result& plain) {
  std::printf("transaction overhead [%s]: the same operations in transactions vs plain, per transaction\n",
              txn.driver.c_str());
  std::printf("  %-24s %12s %12s %12s %8s\n", "", "txn", "plain", "difference", "ratio");
  for (const overhead_row& row : overhead_rows(txn, plain))
    std::printf("  %-24s %12.1f %12.1f %+12.1f %7.2fx\n", row.name, row.txn, row.plain, row.txn - row.plain,
                per(row.txn, row.plain));
}

}  // namespace

void print_text(const bench_options& o, const run_context& ctx, const std::vector<run_result>& runs) {
  for (const auto& r : runs)
    if (&r == &runs.front() || (r.mode != runs.front().mode && r.driver == runs.front().driver))
      print_mode_text(o, ctx, r, reference_of(runs, r));
  for (const auto& r : runs)
    if (r.mode == bench_mode::txn)
      if (const run_result* p = find_run(runs, r.driver, bench_mode::plain)) print_overhead_text(r, *p);
  print_memory_text(ctx.memory);
}

}  // namespace txnbench
