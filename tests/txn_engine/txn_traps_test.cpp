// The correctness traps of ../shared/reviews/driver-users-needs.md section 3 (issue 16 item 8):
// one test case per trap, named "trap N: <rule>", against the embedded test server. Each one
// checks what was actually sent (command events) and what the caller sees.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cmath>
#include <numeric>
#include <set>

#include "client/client_access.hpp"
#include "txn_support.hpp"

using namespace txn_test;

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

asio::awaitable<error_code> insert_json(collection coll, std::string json, diagnostics& diag) {
  insert_one_result r;
  const bson::document doc = doc_from_json(json);
  co_return co_await coll.insert_one(doc, insert_one_options{}, r, diag);
}

asio::awaitable<error_code> find_any(collection coll, diagnostics& diag) {
  std::optional<bson::document> out;
  const bson::document filter;
  co_return co_await coll.find_one(filter, find_options{}, out, diag);
}

asio::awaitable<void> sleep_ms(int ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, milliseconds(ms));
  co_await t.async_wait(asio::use_awaitable);
}

// Runs `io` for `ms` milliseconds (lets detached work finish).
void run_for(asio::io_context& io, int ms) { run(io, sleep_ms(ms)); }

struct retry_copy {
  std::int64_t operation_id = 0;  // 0: a step of with_transaction's own loop
  std::string command;
  int attempt = 0;
  std::int32_t code = 0;
  error_code error;
  retry_decision decision = retry_decision::give_up;
  std::chrono::microseconds backoff{0};
};

// What a client reports besides its commands (which still go to the fixture's recorder).
// Declared before the fixture: it must outlive the client.
struct observers {
  std::vector<retry_copy> retries;
  std::vector<pool_event_type> pool_events;
  std::size_t count(pool_event_type t) const { return std::count(pool_events.begin(), pool_events.end(), t); }
  // The events of `command`: all of them, or only with_transaction's own decisions.
  std::vector<const retry_copy*> of(std::string_view command, bool with_transaction_only = false) const {
    std::vector<const retry_copy*> out;
    for (const auto& r : retries)
      if (r.command == command && (!with_transaction_only || r.operation_id == 0)) out.push_back(&r);
    return out;
  }
};

// Replaces f's client with one that also reports to `obs`.
void observe(fixture& f, observers& obs, std::string uri_options = "", std::optional<std::uint64_t> jitter_seed = {}) {
  client_options o = f.rec.options();
  o.jitter_seed = jitter_seed;
  o.on_retry = [&obs](const retry_event& e) {
    obs.retries.push_back(
        {e.operation_id, std::string(e.command), e.attempt, e.server_code, e.error, e.decision, e.backoff});
  };
  o.on_pool_event = [&obs](const pool_event& e) { obs.pool_events.push_back(e.type); };
  f.c = std::make_unique<client>(f.io.get_executor(), f.server.uri() + uri_options, std::move(o));
}

// Starts an operation with `start(token)`, cancels it (terminal) after `after` unless it has
// completed, and runs `io` until it has.
template <class Start>
error_code cancel_after(asio::io_context& io, milliseconds after, Start&& start) {
  asio::cancellation_signal signal;
  std::optional<error_code> result;
  bool timer_done = false;
  asio::steady_timer timer(io, after);
  timer.async_wait([&](boost::system::error_code) {
    timer_done = true;
    if (!result) signal.emit(asio::cancellation_type::terminal);
  });
  start(asio::bind_cancellation_slot(signal.slot(), [&](error_code ec) { result = ec; }));
  io.restart();
  while (!result || !timer_done) io.run_one();
  return *result;
}

bool has_lsid_in_pool(client& c, const std::string& lsid) {
  for (const auto& pooled : detail::client_access::impl(c).session_pool().sessions())
    if (std::string(reinterpret_cast<const char*>(pooled.id.data()), pooled.id.size()) == lsid) return true;
  return false;
}

std::string session_lsid(const session& s) {
  bson::document wrapped;
  wrapped.append("lsid", s.id());
  return lsid_of(wrapped);
}

}  // namespace

// ---------------------------------------------------------------- trap 1 (specs#1475, cdrv#1711)

namespace {

// The callback of trap 1: inserts {_id: 1} and swallows whatever happens.
asio::awaitable<error_code> insert_and_swallow(session& s, diagnostics&) {
  diagnostics ignored;
  co_await insert_json(s.get_collection("trap1", "c"), R"({"_id": 1})", ignored);
  co_return error_code{};
}

}  // namespace

TEST_CASE("trap 1: a callback that swallows a statement's error fails at once with it, never loops to the limit") {
  fixture f;
  // Without the guard the commit gets NoSuchTransaction (TransientTransactionError) and the
  // callback reruns until the limit: that would end as with_transaction_timeout.
  detail::client_access::impl(*f.c).with_transaction_limit = milliseconds(2000);
  error_code expected;
  SUBCASE("a write error (DuplicateKey)") {
    diagnostics diag;
    REQUIRE_FALSE(run(f.io, insert_json(f.c->get_collection("trap1", "c"), R"({"_id": 1})", diag)));
    expected = make_server_error(11000);
  }
  SUBCASE("a command error (ok: 0)") {
    f.fail_command("insert", 1, false, 2);  // BadValue: not transient
    expected = make_server_error(2);
  }
  auto s = f.c->start_session();
  diagnostics diag;
  f.rec.clear();
  const auto started = steady::now();
  auto ec = run(f.io, s.with_transaction(insert_and_swallow, std::nullopt, diag));
  CHECK(steady::now() - started < milliseconds(1000));
  CHECK(ec == expected);
  CHECK_FALSE(diag.has_label(label::transient_transaction_error));
  CHECK(f.rec.named("insert").size() == 1);  // the callback ran once
  CHECK(f.rec.named("commitTransaction").empty());
  CHECK(f.rec.named("abortTransaction").size() == 1);
  CHECK(s.current_transaction_state() == transaction_state::aborted);
}

// ---------------------------------------------------------------- trap 2 (specs#442, pymongo#393)

