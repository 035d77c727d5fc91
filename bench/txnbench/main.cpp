// txnbench: pgbench for MongoDB transactions. See --help and the README's "txnbench".
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include "alloc_counter.hpp"
#include "bank.hpp"
#include "html_report.hpp"
#include "mask_password.hpp"
#include "memory_report.hpp"
#include "mongowire_runner.hpp"
#include "net/embedded_server.hpp"
#include "options.hpp"
#include "report.hpp"
#include "retry_trace.hpp"
#include "timeline.hpp"
#ifdef TXNBENCH_HAVE_MONGOC
#include "mongoc_runner.hpp"
#endif

namespace {

using namespace txnbench;
using namespace std::chrono;

// Moves the phases (warm-up, measured window, stop), samples the per-second figures and
// prints the live progress line.
void control_loop(const bench_options& o, run_control& control, const std::atomic<int>& running, const char* name,
                  timeline_recorder& timeline, memory_probe& memory) {
  const bool progress = o.progress || isatty(STDERR_FILENO);
  const auto t0 = bench_clock::now();
  auto window_end = bench_clock::time_point::max();
  if (o.warmup_s <= 0) control.begin_window();
  bool printed = false;
  while (running.load() > 0) {
    std::this_thread::sleep_for(milliseconds(20));
    const auto now = bench_clock::now();
    if (control.phase() == run_control::warmup && now - t0 >= duration<double>(o.warmup_s)) {
      control.begin_window();
      if (!o.transactions) window_end = now + duration_cast<bench_clock::duration>(duration<double>(o.duration_s));
    }
    if (control.phase() == run_control::measure && now >= window_end) control.end_window();
    if (control.phase() != run_control::warmup) memory.window_started();  // after seeding and warm-up
    if (timeline.tick(now) && progress) {
      const auto line = progress_line(name, timeline.samples().back(), timeline.latency_so_far(),
                                      control.commits.load(), control.retries.load());
      std::fprintf(stderr, "\r%s%s", line.c_str(), progress_gauges(control.gauges).c_str());
      printed = true;
    }
  }
  control.stop_now();
  control.end_window();
  timeline.tick(bench_clock::now(), true);  // the last, shorter second
  memory.run_ended();
  if (printed) std::fprintf(stderr, "\n");
}

run_result run_driver(driver_kind which, const bench_options& o, const std::string& uri, memory_probe& memory) {
  run_control control(o.transactions);
  const std::string name = std::string(which == driver_kind::mongoc ? "mongoc " : "mongowire ") + to_string(o.mode);
  timeline_recorder timeline(control, bench_clock::now());
  auto controller = [&](const std::atomic<int>& running) {
    control_loop(o, control, running, name.c_str(), timeline, memory);
  };
  run_result r;
#ifdef TXNBENCH_HAVE_MONGOC
  if (which == driver_kind::mongoc) r = run_mongoc(o, uri, control, controller);
  else r = run_mongowire(o, uri, control, controller);
#else
  r = run_mongowire(o, uri, control, controller);
#endif
  r.mode = o.mode;
  r.timeline = timeline.samples();
  check_sanity(o, r);
  return r;
}

// Every run of the invocation: per mode (txn first), the main driver then the reference.
std::vector<run_result> run_all(const bench_options& o, const std::string& uri, memory_probe& memory) {
  std::vector<run_result> runs;
  for (bench_mode mode : {bench_mode::txn, bench_mode::plain}) {
    if (o.mode != bench_mode::both && o.mode != mode) continue;
    bench_options one = o;
    one.mode = mode;
    runs.push_back(
        run_driver(o.driver == driver_kind::mongoc ? driver_kind::mongoc : driver_kind::mongowire, one, uri, memory));
    if (o.driver == driver_kind::both) runs.push_back(run_driver(driver_kind::mongoc, one, uri, memory));
  }
  return runs;
}

// --report and --csv. False (with the reason on stderr) when a file cannot be written.
bool write_files(const bench_options& o, const run_context& ctx, const std::vector<run_result>& runs) {
  auto write = [](const std::string& path, auto&& fill) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "txnbench: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
      return false;
    }
    fill(f);
    return std::fclose(f) == 0;
  };
  bool ok = true;
  if (!o.report_path.empty())
    ok = write(o.report_path, [&](std::FILE* f) { std::fputs(html_report(o, ctx, runs).c_str(), f); }) && ok;
  if (!o.csv_path.empty()) {
    std::vector<const run_result*> all;
    for (const auto& r : runs) all.push_back(&r);
    ok = write(o.csv_path, [&](std::FILE* f) { write_timeline_csv(f, all); }) && ok;
  }
  return ok;
}

// --retry-trace: every run appends to the file; it starts empty. False (with the reason on
// stderr) when it cannot be written.
bool empty_retry_trace(const bench_options& o) {
  if (o.retry_trace_path.empty()) return true;
  retry_trace_writer trace;
  const std::string err = trace.open(o.retry_trace_path, "w");
  if (!err.empty()) std::fprintf(stderr, "txnbench: %s\n", err.c_str());
  return err.empty();
}

}  // namespace

int main(int argc, char** argv) {
  alloc::install();
  bench_options o;
  bool help = false;
  if (auto err = parse_options(argc, argv, o, help); !err.empty()) {
    std::fprintf(stderr, "txnbench: %s\n", err.c_str());
    return 2;
  }
  if (help) {
    std::fputs(usage_text(), stdout);
    return 0;
  }
#ifndef TXNBENCH_HAVE_MONGOC
  if (o.driver != driver_kind::mongowire) {
    std::fprintf(stderr, "txnbench: built without libmongoc (pkg-config libmongoc-1.0 was not found)\n");
    return 2;
  }
#endif
  if (o.workload == workload_kind::bank) {  // issue 14: its own run, check and report
    try {
      return bank::run_bank(o);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "txnbench: %s\n", e.what());
      return 1;
    }
  }
  if (o.mode == bench_mode::plain && o.api == txn_api::with_transaction) {
    std::fprintf(stderr, "txnbench: --api with_transaction needs --mode txn\n");
    return 2;
  }

  if (!empty_retry_trace(o)) return 2;
  std::unique_ptr<mongowire::testd::embedded_server> server;
  run_context ctx;
  std::string uri = o.uri;
  if (uri.empty()) {
    mongowire::testd::listen_options listen;
    listen.reply_latency = microseconds(o.latency_us);
    server = std::make_unique<mongowire::testd::embedded_server>(mongowire::testd::server_options{}, listen);
    uri = server->uri();
    ctx.server =
        "embedded test server " + server->address() + " (reply latency " + std::to_string(o.latency_us) + " us)";
  } else {
    ctx.server = mongowire::tools::mask_password(uri);  // the report and the text show it
  }
  if (!o.compressors.empty()) {  // OP_COMPRESSED.md: both drivers negotiate it in their handshake
    const auto query = uri.find('?');
    uri += query != std::string::npos ? "&" : uri.back() == '/' ? "?" : "/?";
    uri += "compressors=" + o.compressors;
    ctx.server += ", compressors=" + o.compressors;
  }

  try {
    memory_probe memory(uri, server != nullptr);
    const std::vector<run_result> runs = run_all(o, uri, memory);
    ctx.memory = memory.figures();
    if (o.json) print_json(o, ctx, runs);
    else print_text(o, ctx, runs);
    bool ok = write_files(o, ctx, runs);
    for (const auto& r : runs) ok = ok && r.errors.empty();
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "txnbench: %s\n", e.what());
    return 1;
  }
}
