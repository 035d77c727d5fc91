// Per-transaction accounting (issue 16 "per-transaction accounting"): round trips and bytes
// as the wire and the server saw them, attempts by cause, and where the time went.
#include <cstring>
#include <map>
#include <mutex>

#include "client/client_access.hpp"
#include "txn_support.hpp"

using namespace txn_test;
using namespace std::chrono_literals;

namespace {

std::string uuid_of(const bson::document& lsid) {
  auto id = lsid["id"].as_binary();
  return id ? std::string(reinterpret_cast<const char*>(id->bytes.data()), id->bytes.size()) : std::string();
}

// Commands the server handled with a txnNumber, by session: what the server saw.
struct server_log {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::int64_t>> commands;  // lsid UUID, txnNumber

  testd::server_options options() {
    testd::server_options o;
    o.command_log = [this](const testd::command_log_entry& e) {
      const auto txn_number = e.command["txnNumber"].as_int64();
      if (!txn_number) return;
      std::lock_guard lock(mutex);
      commands.emplace_back(lsid_of(e.command), *txn_number);
    };
    return o;
  }
  std::size_t count(const session& s) {
    const std::string id = uuid_of(s.id());
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& c : commands) n += c.first == id;
    return n;
  }
};

struct recorded_retry {
  std::string command;
  retry_decision decision;
  std::chrono::microseconds backoff;
};

// A client whose frames, command request ids and retry events are recorded: the frames of the
// commands it started while `recording` are what a transaction's accounting must add up to.
struct traced_client {
  bool recording = false;
  std::vector<std::int32_t> request_ids;
  std::map<std::int32_t, std::size_t> request_bytes, reply_bytes;  // by requestID / responseTo
  std::vector<recorded_retry> retries;
  std::unique_ptr<client> c;

  explicit traced_client(fixture& f) {
    client_options o;
    o.on_command = [this](const command_event& e) {
      if (recording && e.type == command_event_type::started) request_ids.push_back(e.request_id);
    };
    o.on_frame = [this](const frame_event& e) {
      std::int32_t request_id = 0, response_to = 0;  // MsgHeader: length, requestID, responseTo, opCode
      CHECK(e.frame.size() >= 16);
      if (e.frame.size() < 16) return;
      std::memcpy(&request_id, e.frame.data() + 4, 4);
      std::memcpy(&response_to, e.frame.data() + 8, 4);
      (e.outgoing ? request_bytes[request_id] : reply_bytes[response_to]) += e.frame.size();
    };
    o.on_retry = [this](const retry_event& e) { retries.push_back({std::string(e.command), e.decision, e.backoff}); };
    c = std::make_unique<client>(f.io.get_executor(), f.server.uri(), std::move(o));
    detail::client_access::impl(*c).set_jitter_source([] { return 0.1; });
  }
  std::uint64_t sum(const std::map<std::int32_t, std::size_t>& bytes) const {
    std::uint64_t n = 0;
    for (auto id : request_ids)
      if (auto it = bytes.find(id); it != bytes.end()) n += it->second;
    return n;
  }
  std::uint64_t bytes_sent() const { return sum(request_bytes); }
  std::uint64_t bytes_received() const { return sum(reply_bytes); }
  std::chrono::microseconds backoff_of(std::string_view command, retry_decision decision) const {
    for (const auto& r : retries)
      if (r.command == command && r.decision == decision) return r.backoff;
    FAIL("no retry event for " << command);
    return {};
  }
  // A pooled connection exists before the transaction: its handshake is not the transaction's.
  void warm_up(fixture& f) {
    diagnostics diag;
    const error_code ec = run(f.io, [&]() -> asio::awaitable<error_code> {
      bson::document reply;
      const bson::document ping = doc_from_json(R"({"ping": 1})");
      co_return co_await c->run_command("admin", ping, reply, diag);
    }());
    REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  }
};

asio::awaitable<error_code> insert_in(session& s, std::int32_t id, diagnostics& diag) {
  insert_one_result r;
  bson::document doc;
  doc.append("_id", id);
  co_return co_await s.get_collection("bank", "ledger").insert_one(doc, insert_one_options{}, r, diag);
}

