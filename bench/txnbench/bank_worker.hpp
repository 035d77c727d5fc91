// One worker of the bank soak: transfers in a loop, each through a fresh session, some of
// them with a fault injected just before.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <optional>
#include <random>
#include <string>

#include "bank.hpp"
#include "mongowire/client.hpp"
#include "workload.hpp"

namespace txnbench::bank {

// Shared by every worker of every thread.
struct bank_shared {
  const bench_options& o;
  bench_clock::time_point deadline;
  std::atomic<std::uint64_t> tickets{0};
  std::atomic<bool> fault_slot{false};  // one fail point at a time: failCommand is server-wide
  std::atomic<std::uint64_t> failovers{0};

  bool next_transfer() {
    if (o.transactions) return tickets.fetch_add(1) < *o.transactions;
    return bench_clock::now() < deadline;
  }
};

// One transfer: its unique id, the accounts, the amount and the fault it gets.
struct transfer {
  std::int64_t id = 0, from = 0, to = 0, amount = 0;
  std::optional<fault_kind> fault;
};

class bank_worker {
 public:
  // `faults` runs the faulted transfers; its appName is `fault_app`.
  bank_worker(bank_shared& shared, mongowire::client& main, mongowire::client& faults, std::string fault_app, int id);

  boost::asio::awaitable<void> run();
  // Adds this worker's figures (after run()).
  void collect(outcomes& seen, fault_counts& faults, log_linear_histogram& latency_ns, std::uint64_t& reruns) const;

 private:
  void choose(transfer& t);
  boost::asio::awaitable<void> one_transfer();
  boost::asio::awaitable<void> run_transfer(mongowire::client& c);
  boost::asio::awaitable<mongowire::error_code> statements(mongowire::session& s, mongowire::diagnostics& d);
  boost::asio::awaitable<mongowire::error_code> manual(mongowire::session& s, mongowire::diagnostics& d);
  boost::asio::awaitable<mongowire::error_code> commit_until_known(mongowire::session& s, mongowire::diagnostics& d,
                                                                   bench_clock::time_point give_up);
  boost::asio::awaitable<void> settle(mongowire::session& s, mongowire::error_code ec, const mongowire::diagnostics& d);
  boost::asio::awaitable<void> acquire_fault_slot();
  boost::asio::awaitable<std::optional<std::int64_t>> configure_fail_point(const mongowire::bson::document& cmd);
  mongowire::bson::document fail_point_for(fault_kind k);

  bank_shared& shared_;
  mongowire::client& main_;
  mongowire::client& faults_client_;
  std::string fault_app_;
  int id_;
  std::uint64_t seq_ = 0;
  std::mt19937_64 rng_;
  transfer t_;
  int attempts_ = 0;  // of the current transfer's statements (callback runs)
  outcomes seen_;
  fault_counts faults_;
  log_linear_histogram latency_ns_;
  std::uint64_t reruns_ = 0;
};

}  // namespace txnbench::bank