TEST_CASE(
    "trap 2: the first commit keeps the transaction's write concern; every retry has w:majority, wtimeout 10000") {
  struct wc_case {
    const char* transaction;  // nullptr: the server default
    const char* first;        // nullptr: no writeConcern sent
    const char* retried;
  };
  const wc_case cases[] = {
      {nullptr, nullptr, R"({"w": "majority", "wtimeout": 10000})"},
      {R"({"w": 1})", R"({"w": 1})", R"({"w": "majority", "wtimeout": 10000})"},
      {R"({"w": 1, "j": true, "wtimeout": 2500})", R"({"w": 1, "j": true, "wtimeout": 2500})",
       R"({"w": "majority", "j": true, "wtimeout": 2500})"},  // "other options MUST be left as-is"
  };
  for (const auto& c : cases) {
    CAPTURE(c.retried);
    fixture f;
    auto s = f.c->start_session();
    transaction_options o;
    if (c.transaction) o.write_concern = doc_from_json(c.transaction);
    diagnostics diag;
    REQUIRE_FALSE(s.start_transaction(o, diag));
    REQUIRE_FALSE(run(f.io, insert_json(s.get_collection("trap2", "c"), "{}", diag)));
    f.fail_command("commitTransaction", 1, false, 6);  // HostUnreachable: the driver's own retry
    REQUIRE_FALSE(run(f.io, s.commit_transaction(diag)));
    REQUIRE_FALSE(run(f.io, s.commit_transaction(diag)));  // the user's
    const auto commits = f.rec.named("commitTransaction");
    REQUIRE(commits.size() == 3);
    const auto first = commits[0]->doc["writeConcern"].as_document();
    CHECK(first.has_value() == (c.first != nullptr));
    if (first && c.first) CHECK(*first == doc_from_json(c.first).get_view());
    for (std::size_t i : {1u, 2u}) {
      CAPTURE(i);
      const auto wc = commits[i]->doc["writeConcern"].as_document();
      REQUIRE(wc);
      CHECK(*wc == doc_from_json(c.retried).get_view());
      CHECK(commits[i]->doc["txnNumber"].as_int64() == commits[0]->doc["txnNumber"].as_int64());
    }
  }
}

// ---------------------------------------------------------------- trap 3 (extenddb#343, specs#538)

namespace {

struct counted_callback {
  int runs = 0;
  session::transaction_callback get() {
    return [this](session& s, diagnostics& d) -> asio::awaitable<error_code> {
      ++runs;
      co_return co_await insert_json(s.get_collection("trap3", "c"), "{}", d);
    };
  }
};

}  // namespace

TEST_CASE("trap 3: UnknownTransactionCommitResult retries the commit, never the callback; MaxTimeMSExpired is final") {
  observers obs;
  fixture f;
  observe(f, obs);
  counted_callback body;
  auto s = f.c->start_session();
  diagnostics diag;
  SUBCASE("the commit fails three times with a retryable error") {
    // Attempt + the driver's retry fail (UnknownTransactionCommitResult); with_transaction
    // commits again: fails, then the driver's retry commits.
    f.fail_command("commitTransaction", 3, false, 6);  // HostUnreachable
    f.rec.clear();
    REQUIRE_FALSE(run(f.io, s.with_transaction(body.get(), std::nullopt, diag)));
    CHECK(body.runs == 1);
    CHECK(f.rec.named("insert").size() == 1);
    CHECK(f.rec.named("commitTransaction").size() == 4);
    CHECK(obs.of("withTransaction").empty());  // no rerun_transaction decision
    const auto decided = obs.of("commitTransaction", true);
    REQUIRE(decided.size() == 1);
    CHECK(decided[0]->decision == retry_decision::retry_commit);
    CHECK(f.count("trap3", "c") == 1);
  }
  SUBCASE("the commit exceeds maxCommitTimeMS") {
    transaction_options o;
    o.max_commit_time_ms = 100;
    f.fail_command("commitTransaction", 1, false, 50);  // MaxTimeMSExpired
    f.rec.clear();
    CHECK(run(f.io, s.with_transaction(body.get(), o, diag)) == make_server_error(50));
    CHECK(diag.has_label(label::unknown_transaction_commit_result));  // labelled, but not retried
    CHECK(body.runs == 1);
    const auto commits = f.rec.named("commitTransaction");
    REQUIRE(commits.size() == 1);
    CHECK(commits[0]->doc["maxTimeMS"].as_integer() == 100);
    CHECK(s.last_commit().outcome == commit_outcome::unknown);
  }
}

// ---------------------------------------------------------------- trap 4 (morphium#359, specs#400)

namespace {

asio::awaitable<error_code> update_many_all(collection coll, diagnostics& diag) {
  update_result r;
  const bson::document all;
  const bson::document set = doc_from_json(R"({"$set": {"x": 1}})");
  co_return co_await coll.update_many(all, set, update_options{}, r, diag);
}

asio::awaitable<error_code> delete_many_all(collection coll, diagnostics& diag) {
  delete_result r;
  const bson::document all;
  co_return co_await coll.delete_many(all, delete_options{}, r, diag);
}

asio::awaitable<error_code> insert_then_update_many(collection coll, diagnostics& diag) {
  std::vector<write_model> requests(2);
  requests[0].document = doc_from_json(R"({"_id": "bulk"})");
  requests[1].type = write_model::kind::update_many;
  requests[1].update = doc_from_json(R"({"$set": {"y": 1}})");
  bulk_write_result r;
  co_return co_await coll.bulk_write(std::move(requests), bulk_write_options{}, r, diag);
}

// A multi-document write that fails with a retryable error (HostUnreachable): sent once,
// without txnNumber.
void check_not_retried(fixture& f, std::string_view command, asio::awaitable<error_code> op) {
  CAPTURE(command);
  f.fail_command(command, 1, false, 6);
  f.rec.clear();
  CHECK(run(f.io, std::move(op)));
  const auto sent = f.rec.named(command);
  REQUIRE(sent.size() == 1);
  CHECK_FALSE(sent[0]->doc.get_view().contains("txnNumber"));
}

}  // namespace

