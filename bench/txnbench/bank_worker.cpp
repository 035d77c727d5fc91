#include "bank_worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <initializer_list>

#include "bank_ops.hpp"

namespace txnbench::bank {

namespace asio = boost::asio;
using namespace mongowire;
using namespace std::chrono;

namespace {

// The workload's own outcomes, not the engine's errors.
enum class bank_errc { insufficient_funds = 1, account_missing };
struct bank_category_t : boost::system::error_category {
  const char* name() const noexcept override { return "txnbench.bank"; }
  std::string message(int c) const override {
    return c == 1 ? "insufficient funds" : "an account of the transfer does not exist";
  }
};
const bank_category_t bank_category;
error_code make_error(bank_errc e) { return {static_cast<int>(e), bank_category}; }

constexpr auto give_up_after = seconds(120);  // with_transaction's limit, for the manual loop too

transaction_options transaction_options_of(const bench_options& o) {
  transaction_options t;
  t.read_concern = bson::document();
  t.read_concern->append("level", o.read_concern);
  t.write_concern = bson::document();
  if (o.write_concern.find_first_not_of("0123456789") == std::string::npos && !o.write_concern.empty())
    t.write_concern->append("w", static_cast<std::int32_t>(std::stoi(o.write_concern)));
  else t.write_concern->append("w", o.write_concern);
  return t;
}

void name_commands(bson::document& data, std::initializer_list<const char*> names) {
  data.append_array_of("failCommands", [&](bson::array_builder& a) {
    for (auto n : names) a.push(n);
  });
}

}  // namespace

bank_worker::bank_worker(bank_shared& shared, client& main, client& faults, std::string fault_app, int id)
    : shared_(shared),
      main_(main),
      faults_client_(faults),
      fault_app_(std::move(fault_app)),
      id_(id),
      rng_(shared.o.seed * 1000003u + static_cast<std::uint64_t>(id)) {}

asio::awaitable<void> bank_worker::run() {
  while (shared_.next_transfer()) co_await one_transfer();
}

void bank_worker::collect(outcomes& seen, fault_counts& faults, log_linear_histogram& latency_ns,
                          std::uint64_t& reruns) const {
  seen.merge(seen_);
  for (std::size_t k = 0; k < fault_kind_count; ++k) faults.injected[k] += faults_.injected[k];
  faults.fired += faults_.fired;
  latency_ns.merge(latency_ns_);
  reruns += reruns_;
}

// Everything random comes from the worker's generator, seeded by --seed: the same run chooses
// the same transfers and faults.
void bank_worker::choose(transfer& t) {
  const auto n = static_cast<std::uint64_t>(shared_.o.accounts);
  t.id = inserted_id(id_, seq_++);
  t.fault.reset();
  if (shared_.o.faults > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < shared_.o.faults)
    t.fault = static_cast<fault_kind>(rng_() % fault_kind_count);
  if (t.fault == fault_kind::contention) {  // between the two hot accounts: conflicts with its peers
    t.from = static_cast<std::int64_t>(rng_() % 2);
    t.to = 1 - t.from;
  } else {
    t.from = static_cast<std::int64_t>(rng_() % n);
    t.to = static_cast<std::int64_t>((static_cast<std::uint64_t>(t.from) + 1 + rng_() % (n - 1)) % n);
  }
  t.amount = static_cast<std::int64_t>(1 + rng_() % 100);
}

asio::awaitable<void> bank_worker::one_transfer() {
  choose(t_);
  const auto started = bench_clock::now();
  const std::size_t before_commits = seen_.committed.size();
  if (!t_.fault || *t_.fault == fault_kind::contention) {
    if (t_.fault) ++faults_.injected[static_cast<std::size_t>(fault_kind::contention)];
    co_await run_transfer(main_);
  } else {
    co_await acquire_fault_slot();
    const auto failovers = shared_.failovers.load();
    const bson::document arm = fail_point_for(*t_.fault);
    const auto entered_before = co_await configure_fail_point(arm);
    if (entered_before) ++faults_.injected[static_cast<std::size_t>(*t_.fault)];
    co_await run_transfer(faults_client_);
    bson::document off;
    off.append("configureFailPoint", "failCommand").append("mode", "off");
    const auto entered_after = co_await configure_fail_point(off);
    // Only comparable on one member: a failover in between may have moved the primary.
    if (entered_before && entered_after && *entered_after > *entered_before && failovers == shared_.failovers.load())
      ++faults_.fired;
    shared_.fault_slot.store(false);
  }
  if (seen_.committed.size() > before_commits)
    latency_ns_.record(static_cast<std::uint64_t>(duration_cast<nanoseconds>(bench_clock::now() - started).count()));
}

// A fresh session per transfer (as applications do): the session pool is part of the test.
asio::awaitable<void> bank_worker::run_transfer(client& c) {
  session s = c.start_session();
  diagnostics d;
  attempts_ = 0;
  error_code ec;
  if (shared_.o.api == txn_api::manual) {
    ec = co_await manual(s, d);
  } else {
    session::transaction_callback callback = [this](session& ss, diagnostics& dd) {
      ++attempts_;
      return statements(ss, dd);
    };
    const transaction_options options = transaction_options_of(shared_.o);
    ec = co_await ops::with_transaction(s, callback, options, d);
  }
  if (attempts_ > 1) reruns_ += static_cast<std::uint64_t>(attempts_ - 1);
  co_await settle(s, ec, d);
  co_await s.end();
}

// The transfer's statements: debit with the guard balance >= amount, credit, record.
asio::awaitable<error_code> bank_worker::statements(session& s, diagnostics& d) {
  d.clear();
  auto accounts = s.get_collection(shared_.o.database, accounts_collection);
  auto transfers = s.get_collection(shared_.o.database, transfers_collection);
  bson::document filter, update;
  filter.append("_id", t_.from).append_document("balance", [&](bson::document& b) { b.append("$gte", t_.amount); });
  update.append_document("$inc", [&](bson::document& u) { u.append("balance", -t_.amount); });
  update_result r;
  if (auto ec = co_await ops::update_one(accounts, filter, update, r, d)) co_return ec;
  if (r.matched_count == 0) co_return make_error(bank_errc::insufficient_funds);
  filter.clear();
  filter.append("_id", t_.to);
  update.clear();
  update.append_document("$inc", [&](bson::document& u) { u.append("balance", t_.amount); });
  if (auto ec = co_await ops::update_one(accounts, filter, update, r, d)) co_return ec;
  if (r.matched_count != 1) co_return make_error(bank_errc::account_missing);
  bson::document record;
  record.append("transfer_id", t_.id).append("from", t_.from).append("to", t_.to).append("amount", t_.amount);
  insert_one_result inserted;
  auto ec = co_await ops::insert_one(transfers, record, inserted, d);
  co_return ec;
}

// --api manual: the MongoDB manual's retry loops (transactions.md), bounded like
// with_transaction: rerun on TransientTransactionError, commit again on
// UnknownTransactionCommitResult.
asio::awaitable<error_code> bank_worker::manual(session& s, diagnostics& d) {
  const auto give_up = bench_clock::now() + give_up_after;
  const transaction_options options = transaction_options_of(shared_.o);
  for (;;) {
    d.clear();
    if (auto ec = s.start_transaction(options, d)) co_return ec;
    ++attempts_;
    auto ec = co_await statements(s, d);
    if (ec) {
      diagnostics ignored;  // abortTransaction's errors are ignored (transactions.md)
      co_await s.abort_transaction(ignored);
      if (d.has_label(label::transient_transaction_error) && bench_clock::now() < give_up) continue;
      co_return ec;
    }
    ec = co_await commit_until_known(s, d, give_up);
    if (ec && d.has_label(label::transient_transaction_error) && bench_clock::now() < give_up) continue;
    co_return ec;
  }
}

asio::awaitable<error_code> bank_worker::commit_until_known(session& s, diagnostics& d,
                                                            bench_clock::time_point give_up) {
  for (;;) {
    d.clear();
    auto ec = co_await s.commit_transaction(d);
    if (!ec || !d.has_label(label::unknown_transaction_commit_result) || bench_clock::now() >= give_up) co_return ec;
  }
}

// What the client now knows of the transfer. An unknown commit outcome is resolved by
// committing again (resolve_commit); one still unknown is left to the check's reading.
asio::awaitable<void> bank_worker::settle(session& s, error_code ec, const diagnostics& d) {
  if (!ec) {
    seen_.committed.push_back(t_.id);
    co_return;
  }
  if (ec == make_error(bank_errc::insufficient_funds)) {
    ++seen_.declined;
    seen_.aborted.push_back(t_.id);
    co_return;
  }
  if (s.last_commit().outcome == commit_outcome::unknown) {
    diagnostics rd;
    const milliseconds deadline(10000);
    const auto resolved = co_await s.resolve_commit(deadline, rd);
    if (!resolved) {
      ++seen_.resolved_by_commit;
      seen_.committed.push_back(t_.id);
    } else if (s.last_commit().outcome == commit_outcome::unknown) {
      seen_.unknown.push_back(t_.id);
    } else {
      seen_.aborted.push_back(t_.id);
    }
    co_return;
  }
  ++seen_.failed;
  seen_.aborted.push_back(t_.id);  // no commit succeeded and none is in doubt
  // With the server's reply: its labels (or their absence) tell why nothing retried it.
  if (seen_.first_errors.size() < 5)
    seen_.first_errors.push_back(
        ec.message() + " " + describe(d) +
        (d.reply.get_view().empty()
             ? ""
             : " reply" + (d.server_address.empty() ? "" : " of " + d.server_address) + ": " + d.reply.to_json()));
}

asio::awaitable<void> bank_worker::acquire_fault_slot() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (shared_.fault_slot.exchange(true)) {
    timer.expires_after(milliseconds(1));
    auto token = asio::as_tuple(asio::use_awaitable);
    co_await timer.async_wait(token);
  }
}

