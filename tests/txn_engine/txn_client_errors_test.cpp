// transactions.md, "Client-side errors": misuse is refused before anything is sent.
#include "txn_support.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/client_access.hpp"

using namespace txn_test;

namespace {

asio::awaitable<error_code> insert_in(session& s, int id, diagnostics& diag) {
  insert_one_result r;
  bson::document d;
  d.append("_id", std::int32_t{id});
  co_return co_await s.get_collection("app", "items").insert_one(d, insert_one_options{}, r, diag);
}

}  // namespace

TEST_CASE("transactions.md: commitTransaction after abortTransaction is refused") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  REQUIRE(!run(f.io, insert_in(s, 1, diag)));
  REQUIRE(!run(f.io, s.abort_transaction(diag)));
  const auto sent = f.rec.started.size();
  auto ec = run(f.io, s.commit_transaction(diag));
  CHECK(ec == client_errc::commit_after_abort);
  CHECK(ec.message() == "Cannot call commitTransaction after calling abortTransaction");  // the spec's wording
  CHECK(f.rec.started.size() == sent);
}

TEST_CASE("transactions.md: abortTransaction twice is refused") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  REQUIRE(!run(f.io, insert_in(s, 1, diag)));
  REQUIRE(!run(f.io, s.abort_transaction(diag)));
  auto ec = run(f.io, s.abort_transaction(diag));
  CHECK(ec == client_errc::abort_twice);
  CHECK(ec.message() == "Cannot call abortTransaction twice");
  CHECK(f.rec.named("abortTransaction").size() == 1);
}

TEST_CASE("transactions.md: abortTransaction after commitTransaction is refused") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  REQUIRE(!run(f.io, insert_in(s, 1, diag)));
  REQUIRE(!run(f.io, s.commit_transaction(diag)));
  CHECK(run(f.io, s.abort_transaction(diag)) == client_errc::abort_after_commit);
  CHECK(f.rec.named("abortTransaction").empty());
  CHECK(f.count("app", "items") == 1);
}

TEST_CASE("transactions.md: commit or abort without a transaction is refused") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  CHECK(run(f.io, s.commit_transaction(diag)) == client_errc::no_transaction_started);
  CHECK(run(f.io, s.abort_transaction(diag)) == client_errc::no_transaction_started);
  CHECK(f.rec.started.empty());
}

TEST_CASE("transactions.md: startTransaction while a transaction is in progress is refused") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  CHECK(s.start_transaction(snapshot_majority(), diag) == client_errc::transaction_already_in_progress);
  REQUIRE(!run(f.io, insert_in(s, 1, diag)));
  CHECK(s.start_transaction(std::nullopt, diag) == client_errc::transaction_already_in_progress);
}

TEST_CASE("transactions.md: an unacknowledged writeConcern is refused at startTransaction") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  transaction_options o;
  o.write_concern = doc_from_json(R"({"w": 0})");
  CHECK(s.start_transaction(o, diag) == client_errc::unacknowledged_write_in_transaction);
  CHECK(s.current_transaction_state() == transaction_state::none);
}

TEST_CASE("transactions.md: after a commit the next operation resets the state, and a new transaction may start") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  REQUIRE(!run(f.io, insert_in(s, 1, diag)));
  REQUIRE(!run(f.io, s.commit_transaction(diag)));
  REQUIRE(!run(f.io, insert_in(s, 2, diag)));  // outside a transaction
  CHECK(s.current_transaction_state() == transaction_state::none);
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 2);
  CHECK_FALSE(inserts[1]->doc.get_view().contains("autocommit"));
  CHECK_FALSE(inserts[1]->doc.get_view().contains("startTransaction"));
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
}