TEST_CASE("trap 4: a retried write keeps lsid and txnNumber, the next write takes the next; multi writes never retry") {
  fixture f;
  auto s = f.c->start_session();
  auto coll = s.get_collection("trap4", "c");
  diagnostics diag;
  f.fail_command("insert", 1, true);
  f.rec.clear();
  REQUIRE_FALSE(run(f.io, insert_json(coll, R"({"_id": 1})", diag)));
  REQUIRE_FALSE(run(f.io, insert_json(coll, R"({"_id": 2})", diag)));
  const auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 3);
  for (const auto* i : inserts) {
    REQUIRE(i->doc["txnNumber"].type() == BSON_TYPE_INT64);  // never resent without it
    CHECK(lsid_of(i->doc) == lsid_of(inserts[0]->doc));
  }
  CHECK(inserts[1]->doc["txnNumber"].as_int64() == inserts[0]->doc["txnNumber"].as_int64());
  CHECK(*inserts[2]->doc["txnNumber"].as_int64() == *inserts[0]->doc["txnNumber"].as_int64() + 1);
  CHECK(f.count("trap4", "c") == 2);  // the retried insert applied once

  auto plain = f.c->get_collection("trap4", "c");
  check_not_retried(f, "update", update_many_all(plain, diag));
  check_not_retried(f, "delete", delete_many_all(plain, diag));
  // A bulk write: its insert command is retryable, its command with an updateMany is not.
  check_not_retried(f, "update", insert_then_update_many(plain, diag));
  const auto bulk_inserts = f.rec.named("insert");
  REQUIRE(bulk_inserts.size() == 1);
  CHECK(bulk_inserts[0]->doc["txnNumber"].type() == BSON_TYPE_INT64);
}

// ---------------------------------------------------------------- trap 5 (specs#630, node#2103)

namespace {

asio::awaitable<error_code> update_and_delete_one(collection coll, diagnostics& diag) {
  update_result u;
  const bson::document filter = doc_from_json(R"({"_id": 1})");
  const bson::document set = doc_from_json(R"({"$set": {"x": 1}})");
  if (auto ec = co_await coll.update_one(filter, set, update_options{}, u, diag)) co_return ec;
  std::optional<bson::document> found;
  if (auto ec = co_await coll.find_one_and_update(filter, set, find_one_and_update_options{}, found, diag))
    co_return ec;
  delete_result d;
  co_return co_await coll.delete_one(filter, delete_options{}, d, diag);
}

}  // namespace

TEST_CASE("trap 5: no txnNumber or transaction goes to a standalone; code 20 'Transaction numbers' gets the advice") {
  SUBCASE("a standalone") {
    fixture f(standalone(), "");
    diagnostics diag;
    REQUIRE_FALSE(run(f.io, insert_json(f.c->get_collection("trap5", "c"), R"({"_id": 1})", diag)));
    REQUIRE_FALSE(run(f.io, update_and_delete_one(f.c->get_collection("trap5", "c"), diag)));
    auto s = f.c->start_session();
    REQUIRE_FALSE(s.start_transaction());
    CHECK(run(f.io, insert_json(s.get_collection("trap5", "c"), "{}", diag)) ==
          client_errc::transactions_not_supported);
    CHECK(f.rec.started.size() == 4);  // insert, update, findAndModify, delete
    for (const auto& c : f.rec.started) {
      CAPTURE(c.name);
      CHECK_FALSE(c.doc.get_view().contains("txnNumber"));
      CHECK_FALSE(c.doc.get_view().contains("autocommit"));
    }
  }
  SUBCASE("a member restarted as a standalone before the client noticed") {
    fixture f;
    diagnostics diag;
    REQUIRE_FALSE(run(f.io, insert_json(f.c->get_collection("trap5", "c"), R"({"_id": 1})", diag)));
    f.server.core().set_standalone(true);  // the client still sees a replica-set primary
    f.rec.clear();
    auto ec = run(f.io, insert_json(f.c->get_collection("trap5", "c"), R"({"_id": 2})", diag));
    CHECK(ec == make_server_error(20));
    CHECK(diag.server_message.starts_with("Transaction numbers"));  // the server's words are kept
    CHECK(diag.client_message ==
          "This MongoDB deployment does not support retryable writes. Please add retryWrites=false to your "
          "connection string.");
    CHECK_FALSE(diag.has_label(label::retryable_write_error));
    CHECK(f.rec.named("insert").size() == 1);  // not retried
  }
}

// ---------------------------------------------------------------- trap 6 (mongoose#9554, #14603)

TEST_CASE("trap 6: a second operation on a session in use is refused locally; the wire never sees mixed txnNumbers") {
  fixture f;
  auto s = f.c->start_session();
  auto coll = s.get_collection("trap6", "c");
  diagnostics diag;
  REQUIRE_FALSE(s.start_transaction());
  REQUIRE_FALSE(run(f.io, insert_json(coll, R"({"_id": 1})", diag)));
  f.configure_fail_point(doc_from_json(R"({"times": 1})"),
                         doc_from_json(R"({"failCommands": ["insert"], "blockConnection": true, "blockTimeMS": 300})"));
  error_code slow = make_error_code(client_errc::invalid_argument), second, commit_meanwhile;
  diagnostics slow_diag, second_diag, commit_diag;
  const bson::document doc2 = doc_from_json(R"({"_id": 2})");
  insert_one_result r;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, coll.insert_one(doc2, insert_one_options{}, r, slow_diag),
                   [&](std::exception_ptr, error_code ec) { slow = ec; });
    co_await sleep_ms(50);  // the insert is waiting for its reply
    second = co_await insert_json(coll, R"({"_id": 3})", second_diag);
    commit_meanwhile = co_await s.commit_transaction(commit_diag);
    co_await sleep_ms(400);
  }());
  CHECK_FALSE(slow);
  CHECK(second == client_errc::session_in_use);
  CHECK(commit_meanwhile == client_errc::session_in_use);
  CHECK(s.current_transaction_state() == transaction_state::in_progress);
  REQUIRE_FALSE(run(f.io, s.commit_transaction(diag)));
  std::set<std::int64_t> txn_numbers;
  for (const auto& c : f.rec.started)
    if (c.name != "configureFailPoint") txn_numbers.insert(c.doc["txnNumber"].as_int64().value_or(-1));
  CHECK(txn_numbers == std::set<std::int64_t>{s.txn_number()});
  CHECK(f.rec.named("insert").size() == 2);
  CHECK(f.rec.named("commitTransaction").size() == 1);
  CHECK(f.count("trap6", "c") == 2);
}

