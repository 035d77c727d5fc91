#include "bank_check.hpp"

#include <unordered_map>
#include <unordered_set>

#include "bank_ops.hpp"
#include "mongowire/client.hpp"

namespace txnbench::bank {

namespace asio = boost::asio;
using namespace mongowire;

std::string with_uri_option(const std::string& uri, const std::string& option) {
  const auto query = uri.find('?');
  if (query != std::string::npos) return uri + (query + 1 == uri.size() ? "" : "&") + option;
  return uri + (uri.back() == '/' ? "?" : "/?") + option;
}

namespace {

struct ledger {
  std::vector<std::int64_t> balances;
  std::vector<std::int64_t> deltas;                        // seed + deltas must be the balance
  std::unordered_map<std::int64_t, std::uint64_t> copies;  // transfer id -> documents
  std::uint64_t transfers = 0;
  std::string error;  // a read that failed or a malformed document
};

std::string failure(const char* what, error_code ec, const diagnostics& diag) {
  const auto why = describe(diag);
  return std::string(what) + ": " + ec.message() + (why.empty() ? "" : " (" + why + ")");
}

// One account {_id, balance} or transfer {transfer_id, from, to, amount} into the ledger.
void add_account(ledger& l, bson::view d) {
  const auto id = d["_id"].as_integer(), balance = d["balance"].as_integer();
  if (!id || !balance || *id < 0 || *id >= static_cast<std::int64_t>(l.balances.size()))
    l.error = "malformed account " + d.to_json();
  else l.balances[static_cast<std::size_t>(*id)] = *balance;
}

void add_transfer(ledger& l, bson::view d) {
  const auto id = d["transfer_id"].as_integer(), from = d["from"].as_integer(), to = d["to"].as_integer(),
             amount = d["amount"].as_integer();
  const auto n = static_cast<std::int64_t>(l.deltas.size());
  if (!id || !from || !to || !amount || *from < 0 || *from >= n || *to < 0 || *to >= n) {
    l.error = "malformed transfer " + d.to_json();
    return;
  }
  ++l.copies[*id];
  ++l.transfers;
  l.deltas[static_cast<std::size_t>(*from)] -= *amount;
  l.deltas[static_cast<std::size_t>(*to)] += *amount;
}

asio::awaitable<ledger> read_ledger(client& c, const check_input& in) {
  ledger l;
  const auto n = static_cast<std::size_t>(in.o.accounts);
  l.balances.assign(n, -1);
  l.deltas.assign(n, 0);
  auto accounts = c.get_collection(in.o.database, accounts_collection);
  auto transfers = c.get_collection(in.o.database, transfers_collection);
  std::vector<bson::document> docs;
  diagnostics diag;
  if (auto ec = co_await ops::find_all(accounts, docs, diag)) {
    l.error = failure("reading accounts", ec, diag);
    co_return l;
  }
  if (docs.size() != n) l.error = std::to_string(docs.size()) + " accounts instead of " + std::to_string(n);
  for (const auto& d : docs) add_account(l, d);
  docs.clear();
  if (auto ec = co_await ops::find_all(transfers, docs, diag)) {
    l.error = failure("reading transfers", ec, diag);
    co_return l;
  }
  for (const auto& d : docs) add_transfer(l, d);
  co_return l;
}

// --self-test-tamper: the check must then fail (a committed transfer is lost and two accounts
// no longer match their transfers).
asio::awaitable<std::string> tamper(client& c, const check_input& in) {
  if (in.seen.committed.empty()) co_return "--self-test-tamper: no committed transfer to delete";
  bson::document filter;
  filter.append("transfer_id", in.seen.committed.front());
  auto transfers = c.get_collection(in.o.database, transfers_collection);
  delete_result r;
  diagnostics diag;
  if (auto ec = co_await ops::delete_one(transfers, filter, r, diag))
    co_return failure("--self-test-tamper: deleting a transfer", ec, diag);
  co_return std::string{};
}

// serverStatus transactions.currentOpen of one member (a session still in a transaction).
asio::awaitable<std::string> open_transactions(const std::string& uri, std::uint64_t& out) {
  client c(co_await asio::this_coro::executor, uri);
  bson::document cmd, reply;
  cmd.append("serverStatus", std::int32_t{1});
  diagnostics diag;
  auto ec = co_await ops::admin_command(c, cmd, reply, diag);
  co_await c.close();
  if (ec) co_return failure("serverStatus", ec, diag);
  const auto open = reply.get_view().find_path("transactions.currentOpen").as_integer();
  if (!open) co_return "serverStatus without transactions.currentOpen";
  out += static_cast<std::uint64_t>(*open);
  co_return std::string{};
}

void compare(const ledger& l, const check_input& in, check_result& r) {
  auto copies = [&](std::int64_t id) {
    auto it = l.copies.find(id);
    return it == l.copies.end() ? std::uint64_t{0} : it->second;
  };
  std::unordered_set<std::int64_t> attempted;
  for (auto id : in.seen.committed) {
    r.lost += copies(id) == 0;
    attempted.insert(id);
  }
  for (auto id : in.seen.aborted) {
    r.aborted_present += copies(id) > 0;
    attempted.insert(id);
  }
  for (auto id : in.seen.unknown) {
    // Resolved by reading the transfer id: present means committed, absent aborted.
    (copies(id) > 0 ? r.unknown_committed : r.unknown_aborted) += 1;
    attempted.insert(id);
  }
  for (const auto& [id, n] : l.copies) {
    r.duplicated += n > 1;
    r.phantom += !attempted.contains(id);
  }
  r.transfers_present = l.transfers;
  r.expected_total = in.o.accounts * initial_balance;
  for (std::size_t i = 0; i < l.balances.size(); ++i) {
    r.actual_total += l.balances[i];
    r.negative_balances += l.balances[i] < 0;
    r.ledger_mismatches += l.balances[i] != initial_balance + l.deltas[i];
  }
}

void describe_problems(check_result& r) {
  auto problem = [&](bool bad, std::string text) {
    if (bad) r.problems.push_back(std::move(text));
  };
  problem(r.actual_total != r.expected_total,
          "total balance " + std::to_string(r.actual_total) + " != " + std::to_string(r.expected_total) + " seeded");
  problem(r.negative_balances > 0, std::to_string(r.negative_balances) + " negative balance(s)");
  problem(r.ledger_mismatches > 0,
          std::to_string(r.ledger_mismatches) + " account(s) whose balance is not seed + transfers in - out");
  problem(r.lost > 0, std::to_string(r.lost) + " transfer(s) the client saw committed are missing");
  problem(r.duplicated > 0, std::to_string(r.duplicated) + " transfer id(s) present more than once");
  problem(r.aborted_present > 0, std::to_string(r.aborted_present) + " transfer(s) the client saw aborted are present");
  problem(r.phantom > 0, std::to_string(r.phantom) + " transfer(s) present that the client never attempted");
  problem(r.open_transactions > 0,
          std::to_string(r.open_transactions) + " transaction(s) still open on the server (serverStatus)");
}

}  // namespace

check_result check_bank(const check_input& in) {
  check_result r;
  auto job = [&](asio::any_io_executor ex) -> asio::awaitable<void> {
    client c(ex, in.uri);
    std::string err;
    if (in.tamper) err = co_await tamper(c, in);
    if (!err.empty()) r.problems.push_back(err);
    const ledger l = co_await read_ledger(c, in);
    co_await c.close();
    if (!l.error.empty()) r.problems.push_back(l.error);
    compare(l, in, r);
    for (const auto& member : in.member_uris)
      if (err = co_await open_transactions(member, r.open_transactions); !err.empty()) r.problems.push_back(err);
  };
  run_job(job);
  describe_problems(r);
  return r;
}

}  // namespace txnbench::bank
