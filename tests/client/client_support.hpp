// Helpers for the API-layer tests: an embedded test server, a client that records its
// command and pool events, and a runner for coroutines.
#pragma once

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mongowire/client.hpp"
#include "net/embedded_server.hpp"

namespace client_test {

namespace asio = boost::asio;
using namespace mongowire;

struct recorded_event {
  command_event_type type;
  std::string name;
  bson::document doc;  // the command as sent, or the reply
  std::int64_t operation_id = 0;
};

// Runs `aw` on `io` until it completes (the client's monitors keep the io_context busy).
template <class T>
T run(asio::io_context& io, asio::awaitable<T> aw) {
  std::optional<T> out;
  std::exception_ptr ex;
  asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T v) {
    ex = e;
    out = std::move(v);
    io.stop();
  });
  io.restart();
  io.run();
  if (ex) std::rethrow_exception(ex);
  return std::move(*out);
}

// A server, a recording client and its io_context.
struct fixture {
  testd::embedded_server server;
  asio::io_context io;
  std::vector<recorded_event> events;
  std::vector<pool_event_type> pool_events;
  std::unique_ptr<client> c;

  // `server_options`: e.g. max_wire_version 25 for MongoDB 8.0's bulkWrite.
  explicit fixture(std::string uri_options = "", testd::server_options server_options = {})
      : server(std::move(server_options)) {
    client_options o;
    o.on_command = [this](const command_event& e) {
      events.push_back({e.type, e.command_name, bson::document(e.document), e.operation_id});
    };
    o.on_pool_event = [this](const pool_event& e) { pool_events.push_back(e.type); };
    c = std::make_unique<client>(io.get_executor(), server.uri() + uri_options, std::move(o));
  }
  ~fixture() {
    if (c) run(io, close_client());
  }
  asio::awaitable<error_code> close_client() { co_return co_await c->close(); }

  // The commands named `name` as sent.
  std::vector<const bson::document*> started(std::string_view name) const {
    std::vector<const bson::document*> out;
    for (const auto& e : events)
      if (e.type == command_event_type::started && e.name == name) out.push_back(&e.doc);
    return out;
  }
  std::size_t pool_cleared_count() const {
    std::size_t n = 0;
    for (auto t : pool_events) n += t == pool_event_type::pool_cleared;
    return n;
  }
  // configureFailPoint on admin, given as JSON.
  void fail_point(const std::string& json) {
    auto cmd = bson::document::from_json(json);
    auto ec = run(io, [&]() -> asio::awaitable<error_code> {
      bson::document reply;
      diagnostics diag;
      co_return co_await c->run_command("admin", cmd, reply, diag);
    }());
    REQUIRE(!ec);
  }
  std::int64_t count(std::string_view coll) {
    return run(io, [&]() -> asio::awaitable<std::int64_t> {
      std::int64_t n = -1;
      diagnostics diag;
      auto filter = bson::document();
      const count_options options;
      auto ec = co_await c->get_collection("test", coll).count_documents(filter, options, n, diag);
      REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
      co_return n;
    }());
  }
};

// A document {_id: id, s: "xxx..."} of exactly `size` bytes (size >= 32).
inline bson::document document_of_size(std::int32_t id, std::size_t size) {
  bson::document probe;
  probe.append("_id", id);
  probe.append("s", std::string_view(""));
  bson::document d;
  d.append("_id", id);
  d.append("s", std::string(size - probe.size(), 'x'));
  return d;
}

inline std::size_t array_size(const bson::document& command, std::string_view field) {
  auto a = command[field].as_array();
  return a ? a->count() : 0;
}

}  // namespace client_test
