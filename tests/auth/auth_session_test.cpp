// Authentication end to end: mongowire clients against the embedded test server started with
// access control (mongod --auth). SCRAM-SHA-256, SCRAM-SHA-1 and negotiation with a
// transaction, the round trip speculative authentication saves, the wrong-password error, the
// SCRAM key cache across pooled connections, and no secret in any output channel.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth_support.hpp"

namespace auth_test {
namespace {

TEST_CASE("SCRAM-SHA-256, SCRAM-SHA-1 and the negotiated mechanism authenticate and run a transaction") {
  for (std::string mechanism : {"SCRAM-SHA-256", "SCRAM-SHA-1", ""}) {
    CAPTURE(mechanism);
    auth_server server;
    asio::io_context io;
    const auto uri = server.uri() + (mechanism.empty() ? "" : "&authMechanism=" + mechanism);
    client c(io.get_executor(), uri);
    auto ec = run(io, [&]() -> asio::awaitable<error_code> {
      diagnostics diag;
      auto s = c.start_session();
      s.start_transaction();
      bson::document reply;
      auto insert = bson::document::from_json(R"({"insert": "people", "documents": [{"_id": 1, "name": "Ada"}]})");
      if (auto ec = co_await s.run_command("app", std::move(insert), reply, diag)) co_return ec;
      if (auto ec = co_await s.commit_transaction(diag)) co_return ec;
      auto count = bson::document::from_json(R"({"count": "people"})");
      if (auto ec = co_await c.run_command("app", std::move(count), reply, diag)) co_return ec;
      CHECK(reply["n"].as_integer() == 1);
      co_return co_await c.close();
    }());
    CHECK_MESSAGE(!ec, ec.message());
    const auto per_connection = server.sasl_by_connection();
    REQUIRE_FALSE(per_connection.empty());
    for (const auto& [id, counts] : per_connection)
      CHECK(counts.mechanism == (mechanism.empty() ? "SCRAM-SHA-256" : mechanism));
  }
}

TEST_CASE("speculative authentication saves one round trip per new connection (handshake.md)") {
  // alice has SCRAM-SHA-256: the speculative saslStart in hello is taken. bob has only
  // SCRAM-SHA-1: negotiation picks it after the speculative SCRAM-SHA-256 failed.
  auth_server server({{"alice", secret_password}, {"bob", secret_password, "admin", {"SCRAM-SHA-1"}}});
  for (std::string user : {"alice", "bob"}) {
    asio::io_context io;
    client c(io.get_executor(), server.uri_for(user));
    auto ec = run(io, ping_and_close(c));
    REQUIRE_MESSAGE(!ec, ec.message());
  }
  std::map<std::string, sasl_counts> by_user;
  for (const auto& [id, counts] : server.sasl_by_connection()) by_user[counts.user] = counts;
  REQUIRE(by_user.count("alice"));
  REQUIRE(by_user.count("bob"));
  CHECK(by_user["alice"].sasl_start == 0);
  CHECK(by_user["alice"].sasl_continue == 1);
  CHECK(by_user["bob"].sasl_start == 1);
  CHECK(by_user["bob"].sasl_continue == 1);
  CHECK(by_user["bob"].round_trips() - by_user["alice"].round_trips() == 1);
}

TEST_CASE("ConnectionReadyEvent counts the set-up round trips: 2 with speculative authentication, 3 without") {
  for (bool speculative : {true, false}) {
    CAPTURE(speculative);
    auth_server server({{"alice", secret_password}}, speculative);
    asio::io_context io;
    std::vector<std::uint32_t> ready_round_trips;
    client_options options;
    options.on_pool_event = [&](const pool_event& e) {
      if (e.type == pool_event_type::connection_ready) ready_round_trips.push_back(e.round_trips);
    };
    client c(io.get_executor(), server.uri(), std::move(options));
    auto ec = run(io, ping_and_close(c));
    REQUIRE_MESSAGE(!ec, ec.message());
    const auto per_connection = server.sasl_by_connection();
    REQUIRE(per_connection.size() == 1);  // the pooled connection; monitors never authenticate
    const auto& [id, counts] = *per_connection.begin();
    CHECK(server.sent_speculative(id));  // the client always offers it
    CHECK(counts.sasl_start == (speculative ? 0 : 1));
    CHECK(counts.sasl_continue == 1);
    REQUIRE(ready_round_trips.size() == 1);
    CHECK(ready_round_trips.front() == static_cast<std::uint32_t>(counts.round_trips()));
    CHECK(ready_round_trips.front() == (speculative ? 2u : 3u));
  }
}

TEST_CASE("a wrong password fails with AuthenticationFailed (18), names the mechanism, is never retryable") {
  auth_server server;
  asio::io_context io;
  outputs out;
  client c(io.get_executor(), server.uri("wrong-password") + "&authMechanism=SCRAM-SHA-256", out.options());
  diagnostics diag;
  auto ec = run(io, [&]() -> asio::awaitable<error_code> {
    bson::document reply;
    auto insert = bson::document::from_json(R"({"insert": "c", "documents": [{"_id": 1}]})");
    auto failed = co_await c.run_command("app", std::move(insert), reply, diag);
    co_await c.close();
    co_return failed;
  }());
  CHECK(ec == make_server_error(18));
  CHECK(diag.code_name == "AuthenticationFailed");
  CHECK(diag.client_message.find("SCRAM-SHA-256 authentication failed") != std::string::npos);
  CHECK(diag.server_message == "Authentication failed.");
  CHECK_FALSE(diag.has_label("RetryableWriteError"));
  CHECK_FALSE(diag.has_label("RetryableError"));
  CHECK_FALSE(diag.has_label("SystemOverloadedError"));
  CHECK(server.sasl_continue_count() == 1);  // the insert was not retried on a new connection
  // auth.md "Authentication Handshake": the server is marked Unknown and its pool cleared.
  CHECK(out.saw_pool_cleared);
  CHECK(out.saw_server_unknown);
}

TEST_CASE("pooled connections share the client's SCRAM keys: PBKDF2 runs once (auth.md Caching credentials)") {
  auth_server server;
  asio::io_context io;
  auto options = topology_options_for(server, "SCRAM-SHA-256");
  auto topology = std::make_shared<net::topology>(io.get_executor(), options);
  topology->start();
  auto ec = run(io, [&]() -> asio::awaitable<error_code> {
    net::selected_server selected;
    diagnostics diag;
    if (auto ec = co_await topology->async_select_writable(selected, diag)) co_return ec;
    std::vector<std::unique_ptr<net::connection>> held;  // three connections at once
    for (int i = 0; i < 3; ++i) {
      std::unique_ptr<net::connection> conn;
      if (auto ec = co_await selected.server_pool->async_checkout(conn, diag)) co_return ec;
      held.push_back(std::move(conn));
    }
    for (auto& conn : held) selected.server_pool->checkin(std::move(conn));
    co_return error_code{};
  }());
  topology->close();
  REQUIRE_MESSAGE(!ec, ec.message());
  CHECK(server.sasl_by_connection().size() == 3);  // every pooled connection authenticated
  CHECK(options.scram_cache->derivations() == 1);
}

TEST_CASE("monitoring connections never authenticate (auth.md: not on monitoring-only sockets)") {
  auth_server server;
  asio::io_context io;
  client c(io.get_executor(), server.uri());
  auto ec = run(io, ping_and_close(c));
  REQUIRE_MESSAGE(!ec, ec.message());
  const auto authenticated = server.sasl_by_connection();
  for (const auto& id : server.hello_connections())
    if (!authenticated.count(id)) CHECK_FALSE(server.sent_speculative(id));
  CHECK(server.hello_connections().size() > authenticated.size());  // the monitor's connection
}

}  // namespace
}  // namespace auth_test