// ---------------------------------------------------------------- trap 7 (node#4075, specs#358)

TEST_CASE("trap 7: in a transaction a non-primary read preference fails reads only; handle concerns are not sent") {
  fixture f;
  auto s = f.c->start_session();
  transaction_options o;
  o.read_preference = doc_from_json(R"({"mode": "secondaryPreferred"})");
  o.read_concern = doc_from_json(R"({"level": "majority"})");
  diagnostics diag;
  REQUIRE_FALSE(s.start_transaction(o, diag));
  collection_options handle;  // the transaction's options win over these
  handle.read_concern = doc_from_json(R"({"level": "local"})");
  handle.write_concern = doc_from_json(R"({"w": 1})");
  auto coll = s.get_collection("trap7", "c").with_options(handle);
  auto ec = run(f.io, find_any(coll, diag));
  CHECK(ec == client_errc::read_preference_not_primary);
  CHECK(ec.message().find("read preference in a transaction must be primary") != std::string::npos);
  CHECK(f.rec.started.empty());
  CHECK(s.current_transaction_state() == transaction_state::starting);
  REQUIRE_FALSE(run(f.io, insert_json(coll, R"({"_id": 1})", diag)));  // writes are not checked
  REQUIRE_FALSE(run(f.io, insert_json(coll, R"({"_id": 2})", diag)));
  REQUIRE_FALSE(run(f.io, s.commit_transaction(diag)));
  const auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 2);
  const auto rc = inserts[0]->doc["readConcern"].as_document();
  REQUIRE(rc);
  CHECK(*rc == doc_from_json(R"({"level": "majority"})").get_view());  // the first command only
  CHECK_FALSE(inserts[1]->doc.get_view().contains("readConcern"));
  for (const auto* c : inserts) CHECK_FALSE(c->doc.get_view().contains("writeConcern"));
  CHECK_FALSE(f.rec.named("commitTransaction")[0]->doc.get_view().contains("readConcern"));
}

// ---------------------------------------------------------------- trap 8 (cdrv#615, node#2402, specs#356)

TEST_CASE(
    "trap 8: errors in a transaction never get RetryableWriteError; commit and abort retry once on a network error") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  REQUIRE_FALSE(s.start_transaction());
  SUBCASE("a statement's network error or retryable code: transient, not retried") {
    f.fail_command("insert", 1, true);
    CHECK(run(f.io, insert_json(s.get_collection("trap8", "c"), "{}", diag)));
    CHECK(diag.has_label(label::transient_transaction_error));
    CHECK_FALSE(diag.has_label(label::retryable_write_error));
    CHECK(s.in_transaction());
    f.fail_command("insert", 1, false, 6);  // HostUnreachable
    diag.clear();
    CHECK(run(f.io, insert_json(s.get_collection("trap8", "c"), "{}", diag)) == make_server_error(6));
    CHECK(diag.has_label(label::transient_transaction_error));
    CHECK_FALSE(diag.has_label(label::retryable_write_error));
    CHECK(f.rec.named("insert").size() == 2);  // one each
  }
  SUBCASE("commit and abort") {
    REQUIRE_FALSE(run(f.io, insert_json(s.get_collection("trap8", "c"), "{}", diag)));
    f.fail_command("commitTransaction", 2, true);
    CHECK(run(f.io, s.commit_transaction(diag)));
    CHECK(diag.has_label(label::unknown_transaction_commit_result));
    CHECK_FALSE(diag.has_label(label::transient_transaction_error));
    CHECK(f.rec.named("commitTransaction").size() == 2);   // retried once
    REQUIRE_FALSE(run(f.io, s.commit_transaction(diag)));  // and once more by the user: committed
    REQUIRE_FALSE(s.start_transaction());
    REQUIRE_FALSE(run(f.io, insert_json(s.get_collection("trap8", "c"), "{}", diag)));
    f.fail_command("abortTransaction", 1, true);
    CHECK_FALSE(run(f.io, s.abort_transaction(diag)));
    CHECK(f.rec.named("abortTransaction").size() == 2);  // retried once
    CHECK(f.count("trap8", "c") == 1);
  }
}

// ---------------------------------------------------------------- trap 9 (specs#416, #471, #968, #536)

namespace {

struct routed_command {
  std::string name;
  std::string address;
  bson::document doc;
};

// Two mongos routers over one shared store (testd's sharded mode), and a client of both.
struct sharded_fixture {
  testd::embedded_sharded_cluster cluster{2};
  asio::io_context io;
  std::vector<routed_command> sent;
  std::vector<std::pair<std::string, retry_decision>> retried;
  std::unique_ptr<client> c;

  sharded_fixture() {
    client_options o;
    o.on_command = [this](const command_event& e) {
      if (e.type == command_event_type::started)
        sent.push_back({e.command_name, e.address, bson::document(e.document)});
    };
    o.on_retry = [this](const retry_event& e) { retried.emplace_back(e.command, e.decision); };
    const std::string options = "?serverMonitoringMode=poll&heartbeatFrequencyMS=500&serverSelectionTimeoutMS=10000";
    c = std::make_unique<client>(io.get_executor(), cluster.uri() + options, std::move(o));
  }
  ~sharded_fixture() { run(io, close_client()); }
  asio::awaitable<void> close_client() { co_await c->close(); }
  std::vector<const routed_command*> named(std::string_view name) const {
    std::vector<const routed_command*> out;
    for (const auto& r : sent)
      if (r.name == name) out.push_back(&r);
    return out;
  }
  // A failCommand fail point on the router at `address` only (each mongos has its own).
  void fail_on(const std::string& address, std::string_view json) {
    const int router = address == cluster.address(0) ? 0 : 1;
    REQUIRE(address == cluster.address(static_cast<std::size_t>(router)));
    auto ctx = cluster.core().open_connection();
    ctx.router = router;
    auto reply = cluster.core().handle(doc_from_json(json), {}, ctx);
    REQUIRE_MESSAGE(reply["ok"].as_double().value_or(0) == 1.0, reply.to_json());
  }
  bool is_unknown(const std::string& address) {
    for (const auto& sd : detail::client_access::impl(*c).topology().description().servers())
      if (sd.address.to_string() == address) return sd.type == detail::sdam::server_type::unknown;
    return false;
  }
};

void check_recovery_token(const routed_command& c) {
  CAPTURE(c.name);
  const auto token = c.doc["recoveryToken"].as_document();
  REQUIRE(token);
  CHECK(*token == doc_from_json(R"({"recoveryShardId": "shard0"})").get_view());
}

}  // namespace

