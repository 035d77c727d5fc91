// transactions.md "Mongos Pinning" and "When to unpin", against two scripted mongoses: every
// command of a transaction goes to the mongos its first command went to, and each unpinning
// rule clears the pin.
#include "client_support.hpp"
#include "scripted_peer.hpp"

using namespace client_test;
using scripted::expect;
using scripted::step;

namespace {

constexpr std::string_view inserted = R"({"ok": 1, "n": 1})";
constexpr int statements = 3;

scripted::peer_options mongos() {
  scripted::peer_options o;
  o.set_name.clear();
  return o;
}

std::string address_of(const scripted::scripted_peer& p) {
  const std::string uri = p.uri();
  const auto start = uri.find("://") + 3;
  return uri.substr(start, uri.find('/', start) - start);
}

// Two mongoses in one latency window: without pinning, statements would go to either.
struct two_mongoses {
  asio::io_context io;
  scripted::scripted_peer a{io, mongos()};
  scripted::scripted_peer b{io, mongos()};
  std::unique_ptr<client> c;

  two_mongoses() {
    c = std::make_unique<client>(io.get_executor(),
                                 "mongodb://" + address_of(a) + "," + address_of(b) + "/?localThresholdMS=1000");
  }
  ~two_mongoses() { run(io, close_client()); }
  asio::awaitable<error_code> close_client() { co_return co_await c->close(); }
  void play_both(const std::vector<step>& script) {
    a.play(script);
    b.play(script);
  }
  // The peer that received commands (the other must have received none).
  const scripted::scripted_peer& used() const { return a.commands().empty() ? b : a; }
  const scripted::scripted_peer& unused() const { return a.commands().empty() ? a : b; }
  // The mongos whose first command started the transaction (after an unpin, a later command
  // may go to either mongos).
  const scripted::scripted_peer& transaction_peer() const {
    return !a.commands().empty() && a.commands().front().body.get_view().find("startTransaction") ? a : b;
  }
};

asio::awaitable<error_code> insert(session& s, int id, diagnostics& diag) {
  const auto command =
      bson::document::from_json(R"({"insert": "coll", "documents": [{"_id": )" + std::to_string(id) + "}]}");
  bson::document reply;
  const std::string db = "db";
  co_return co_await s.run_command(db, command, reply, diag);
}

struct pin_record {
  std::vector<std::optional<std::string>> pinned;  // after each step
  error_code last;
};

// startTransaction, `statements` inserts and a commit, twice (a repeated commit as well).
asio::awaitable<pin_record> transaction_then_recommit(client& c) {
  session s = c.start_session();
  pin_record r;
  diagnostics diag;
  REQUIRE(!s.start_transaction(std::nullopt, diag));
  for (int i = 0; i < statements; ++i) {
    REQUIRE(!co_await insert(s, i, diag));
    r.pinned.push_back(s.pinned_server());
  }
  REQUIRE(!co_await s.commit_transaction(diag));
  r.pinned.push_back(s.pinned_server());
  REQUIRE(!co_await s.commit_transaction(diag));  // "Note that committing ... MUST NOT unpin"
  r.pinned.push_back(s.pinned_server());
  co_await s.end();
  r.pinned.push_back(s.pinned_server());
  co_return r;
}

std::vector<step> statements_and_commits(int commits) {
  std::vector<step> script;
  for (int i = 0; i < statements; ++i) script.push_back(expect("insert").reply(inserted));
  for (int i = 0; i < commits; ++i) script.push_back(expect("commitTransaction"));
  return script;
}

}  // namespace

TEST_CASE("mongos pinning: every statement and every commit of a transaction go to the mongos of its first") {
  for (int round = 0; round < 4; ++round) {  // without pinning: (1/2)^4 chance per round to pass
    CAPTURE(round);
    two_mongoses f;
    f.play_both(statements_and_commits(2));
    const pin_record r = run(f.io, transaction_then_recommit(*f.c));
    INFO(f.a.transcript() << f.b.transcript());
    CHECK(f.used().script_done());
    CHECK(f.unused().commands().empty());
    for (std::size_t i = 0; i + 1 < r.pinned.size(); ++i) CHECK(r.pinned[i] == address_of(f.used()));
    CHECK_FALSE(r.pinned.back());  // rule 6: ending the session unpins it
  }
}

namespace {

struct unpin_case {
  const char* name;
  std::function<asio::awaitable<void>(session&, diagnostics&)> after_pinning;
  std::vector<step> script_after;  // what the pinned mongos sees after the first insert
};

asio::awaitable<std::pair<std::optional<std::string>, std::optional<std::string>>> pin_then(client& c,
                                                                                            const unpin_case& u) {
  session s = c.start_session();
  diagnostics diag;
  REQUIRE(!s.start_transaction(std::nullopt, diag));
  REQUIRE(!co_await insert(s, 1, diag));
  const auto before = s.pinned_server();
  co_await u.after_pinning(s, diag);
  co_return std::make_pair(before, s.pinned_server());
}

}  // namespace

TEST_CASE("mongos pinning: each 'When to unpin' rule of transactions.md clears the pin") {
  const std::string transient =
      R"({"ok": 0, "code": 112, "codeName": "WriteConflict", "errorLabels": ["TransientTransactionError"]})";
  const unpin_case cases[] = {
      {"rule 1: abortTransaction",
       [](session& s, diagnostics& d) -> asio::awaitable<void> { co_await s.abort_transaction(d); },
       {expect("abortTransaction")}},
      {"rule 2: a statement fails with TransientTransactionError",
       [](session& s, diagnostics& d) -> asio::awaitable<void> { co_await insert(s, 2, d); },
       {expect("insert").reply(transient)}},
      {"rule 4: a new transaction after commit",
       [](session& s, diagnostics& d) -> asio::awaitable<void> {
         co_await s.commit_transaction(d);
         s.start_transaction(std::nullopt, d);
       },
       {expect("commitTransaction")}},
      {"rule 5: an operation outside the transaction after commit",
       [](session& s, diagnostics& d) -> asio::awaitable<void> {
         co_await s.commit_transaction(d);
         co_await insert(s, 3, d);
       },
       {expect("commitTransaction"), expect("insert").absent("txnNumber").reply(inserted)}},
  };
  for (const auto& u : cases) {
    CAPTURE(u.name);
    two_mongoses f;
    std::vector<step> script{expect("insert").reply(inserted)};
    script.insert(script.end(), u.script_after.begin(), u.script_after.end());
    f.play_both(script);
    const auto [before, after] = run(f.io, pin_then(*f.c, u));
    INFO(f.a.transcript() << f.b.transcript());
    CHECK(before == address_of(f.transaction_peer()));
    CHECK_FALSE(after);
  }
}
