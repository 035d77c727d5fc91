// mongowire's side of bench/footprint: a pool filled by minPoolSize, then open sessions.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <vector>

#include "footprint.hpp"
#include "mongowire/client.hpp"

namespace footprint {
namespace {

namespace asio = boost::asio;
using namespace mongowire;

asio::awaitable<error_code> ping(client& c, std::string& error) {
  diagnostics diag;
  bson::document reply;
  const auto command = bson::document::from_json(R"({"ping": 1})");
  const error_code ec = co_await c.run_command("admin", command, reply, diag);
  if (ec) error = "ping: " + ec.message() + " " + describe(diag);
  co_return ec;
}

// Waits until the pool holds `want` idle connections (minPoolSize fills it in the background).
asio::awaitable<bool> pool_filled(client& c, std::size_t want) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < 1000; ++i) {
    const client_gauges g = c.gauges();
    if (!g.pools.empty() && g.pools.front().idle == want && g.pools.front().total == want) co_return true;
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return false;
}

// Heap bytes of a client whose pool holds `k` idle connections.
asio::awaitable<void> pool_bytes(std::string uri, std::size_t k, std::int64_t& bytes, std::string& error) {
  const std::int64_t before = heap_bytes();
  {
    client c(co_await asio::this_coro::executor, uri);
    if (!co_await ping(c, error)) {
      if (co_await pool_filled(c, k)) bytes = heap_bytes() - before;
      else error = "the pool did not reach " + std::to_string(k) + " idle connections in 10 s";
    }
    co_await c.close();
  }
}

// Heap bytes per open session that has run one command (so its server session exists).
asio::awaitable<void> session_bytes(std::string uri, int m, std::int64_t& per_session, std::string& error) {
  client c(co_await asio::this_coro::executor, uri);
  std::vector<session> sessions;
  sessions.reserve(static_cast<std::size_t>(m));
  diagnostics diag;
  bson::document reply;
  const auto command = bson::document::from_json(R"({"ping": 1})");
  if (!co_await ping(c, error)) {
    const std::int64_t before = heap_bytes();
    for (int i = 0; i < m && error.empty(); ++i) {
      sessions.push_back(c.start_session());
      if (auto ec = co_await sessions.back().run_command("admin", command, reply, diag))
        error = "ping with a session: " + ec.message();
    }
    per_session = (heap_bytes() - before) / m;
  }
  for (auto& s : sessions) co_await s.end();
  co_await c.close();
}

template <class Awaitable>
void run(Awaitable a) {
  asio::io_context io(1);
  asio::co_spawn(io, std::move(a), asio::detached);
  io.run();
}

}  // namespace

std::string measure_mongowire(const std::string& uri, int connections, int sessions, figures& out) {
  std::string error;
  std::int64_t one = 0, many = 0;
  const auto k = static_cast<std::size_t>(connections);
  run(pool_bytes(with_options(uri, "minPoolSize=1&maxPoolSize=1"), 1, one, error));
  if (error.empty()) run(pool_bytes(with_options(uri, "minPoolSize=" + std::to_string(k)), k, many, error));
  if (error.empty()) run(session_bytes(uri, sessions, out.per_session_bytes, error));
  out.client_bytes = one;
  out.per_connection_bytes = (many - one) / (connections - 1);
  return error;
}

}  // namespace footprint
