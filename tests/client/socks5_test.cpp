// SOCKS5 (socks5.md): every connection of a client with proxyHost goes through the proxy, the
// destination's host name is not resolved locally, and a refusal is a network error.
#include <doctest/doctest.h>

#include "client_support.hpp"
#include "socks5_proxy.hpp"

namespace client_test {
namespace {

std::string proxied_uri(const testd::embedded_server& server, const socks5_proxy& proxy, std::string_view extra) {
  return "mongodb://localhost:" + std::to_string(server.port()) +
         "/?directConnection=true&serverSelectionTimeoutMS=2000&proxyHost=127.0.0.1&proxyPort=" +
         std::to_string(proxy.port()) + std::string(extra);
}

asio::awaitable<error_code> insert_in_transaction(client& c, diagnostics& diag) {
  auto s = c.start_session();
  s.start_transaction();
  auto coll = s.get_collection("test", "proxied");
  const auto doc = bson::document::from_json(R"({"_id": 1})");
  const insert_one_options options;
  insert_one_result inserted;
  if (auto ec = co_await coll.insert_one(doc, options, inserted, diag)) co_return ec;
  co_return co_await s.commit_transaction(diag);
}

asio::awaitable<error_code> ping(client& c, diagnostics& diag) {
  const auto cmd = bson::document::from_json(R"({"ping": 1})");
  bson::document reply;
  co_return co_await c.run_command("admin", cmd, reply, diag);
}

}  // namespace

TEST_CASE("socks5: a transaction runs through a proxy with username/password; the host name reaches it unresolved") {
  testd::embedded_server server;
  socks5_proxy proxy(std::make_pair(std::string("mw"), std::string("pr0xy-s3cret")));
  asio::io_context io;
  client c(io.get_executor(), proxied_uri(server, proxy, "&proxyUsername=mw&proxyPassword=pr0xy-s3cret"));
  diagnostics diag;
  const error_code ec = run(io, insert_in_transaction(c, diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  run(io, c.close());
  const auto seen = proxy.destinations();
  REQUIRE(seen.size() >= 2);  // the monitor's connection and the pool's
  for (const auto& d : seen) CHECK(d == "localhost:" + std::to_string(server.port()));
  CHECK(proxy.refused_logins() == 0);
}

TEST_CASE("socks5: wrong proxy credentials fail as a network error that names SOCKS5, never the password") {
  testd::embedded_server server;
  socks5_proxy proxy(std::make_pair(std::string("mw"), std::string("right")));
  asio::io_context io;
  client c(io.get_executor(), proxied_uri(server, proxy, "&proxyUsername=mw&proxyPassword=wr0ng-s3cret"));
  diagnostics diag;
  const error_code ec = run(io, ping(c, diag));
  REQUIRE(ec);
  const std::string text = describe(diag);
  CHECK_MESSAGE(text.find("refused proxyUsername/proxyPassword") != std::string::npos, text);
  CHECK(text.find("wr0ng-s3cret") == std::string::npos);
  CHECK(proxy.refused_logins() >= 1);
  run(io, c.close());
}

TEST_CASE("socks5: a proxy that requires credentials refuses a client without them, with a hint") {
  testd::embedded_server server;
  socks5_proxy proxy(std::make_pair(std::string("mw"), std::string("right")));
  asio::io_context io;
  client c(io.get_executor(), proxied_uri(server, proxy, ""));
  diagnostics diag;
  REQUIRE(run(io, ping(c, diag)));
  CHECK_MESSAGE(describe(diag).find("set proxyUsername and proxyPassword") != std::string::npos, describe(diag));
  run(io, c.close());
}

TEST_CASE("socks5: a destination the proxy cannot reach is reported with RFC 1928's reason") {
  socks5_proxy proxy;
  asio::io_context io;
  // Port 1 on localhost: nothing listens, the proxy answers "connection refused".
  client c(io.get_executor(),
           "mongodb://localhost:1/?directConnection=true&serverSelectionTimeoutMS=1000&"
           "proxyHost=127.0.0.1&proxyPort=" +
               std::to_string(proxy.port()));
  diagnostics diag;
  REQUIRE(run(io, ping(c, diag)));
  CHECK_MESSAGE(describe(diag).find("could not connect to localhost:1 (connection refused") != std::string::npos,
                describe(diag));
  run(io, c.close());
}

}  // namespace client_test