TEST_CASE("trap 9: sharded: a transaction stays on its first mongos; recoveryToken on commit and abort; unpinned") {
  sharded_fixture f;
  auto s = f.c->start_session();
  auto coll = s.get_collection("trap9", "c");
  diagnostics diag;
  REQUIRE_FALSE(s.start_transaction());
  for (int i = 0; i < 5; ++i) REQUIRE_FALSE(run(f.io, insert_json(coll, "{}", diag)));
  REQUIRE(s.pinned_server());
  const std::string pinned = *s.pinned_server();
  for (const auto* c : f.named("insert")) CHECK(c->address == pinned);  // both routers are in the window
  SUBCASE("the commit goes to the pinned mongos with the recoveryToken, and does not unpin") {
    REQUIRE_FALSE(run(f.io, s.commit_transaction(diag)));
    const auto commits = f.named("commitTransaction");
    REQUIRE(commits.size() == 1);
    CHECK(commits[0]->address == pinned);
    check_recovery_token(*commits[0]);
    CHECK(s.pinned_server() == pinned);  // a commit may be called again
  }
  SUBCASE("a TransientTransactionError unpins; the abort carries the recoveryToken and unpins") {
    f.fail_on(pinned, R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "$db": "admin",
                         "data": {"failCommands": ["insert"], "errorCode": 112}})");
    CHECK(run(f.io, insert_json(coll, "{}", diag)) == make_server_error(112));
    CHECK(diag.has_label(label::transient_transaction_error));
    CHECK_FALSE(s.pinned_server());
    CHECK_FALSE(run(f.io, s.abort_transaction(diag)));
    const auto aborts = f.named("abortTransaction");
    REQUIRE(aborts.size() == 1);
    check_recovery_token(*aborts[0]);
    CHECK_FALSE(s.pinned_server());
  }
  SUBCASE("the pinned mongos dies: the abort recovers elsewhere without waiting for server selection") {
    f.fail_on(pinned, R"({"configureFailPoint": "failCommand", "mode": "alwaysOn", "$db": "admin",
                         "data": {"failAllCommands": true, "closeConnection": true}})");
    run(f.io, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 60 && !f.is_unknown(pinned); ++i) co_await sleep_ms(50);
    }());
    REQUIRE(f.is_unknown(pinned));  // the client's monitor has seen it die
    const auto started = steady::now();
    CHECK_FALSE(run(f.io, s.abort_transaction(diag)));
    CHECK(steady::now() - started < std::chrono::seconds(3));  // serverSelectionTimeoutMS is 10 s
    const auto aborts = f.named("abortTransaction");
    REQUIRE_FALSE(aborts.empty());
    CHECK(aborts.back()->address != pinned);
    // The attempt on the dead mongos failed (PoolClearedError, retryable) and unpinned.
    CHECK(std::count(f.retried.begin(), f.retried.end(),
                     std::pair<std::string, retry_decision>("abortTransaction", retry_decision::retry_command)) == 1);
    check_recovery_token(*aborts.back());
    CHECK_FALSE(s.pinned_server());
    std::int64_t n = -1;
    const bson::document all;
    REQUIRE_FALSE(run(f.io, f.c->get_collection("trap9", "c").count_documents(all, count_options{}, n, diag)));
    CHECK(n == 0);  // the other router aborted it through the recoveryToken
  }
}

// ---------------------------------------------------------------- trap 10 (go#668, #484, #1101, #1416)

namespace {

asio::awaitable<error_code> insert_one_doc(session& s, diagnostics& d) {
  co_return co_await insert_json(s.get_collection("trap10", "c"), R"({"_id": 1})", d);
}

}  // namespace

TEST_CASE("trap 10: a cancelled commit is unknown, not aborted; a cancelled transaction is still aborted") {
  fixture f;
  auto s = f.c->start_session();
  diagnostics diag;
  SUBCASE("cancelled while the commit is in flight") {
    REQUIRE_FALSE(s.start_transaction());
    REQUIRE_FALSE(run(f.io, insert_one_doc(s, diag)));
    f.configure_fail_point(
        doc_from_json(R"({"times": 1})"),
        doc_from_json(R"({"failCommands": ["commitTransaction"], "blockConnection": true, "blockTimeMS": 300})"));
    auto ec = cancel_after(f.io, milliseconds(50), [&](auto token) { s.async_commit_transaction(diag, token); });
    CHECK(ec == asio::error::operation_aborted);
    CHECK(s.last_commit().outcome == commit_outcome::unknown);
    CHECK(diag.has_label(label::unknown_transaction_commit_result));
    REQUIRE_FALSE(run(f.io, s.resolve_commit(std::chrono::seconds(5), diag)));
    CHECK(s.last_commit().outcome == commit_outcome::committed);
    CHECK(f.rec.named("insert").size() == 1);
    CHECK(f.count("trap10", "c") == 1);
  }
  SUBCASE("with_transaction cancelled during its own backoff: no new transaction starts") {
    detail::client_access::impl(*f.c).set_jitter_source([] { return 0.999; });
    f.configure_fail_point(doc_from_json("{}"), doc_from_json(R"({"failCommands": ["insert"], "errorCode": 112})"),
                           true);  // WriteConflict on every insert
    f.rec.clear();
    // Mostly asleep by then: the backoffs before reruns 1 to 6 are 7.5, 11, 17, 25, 38 and 57 ms.
    auto ec = cancel_after(f.io, milliseconds(140),
                           [&](auto token) { s.async_with_transaction(insert_one_doc, std::nullopt, diag, token); });
    CHECK(ec == asio::error::operation_aborted);
    const auto attempts = f.rec.named("insert").size();
    CHECK(attempts >= 3);
    CHECK(f.rec.named("abortTransaction").size() == attempts);           // every attempt was aborted
    CHECK(s.current_transaction_state() == transaction_state::aborted);  // and none was left starting
  }
  SUBCASE("with_transaction cancelled while a statement is in flight, or during a backoff") {
    SUBCASE("in flight") {
      f.configure_fail_point(doc_from_json(R"({"times": 1})"), doc_from_json(R"({"failCommands": ["insert"],
                                                                      "blockConnection": true, "blockTimeMS": 300})"));
    }
    SUBCASE("during the backoff of an overload retry: no new attempt") {
      detail::client_access::impl(*f.c).set_jitter_source([] { return 0.999; });  // ~200 ms
      f.fail_with_overload("insert", -1);
    }
    f.rec.clear();
    auto ec = cancel_after(f.io, milliseconds(60),
                           [&](auto token) { s.async_with_transaction(insert_one_doc, std::nullopt, diag, token); });
    CHECK(ec == asio::error::operation_aborted);
    CHECK(f.rec.named("insert").size() == 1);
    // The abort ran with a budget of its own (client-side-operations-timeout.md "withTransaction
    // refreshes the timeout for abortTransaction"): the server does not keep the transaction.
    CHECK(f.rec.named("abortTransaction").size() == 1);
    CHECK(s.current_transaction_state() == transaction_state::aborted);
  }
}

