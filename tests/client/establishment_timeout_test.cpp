// client-side-operations-timeout.md "Server Selection": with timeoutMS, the remaining time bounds
// a new connection's establishment (TCP, TLS, hello, authentication) besides connectTimeoutMS,
// and replaces waitQueueTimeoutMS for the checkout. A load-balanced URI (no monitor, so the
// operation's own checkout establishes the connection) against a peer that accepts and never
// answers the hello shows it.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "mongowire/client.hpp"

namespace asio = boost::asio;
using namespace mongowire;

namespace {

// Accepts every connection and keeps it open without a byte of reply.
asio::awaitable<void> accept_silently(asio::ip::tcp::acceptor& acceptor, std::vector<asio::ip::tcp::socket>& kept) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    kept.push_back(std::move(socket));
  }
}

struct ping_outcome {
  error_code ec;
  diagnostics diag;
  std::chrono::milliseconds took{0};
};

asio::awaitable<void> ping(std::string uri, std::optional<ping_outcome>& out) {
  client c(co_await asio::this_coro::executor, uri);
  ping_outcome o;
  bson::document reply;
  const auto command = bson::document::from_json(R"({"ping": 1})");
  const auto start = std::chrono::steady_clock::now();
  o.ec = co_await c.run_command("admin", command, reply, o.diag);
  o.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  co_await c.close();
  out = std::move(o);
}

ping_outcome ping_silent_peer(const std::string& options) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::vector<asio::ip::tcp::socket> kept;
  asio::co_spawn(io, accept_silently(acceptor, kept), asio::detached);
  const std::string uri =
      "mongodb://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/?loadBalanced=true&" + options;
  std::optional<ping_outcome> out;
  asio::co_spawn(io, ping(uri, out), asio::detached);
  while (!out && io.run_one_for(std::chrono::seconds(30))) {
  }
  REQUIRE(out);
  return *out;
}

}  // namespace

TEST_CASE("timeoutMS bounds the establishment of the operation's connection: a timeout error, not connectTimeoutMS") {
  const auto o = ping_silent_peer("timeoutMS=300&connectTimeoutMS=20000");
  CHECK(o.ec == client_errc::timeout);
  CHECK(o.diag.cause == network_errc::connect_timeout);
  CHECK(o.diag.client_message.find("timeoutMS") != std::string::npos);
  // 20 s would be connectTimeoutMS; the bound only tells the deadline from the legacy timeout.
  CHECK(o.took < std::chrono::seconds(10));
}

TEST_CASE("without timeoutMS the establishment keeps connectTimeoutMS (the legacy behaviour)") {
  const auto o = ping_silent_peer("connectTimeoutMS=400");
  CHECK(o.ec != client_errc::timeout);
  CHECK(o.ec);
}
