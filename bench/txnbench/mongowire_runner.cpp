#include "mongowire_runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <charconv>
#include <memory>
#include <stdexcept>
#include <thread>

#include "alloc_counter.hpp"
#include "mongowire/client.hpp"
#include "retry_trace.hpp"

namespace txnbench {

namespace asio = boost::asio;
using namespace mongowire;

namespace {

// Command events of one client (its callbacks run on its thread: plain counters).
struct event_tally {
  run_control* control = nullptr;
  std::uint64_t started = 0;
  std::uint64_t aborts_in_window = 0;
  std::uint64_t aborts = 0;
  std::array<std::uint64_t, retry_label_count> failures_in_window{};
  std::array<std::uint64_t, retry_label_count> failures{};

  void operator()(const command_event& e) {
    const bool in_window = control->phase() == run_control::measure;
    if (e.type == command_event_type::started) {
      ++started;
      if (e.command_name == "abortTransaction") {
        ++aborts;
        aborts_in_window += in_window;
      }
    } else if (e.type == command_event_type::failed && e.command_name != "abortTransaction") {
      // abortTransaction errors are ignored (transactions.md): after a WriteConflict the
      // server has already aborted, and the abort's NoSuchTransaction retries nothing.
      auto l =
          e.diag ? classify_labels([&](std::string_view name) { return e.diag->has_label(name); }) : retry_label::other;
      ++failures[static_cast<std::size_t>(l)];
      failures_in_window[static_cast<std::size_t>(l)] += in_window;
      control->retries.fetch_add(1, std::memory_order_relaxed);
    }
  }
};

// ConnectionReadyEvents of one client: what each new pooled connection cost to set up.
void record_setup(connection_setup& setup, const pool_event& e) {
  if (e.type != pool_event_type::connection_ready) return;
  setup.time_ns.record(static_cast<std::uint64_t>(e.duration.count()));
  setup.round_trips += e.round_trips;
}

transaction_options make_transaction_options(const bench_options& o) {
  transaction_options t;
  t.read_concern = bson::document();
  t.read_concern->append("level", o.read_concern);
  t.write_concern = bson::document();
  int w = 0;
  if (auto [p, ec] = std::from_chars(o.write_concern.data(), o.write_concern.data() + o.write_concern.size(), w);
      ec == std::errc() && p == o.write_concern.data() + o.write_concern.size())
    t.write_concern->append("w", std::int32_t{w});
  else t.write_concern->append("w", o.write_concern);
  return t;
}

class worker {
 public:
  worker(client& c, const bench_options& o, run_control& control, int id, const std::string& coll_name)
      : o_(o),
        control_(control),
        id_(id),
        rng_(o.seed, id),
        pad_(padding_for(o.doc_size)),
        session_(c.start_session(session_options{std::nullopt, make_transaction_options(o)})),
        coll_(o.mode == bench_mode::txn ? session_.get_collection(o.database, coll_name)
                                        : c.get_collection(o.database, coll_name)) {
    update_doc_.append_document("$inc", [](bson::document& d) { d.append("n", std::int32_t{1}); });
  }

  worker_stats stats;

  asio::awaitable<void> run() {
    bool measured = false;
    while (control_.begin_transaction(measured)) {
      const auto started = bench_clock::now();
      txn_counters c;
      cost_ = {};
      if (o_.mode == bench_mode::plain) co_await plain_group(c);
      else if (o_.api == txn_api::manual) co_await manual_transaction(c);
      else co_await convenient_transaction(c);
      const auto elapsed = bench_clock::now() - started;
      // A transaction is measured when it started and ended inside the window.
      measured = measured && (control_.phase() == run_control::measure || o_.transactions);
      stats.all.add(c);
      stats.accounting_all += cost_;
      control_.transaction_done(c.commits, c.total_retries(), elapsed);
      if (measured) {
        stats.measured.add(c);
        stats.accounting_measured += cost_;
        if (c.commits) stats.latency_ns.record(static_cast<std::uint64_t>(elapsed.count()));
        if (c.commits) count_router();
        control_.end_measured_transaction();
      }
      if (c.failed && control_.phase() == run_control::warmup) control_.stop_now();  // broken setup: do not spin
    }
    co_await session_.end();
  }

 private:
  // transactions.md "Mongos Pinning": a committed transaction stays pinned to its mongos until
  // the next one starts. A host:port of up to 15 characters ("127.0.0.1:27017") fits
  // std::string's inline buffer; a longer one costs an allocation per sharded transaction.
  void count_router() {
    if (o_.mode != bench_mode::txn) return;
    if (const auto router = session_.pinned_server()) ++stats.committed_per_router[*router];
  }