// ---------------------------------------------------------------- trap 11 (pymongo#2192, go#569)

namespace {

// Holds the only connection of a maxPoolSize=1 pool while the server blocks the find.
asio::awaitable<void> hold_connection(collection coll) {
  diagnostics ignored;
  co_await find_any(coll, ignored);
}

void block_next_find(fixture& f, int ms) {
  bson::document data = doc_from_json(R"({"failCommands": ["find"], "blockConnection": true})");
  data.append("blockTimeMS", std::int32_t{ms});
  f.configure_fail_point(doc_from_json(R"({"times": 1})"), data);
}

// Inserts, then lets a find on the client take the only connection before the commit.
asio::awaitable<error_code> insert_then_hold_pool(session& s, diagnostics& d) {
  if (auto ec = co_await insert_json(s.get_collection("trap11", "c"), "{}", d)) co_return ec;
  asio::co_spawn(co_await asio::this_coro::executor, hold_connection(s.client().get_collection("trap11", "c")),
                 asio::detached);
  co_await sleep_ms(30);
  co_return error_code{};
}

}  // namespace

TEST_CASE("trap 11: a wait-queue timeout does not clear the pool; in the commit loop it ends at the time limit") {
  observers obs;
  fixture f;
  observe(f, obs, "&maxPoolSize=1&waitQueueTimeoutMS=50");
  diagnostics diag;
  REQUIRE_FALSE(run(f.io, find_any(f.c->get_collection("trap11", "c"), diag)));
  block_next_find(f, 600);
  detail::client_access::impl(*f.c).with_transaction_limit = milliseconds(250);
  auto s = f.c->start_session();
  f.rec.clear();
  auto ec = run(f.io, s.with_transaction(insert_then_hold_pool, std::nullopt, diag));
  CHECK(ec == client_errc::with_transaction_timeout);
  CHECK(diag.cause == client_errc::wait_queue_timeout);
  CHECK(diag.has_label(label::unknown_transaction_commit_result));
  CHECK(f.rec.named("commitTransaction").empty());  // no attempt got a connection
  const auto commits = obs.of("commitTransaction", true);
  REQUIRE(commits.size() >= 2);
  CHECK(commits.size() <= 7);  // about 250 ms / 50 ms: bounded by the limit
  for (std::size_t i = 0; i < commits.size(); ++i) {
    CAPTURE(i);
    CHECK(commits[i]->error == client_errc::wait_queue_timeout);
    CHECK(commits[i]->decision == (i + 1 < commits.size() ? retry_decision::retry_commit : retry_decision::give_up));
  }
  CHECK(obs.count(pool_event_type::pool_cleared) == 0);
  CHECK(obs.count(pool_event_type::connection_created) == 1);  // the one connection survived
  CHECK(s.last_commit().outcome == commit_outcome::unknown);
  REQUIRE_FALSE(run(f.io, s.resolve_commit(std::chrono::seconds(3), diag)));  // once the find is done
  CHECK(f.count("trap11", "c") == 1);
}

// ---------------------------------------------------------------- trap 12 (specs#1125, cdrv#640)

TEST_CASE("trap 12: an operation takes its server session only after checkout; a network error discards it") {
  SUBCASE("an implicit session whose operation never got a connection takes no server session") {
    fixture f("&maxPoolSize=1&waitQueueTimeoutMS=50");
    diagnostics diag;
    REQUIRE_FALSE(run(f.io, find_any(f.c->get_collection("trap12", "c"), diag)));
    auto& pool = detail::client_access::impl(*f.c).session_pool();
    REQUIRE(pool.size() == 1);
    block_next_find(f, 200);
    run(f.io, [&]() -> asio::awaitable<void> {
      asio::co_spawn(co_await asio::this_coro::executor, hold_connection(f.c->get_collection("trap12", "c")),
                     asio::detached);
      co_await sleep_ms(30);
      CHECK(co_await insert_json(f.c->get_collection("trap12", "c"), "{}", diag) == client_errc::wait_queue_timeout);
      co_await sleep_ms(250);
    }());
    CHECK(pool.size() == 1);  // the find's; the insert never took one
    CHECK(f.rec.named("insert").empty());
  }
  SUBCASE("a server session that saw a network error goes back to no pool") {
    fixture f("&retryWrites=false");
    diagnostics diag;
    f.fail_command("insert", 1, true);
    CHECK(run(f.io, insert_json(f.c->get_collection("trap12", "c"), "{}", diag)));
    REQUIRE_FALSE(run(f.io, insert_json(f.c->get_collection("trap12", "c"), "{}", diag)));
    const auto inserts = f.rec.named("insert");
    REQUIRE(inserts.size() == 2);
    CHECK(lsid_of(inserts[0]->doc) != lsid_of(inserts[1]->doc));
    CHECK_FALSE(has_lsid_in_pool(*f.c, lsid_of(inserts[0]->doc)));
    CHECK(has_lsid_in_pool(*f.c, lsid_of(inserts[1]->doc)));
  }
}

