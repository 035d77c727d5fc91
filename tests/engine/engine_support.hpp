// Helpers for the engine tests: run coroutines on a test-owned io_context with a hard time
// limit, start embedded test servers, record what the server saw and which pool events
// the client emitted.
#pragma once

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mongowire/bson.hpp"
#include "mongowire/events.hpp"
#include "net/connection.hpp"
#include "net/embedded_server.hpp"
#include "net/pool.hpp"
#include "net/topology.hpp"

namespace mongowire::enginetest {

namespace asio = boost::asio;
namespace net = mongowire::detail::net;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// Drives `io` until `fut` is ready; fails the test (instead of hanging) after `limit`.
template <class T>
T wait_for(asio::io_context& io, std::future<T>& fut, std::chrono::milliseconds limit = 10s) {
  const auto deadline = clock::now() + limit;
  while (fut.wait_for(0s) != std::future_status::ready) {
    if (clock::now() > deadline) {
      FAIL("operation did not finish within " << limit.count() << " ms");
    }
    if (io.stopped()) io.restart();
    io.run_one_for(5ms);
  }
  return fut.get();
}

// Runs one coroutine to completion on `io` within `limit`.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> aw, std::chrono::milliseconds limit = 10s) {
  auto fut = asio::co_spawn(io, std::move(aw), asio::use_future);
  return wait_for(io, fut, limit);
}

// Keeps running `io` for `d` (lets background work such as monitors progress).
inline void run_for(asio::io_context& io, std::chrono::milliseconds d) {
  const auto until = clock::now() + d;
  while (clock::now() < until) {
    if (io.stopped()) io.restart();
    io.run_one_until(until);
  }
}

// Runs `io` until `pred()` holds; false after `limit`.
template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 5s) {
  const auto deadline = clock::now() + limit;
  while (!pred()) {
    if (clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(5ms);
  }
  return true;
}

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex, d);
  co_await t.async_wait(asio::use_awaitable);
}

// What the server received, recorded on the server's thread.
struct command_record {
  std::int64_t connection_id;
  std::string name;
  bson::document command;
};

class command_log {
 public:
  std::function<void(const testd::command_log_entry&)> sink() {
    return [this](const testd::command_log_entry& e) {
      std::lock_guard lock(mutex_);
      entries_.push_back({e.connection_id, std::string(e.command_name), bson::document(e.command)});
    };
  }
  std::vector<command_record> named(std::string_view name) const {
    std::lock_guard lock(mutex_);
    std::vector<command_record> out;
    for (const auto& e : entries_)
      if (e.name == name) out.push_back(e);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<command_record> entries_;
};

// A port nobody listens on right now, so that a member can advertise its own address in
// hosts/me before it starts (replica-set discovery must find it under that address).
inline std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// A replica-set member "rs0" whose hosts list names the address the client will use.
inline std::unique_ptr<testd::embedded_server> start_member(testd::server_options base = {}) {
  const auto port = free_port();
  testd::listen_options listen;
  listen.port = port;
  return std::make_unique<testd::embedded_server>(
      testd::options_for_address(std::move(base), "127.0.0.1:" + std::to_string(port)), listen);
}

inline host_address address_of(const testd::embedded_server& s) { return {"127.0.0.1", s.port()}; }

// Pool events in order, recorded on the client's executor.
struct event_recorder {
  std::vector<pool_event> events;
  pool_event_handler handler() {
    return [this](const pool_event& e) { events.push_back(e); };
  }
  std::vector<pool_event_type> types() const {
    std::vector<pool_event_type> out;
    for (const auto& e : events) out.push_back(e.type);
    return out;
  }
  std::size_t count(pool_event_type t) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.type == t;
    return n;
  }
};

// Options for a topology (and its pools) pointed at one member; fast heartbeats for tests.
inline net::topology_options topology_options_for(const testd::embedded_server& s, bool direct) {
  net::topology_options o;
  o.sdam.seeds = {address_of(s)};
  if (direct) o.sdam.direct_connection = true;
  else o.sdam.replica_set_name = "rs0";
  o.heartbeat_frequency = 60s;  // checks happen only when asked for, unless a test lowers it
  o.min_heartbeat_frequency = 20ms;
  // Polling: a streaming monitor ignores requests for immediate checks while it waits for the
  // server (server-monitoring.md); tests of streaming ask for it.
  o.monitoring_mode = server_monitoring_mode::poll;
  o.server_selection_timeout = 2s;
  o.connection.connect_timeout = 2s;
  o.app_name = "enginetest";
  return o;
}

// connect + legacy hello handshake, as the topology does for pooled connections.
inline net::connection_initializer handshake_initializer(std::uint16_t port, net::topology_options opts = {}) {
  auto shared = std::make_shared<net::topology_options>(std::move(opts));
  return [port, shared](net::connection& c, diagnostics& diag) -> asio::awaitable<error_code> {
    if (auto ec = co_await c.async_connect("127.0.0.1", port, diag)) co_return ec;
    bson::document reply;
    co_return co_await net::handshake(c, *shared, reply, diag);
  };
}

// Sends one OP_MSG command on a fresh connection (failpoint configuration and the like).
inline asio::awaitable<bson::document> admin_command(std::uint16_t port, bson::document cmd) {
  auto ex = co_await asio::this_coro::executor;
  net::connection c(ex, net::connection_settings{});
  diagnostics diag;
  if (auto ec = co_await c.async_connect("127.0.0.1", port, diag)) throw std::runtime_error(describe(diag));
  bson::document reply;
  const net::topology_options opts;  // a named object: g++ 12 mishandles temporaries in co_await expressions
  if (auto ec = co_await net::handshake(c, opts, reply, diag)) throw std::runtime_error(describe(diag));
  if (!cmd.get_view().contains("$db")) cmd.append("$db", "admin");
  bson::view r;
  if (auto ec = co_await c.async_command(cmd, std::nullopt, r, diag)) throw std::runtime_error(describe(diag));
  co_return bson::document(r);
}

// failCommand failpoint with the given `data` (extended JSON) for `times` commands.
inline bson::document fail_command(std::string_view data_json, int times = 1) {
  bson::document cmd;
  cmd.append("configureFailPoint", "failCommand");
  cmd.append_document("mode", [&](bson::document& m) { m.append("times", std::int32_t{times}); });
  cmd.append("data", bson::document::from_json(data_json));
  return cmd;
}

inline bson::document ping_command() {
  bson::document d;
  d.append("ping", std::int32_t{1});
  d.append("$db", "admin");
  return d;
}

}  // namespace mongowire::enginetest