  // Starts one operation of the mix; a plain function returning the operation's own
  // awaitable, so that the workload adds no coroutine frame of its own.
  asio::awaitable<error_code> start_operation(diagnostics& diag) {
    switch (rng_.next_op(o_.mix)) {
      case op_kind::insert:
        build_document(doc_, inserted_id(id_, seq_++), pad_);
        return coll_.insert_one(doc_, insert_one_options{}, insert_result_, diag);
      case op_kind::update:
        filter_.clear();
        filter_.append("_id", rng_.next_key(o_.keys));
        return coll_.update_one(filter_, update_doc_, update_options{}, update_result_, diag);
      case op_kind::find: break;
    }
    filter_.clear();
    filter_.append("_id", rng_.next_key(o_.keys));
    return coll_.find_one(filter_, find_options{}, found_, diag);
  }

  void record_failure(txn_counters& c, error_code ec, const diagnostics& diag) {
    ++c.failed;
    if (!stats.first_error.empty()) return;
    const auto why = describe(diag);
    stats.first_error = ec.message() + (why.empty() ? "" : ": " + why);
  }

  asio::awaitable<error_code> run_operations(diagnostics& diag, txn_counters& c) {
    for (int i = 0; i < o_.ops_per_txn; ++i) {
      if (auto ec = co_await start_operation(diag)) co_return ec;
      ++c.ops;
      control_.ops.fetch_add(1, std::memory_order_relaxed);
    }
    co_return error_code{};
  }

  asio::awaitable<void> plain_group(txn_counters& c) {
    diag_.clear();
    if (auto ec = co_await run_operations(diag_, c)) co_return record_failure(c, ec, diag_);
    ++c.commits;
  }

  // The MongoDB manual's retry loops: rerun on TransientTransactionError, commit again on
  // UnknownTransactionCommitResult. Retries are counted from the command events; each
  // transaction's accounting is added to the logical transaction's cost.
  asio::awaitable<void> manual_transaction(txn_counters& c) {
    for (;;) {
      diag_.clear();
      if (auto ec = session_.start_transaction(std::nullopt, diag_)) co_return record_failure(c, ec, diag_);
      const bool over = co_await manual_attempt(c);
      cost_ += session_.last_transaction_accounting();
      if (over) co_return;
      ++cost_.transient_reruns;  // the manual's loop, as with_transaction counts its own
    }
  }

  // One started transaction: true once it is over (committed or failed), false to rerun it.
  asio::awaitable<bool> manual_attempt(txn_counters& c) {
    if (auto ec = co_await run_operations(diag_, c)) {
      ++c.aborts;
      control_.aborts.fetch_add(1, std::memory_order_relaxed);
      diagnostics ignored;
      co_await session_.abort_transaction(ignored);
      if (diag_.has_label(label::transient_transaction_error)) co_return false;
      record_failure(c, ec, diag_);
      co_return true;
    }
    for (;;) {
      diag_.clear();
      auto ec = co_await session_.commit_transaction(diag_);
      if (!ec) {
        ++c.commits;
        co_return true;
      }
      if (diag_.has_label(label::unknown_transaction_commit_result)) continue;
      if (diag_.has_label(label::transient_transaction_error)) co_return false;
      record_failure(c, ec, diag_);
      co_return true;
    }
  }

  // session::with_transaction runs the same loops; a rerun of the callback is an abort.
  asio::awaitable<void> convenient_transaction(txn_counters& c) {
    int attempts = 0;
    diag_.clear();
    auto ec = co_await session_.with_transaction(
        [this, &attempts, &c](session&, diagnostics& d) {
          ++attempts;
          return run_operations(d, c);
        },
        std::nullopt, diag_);
    if (attempts > 1) c.aborts += static_cast<std::uint64_t>(attempts - 1);
    if (attempts > 0) cost_ += session_.last_transaction_accounting();  // every attempt, summed
    if (ec) co_return record_failure(c, ec, diag_);
    ++c.commits;
  }