asio::awaitable<error_code> three_statements(session& s, diagnostics& diag) {
  if (auto ec = co_await insert_in(s, 1, diag)) co_return ec;
  update_result u;
  const auto by_id = doc_from_json(R"({"_id": 1})");
  const auto set = doc_from_json(R"({"$set": {"n": 1}})");
  const update_options update;
  if (auto ec = co_await s.get_collection("bank", "ledger").update_one(by_id, set, update, u, diag)) co_return ec;
  std::optional<bson::document> found;
  const find_options find;
  co_return co_await s.get_collection("bank", "ledger").find_one(by_id, find, found, diag);
}

// Runs `op`; a failure stops the test with the error and what the server said.
void require_ok(fixture& f, asio::awaitable<error_code> op, const diagnostics& diag) {
  const error_code ec = run(f.io, std::move(op));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
}

// The time buckets are parts of the total (commit overlaps them).
void check_time_buckets(const transaction_accounting& a) {
  CHECK(a.wire > 0ns);
  CHECK(a.server_selection + a.pool_wait + a.wire + a.backoff <= a.total);
  CHECK(a.commit <= a.total);
}

// A server that logs the commands it sees, a traced client already connected to it, and a session.
struct accounting_case {
  server_log log;
  fixture f{log.options(), ""};
  traced_client t{f};
  session s{connected_session()};
  diagnostics diag;

  session connected_session() {
    t.warm_up(f);
    return t.c->start_session();
  }
  void ok(asio::awaitable<error_code> op) { require_ok(f, std::move(op), diag); }
  // Runs `callback` in with_transaction, recording its commands.
  void with_transaction(session::transaction_callback callback) {
    t.recording = true;
    const error_code ec = run(f.io, s.with_transaction(std::move(callback), snapshot_majority(), diag));
    t.recording = false;
    REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  }
  // The transaction's round trips and bytes against the frames and the server's log.
  void check_wire_counts() {
    const transaction_accounting& a = s.last_transaction_accounting();
    CHECK(a.round_trips == t.request_ids.size());
    CHECK(a.round_trips == log.count(s));
    CHECK(a.bytes_sent == t.bytes_sent());
    CHECK(a.bytes_received == t.bytes_received());
  }
};

}  // namespace

TEST_CASE("issue 16 accounting: round trips and bytes are the transaction's frames, and the server saw each command") {
  accounting_case k;
  REQUIRE_FALSE(k.s.start_transaction(snapshot_majority(), k.diag));
  k.t.recording = true;
  k.ok(three_statements(k.s, k.diag));
  k.ok(k.s.commit_transaction(k.diag));
  k.t.recording = false;
  const transaction_accounting& a = k.s.last_transaction_accounting();
  CHECK(a.round_trips == 4);  // insert, update, find, commitTransaction
  k.check_wire_counts();
  CHECK(a.bytes_sent > 0);
  CHECK(a.bytes_received > 0);
  check_time_buckets(a);
  CHECK(a.commit > 0ns);
  CHECK(a.backoff == 0ns);
  CHECK(a.transient_reruns + a.commit_retries + a.retryable_write_retries + a.overload_retries == 0);
}

TEST_CASE("issue 16 accounting: start_transaction starts it afresh; commands outside a transaction add nothing") {
  accounting_case k;
  auto& s = k.s;
  REQUIRE_FALSE(s.start_transaction(snapshot_majority(), k.diag));
  k.ok(insert_in(s, 1, k.diag));
  k.ok(s.commit_transaction(k.diag));
  const auto committed = s.last_transaction_accounting();
  CHECK(committed.round_trips == 2);
  k.ok(insert_in(s, 2, k.diag));  // no transaction: not counted
  CHECK(s.last_transaction_accounting().round_trips == 2);
  CHECK(s.last_transaction_accounting().total == committed.total);

  REQUIRE_FALSE(s.start_transaction(snapshot_majority(), k.diag));
  CHECK(s.last_transaction_accounting().round_trips == 0);
  CHECK(s.last_transaction_accounting().total == 0ns);
  k.ok(insert_in(s, 3, k.diag));
  k.ok(s.abort_transaction(k.diag));
  const transaction_accounting& aborted = s.last_transaction_accounting();
  CHECK(aborted.round_trips == 2);  // insert, abortTransaction
  CHECK(aborted.commit == 0ns);
  CHECK(aborted.total > 0ns);
  check_time_buckets(aborted);
}

