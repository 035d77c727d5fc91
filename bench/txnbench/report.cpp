#include "report.hpp"

#include <cstdio>
#include <string_view>

namespace txnbench {

namespace {

struct derived {
  double tps = 0, ops_per_s = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0, mean_us = 0;
  std::uint64_t txns_all = 0;
  double round_trips_per_txn = 0, bytes_sent_per_txn = 0, bytes_received_per_txn = 0;
  double allocs_per_op = -1;  // -1: not measured
  double cpu_us_per_txn = 0;
};

double per(double a, double b) { return b > 0 ? a / b : 0; }

derived derive(const run_result& r) {
  derived d;
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

std::string mix_text(const op_mix& m) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "insert %.0f%% update %.0f%% find %.0f%%", m.insert * 100, m.update * 100,
                m.find * 100);
  return buf;
}

std::string json_body(const bench_options& o, const run_context& ctx, const run_result& r) {
  const derived d = derive(r);
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
  j += "\"mode\": " + json_string(to_string(o.mode)) + ", ";
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
  j += "\"errors\": [";
  for (std::size_t i = 0; i < r.errors.size(); ++i) j += (i ? ", " : "") + json_string(r.errors[i]);
  j += "]";
  return j;
}

}  // namespace

void check_sanity(const bench_options& o, run_result& r) {
  const derived d = derive(r);
  if (r.measured.commits == 0) r.errors.push_back("no transaction committed in the measured window");
  if (r.all.failed > 0)
    r.errors.push_back(std::to_string(r.all.failed) + " transaction(s) failed with a non-retryable error");
  const bool clean = r.all.total_retries() == 0 && r.all.aborts == 0 && r.driver_retries == 0 && r.all.failed == 0;
  if (clean && d.txns_all > 0) {
    // transactions.md: one command per operation, plus commitTransaction; none in plain mode.
    const std::uint64_t per_txn = static_cast<std::uint64_t>(o.ops_per_txn) + (o.mode == bench_mode::txn ? 1 : 0);
    if (r.round_trips != d.txns_all * per_txn)
      r.errors.push_back("round trips per transaction " + std::to_string(d.round_trips_per_txn) +
                         " != " + std::to_string(per_txn) + " (ops_per_txn" +
                         (o.mode == bench_mode::txn ? " + 1)" : ")") + " with no retries");
  }
}

void print_json(const bench_options& o, const run_context& ctx, const run_result& r, const run_result* reference) {
  std::string j = "{" + json_body(o, ctx, r);
  if (reference) {
    j += ", \"" + reference->driver + "\": {" + json_body(o, ctx, *reference) + "}";
    const derived a = derive(r), b = derive(*reference);
    char buf[256];
    std::snprintf(
        buf, sizeof buf,
        ", \"ratios_vs_%s\": {\"tps\": %.4g, \"p50_us\": %.4g, \"p99_us\": %.4g, \"client_cpu_us_per_txn\": %.4g, "
        "\"allocs_per_op\": %.4g}",
        reference->driver.c_str(), per(a.tps, b.tps), per(a.p50_us, b.p50_us), per(a.p99_us, b.p99_us),
        per(a.cpu_us_per_txn, b.cpu_us_per_txn), per(a.allocs_per_op, b.allocs_per_op));
    j += buf;
  }
  j += "}";
  std::printf("%s\n", j.c_str());
}

void print_text(const bench_options& o, const run_context& ctx, const run_result& r, const run_result* reference) {
  std::printf("txnbench: %s against %s\n", r.driver.c_str(), ctx.server.c_str());
  std::printf("  mode %s%s, concurrency %d on %d thread(s), %d ops/txn (%s), documents of %zu bytes\n",
              to_string(o.mode),
              o.mode == bench_mode::txn ? (std::string(" (") + to_string(o.api) + " API)").c_str() : "", o.concurrency,
              o.threads, o.ops_per_txn, mix_text(o.mix).c_str(), o.doc_size);
  auto show = [&](const run_result& x) {
    const derived d = derive(x);
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
    const derived a = derive(r), b = derive(*reference);
    std::printf(
        "ratio %s/%s: tps %.2fx, p50 %.2fx, p99 %.2fx, round trips %.2fx, bytes %.2fx, client CPU %.2fx, "
        "allocations %.2fx\n",
        r.driver.c_str(), reference->driver.c_str(), per(a.tps, b.tps), per(a.p50_us, b.p50_us),
        per(a.p99_us, b.p99_us), per(a.round_trips_per_txn, b.round_trips_per_txn),
        per(a.bytes_sent_per_txn + a.bytes_received_per_txn, b.bytes_sent_per_txn + b.bytes_received_per_txn),
        per(a.cpu_us_per_txn, b.cpu_us_per_txn), per(a.allocs_per_op, b.allocs_per_op));
  }
}

}  // namespace txnbench
