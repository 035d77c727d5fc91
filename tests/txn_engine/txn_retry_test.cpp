// Retries: with_transaction over a write conflict, the driver's commit retry and the
// retryable write across a closed connection (transactions.md, retryable-writes.md,
// transactions-convenient-api.md).
#include "txn_support.hpp"

#include "client/client_access.hpp"

using namespace txn_test;

namespace {

asio::awaitable<error_code> seed_counter(client& c, diagnostics& diag) {
  insert_one_result r;
  co_return co_await c.get_collection("bank", "accounts")
      .insert_one(doc_from_json(R"({"_id": 1, "n": 0})"), insert_one_options{}, r, diag);
}

asio::awaitable<error_code> increment(session& s, diagnostics& diag) {
  update_result u;
  const auto by_id = doc_from_json(R"({"_id": 1})");
  const auto increment = doc_from_json(R"({"$inc": {"n": 1}})");
  const update_options options;  // named: no temporaries in co_await (g++ 12)
  co_return co_await s.get_collection("bank", "accounts").update_one(by_id, increment, options, u, diag);
}

}  // namespace

TEST_CASE(
    "transactions-convenient-api.md: with_transaction reruns the callback after a write conflict with another "
    "session") {
  fixture f;
  diagnostics diag;
  REQUIRE(!run(f.io, seed_counter(*f.c, diag)));
  auto holder = f.c->start_session();
  auto writer = f.c->start_session();
  // The holder's open transaction has written the document: the writer conflicts with it.
  REQUIRE(!holder.start_transaction(snapshot_majority(), diag));
  REQUIRE(!run(f.io, increment(holder, diag)));

  int attempts = 0;
  std::vector<bool> transient_label_seen;
  auto ec = run(f.io, writer.with_transaction(
                          [&](session& s, diagnostics& d) -> asio::awaitable<error_code> {
                            ++attempts;
                            auto e = co_await increment(s, d);
                            transient_label_seen.push_back(d.has_label(label::transient_transaction_error));
                            if (e && attempts == 1) {
                              // Let the other transaction finish so that the rerun can succeed.
                              diagnostics cd;
                              auto commit_ec = co_await holder.commit_transaction(cd);
                              REQUIRE_MESSAGE(!commit_ec, commit_ec.message() << " " << describe(cd));
                            }
                            co_return e;
                          },
                          snapshot_majority(), diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  CHECK(attempts == 2);
  REQUIRE(transient_label_seen.size() == 2);
  CHECK(transient_label_seen[0]);  // WriteConflict in a transaction: TransientTransactionError
  // The failed attempt was aborted, the rerun committed, with a new txnNumber.
  CHECK(f.rec.named("abortTransaction").size() >= 1);
  auto updates = f.rec.named("update");
  REQUIRE(updates.size() == 3);  // holder, writer attempt 1, writer attempt 2
  CHECK(*updates[2]->doc["txnNumber"].as_int64() == *updates[1]->doc["txnNumber"].as_int64() + 1);
  CHECK(updates[2]->doc["startTransaction"].as_bool() == true);
  std::optional<bson::document> doc;
  REQUIRE(!run(
      f.io,
      f.c->get_collection("bank", "accounts").find_one(doc_from_json(R"({"_id": 1})"), find_options{}, doc, diag)));
  REQUIRE(doc);
  CHECK((*doc)["n"].as_integer() == 2);  // both increments, each exactly once
}

TEST_CASE("transactions.md: a commit whose connection is closed is retried once and commits exactly once") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  insert_one_result r;
  REQUIRE(!run(
      f.io,
      s.get_collection("bank", "ledger").insert_one(doc_from_json(R"({"_id": "t1"})"), insert_one_options{}, r, diag)));
  f.fail_command("commitTransaction", 1, true);
  f.rec.clear();
  auto ec = run(f.io, s.commit_transaction(diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  auto commits = f.rec.named("commitTransaction");
  REQUIRE(commits.size() == 2);
  CHECK(f.rec.failed_names.size() == 1);
  CHECK(commits[0]->doc["txnNumber"].as_int64() == commits[1]->doc["txnNumber"].as_int64());
  CHECK(lsid_of(commits[0]->doc) == lsid_of(commits[1]->doc));
  // transactions.md "Retry commitTransaction": the retry uses w:"majority" with wtimeout 10000.
  auto wc = commits[1]->doc["writeConcern"].as_document();
  REQUIRE(wc);
  CHECK((*wc)["w"].as_string() == "majority");
  CHECK((*wc)["wtimeout"].as_integer() == 10000);
  CHECK(f.count("bank", "ledger") == 1);
  CHECK(s.current_transaction_state() == transaction_state::committed);
}

TEST_CASE(
    "retryable-writes.md: an insert whose connection is closed is retried and applied once, with the same txnNumber") {
  fixture f;
  diagnostics diag;
  f.fail_command("insert", 1, true);
  f.rec.clear();
  insert_one_result r;
  auto ec = run(f.io, f.c->get_collection("bank", "ledger")
                          .insert_one(doc_from_json(R"({"_id": "w1"})"), insert_one_options{}, r, diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 2);
  REQUIRE(inserts[0]->doc["txnNumber"].type() == BSON_TYPE_INT64);
  CHECK(inserts[0]->doc["txnNumber"].as_int64() == inserts[1]->doc["txnNumber"].as_int64());
  CHECK(lsid_of(inserts[0]->doc) == lsid_of(inserts[1]->doc));
  CHECK_FALSE(inserts[0]->doc.get_view().contains("autocommit"));  // not a transaction
  CHECK(f.count("bank", "ledger") == 1);
}

TEST_CASE("retryable-writes.md: with retryWrites=false a closed connection fails the insert without retry") {
  fixture f("&retryWrites=false");
  diagnostics diag;
  f.fail_command("insert", 1, true);
  f.rec.clear();
  insert_one_result r;
  auto ec = run(f.io, f.c->get_collection("bank", "ledger")
                          .insert_one(doc_from_json(R"({"_id": "w2"})"), insert_one_options{}, r, diag));
  CHECK(ec);
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 1);
  CHECK_FALSE(inserts[0]->doc.get_view().contains("txnNumber"));
}

TEST_CASE("transactions.md: a command inside a transaction is not retried after a closed connection") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  f.fail_command("insert", 1, true);
  f.rec.clear();
  insert_one_result r;
  auto ec = run(
      f.io,
      s.get_collection("bank", "ledger").insert_one(doc_from_json(R"({"_id": "x"})"), insert_one_options{}, r, diag));
  CHECK(ec);
  CHECK(f.rec.named("insert").size() == 1);
  // A network error inside a transaction is a TransientTransactionError.
  CHECK(diag.has_label(label::transient_transaction_error));
}

namespace {

// configureFailPoint run on the server's core directly (no client connection involved).
void configure_on_core(testd::embedded_server& server, std::string_view json) {
  auto ctx = server.core().open_connection();
  auto reply = server.core().handle(doc_from_json(json), {}, ctx);
  REQUIRE_MESSAGE(reply["ok"].as_double().value_or(0) == 1.0, reply.to_json());
}

}  // namespace

TEST_CASE(
    "retryable-writes.md: a retry that fails before sending (a handshake in checkout) reports the original error") {
  testd::embedded_server server;
  asio::io_context io;
  int inserts_started = 0, handshake_failures = 0;
  std::string first_error;
  client_options o;
  o.on_pool_event = [&](const pool_event& e) {
    handshake_failures += e.type == pool_event_type::connection_check_out_failed && e.reason == "connectionError";
  };
  o.on_command = [&](const command_event& e) {
    if (e.command_name != "insert") return;
    if (e.type == command_event_type::started) ++inserts_started;
    if (e.type != command_event_type::failed || !first_error.empty()) return;
    first_error = e.diag->server_message;
    // ShutdownInProgress marked the server Unknown and cleared the pool: the monitor's next
    // hello (skipped) makes it selectable again, then every hello is closed, so the retry's new
    // connection fails its handshake (mongod applies a handshake's appName before failpoints).
    // A handshake network error is an overload error (CMAP backpressure): retried once more,
    // failing again.
    configure_on_core(server, R"({"configureFailPoint": "failCommand", "mode": {"skip": 1}, "$db": "admin",
                                 "data": {"failCommands": ["hello"], "closeConnection": true, "appName": "retrier"}})");
  };
  client c(io.get_executor(), server.uri() + "&appName=retrier&serverMonitoringMode=poll&heartbeatFrequencyMS=500", o);
  diagnostics diag;
  bson::document reply;
  auto fail_point = doc_from_json(R"({"configureFailPoint": "failCommand", "mode": {"times": 1},
                                      "data": {"failCommands": ["insert"], "errorCode": 91}})");
  REQUIRE(!run(io, c.run_command("admin", fail_point, reply, diag)));
  insert_one_result r;
  auto ec = run(
      io,
      c.get_collection("bank", "ledger").insert_one(doc_from_json(R"({"_id": "r1"})"), insert_one_options{}, r, diag));
  configure_on_core(server, R"({"configureFailPoint": "failCommand", "mode": "off", "$db": "admin"})");
  REQUIRE(handshake_failures == 2);                                   // both retries got as far as checkout
  CHECK(inserts_started == 1);                                        // and never sent their command
  CHECK(ec == make_server_error(server_code::shutdown_in_progress));  // the first attempt's error,
  CHECK(diag.server_message == first_error);                          // not the handshake's
  CHECK(diag.has_label(label::retryable_write_error));
  run(io, [&]() -> asio::awaitable<void> { co_await c.close(); }());
}

