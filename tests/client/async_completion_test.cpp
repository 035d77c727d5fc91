// How the async_xxx forms complete (issue 9, "sealed public headers"): a cancelled
// operation completes with asio::error::operation_aborted, whatever it was doing; an
// exception escaping an operation is reported as what it is (client_errc::internal_error
// with its what()), never as the caller's invalid argument.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <stdexcept>

#include "client_support.hpp"

using namespace client_test;

namespace {

// The server holds every `command` for 2 s before answering.
void block(fixture& f, std::string_view command) {
  f.fail_point(R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": [")" +
               std::string(command) + R"("], "blockConnection": true, "blockTimeMS": 2000}})");
}

// Starts an async operation through `start(slot, handler)`, cancels it after 200 ms (the
// server is still holding it), and returns what it completed with.
template <class Start>
error_code cancel_while_blocked(fixture& f, Start start) {
  asio::cancellation_signal signal;
  std::optional<error_code> completed;
  start(signal.slot(), [&](error_code ec) {
    completed = ec;
    f.io.stop();
  });
  asio::steady_timer timer(f.io, std::chrono::milliseconds(200));
  timer.async_wait([&](error_code) { signal.emit(asio::cancellation_type::terminal); });
  const auto started = std::chrono::steady_clock::now();
  f.io.restart();
  f.io.run();
  REQUIRE(completed);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(1500));  // not the server's reply
  return *completed;
}

}  // namespace

TEST_CASE("async_find cancelled while the server holds it completes with operation_aborted") {
  fixture f;
  block(f, "find");
  auto coll = f.c->get_collection("test", "c");
  std::vector<bson::document> docs;
  diagnostics diag;
  const bson::document filter;
  auto ec = cancel_while_blocked(f, [&](asio::cancellation_slot slot, auto handler) {
    coll.async_find(filter, find_options{}, docs, diag, asio::bind_cancellation_slot(slot, std::move(handler)));
  });
  CHECK_MESSAGE(ec == asio::error::operation_aborted, ec.message());
  CHECK(ec != client_errc::invalid_argument);
}

TEST_CASE("async_insert_one cancelled while the server holds it completes with operation_aborted") {
  fixture f;
  block(f, "insert");
  auto coll = f.c->get_collection("test", "c");
  insert_one_result result;
  diagnostics diag;
  const auto doc = bson::document::from_json(R"({"_id": 1})");
  auto ec = cancel_while_blocked(f, [&](asio::cancellation_slot slot, auto handler) {
    coll.async_insert_one(doc, insert_one_options{}, result, diag,
                          asio::bind_cancellation_slot(slot, std::move(handler)));
  });
  CHECK_MESSAGE(ec == asio::error::operation_aborted, ec.message());
}

// transactions-convenient-api.md "withTransaction", step 7.1: a callback that raises an
// error has its transaction aborted; the async form then reports the exception itself.
TEST_CASE("async_with_transaction: a throwing callback aborts and completes with internal_error and its what()") {
  fixture f;
  auto s = f.c->start_session();
  std::optional<error_code> completed;
  diagnostics diag;
  auto callback = [](session& bound, diagnostics& d) -> asio::awaitable<error_code> {
    insert_one_result r;
    const auto doc = bson::document::from_json(R"({"_id": 7})");
    const insert_one_options options;
    if (auto ec = co_await bound.get_collection("test", "c").insert_one(doc, options, r, d)) co_return ec;
    throw std::runtime_error("the callback's own failure");
  };
  s.async_with_transaction(callback, std::nullopt, diag, [&](error_code ec) {
    completed = ec;
    f.io.stop();
  });
  f.io.restart();
  f.io.run();
  REQUIRE(completed);
  CHECK(*completed == client_errc::internal_error);
  CHECK(diag.client_message.find("the callback's own failure") != std::string::npos);
  CHECK(f.started("abortTransaction").size() == 1);
  CHECK(f.started("commitTransaction").empty());
  CHECK(s.current_transaction_state() == transaction_state::aborted);
  CHECK(f.count("c") == 0);
}

namespace {

// What detail::launch completes with when the operation's coroutine throws `e`.
template <class Exception>
error_code completion_of_throwing(Exception e, diagnostics& diag) {
  asio::io_context io;
  auto op = [](Exception thrown) -> asio::awaitable<error_code> {
    throw thrown;
    co_return error_code{};
  }(std::move(e));
  std::optional<error_code> completed;
  detail::initiate(io.get_executor(), std::move(op), &diag, [&](error_code ec) { completed = ec; });
  io.run();
  REQUIRE(completed);
  return *completed;
}

}  // namespace

TEST_CASE("launch: an exception escaping an operation completes it with the error it stands for") {
  diagnostics diag;
  // A cancelled timer or socket throws operation_aborted inside the coroutine.
  CHECK(completion_of_throwing(boost::system::system_error(asio::error::operation_aborted), diag) ==
        asio::error::operation_aborted);
  diagnostics server_diag;
  server_diag.server_message = "Write conflict";
  CHECK(completion_of_throwing(mongowire::error(make_server_error(112), server_diag), diag) == make_server_error(112));
  CHECK(diag.server_message == "Write conflict");  // the exception's diagnostics are the operation's
  CHECK(completion_of_throwing(std::bad_alloc(), diag) == boost::system::errc::not_enough_memory);
  diagnostics unexpected;
  CHECK(completion_of_throwing(std::logic_error("a bug of ours"), unexpected) == client_errc::internal_error);
  CHECK(unexpected.client_message == "unexpected exception: a bug of ours");
  diagnostics reset;
  const auto other = completion_of_throwing(boost::system::system_error(asio::error::connection_reset), reset);
  CHECK(other == client_errc::internal_error);  // never the caller's invalid_argument
  CHECK(reset.client_message.find("unexpected exception") == 0);
}

TEST_CASE("the async forms take any completion token: callback, deferred, use_awaitable") {
  fixture f;
  auto coll = f.c->get_collection("test", "c");
  const auto doc = bson::document::from_json(R"({"_id": 1})");
  insert_one_result inserted;
  diagnostics diag;
  std::optional<error_code> deferred_ec;
  auto insert = coll.async_insert_one(doc, insert_one_options{}, inserted, diag, asio::deferred);
  std::move(insert)([&](error_code ec) {
    deferred_ec = ec;
    f.io.stop();
  });
  f.io.restart();
  f.io.run();
  REQUIRE(deferred_ec);
  CHECK(!*deferred_ec);
  const auto counted = run(f.io, [&]() -> asio::awaitable<std::int64_t> {
    std::int64_t n = -1;
    error_code ec;
    const bson::document all;
    const count_options options;  // named: no temporaries in co_await (g++ 12)
    co_await coll.async_count_documents(all, options, n, diag, asio::redirect_error(asio::use_awaitable, ec));
    CHECK(!ec);
    co_return n;
  }());
  CHECK(counted == 1);
}