// ---------------------------------------------------------------- trap 13 (specs#328, libmongoc abort docs)

TEST_CASE(
    "trap 13: commit again resends it; after a new operation commit and abort are refused; abort ignores errors") {
  fixture f;
  auto s = f.c->start_session();
  auto coll = s.get_collection("trap13", "c");
  diagnostics diag;
  REQUIRE_FALSE(s.start_transaction());
  REQUIRE_FALSE(run(f.io, insert_json(coll, "{}", diag)));
  SUBCASE("the state machine") {
    REQUIRE_FALSE(run(f.io, s.commit_transaction(diag)));
    REQUIRE_FALSE(run(f.io, s.commit_transaction(diag)));
    CHECK(f.rec.named("commitTransaction").size() == 2);
    CHECK(run(f.io, s.abort_transaction(diag)) == client_errc::abort_after_commit);
    REQUIRE_FALSE(run(f.io, insert_json(coll, "{}", diag)));  // resets the state to "no transaction"
    CHECK(run(f.io, s.commit_transaction(diag)) == client_errc::no_transaction_started);
    CHECK(run(f.io, s.abort_transaction(diag)) == client_errc::no_transaction_started);
    CHECK(f.rec.named("commitTransaction").size() == 2);
    CHECK(f.rec.named("abortTransaction").empty());
    CHECK(f.count("trap13", "c") == 2);
  }
  SUBCASE("abort's own server errors are ignored; a retryable one is retried once") {
    std::size_t expected = 0;
    SUBCASE("UnknownError") {
      f.fail_command("abortTransaction", 2, false, 8);
      expected = 1;
    }
    SUBCASE("HostUnreachable") {
      f.fail_command("abortTransaction", 2, false, 6);
      expected = 2;
    }
    CHECK_FALSE(run(f.io, s.abort_transaction(diag)));
    CHECK(f.rec.named("abortTransaction").size() == expected);
    CHECK(s.current_transaction_state() == transaction_state::aborted);
  }
}

// ---------------------------------------------------------------- trap 14 (rust#1136)

TEST_CASE("trap 14: destroying a session with a transaction in progress aborts it without blocking") {
  fixture f;
  std::optional<session> s(f.c->start_session());
  auto coll = s->get_collection("trap14", "c");
  diagnostics diag;
  REQUIRE_FALSE(s->start_transaction());
  REQUIRE_FALSE(run(f.io, insert_json(coll, R"({"_id": 1})", diag)));
  const std::string lsid = session_lsid(*s);
  const std::int64_t txn_number = s->txn_number();
  f.rec.clear();
  SUBCASE("idle") {
    s.reset();  // outside io.run(): a destructor waiting for the abort would never return
    CHECK(f.rec.started.empty());
    run_for(f.io, 200);
  }
  SUBCASE("while one of its operations is in flight") {
    f.configure_fail_point(doc_from_json(R"({"times": 1})"), doc_from_json(R"({"failCommands": ["insert"],
                                                                      "blockConnection": true, "blockTimeMS": 200})"));
    f.rec.clear();
    const bson::document doc2 = doc_from_json(R"({"_id": 2})");
    insert_one_result r;
    error_code in_flight = make_error_code(client_errc::invalid_argument);
    run(f.io, [&]() -> asio::awaitable<void> {
      asio::co_spawn(co_await asio::this_coro::executor, coll.insert_one(doc2, insert_one_options{}, r, diag),
                     [&](std::exception_ptr, error_code ec) { in_flight = ec; });
      co_await sleep_ms(50);
      s.reset();
      // Its server session is still in use: nobody else may take it meanwhile.
      CHECK_FALSE(has_lsid_in_pool(*f.c, lsid));
      co_await sleep_ms(300);
    }());
    CHECK_FALSE(in_flight);
  }
  const auto aborts = f.rec.named("abortTransaction");
  REQUIRE(aborts.size() == 1);
  CHECK(aborts[0]->doc["txnNumber"].as_int64() == txn_number);
  CHECK(lsid_of(aborts[0]->doc) == lsid);
  CHECK(f.count("trap14", "c") == 0);
  CHECK(has_lsid_in_pool(*f.c, lsid));  // returned once the abort is done
}

// ---------------------------------------------------------------- trap 15 (specs#1851)

namespace {

asio::awaitable<error_code> insert_empty(session& s, diagnostics& d) {
  co_return co_await insert_json(s.get_collection("trap15", "c"), "{}", d);
}

}  // namespace

TEST_CASE("trap 15: every backoff is slept in full, and its jitter stays within the spec's bounds") {
  observers obs;
  fixture f;
  bool max_jitter = false;
  SUBCASE("jitter pinned near 1") {
    observe(f, obs);
    detail::client_access::impl(*f.c).set_jitter_source([] { return 0.999; });
    max_jitter = true;
  }
  SUBCASE("seeded jitter") { observe(f, obs, "", 20260610); }
  f.fail_command("insert", 4, false, 112);  // WriteConflict: four reruns of the callback
  auto s = f.c->start_session();
  diagnostics diag;
  auto started = steady::now();
  REQUIRE_FALSE(run(f.io, s.with_transaction(insert_empty, std::nullopt, diag)));
  auto elapsed = steady::now() - started;
  const auto reruns = obs.of("withTransaction");
  REQUIRE(reruns.size() == 4);
  std::chrono::microseconds sum{0};
  std::set<long long> ratios;  // per mille of the bound: the jitter drawn
  for (const auto* r : reruns) {
    CAPTURE(r->attempt);
    CHECK(r->decision == retry_decision::rerun_transaction);
    // transactions-convenient-api.md: jitter * min(5 ms * 1.5^attempt, 500 ms), jitter in [0, 1).
    const double bound_us = std::min(5000 * std::pow(1.5, r->attempt), 500000.0);
    CHECK(r->backoff.count() >= 0);
    CHECK(r->backoff.count() <= bound_us);
    if (max_jitter) CHECK(r->backoff.count() >= 0.99 * bound_us);
    ratios.insert(std::llround(1000 * r->backoff.count() / bound_us));
    sum += r->backoff;
  }
  CHECK(sum.count() > 0);
  CHECK(elapsed >= sum);
  if (!max_jitter) CHECK(ratios.size() > 1);  // a random draw each time
  // The executor's own overload backoff: jitter * min(10 s, 100 ms * 2^attempt).
  obs.retries.clear();
  f.fail_with_overload("insert", 1);
  started = steady::now();
  REQUIRE_FALSE(run(f.io, insert_json(f.c->get_collection("trap15", "c"), "{}", diag)));
  elapsed = steady::now() - started;
  const auto overload = obs.of("insert");
  REQUIRE(overload.size() == 1);
  CHECK(overload[0]->decision == retry_decision::retry_command);
  CHECK(overload[0]->backoff > std::chrono::microseconds(0));
  CHECK(overload[0]->backoff <= milliseconds(200));
  CHECK(elapsed >= overload[0]->backoff);
}