namespace {

asio::awaitable<error_code> insert_with(session& s, diagnostics& diag) {
  insert_one_result r;
  const bson::document doc = doc_from_json("{}");
  co_return co_await s.get_collection("bank", "ledger").insert_one(doc, insert_one_options{}, r, diag);
}

}  // namespace

TEST_CASE(
    "transactions-convenient-api.md \"Timeout Error propagation\": a timeout error that exposes the last error and its "
    "labels") {
  fixture f;
  detail::client_access::impl(*f.c).with_transaction_limit =
      std::chrono::milliseconds(0);  // every retry is past the limit
  auto s = f.c->start_session();
  diagnostics diag;
  SUBCASE("the callback failed with a TransientTransactionError") {
    f.fail_command("insert", 1, false, 112);  // WriteConflict in a transaction: TransientTransactionError
    auto ec = run(
        f.io, s.with_transaction([](session& in, diagnostics& d) { return insert_with(in, d); }, std::nullopt, diag));
    CHECK(ec == client_errc::with_transaction_timeout);
    CHECK(diag.cause == make_server_error(112));
    CHECK(diag.server_code == 112);
    CHECK(diag.has_label(label::transient_transaction_error));
    CHECK(f.rec.named("abortTransaction").size() == 1);
  }
  SUBCASE("commitTransaction failed with UnknownTransactionCommitResult") {
    f.fail_command("commitTransaction", 2, true);  // the commit and its driver retry
    auto ec = run(
        f.io, s.with_transaction([](session& in, diagnostics& d) { return insert_with(in, d); }, std::nullopt, diag));
    CHECK(ec == client_errc::with_transaction_timeout);
    CHECK(diag.cause.category() != client_category());  // the network error
    CHECK(diag.has_label(label::unknown_transaction_commit_result));
    CHECK(f.rec.named("commitTransaction").size() == 2);
  }
}

TEST_CASE(
    "transactions-convenient-api.md: the time limit is checked after the abort of a failed callback, which counts") {
  fixture f;
  // The insert and the abort each take 300 ms: the limit passes during the abort.
  detail::client_access::impl(*f.c).with_transaction_limit = std::chrono::milliseconds(450);
  f.configure_fail_point(doc_from_json(R"({"times": 2})"),
                         doc_from_json(R"({"failCommands": ["insert", "abortTransaction"], "errorCode": 112,
                                          "blockConnection": true, "blockTimeMS": 300})"));
  auto s = f.c->start_session();
  diagnostics diag;
  f.rec.clear();
  auto ec =
      run(f.io, s.with_transaction([](session& in, diagnostics& d) { return insert_with(in, d); }, std::nullopt, diag));
  CHECK(ec == client_errc::with_transaction_timeout);  // not a second attempt
  CHECK(f.rec.named("insert").size() == 1);
  CHECK(f.rec.named("abortTransaction").size() == 1);
  CHECK(diag.has_label(label::transient_transaction_error));
}
