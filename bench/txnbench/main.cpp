// txnbench: pgbench for MongoDB transactions. See --help and the README's "txnbench".
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "alloc_counter.hpp"
#include "mongowire_runner.hpp"
#include "net/embedded_server.hpp"
#include "options.hpp"
#include "report.hpp"
#ifdef TXNBENCH_HAVE_MONGOC
#include "mongoc_runner.hpp"
#endif

namespace {

using namespace txnbench;
using namespace std::chrono;

// Moves the phases (warm-up, measured window, stop) and prints the live progress line.
void control_loop(const bench_options& o, run_control& control, const std::atomic<int>& running, const char* name) {
  const bool progress = o.progress || isatty(STDERR_FILENO);
  const auto t0 = bench_clock::now();
  auto window_end = bench_clock::time_point::max();
  if (o.warmup_s <= 0) control.begin_window();
  std::uint64_t last_commits = 0;
  auto last_print = t0;
  bool printed = false;
  while (running.load() > 0) {
    std::this_thread::sleep_for(milliseconds(20));
    const auto now = bench_clock::now();
    if (control.phase() == run_control::warmup && now - t0 >= duration<double>(o.warmup_s)) {
      control.begin_window();
      if (!o.transactions) window_end = now + duration_cast<bench_clock::duration>(duration<double>(o.duration_s));
    }
    if (control.phase() == run_control::measure && now >= window_end) control.end_window();
    if (progress && now - last_print >= seconds(1)) {
      const auto commits = control.commits.load();
      const double secs = duration<double>(now - t0).count();
      const double interval = duration<double>(now - last_print).count();
      std::fprintf(stderr, "\r[%s %5.1f s] %-8s tps %9.1f  commits %10llu  aborts %8llu  ops %10llu ", name, secs,
                   control.phase() == run_control::warmup    ? "warm-up"
                   : control.phase() == run_control::measure ? "measure"
                                                             : "stopping",
                   static_cast<double>(commits - last_commits) / interval, static_cast<unsigned long long>(commits),
                   static_cast<unsigned long long>(control.aborts.load()),
                   static_cast<unsigned long long>(control.ops.load()));
      last_commits = commits;
      last_print = now;
      printed = true;
    }
  }
  control.stop_now();
  control.end_window();
  if (printed) std::fprintf(stderr, "\n");
}

run_result run_driver(driver_kind which, const bench_options& o, const std::string& uri) {
  run_control control(o.transactions);
  const char* name = which == driver_kind::mongoc ? "mongoc" : "mongowire";
  auto controller = [&](const std::atomic<int>& running) { control_loop(o, control, running, name); };
#ifdef TXNBENCH_HAVE_MONGOC
  if (which == driver_kind::mongoc) return run_mongoc(o, uri, control, controller);
#endif
  return run_mongowire(o, uri, control, controller);
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
  if (o.mode == bench_mode::plain && o.api == txn_api::with_transaction) {
    std::fprintf(stderr, "txnbench: --api with_transaction needs --mode txn\n");
    return 2;
  }

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
    ctx.server = uri;
  }

  try {
    run_result main_result =
        run_driver(o.driver == driver_kind::mongoc ? driver_kind::mongoc : driver_kind::mongowire, o, uri);
    check_sanity(o, main_result);
    std::optional<run_result> reference;
    if (o.driver == driver_kind::both) {
      reference = run_driver(driver_kind::mongoc, o, uri);
      check_sanity(o, *reference);
    }
    if (o.json) print_json(o, ctx, main_result, reference ? &*reference : nullptr);
    else print_text(o, ctx, main_result, reference ? &*reference : nullptr);
    const bool ok = main_result.errors.empty() && (!reference || reference->errors.empty());
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "txnbench: %s\n", e.what());
    return 1;
  }
}