  const bench_options& o_;
  run_control& control_;
  int id_;
  workload_rng rng_;
  std::string pad_;
  session session_;
  collection coll_;
  std::uint64_t seq_ = 0;
  diagnostics diag_;
  bson::document doc_, filter_, update_doc_;
  insert_one_result insert_result_;
  update_result update_result_;
  std::optional<bson::document> found_;
  transaction_accounting cost_;  // the current transaction's, all its attempts
};

// One io_context, one client, its workers.
struct client_thread {
  asio::io_context io;
  event_tally tally;
  connection_setup setup;
  std::unique_ptr<client> c;
  std::vector<std::unique_ptr<worker>> workers;
  client::stats stats_before_close;
  std::uint64_t started_before_close = 0;
  double cpu_seconds = 0;
  std::thread thread;
  // Issue 16: the client's gauges, sampled for the progress line and kept at the end for the report.
  asio::steady_timer gauge_timer{io};
  client_gauges sampled;  // reused: a warm sample allocates nothing
  live_gauges::values published;
  bool workers_done = false;
  client_gauges final_gauges;
};

// Publishes the client's gauges every 250 ms on the client's own thread (client::gauges runs
// on its strand) until the workers are done.
asio::awaitable<void> sample_gauges(client_thread* ct, run_control* control) {
  while (!ct->workers_done) {
    ct->c->gauges(ct->sampled);
    control->gauges.publish(ct->published, ct->sampled);
    ct->gauge_timer.expires_after(std::chrono::milliseconds(250));
    co_await ct->gauge_timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// --fail-point: each configureFailPoint command on admin, after seeding (which the fail points
// would otherwise hit). Empty, or what went wrong.
asio::awaitable<std::string> configure_fail_points(client& c, const std::vector<std::string>& commands) {
  for (const auto& json : commands) {
    bson::document command;
    try {
      command = bson::document::from_json(json);
    } catch (const std::exception& e) {
      co_return "--fail-point '" + json + "' is not a JSON document: " + e.what();
    }
    bson::document reply;
    diagnostics diag;
    if (auto ec = co_await c.run_command("admin", command, reply, diag))
      co_return "--fail-point '" + json + "' failed: " + ec.message() + " " + describe(diag);
  }
  co_return std::string{};
}

// Seeds `keys` documents {_id: 0..keys-1} for updates and finds, after dropping leftovers.
std::string seed(const bench_options& o, const std::string& uri, const std::string& coll_name) {
  asio::io_context io;
  // The client lives in the coroutine: whichever way the job ends, its destructor stops the
  // monitors and pools, so io.run() returns (README, "Lifetime").
  auto job = [&]() -> asio::awaitable<std::string> {
    client c(co_await asio::this_coro::executor, uri);
    diagnostics diag;
    bson::document reply, drop;
    drop.append("drop", coll_name);
    // NamespaceNotFound is fine; any other error (an unreachable server) ends the run here.
    if (auto ec = co_await c.run_command(o.database, drop, reply, diag);
        ec && diag.server_code != server_code::namespace_not_found)
      co_return "cannot prepare " + o.database + "." + coll_name + ": " + ec.message() + " " + describe(diag);
    auto coll = c.get_collection(o.database, coll_name);
    const std::string pad = padding_for(o.doc_size);
    for (std::int64_t first = 0; first < o.keys; first += 1000) {
      std::vector<bson::document> batch;
      for (std::int64_t k = first; k < std::min(o.keys, first + 1000); ++k)
        build_document(batch.emplace_back(), k, pad);
      insert_many_result r;
      diag.clear();
      const insert_many_options options;
      if (auto ec = co_await coll.insert_many(std::move(batch), options, r, diag))
        co_return "seeding " + o.database + "." + coll_name + " failed: " + ec.message() + " " + describe(diag);
    }
    std::string failed = co_await configure_fail_points(c, o.fail_points);
    co_await c.close();
    co_return failed;
  };
  auto f = asio::co_spawn(io, job(), asio::use_future);
  io.run();
  return f.get();
}

// The engine's accounting of the measured transactions. Every command of a transaction run is
// part of a transaction: the accounting of all of them must add up to the client's counters.
void collect_accounting(const std::vector<std::unique_ptr<client_thread>>& threads, run_result& result) {
  transaction_accounting all;
  result.accounting.emplace();
  for (const auto& ct : threads)
    for (const auto& w : ct->workers) {
      *result.accounting += w->stats.accounting_measured;
      all += w->stats.accounting_all;
      for (const auto& [router, n] : w->stats.committed_per_router) result.committed_per_router[router] += n;
    }
  if (all.round_trips != result.round_trips || all.bytes_sent != result.bytes_sent ||
      all.bytes_received != result.bytes_received)
    result.errors.push_back("the transactions' accounting (" + std::to_string(all.round_trips) + " round trips, " +
                            std::to_string(all.bytes_sent + all.bytes_received) +
                            " bytes) disagrees with the client's counters (" + std::to_string(result.round_trips) +
                            " round trips, " + std::to_string(result.bytes_sent + result.bytes_received) + " bytes)");
}

}  // namespace

run_result run_mongowire(const bench_options& o, const std::string& uri, run_control& control,
                         const controller_fn& controller) {
  run_result result;
  result.driver = "mongowire";
  const std::string coll_name = "txnbench_mongowire";
  // Without a seeded collection there is nothing to measure: end the program with the reason.
  if (auto err = seed(o, uri, coll_name); !err.empty()) throw std::runtime_error(err);
  retry_trace_writer trace;  // main truncated the file; every run appends
  if (!o.retry_trace_path.empty())
    if (auto err = trace.open(o.retry_trace_path); !err.empty()) throw std::runtime_error(err);

  std::vector<std::unique_ptr<client_thread>> threads;
  for (int t = 0; t < o.threads; ++t) {
    auto ct = std::make_unique<client_thread>();
    ct->tally.control = &control;
    client_options copts;
    copts.on_command = [tally = &ct->tally](const command_event& e) { (*tally)(e); };
    copts.on_pool_event = [setup = &ct->setup](const pool_event& e) { record_setup(*setup, e); };
    if (trace.is_open())
      copts.on_retry = [&trace, mode = to_string(o.mode)](const retry_event& e) { trace.write(e, mode); };
    if (o.jitter_seed) copts.jitter_seed = *o.jitter_seed + static_cast<std::uint64_t>(t);
    ct->c = std::make_unique<client>(ct->io.get_executor(), uri, std::move(copts));
    threads.push_back(std::move(ct));
  }
  for (int w = 0; w < o.concurrency; ++w) {
    auto& ct = *threads[static_cast<std::size_t>(w % o.threads)];
    ct.workers.push_back(std::make_unique<worker>(*ct.c, o, control, w, coll_name));
  }

  std::atomic<int> running{o.threads};
  for (auto& ctp : threads) {
    auto* ct = ctp.get();
    ct->thread = std::thread([ct, &running, &control] {
      alloc::enroll_this_thread();
      auto remaining = std::make_shared<std::size_t>(ct->workers.size());
      asio::co_spawn(ct->io, sample_gauges(ct, &control), asio::detached);
      for (auto& w : ct->workers)
        asio::co_spawn(ct->io, w->run(), [ct, remaining](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
          if (--*remaining > 0) return;
          // Everyone is done: keep the statistics of the workload, then close (endSessions).
          ct->stats_before_close = ct->c->get_stats();
          ct->started_before_close = ct->tally.started;
          ct->workers_done = true;
          ct->gauge_timer.cancel();
          ct->c->gauges(ct->final_gauges);
          asio::co_spawn(ct->io, ct->c->close(), asio::detached);
        });
      ct->io.run();
      ct->cpu_seconds = thread_cpu_seconds();
      running.fetch_sub(1);
    });
  }
  if (o.alloc_sites > 0) {
    // Sample only the steady state: wait for the window.
    std::thread([&control] {
      while (control.phase() == run_control::warmup) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (control.phase() == run_control::measure) alloc::start_sampling(20000);
    }).detach();
  }
  controller(running);
  for (auto& ct : threads) ct->thread.join();
  alloc::stop_sampling();

  for (auto& ct : threads) {
    for (auto& w : ct->workers) {
      result.measured.add(w->stats.measured);
      result.all.add(w->stats.all);
      result.latency_ns.merge(w->stats.latency_ns);
      if (!w->stats.first_error.empty() && result.errors.size() < 5) result.errors.push_back(w->stats.first_error);
    }
    const auto& s = ct->stats_before_close;
    if (!result.setup) result.setup.emplace();
    result.setup->time_ns.merge(ct->setup.time_ns);
    result.setup->round_trips += ct->setup.round_trips;
    merge_gauges(result.gauges ? *result.gauges : result.gauges.emplace(), ct->final_gauges);
    result.round_trips += s.commands;
    result.bytes_sent += s.bytes_sent;
    result.bytes_received += s.bytes_received;
    result.driver_retries += s.retries;
    result.client_cpu_s += ct->cpu_seconds;
    // Retries by label come from the failed command events: each failure labeled
    // TransientTransactionError, UnknownTransactionCommitResult or RetryableWriteError is
    // retried, by the workload's loops or inside the engine (commit retry, retryable write).
    for (std::size_t l = 0; l < retry_label_count; ++l) {
      result.measured.retries[l] += ct->tally.failures_in_window[l];
      result.all.retries[l] += ct->tally.failures[l];
    }
    if (ct->started_before_close != s.commands)
      result.errors.push_back("command started events (" + std::to_string(ct->started_before_close) +
                              ") disagree with the client's command count (" + std::to_string(s.commands) + ")");
  }
  if (o.mode == bench_mode::txn) collect_accounting(threads, result);
  result.window_s = control.window_seconds();
  result.window_ops = control.window_ops();
  result.window_allocations = control.window_allocations();
  if (o.alloc_sites > 0)
    for (auto& site : alloc::sampled_sites()) {
      if (result.alloc_sites.size() >= o.alloc_sites) break;
      std::string text;
      for (auto& f : site.frames) text += "      " + f + "\n";
      result.alloc_sites.emplace_back(site.count, std::move(text));
    }
  return result;
}

}  // namespace txnbench