TEST_CASE("transactions.md \"Client-side errors MUST NOT change transaction state\": a server selection failure") {
  fixture f("&serverSelectionTimeoutMS=200");
  diagnostics diag;
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  f.server.stop();  // nothing is reachable: the first command of the transaction is never sent
  CHECK(run(f.io, insert_in(s, 1, diag)) == client_errc::server_selection_timeout);
  CHECK(diag.has_label(label::transient_transaction_error));
  CHECK(s.current_transaction_state() == transaction_state::starting);
  // "starting transaction": the commit sends nothing (the server never saw the transaction).
  f.rec.clear();
  CHECK(!run(f.io, s.commit_transaction(diag)));
  CHECK(f.rec.named("commitTransaction").empty());
}

namespace {

// A document whose command exceeds maxMessageSizeBytes (48,000,000): it cannot be encoded.
bson::document oversized_document(int id) {
  bson::document d;
  d.append("_id", std::int32_t{id});
  d.append("blob", std::string(48'500'000, 'x'));
  return d;
}

}  // namespace

TEST_CASE(
    "transactions.md / SDAM: a command too large to encode is a client error: no state change, label, retry or pool "
    "clear") {
  fixture f;
  diagnostics diag;
  auto s = f.c->start_session();
  bson::document reply;
  REQUIRE(!run(f.io, s.run_command("admin", doc_from_json(R"({"ping": 1})"), reply, diag)));
  const auto type_before = detail::client_access::impl(*f.c).topology().description().servers().front().type;
  // runCommand sends the command as given, so only the encoder sees that it is too large.
  bson::document big_insert;
  big_insert.append("insert", "items");
  big_insert.append_array_of("documents", [](bson::array_builder& a) { a.push(oversized_document(1)); });
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  f.rec.clear();
  auto ec = run(f.io, s.run_command("app", big_insert, reply, diag));
  REQUIRE(ec);
  CHECK(ec.category() != server_category());
  CHECK(diag.labels.empty());                // no TransientTransactionError: nothing was sent
  CHECK(f.rec.named("insert").size() <= 1);  // not retried
  CHECK(s.current_transaction_state() == transaction_state::starting);
  CHECK_FALSE(s.is_dirty());
  // SDAM: not a network error, so the server stays selectable.
  CHECK(detail::client_access::impl(*f.c).topology().description().servers().front().type == type_before);
  // The transaction goes on normally.
  REQUIRE(!run(f.io, insert_in(s, 2, diag)));
  REQUIRE(!run(f.io, s.commit_transaction(diag)));
  CHECK(f.count("app", "items") == 1);

  // Outside a transaction a retryable write that is too large is not retried either.
  insert_one_result r;
  auto big = oversized_document(3);
  diag.clear();
  f.rec.clear();
  ec = run(f.io, f.c->get_collection("app", "items").insert_one(big, insert_one_options{}, r, diag));
  REQUIRE(ec);
  CHECK(ec.category() != server_category());
  CHECK_FALSE(diag.has_label(label::retryable_write_error));
  CHECK(f.rec.named("insert").size() <= 1);
}

TEST_CASE("transactions.md \"Network Error\": a WaitQueueTimeout in a transaction is a TransientTransactionError") {
  fixture f("&maxPoolSize=1&waitQueueTimeoutMS=100");
  diagnostics diag;
  bson::document reply;
  REQUIRE(!run(f.io, f.c->run_command("admin", doc_from_json(R"({"ping": 1})"), reply, diag)));
  // The only connection is held by a find that the server answers after 1 s.
  f.configure_fail_point(doc_from_json(R"({"times": 1})"),
                         doc_from_json(R"({"failCommands": ["find"], "blockConnection": true, "blockTimeMS": 1000})"));
  auto s = f.c->start_session();
  REQUIRE(!s.start_transaction(snapshot_majority(), diag));
  error_code insert_ec;
  diagnostics insert_diag;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto blocked = f.c->get_collection("app", "items");
    std::optional<bson::document> out;
    diagnostics find_diag;
    const bson::document filter;
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, blocked.find_one(filter, find_options{}, out, find_diag), asio::detached);
    asio::steady_timer t(ex, std::chrono::milliseconds(50));
    co_await t.async_wait(asio::use_awaitable);  // the find has the connection now
    insert_ec = co_await insert_in(s, 1, insert_diag);
    asio::steady_timer rest(ex, std::chrono::milliseconds(1100));
    co_await rest.async_wait(asio::use_awaitable);  // let the find finish before its frame goes
  }());
  CHECK(insert_ec == client_errc::wait_queue_timeout);
  CHECK(insert_diag.has_label(label::transient_transaction_error));
  CHECK(s.current_transaction_state() == transaction_state::starting);
}

