// An external program built against the installed mongowire (pkg-config and CMake): it starts
// the installed in-process test server, commits a transaction and reads the document back.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <cstdio>
#include <optional>

#include <mongowire/client.hpp>
#include <mongowire/test_server.hpp>

namespace asio = boost::asio;
using namespace mongowire;

asio::awaitable<bool> transaction(std::string uri) {
  client c(co_await asio::this_coro::executor, uri);
  auto s = c.start_session();
  diagnostics diag;
  if (s.start_transaction(std::nullopt, diag)) co_return false;
  auto coll = s.get_collection("consumer", "items");
  const auto doc = bson::document::from_json(R"({"_id": 1, "from": "an installed mongowire"})");
  const insert_one_options options;
  insert_one_result inserted;
  if (auto ec = co_await coll.insert_one(doc, options, inserted, diag)) co_return false;
  if (auto ec = co_await s.commit_transaction(diag)) co_return false;
  std::optional<bson::document> found;
  const auto filter = bson::document::from_json(R"({"_id": 1})");
  const find_options find;
  auto plain = c.get_collection("consumer", "items");
  if (auto ec = co_await plain.find_one(filter, find, found, diag)) co_return false;
  co_await s.end();
  co_await c.close();
  co_return found.has_value();
}

int main() {
  test_server server;
  asio::io_context io;
  auto done = asio::co_spawn(io, transaction(server.uri()), asio::use_future);
  io.run();
  const bool ok = done.get();
  std::printf("consumer: %s against %s\n", ok ? "committed and read back" : "FAILED", server.address().c_str());
  return ok ? 0 : 1;
}