TEST_CASE("issue 16 accounting: with_transaction sums its attempts; a transient error's rerun and backoff show") {
  accounting_case k;
  k.f.configure_fail_point(doc_from_json(R"({"times": 1})"),
                           doc_from_json(R"({"failCommands": ["insert"], "errorCode": 112,
                                             "errorLabels": ["TransientTransactionError"]})"));
  int calls = 0;
  k.with_transaction([&](session& in, diagnostics& d) {
    ++calls;
    return insert_in(in, 1, d);
  });
  REQUIRE(calls == 2);
  const transaction_accounting& a = k.s.last_transaction_accounting();
  CHECK(a.transient_reruns == 1);
  CHECK(a.round_trips == 4);  // insert (WriteConflict), abortTransaction, insert, commitTransaction
  k.check_wire_counts();
  const auto chosen = k.t.backoff_of("withTransaction", retry_decision::rerun_transaction);
  CHECK(chosen > 0us);
  CHECK(a.backoff >= chosen);
  check_time_buckets(a);
}

TEST_CASE("issue 16 accounting: a blocked connection (failCommand blockConnection) is wire time") {
  accounting_case k;
  k.f.configure_fail_point(
      doc_from_json(R"({"times": 1})"),
      doc_from_json(R"({"failCommands": ["insert"], "blockConnection": true, "blockTimeMS": 150})"));
  REQUIRE_FALSE(k.s.start_transaction(snapshot_majority(), k.diag));
  k.ok(insert_in(k.s, 1, k.diag));
  k.ok(k.s.commit_transaction(k.diag));
  const transaction_accounting& a = k.s.last_transaction_accounting();
  CHECK(a.wire >= 150ms);
  CHECK(a.server_selection + a.pool_wait < a.wire);
  check_time_buckets(a);
}

TEST_CASE("issue 16 accounting: the engine's commit retry after a closed connection is a retryable-write retry") {
  accounting_case k;
  REQUIRE_FALSE(k.s.start_transaction(snapshot_majority(), k.diag));
  k.t.recording = true;
  k.ok(insert_in(k.s, 1, k.diag));
  k.f.fail_command("commitTransaction", 1, true);
  k.ok(k.s.commit_transaction(k.diag));
  k.t.recording = false;
  const transaction_accounting& a = k.s.last_transaction_accounting();
  CHECK(a.retryable_write_retries == 1);
  CHECK(a.commit_retries == 0);
  CHECK(a.round_trips == 3);  // insert, commitTransaction (no reply), commitTransaction
  // The lost commit's request counts; the retry's new connection handshake does not (pool wait).
  k.check_wire_counts();
  CHECK(a.pool_wait > 0ns);
  check_time_buckets(a);
}

TEST_CASE("issue 16 accounting: with_transaction's commit after UnknownTransactionCommitResult is a commit retry") {
  accounting_case k;
  k.f.fail_command("commitTransaction", 2, true);  // the first commit call and the engine's retry
  k.with_transaction([](session& in, diagnostics& d) { return insert_in(in, 1, d); });
  const transaction_accounting& a = k.s.last_transaction_accounting();
  CHECK(a.commit_retries == 1);
  CHECK(a.retryable_write_retries == 1);
  CHECK(a.transient_reruns == 0);
  CHECK(a.round_trips == 4);  // insert, three commitTransaction
  k.check_wire_counts();
  CHECK(k.s.last_commit().outcome == commit_outcome::committed);
}

TEST_CASE("issue 16 accounting: an overload retry inside a transaction counts with the backoff it slept") {
  accounting_case k;
  REQUIRE_FALSE(k.s.start_transaction(snapshot_majority(), k.diag));
  k.f.fail_with_overload("insert", 1);
  k.t.recording = true;
  k.ok(insert_in(k.s, 1, k.diag));
  k.ok(k.s.commit_transaction(k.diag));
  k.t.recording = false;
  const transaction_accounting& a = k.s.last_transaction_accounting();
  CHECK(a.overload_retries == 1);
  CHECK(a.retryable_write_retries == 0);
  CHECK(a.round_trips == 3);
  k.check_wire_counts();
  const auto chosen = k.t.backoff_of("insert", retry_decision::retry_command);
  CHECK(chosen > 0us);
  CHECK(a.backoff >= chosen);
  check_time_buckets(a);
}