TEST_CASE(
    "client-side-operations-timeout.md: a reply later than timeoutMS is a timeout error; its connection is closed") {
  fixture f("&timeoutMS=300");
  diagnostics diag;
  bson::document reply;
  REQUIRE(!run(f.io, f.c->run_command("admin", doc_from_json(R"({"ping": 1})"), reply, diag)));
  f.configure_fail_point(doc_from_json(R"({"times": 1})"),
                         doc_from_json(R"({"failCommands": ["find"], "blockConnection": true, "blockTimeMS": 1500})"));
  f.rec.clear();
  std::optional<bson::document> out;
  const auto started = std::chrono::steady_clock::now();
  const bson::document filter;
  const auto ec = run(f.io, f.c->get_collection("app", "items").find_one(filter, find_options{}, out, diag));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(ec == client_errc::timeout);
  CHECK(diag.cause == network_errc::socket_timeout);  // "expose the underlying error"
  CHECK(diag.client_message.find(error_code(network_errc::socket_timeout).message()) != std::string::npos);
  CHECK(elapsed < std::chrono::milliseconds(1500));  // not retried past the deadline
  REQUIRE(f.rec.named("find").size() == 1);
  // "Command Execution": maxTimeMS is the remaining time minus the minimum RTT.
  const auto max_time = f.rec.named("find").front()->doc["maxTimeMS"].as_integer();
  REQUIRE(max_time);
  CHECK(*max_time > 0);
  CHECK(*max_time <= 300);
  // The timed-out connection was closed, never reused half-read: the next find gets its own reply.
  diag.clear();
  CHECK(!run(f.io, f.c->get_collection("app", "items").find_one(filter, find_options{}, out, diag)));
  const auto g = f.c->gauges();
  REQUIRE(g.pools.size() == 1);
  CHECK(g.pools.front().total == 1);  // the timed-out one is gone, the new one is idle
}

TEST_CASE("client-side-operations-timeout.md: timeoutMS 0 sends no maxTimeMS and ignores socketTimeoutMS") {
  fixture f("&socketTimeoutMS=100");
  diagnostics diag;
  f.configure_fail_point(doc_from_json(R"({"times": 1})"),
                         doc_from_json(R"({"failCommands": ["find"], "blockConnection": true, "blockTimeMS": 300})"));
  collection_options no_limit;
  no_limit.timeout = std::chrono::milliseconds(0);
  std::optional<bson::document> out;
  const bson::document filter;
  auto coll = f.c->get_collection("app", "items").with_options(no_limit);
  find_options with_max_time;
  with_max_time.max_time_ms = 50;
  CHECK(!run(f.io, coll.find_one(filter, with_max_time, out, diag)));
  REQUIRE(f.rec.named("find").size() == 1);
  CHECK_FALSE(f.rec.named("find").front()->doc.get_view().contains("maxTimeMS"));  // the deprecated option too
  // A negative timeoutMS is refused before anything is sent.
  collection_options negative;
  negative.timeout = std::chrono::milliseconds(-1);
  CHECK(run(f.io,
            f.c->get_collection("app", "items").with_options(negative).find_one(filter, find_options{}, out, diag)) ==
        client_errc::invalid_argument);
  CHECK(f.rec.named("find").size() == 1);
}