// ---------------------------------------------------------------- trap 16 (motor#37, morphium#157)

namespace {

struct causal_trace {
  std::optional<bson::timestamp> commit_operation_time;
  std::string find_address;
  std::optional<bson::document> find_read_concern;
};

client_options causal_trace_options(causal_trace& t) {
  client_options o;
  o.on_command = [&t](const command_event& e) {
    if (e.type == command_event_type::succeeded && e.command_name == "commitTransaction")
      t.commit_operation_time = e.document["operationTime"].as_timestamp();
    if (e.type != command_event_type::started || e.command_name != "find") return;
    t.find_address = e.address;
    if (auto rc = e.document["readConcern"].as_document()) t.find_read_concern.emplace(*rc);
  };
  return o;
}

asio::awaitable<error_code> commit_then_read_secondary(session& s, std::optional<bson::document>& found,
                                                       diagnostics& diag) {
  if (auto ec = s.start_transaction(std::nullopt, diag)) co_return ec;
  if (auto ec = co_await insert_json(s.get_collection("trap16", "c"), R"({"_id": "written"})", diag)) co_return ec;
  if (auto ec = co_await s.commit_transaction(diag)) co_return ec;
  collection_options secondary;
  secondary.read_preference = doc_from_json(R"({"mode": "secondary"})");
  auto coll = s.get_collection("trap16", "c").with_options(secondary);
  const bson::document filter = doc_from_json(R"({"_id": "written"})");
  co_return co_await coll.find_one(filter, find_options{}, found, diag);
}

}  // namespace

TEST_CASE("trap 16: a read on a secondary after commit carries afterClusterTime >= the commit's operationTime") {
  testd::server_options lagging;
  lagging.replication_lag = milliseconds(300);  // without afterClusterTime the read would miss the write
  testd::embedded_replica_set rs(2, lagging);
  asio::io_context io;
  causal_trace t;
  client c(io.get_executor(), rs.uri() + "&heartbeatFrequencyMS=500&serverSelectionTimeoutMS=5000",
           causal_trace_options(t));
  auto s = c.start_session();  // causally consistent by default
  std::optional<bson::document> found;
  diagnostics diag;
  auto ec = run(io, commit_then_read_secondary(s, found, diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  CHECK(t.find_address == rs.member(1).address());
  REQUIRE(t.commit_operation_time);
  REQUIRE(t.find_read_concern);
  const auto after = (*t.find_read_concern)["afterClusterTime"].as_timestamp();
  REQUIRE(after);
  CHECK_FALSE(*after < *t.commit_operation_time);
  CHECK(found.has_value());  // the secondary waited until it had applied the commit
  run(io, [&]() -> asio::awaitable<void> { co_await c.close(); }());
}

// ---------------------------------------------------------------- trap 17 (alpstable/gidari#60)

namespace {

// A server whose clock the test moves forward (its transactionLifetimeLimitSeconds stays 60).
struct server_clock {
  std::shared_ptr<std::atomic<std::int64_t>> offset_s = std::make_shared<std::atomic<std::int64_t>>(0);
  testd::server_options options() const {
    testd::server_options o;
    o.clock = [offset = offset_s] { return std::chrono::system_clock::now() + std::chrono::seconds(offset->load()); };
    return o;
  }
  void advance(std::chrono::seconds by) const { *offset_s += by.count(); }
};

}  // namespace

TEST_CASE(
    "trap 17: a transaction past the server's 60 s lifetime fails with its labels; with_transaction restarts it") {
  server_clock clock;
  fixture f(clock.options(), "");
  auto s = f.c->start_session();
  diagnostics diag;
  SUBCASE("the manual API sees NoSuchTransaction, labelled TransientTransactionError") {
    REQUIRE_FALSE(s.start_transaction());
    REQUIRE_FALSE(run(f.io, insert_json(s.get_collection("trap17", "c"), "{}", diag)));
    clock.advance(std::chrono::seconds(61));
    CHECK(run(f.io, insert_json(s.get_collection("trap17", "c"), "{}", diag)) == make_server_error(251));
    CHECK(diag.has_label(label::transient_transaction_error));
    diag.clear();
    CHECK(run(f.io, s.commit_transaction(diag)) == make_server_error(251));
    CHECK(diag.has_label(label::transient_transaction_error));
    CHECK(s.last_commit().outcome == commit_outcome::aborted);
  }
  SUBCASE("with_transaction reruns the callback well within its own limit") {
    int runs = 0;
    auto body = [&](session& in, diagnostics& d) -> asio::awaitable<error_code> {
      auto ec = co_await insert_json(in.get_collection("trap17", "c"), "{}", d);
      if (++runs == 1) clock.advance(std::chrono::seconds(61));  // the first attempt outlives the limit
      co_return ec;
    };
    const auto started = steady::now();
    REQUIRE_FALSE(run(f.io, s.with_transaction(body, std::nullopt, diag)));
    CHECK(steady::now() - started < std::chrono::seconds(5));
    CHECK(runs == 2);
    CHECK(f.rec.named("commitTransaction").size() == 2);  // NoSuchTransaction, then committed
    CHECK(f.count("trap17", "c") == 1);
  }
}
