// txnbench --workload bank: transfers between accounts through transactions, with faults
// injected by failCommand fail points and primaries stepped down, then bank_check.cpp's check.
#include "bank.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>

#include "bank_check.hpp"
#include "bank_ops.hpp"
#include "bank_worker.hpp"
#include "bank_report.hpp"
#include "mongowire/client.hpp"
#include "net/embedded_server.hpp"

namespace txnbench::bank {

namespace asio = boost::asio;
using namespace mongowire;
using namespace std::chrono;

std::string_view to_string(fault_kind k) noexcept {
  switch (k) {
    case fault_kind::commit_close: return "commit_connection_closed";
    case fault_kind::statement_close: return "statement_connection_closed";
    case fault_kind::transient: return "transient_transaction_error";
    case fault_kind::unknown_commit: return "unknown_commit_result";
    case fault_kind::stall: return "stall";
    case fault_kind::contention: return "contention";
  }
  return "?";
}

void outcomes::merge(const outcomes& other) {
  committed.insert(committed.end(), other.committed.begin(), other.committed.end());
  aborted.insert(aborted.end(), other.aborted.begin(), other.aborted.end());
  unknown.insert(unknown.end(), other.unknown.begin(), other.unknown.end());
  declined += other.declined;
  failed += other.failed;
  resolved_by_commit += other.resolved_by_commit;
  for (const auto& e : other.first_errors)
    if (first_errors.size() < 5) first_errors.push_back(e);
}

std::uint64_t fault_counts::total() const noexcept {
  std::uint64_t n = 0;
  for (auto k : injected) n += k;
  return n;
}

namespace {

// A thread: its io_context, the workers' client and the faulted transfers' client (its own
// appName, which the fail points name so that only the chosen transfer meets them).
struct bank_thread {
  asio::io_context io;
  std::unique_ptr<client> main, faults;
  std::vector<std::unique_ptr<bank_worker>> workers;
  std::uint64_t sessions_in_use = 0, write_conflicts = 0;
  std::thread thread;
};

// Closes both clients once every worker is done, keeping what the check needs first.
void finish_thread(bank_thread* t) {
  client_gauges g;
  t->main->gauges(g);
  t->sessions_in_use += g.sessions.in_use;
  t->write_conflicts += g.write_conflicts;
  t->faults->gauges(g);
  t->sessions_in_use += g.sessions.in_use;
  t->write_conflicts += g.write_conflicts;
  auto close_both = [](bank_thread* t) -> asio::awaitable<void> {
    co_await t->main->close();
    co_await t->faults->close();
  };
  asio::co_spawn(t->io, close_both(t), asio::detached);
}

void start_thread(bank_thread* t) {
  t->thread = std::thread([t] {
    auto remaining = std::make_shared<std::size_t>(t->workers.size());
    for (auto& w : t->workers)
      asio::co_spawn(t->io, w->run(), [t, remaining](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        if (--*remaining == 0) finish_thread(t);
      });
    t->io.run();
  });
}

// Steps the primary down every `every_s` seconds with replSetStepDown, from its own thread and
// client (which finds the next primary through SDAM like the workers).
class failover_driver {
 public:
  failover_driver(std::string uri, double every_s, bank_shared& shared)
      : uri_(std::move(uri)), every_(every_s), shared_(shared) {
    thread_ = std::thread([this] { run_job([this](asio::any_io_executor ex) { return loop(ex); }); });
  }
  ~failover_driver() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  asio::awaitable<void> loop(asio::any_io_executor ex) {
    client c(ex, with_uri_option(uri_, "appname=txnbench-bank-failover"));
    asio::steady_timer timer(ex);
    auto next = bench_clock::now() + duration_cast<bench_clock::duration>(duration<double>(every_));
    while (!stop_) {
      timer.expires_after(milliseconds(10));
      auto token = asio::as_tuple(asio::use_awaitable);
      co_await timer.async_wait(token);
      if (bench_clock::now() < next) continue;
      co_await step_down(c);
      next = bench_clock::now() + duration_cast<bench_clock::duration>(duration<double>(every_));
    }
    co_await c.close();
  }

