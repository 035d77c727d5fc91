#include "html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "accounting_report.hpp"
#include "svg_chart.hpp"

namespace txnbench {

namespace {

std::string run_name(const run_result& r) { return r.driver + " " + to_string(r.mode); }

std::string fixed(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string row(const std::vector<std::string>& cells, const char* tag = "td") {
  std::string out = "<tr>";
  for (const auto& c : cells) out += std::string("<") + tag + ">" + xml_escape(c) + "</" + tag + ">";
  return out + "</tr>\n";
}

std::string parameters_table(const bench_options& o, const run_context& ctx) {
  std::string t = "<table>\n";
  t += row({"server", ctx.server});
  t += row({"mode", to_string(o.mode)});
  t += row({"API", to_string(o.api)});
  t += row({"concurrency / threads", std::to_string(o.concurrency) + " / " + std::to_string(o.threads)});
  t += row({"operations per transaction", std::to_string(o.ops_per_txn)});
  t += row({"mix (insert / update / find)",
            fixed(o.mix.insert, 2) + " / " + fixed(o.mix.update, 2) + " / " + fixed(o.mix.find, 2)});
  t += row(
      {"measured", o.transactions ? std::to_string(*o.transactions) + " transactions" : fixed(o.duration_s) + " s"});
  t += row({"warm-up", fixed(o.warmup_s) + " s"});
  t += row({"document size / keys", std::to_string(o.doc_size) + " bytes / " + std::to_string(o.keys)});
  t += row({"read concern / write concern", o.read_concern + " / " + o.write_concern});
  t += row({"reply latency added (embedded server)", std::to_string(o.latency_us) + " us"});
  t += row({"seed", std::to_string(o.seed)});
  return t + "</table>\n";
}

std::string summary_table(const std::vector<run_result>& runs) {
  std::string t = "<table>\n";
  t += row({"run", "tps", "p50 us", "p90 us", "p99 us", "max us", "commits", "aborts", "retries", "round trips/txn",
            "bytes/txn", "client CPU us/txn"},
           "th");
  for (const auto& r : runs) {
    const run_figures f = figures_of(r);
    t += row({run_name(r), fixed(f.tps), fixed(f.p50_us), fixed(f.p90_us), fixed(f.p99_us), fixed(f.max_us),
              std::to_string(r.measured.commits), std::to_string(r.measured.aborts),
              std::to_string(r.measured.total_retries()), fixed(f.round_trips_per_txn, 3),
              fixed(f.bytes_sent_per_txn + f.bytes_received_per_txn, 0), fixed(f.cpu_us_per_txn)});
  }
  return t + "</table>\n";
}

// --mode both: the transaction's cost per driver, as differences and ratios.
std::string overhead_tables(const std::vector<run_result>& runs) {
  std::string out;
  for (const auto& r : runs) {
    const run_result* plain = r.mode == bench_mode::txn ? find_run(runs, r.driver, bench_mode::plain) : nullptr;
    if (!plain) continue;
    out += "<h3>" + xml_escape(r.driver) + ": transactions vs plain writes, per transaction</h3>\n<table>\n";
    out += row({"figure", "txn", "plain", "difference", "ratio"}, "th");
    for (const overhead_row& o : overhead_rows(r, *plain))
      out += row({o.name, fixed(o.txn), fixed(o.plain), (o.txn >= o.plain ? "+" : "") + fixed(o.txn - o.plain),
                  o.plain > 0 ? fixed(o.txn / o.plain, 2) + "x" : "-"});
    out += "</table>\n";
  }
  return out.empty() ? out : "<h2>What a transaction costs</h2>\n" + out;
}

std::pair<double, double> latency_range_us(const std::vector<run_result>& runs) {
  double lo = 1e300, hi = 0;
  for (const auto& r : runs)
    if (r.latency_ns.count()) {
      lo = std::min(lo, std::max(1.0, static_cast<double>(r.latency_ns.min()) / 1000));
      hi = std::max(hi, static_cast<double>(r.latency_ns.max()) / 1000);
    }
  return lo <= hi ? std::pair{lo, std::max(hi, lo * 1.01)} : std::pair{1.0, 10.0};
}

// Percent of each run's transactions in 40 logarithmic latency bins shared by all runs.
std::string latency_histogram(const std::vector<run_result>& runs) {
  constexpr int bins = 40;
  const auto [lo, hi] = latency_range_us(runs);
  const double ratio = std::pow(hi / lo, 1.0 / bins);
  std::vector<chart_series> series;
  for (const auto& r : runs) {
    std::vector<double> share(bins, 0);
    const auto& h = r.latency_ns;
    for (std::size_t i = 0; i < h.bucket_count(); ++i) {
      if (!h.count_at(i)) continue;
      const double us = (static_cast<double>(h.bucket_lowest(i)) + static_cast<double>(h.bucket_width(i)) / 2) / 1000;
      const int bin = std::clamp(static_cast<int>(std::log(std::max(us, lo) / lo) / std::log(ratio)), 0, bins - 1);
      share[static_cast<std::size_t>(bin)] +=
          100.0 * static_cast<double>(h.count_at(i)) / static_cast<double>(h.count());
    }
    chart_series s{run_name(r), {}};
    for (int b = 0; b < bins; ++b)
      s.points.emplace_back(lo * std::pow(ratio, b + 0.5), share[static_cast<std::size_t>(b)]);
    series.push_back(std::move(s));
  }
  return line_chart_svg(
      {"Latency histogram (measured transactions)", "latency (us, log scale)", "% of transactions", true}, series);
}

std::string latency_cdf(const std::vector<run_result>& runs) {
  std::vector<chart_series> series;
  for (const auto& r : runs) {
    chart_series s{run_name(r), {}};
    const auto& h = r.latency_ns;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < h.bucket_count(); ++i) {
      if (!h.count_at(i)) continue;
      seen += h.count_at(i);
      const double top_us = static_cast<double>(h.bucket_lowest(i) + h.bucket_width(i)) / 1000;
      s.points.emplace_back(top_us, 100.0 * static_cast<double>(seen) / static_cast<double>(h.count()));
    }
    series.push_back(std::move(s));
  }
  return line_chart_svg({"Latency CDF (measured transactions)", "latency (us, log scale)", "% at or below", true},
                        series);
}

std::string throughput_over_time(const std::vector<run_result>& runs) {
  std::vector<chart_series> series;
  for (const auto& r : runs) {
    chart_series s{run_name(r), {}};
    for (const auto& t : r.timeline)
      if (t.interval_s > 0) s.points.emplace_back(t.end_s, static_cast<double>(t.commits) / t.interval_s);
    series.push_back(std::move(s));
  }
  return line_chart_svg(
      {"Throughput over time (warm-up included)", "seconds since the run started", "transactions per second", false},
      series);
}

std::string retries_by_label(const std::vector<run_result>& runs) {
  // Short names under the bars: TransientTransactionError, UnknownTransactionCommitResult, RetryableWriteError.
  std::vector<std::string> labels{"Transient...", "UnknownCommit...", "RetryableWrite...", "other", "aborts"}, names;
  static_assert(retry_label_count == 4, "one short name per retry_label, then aborts");
  std::vector<std::vector<double>> values;
  for (const auto& r : runs) {
    names.push_back(run_name(r));
    auto& v = values.emplace_back();
    for (auto n : r.measured.retries) v.push_back(static_cast<double>(n));
    v.push_back(static_cast<double>(r.measured.aborts));
  }
  return bar_chart_svg({"Retries by error label, and aborted attempts (measured window)", "", "count", false}, labels,
                       names, values) +
         "<p>Labels: TransientTransactionError (the transaction is run again), UnknownTransactionCommitResult (the "
         "commit is sent again), RetryableWriteError (the engine retries the write once), other (no label).</p>\n";
}

std::string cost_per_transaction(const std::vector<run_result>& runs) {
  std::vector<std::string> names;
  std::vector<std::vector<double>> trips(1), bytes(2);
  for (const auto& r : runs) {
    const run_figures f = figures_of(r);
    names.push_back(run_name(r));
    trips[0].push_back(f.round_trips_per_txn);
    bytes[0].push_back(f.bytes_sent_per_txn);
    bytes[1].push_back(f.bytes_received_per_txn);
  }
  return bar_chart_svg({"Round trips per transaction", "", "commands sent", false}, names, {"round trips"}, trips) +
         bar_chart_svg({"Bytes per transaction", "", "bytes", false}, names, {"sent", "received"}, bytes);
}

// The engine's accounting (issue 16): where a committed transaction's time went, its round
// trips and bytes, and the attempts by cause; mongowire's transaction runs only.
std::string accounting_section(const std::vector<run_result>& runs) {
  std::string table =
      "<table>\n" + row({"run", "total us", "server selection", "pool wait", "wire", "backoff", "elsewhere",
                         "commit (part)", "round trips", "bytes sent", "bytes received", "transient reruns",
                         "commit retries", "retryable-write retries", "overload retries"},
                        "th");
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;
  for (const auto& r : runs) {
    const auto m = accounting_means_of(r);
    if (!m) continue;
    const auto& a = *r.accounting;
    table += row({run_name(r), fixed(m->total_us), fixed(m->server_selection_us), fixed(m->pool_wait_us),
                  fixed(m->wire_us), fixed(m->backoff_us), fixed(m->elsewhere_us()), fixed(m->commit_us),
                  fixed(m->round_trips, 3), fixed(m->bytes_sent, 0), fixed(m->bytes_received, 0),
                  std::to_string(a.transient_reruns), std::to_string(a.commit_retries),
                  std::to_string(a.retryable_write_retries), std::to_string(a.overload_retries)});
    names.push_back(run_name(r));
    values.push_back(
        {m->server_selection_us, m->pool_wait_us, m->wire_us, m->backoff_us, m->elsewhere_us(), m->commit_us});
  }
  if (names.empty()) return {};
  return "<h2>Where a transaction's time goes</h2>\n<p>Means per committed transaction of the measured window, from "
         "<code>session::last_transaction_accounting()</code>. Wire time includes the server's work: mongod reports "
         "no execution time in its replies. Commit time overlaps the other buckets.</p>\n" +
         table + "</table>\n" +
         bar_chart_svg({"Time per transaction (us)", "", "us", false},
                       {"selection", "pool wait", "wire", "backoff", "elsewhere", "commit"}, names, values);
}

// The clients' gauges at the end of each mongowire run (issue 16): server sessions, each
// pool's connections and clears, and the namespaces with the most write conflicts.
std::string gauges_tables(const run_result& r) {
  const auto& g = *r.gauges;
  const auto& s = g.sessions;
  std::string t =
      "<h3>" + xml_escape(run_name(r)) + "</h3>\n<table>\n" +
      row({"server sessions", "in use", "pooled", "created", "discarded dirty", "discarded expired", "discarded stale"},
          "th");
  t += row({"", std::to_string(s.in_use), std::to_string(s.pooled), std::to_string(s.created),
            std::to_string(s.discarded_dirty), std::to_string(s.discarded_expired), std::to_string(s.discarded_stale)});
  t += "</table>\n<table>\n" +
       row({"pool", "total", "in use", "idle", "wait queue", "generation", "clears (generation: cause)"}, "th");
  for (const auto& p : g.pools) {
    std::string clears;
    for (const auto& c : p.clears)
      clears += (clears.empty() ? "" : "; ") + std::to_string(c.generation) + ": " + std::string(to_string(c.cause));
    t += row({p.address, std::to_string(p.total), std::to_string(p.in_use), std::to_string(p.idle),
              std::to_string(p.wait_queue), std::to_string(p.generation), clears.empty() ? "none" : clears});
  }
  t += "</table>\n<table>\n" + row({"write conflicts per namespace", "count"}, "th");
  for (const auto& n : g.write_conflicts_by_namespace) t += row({n.ns, std::to_string(n.count)});
  return t + row({"all", std::to_string(g.write_conflicts)}) + "</table>\n";
}

std::string gauges_section(const std::vector<run_result>& runs) {
  std::string out;
  for (const auto& r : runs)
    if (r.gauges) out += gauges_tables(r);
  if (out.empty()) return out;
  return "<h2>Client gauges at the end of the run</h2>\n<p>From <code>client::gauges()</code> before the clients "
         "closed, summed over the clients: the live values (sessions in use, wait queue, write conflicts) are on "
         "the progress line.</p>\n" +
         out;
}

constexpr const char* style =
    "body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}td:first-child{text-align:left}"
    "svg{display:block;margin:1em 0}";

}  // namespace

std::string html_report(const bench_options& o, const run_context& ctx, const std::vector<run_result>& runs) {
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n";
  page += "<title>txnbench report</title>\n<style>" + std::string(style) + "</style>\n</head>\n<body>\n";
  page += "<h1>txnbench: what does a transaction cost?</h1>\n<h2>Parameters</h2>\n" + parameters_table(o, ctx);
  page += "<h2>Summary (measured window)</h2>\n" + summary_table(runs) + overhead_tables(runs);
  page += "<h2>Latency</h2>\n" + latency_histogram(runs) + latency_cdf(runs);
  page += "<h2>Throughput</h2>\n" + throughput_over_time(runs);
  page += "<h2>Retries</h2>\n" + retries_by_label(runs);
  page += "<h2>Round trips and bytes</h2>\n" + cost_per_transaction(runs);
  page += accounting_section(runs);
  page += gauges_section(runs);
  for (const auto& r : runs)
    for (const auto& e : r.errors) page += "<p>ERROR (" + xml_escape(run_name(r)) + "): " + xml_escape(e) + "</p>\n";
  return page + "</body>\n</html>\n";
}

}  // namespace txnbench