// configureFailPoint through the faults client (never failed by failCommand itself): the
// server's count of entries before this command, or nullopt when it failed (a failover).
asio::awaitable<std::optional<std::int64_t>> bank_worker::configure_fail_point(const bson::document& cmd) {
  bson::document reply;
  diagnostics diag;
  if (auto ec = co_await ops::admin_command(faults_client_, cmd, reply, diag)) co_return std::nullopt;
  co_return reply.get_view()["count"].as_integer().value_or(0);
}

// failCommand with times: 1 for the faults client only (its appName).
bson::document bank_worker::fail_point_for(fault_kind k) {
  bson::document cmd;
  cmd.append("configureFailPoint", "failCommand");
  cmd.append_document("mode", [](bson::document& m) { m.append("times", std::int32_t{1}); });
  cmd.append_document("data", [&](bson::document& data) {
    data.append("appName", fault_app_);
    switch (k) {
      case fault_kind::commit_close:  // the connection closes instead of the commit's reply
        name_commands(data, {"commitTransaction"});
        data.append("closeConnection", true);
        break;
      case fault_kind::statement_close:
        name_commands(data, {rng_() % 2 ? "update" : "insert"});
        data.append("closeConnection", true);
        break;
      case fault_kind::transient:
        name_commands(data, {"insert"});
        data.append("errorCode", std::int32_t{112});  // WriteConflict
        data.append_array_of("errorLabels", [](bson::array_builder& a) { a.push("TransientTransactionError"); });
        break;
      case fault_kind::unknown_commit:  // committed, but the write concern failed (wtimeout)
        name_commands(data, {"commitTransaction"});
        data.append_document("writeConcernError", [](bson::document& w) {
          w.append("code", std::int32_t{64}).append("codeName", "WriteConcernFailed");
          w.append("errmsg", "waiting for replication timed out");
          w.append_document("errInfo", [](bson::document& i) { i.append("wtimeout", true); });
        });
        break;
      case fault_kind::stall:
        name_commands(data, {"update", "insert", "commitTransaction"});
        data.append("blockConnection", true).append("blockTimeMS", static_cast<std::int32_t>(20 + rng_() % 180));
        break;
      case fault_kind::contention: break;
    }
  });
  return cmd;
}

}  // namespace txnbench::bank