  asio::awaitable<void> step_down(client& c) {
    bson::document cmd, reply;
    cmd.append("replSetStepDown", static_cast<std::int32_t>(std::max(1.0, std::ceil(every_))));
    cmd.append("secondaryCatchUpPeriodSecs", std::int32_t{0});
    cmd.append("force", true);
    diagnostics diag;
    if (auto ec = co_await ops::admin_command(c, cmd, reply, diag)) {
      if (errors_.size() < 5) errors_.push_back("replSetStepDown: " + ec.message() + " " + describe(diag));
      co_return;
    }
    shared_.failovers.fetch_add(1);
  }

  std::string uri_;
  double every_;
  bank_shared& shared_;
  std::atomic<bool> stop_{false};
  std::vector<std::string> errors_;
  std::thread thread_;
};

// The deployment: the embedded server, a three-member embedded replica set, or --uri.
struct deployment {
  std::unique_ptr<testd::embedded_server> server;
  std::unique_ptr<testd::embedded_replica_set> replica_set;
  std::string uri, description;
  std::vector<std::string> member_uris;

  std::optional<std::size_t> open_connections() const {
    if (server) return server->open_connections();
    if (!replica_set) return std::nullopt;
    std::size_t n = 0;
    for (std::size_t i = 0; i < replica_set->size(); ++i) n += replica_set->member(i).open_connections();
    return n;
  }
};

deployment start_deployment(const bench_options& o) {
  deployment d;
  testd::listen_options listen;
  listen.reply_latency = microseconds(o.latency_us);
  if (!o.uri.empty()) {
    d.uri = o.uri;
    d.member_uris = {o.uri};
    d.description = "the deployment at --uri";
  } else if (o.failover_every_s) {
    d.replica_set = std::make_unique<testd::embedded_replica_set>(3, testd::server_options{}, listen);
    d.uri = d.replica_set->uri();
    for (std::size_t i = 0; i < 3; ++i) d.member_uris.push_back(d.replica_set->member(i).uri());
    d.description = "embedded three-member replica set " + d.uri;
  } else {
    d.server = std::make_unique<testd::embedded_server>(testd::server_options{}, listen);
    d.uri = d.server->uri();
    d.member_uris = {d.uri};
    d.description = "embedded test server " + d.server->address();
  }
  return d;
}

// Drops both collections and seeds `accounts` balances {_id: i, balance: initial_balance}.
std::string seed(const bench_options& o, const std::string& uri) {
  auto job = [&](asio::any_io_executor ex) -> asio::awaitable<std::string> {
    client c(ex, uri);
    diagnostics diag;
    for (const char* name : {accounts_collection, transfers_collection}) {
      auto coll = c.get_collection(o.database, name);
      if (auto ec = co_await coll.drop(diag)) co_return "cannot drop " + std::string(name) + ": " + describe(diag);
    }
    auto accounts = c.get_collection(o.database, accounts_collection);
    for (std::int64_t first = 0; first < o.accounts; first += 1000) {
      std::vector<bson::document> batch;
      for (std::int64_t k = first; k < std::min(o.accounts, first + 1000); ++k)
        batch.emplace_back().append("_id", k).append("balance", initial_balance);
      insert_many_result r;
      if (auto ec = co_await ops::insert_many(accounts, batch, r, diag))
        co_return "seeding the accounts failed: " + ec.message() + " " + describe(diag);
    }
    co_await c.close();
    co_return std::string{};
  };
  return run_job(job);
}

struct run_figures_bank {
  outcomes seen;
  fault_counts faults;
  log_linear_histogram latency_ns;
  std::uint64_t sessions_in_use = 0, write_conflicts = 0, reruns = 0;
  double elapsed_s = 0;
};

run_figures_bank run_transfers(const bench_options& o, const deployment& d, bank_shared& shared) {
  std::vector<std::unique_ptr<bank_thread>> threads;
  for (int t = 0; t < o.threads; ++t) {
    auto bt = std::make_unique<bank_thread>();
    client_options copts;
    if (o.jitter_seed) copts.jitter_seed = *o.jitter_seed + static_cast<std::uint64_t>(t);
    bt->main = std::make_unique<client>(bt->io.get_executor(), d.uri, copts);
    const std::string app = "txnbench-bank-faults-" + std::to_string(t);
    bt->faults = std::make_unique<client>(bt->io.get_executor(), with_uri_option(d.uri, "appname=" + app), copts);
    threads.push_back(std::move(bt));
  }
  for (int w = 0; w < o.concurrency; ++w) {
    auto& bt = *threads[static_cast<std::size_t>(w % o.threads)];
    const std::string app = "txnbench-bank-faults-" + std::to_string(w % o.threads);
    bt.workers.push_back(std::make_unique<bank_worker>(shared, *bt.main, *bt.faults, app, w));
  }
  const auto t0 = bench_clock::now();
  for (auto& t : threads) start_thread(t.get());
  for (auto& t : threads) t->thread.join();
  run_figures_bank r;
  r.elapsed_s = duration<double>(bench_clock::now() - t0).count();
  for (auto& t : threads) {
    for (auto& w : t->workers) w->collect(r.seen, r.faults, r.latency_ns, r.reruns);
    r.sessions_in_use += t->sessions_in_use;
    r.write_conflicts += t->write_conflicts;
  }
  return r;
}

// The server notices a closed connection when it next reads or writes it: a monitoring
// connection parked in an awaitable hello only when its maxAwaitTimeMS (the client's
// heartbeatFrequencyMS, 10 s) ends, as with mongod. Wait up to 15 s for them to go.
std::optional<std::uint64_t> leaked_connections(const deployment& d) {
  auto open = d.open_connections();
  for (int i = 0; open && *open > 0 && i < 750; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
    open = d.open_connections();
  }
  return open;
}

}  // namespace

int run_bank(const bench_options& o) {
  deployment d = start_deployment(o);
  if (auto err = seed(o, d.uri); !err.empty()) throw std::runtime_error(err);
  bank_shared shared{o, bench_clock::now() + duration_cast<bench_clock::duration>(duration<double>(o.duration_s))};
  std::unique_ptr<failover_driver> failover;
  if (o.failover_every_s) failover = std::make_unique<failover_driver>(d.uri, *o.failover_every_s, shared);
  run_figures_bank run = run_transfers(o, d, shared);
  std::vector<std::string> errors;
  if (failover) {
    failover->stop();
    errors = failover->errors();
  }
  check_result c = check_bank(check_input{o, d.uri, d.member_uris, run.seen, o.self_test_tamper});
  c.client_sessions_in_use = run.sessions_in_use;
  if (c.client_sessions_in_use > 0)
    c.problems.push_back(std::to_string(c.client_sessions_in_use) + " session(s) still in use by the client");
  c.leaked_connections = leaked_connections(d);
  if (c.leaked_connections.value_or(0) > 0)
    c.problems.push_back(std::to_string(*c.leaked_connections) + " connection(s) still open after every client closed");
  if (run.seen.failed > 0)
    c.problems.push_back(std::to_string(run.seen.failed) + " transfer(s) failed with an error that is not retried");
  bank_report rep{
      o,          d.description, run.seen, run.faults, c, run.latency_ns, shared.failovers.load(), run.write_conflicts,
      run.reruns, run.elapsed_s, errors};
  if (o.json) print_bank_json(rep);
  else print_bank_text(rep);
  return c.ok() ? 0 : 1;
}

}  // namespace txnbench::bank
