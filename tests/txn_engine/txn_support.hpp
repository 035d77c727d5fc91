// Helpers for the transaction/session engine tests: an embedded test server, a client whose
// command events are recorded (the exact documents sent), and a runner for coroutines.
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

namespace txn_test {

namespace asio = boost::asio;
using namespace mongowire;

struct recorded_command {
  std::string name;
  std::string db;
  bson::document doc;
};

// Records the started events (the command as sent) and the failed events' labels.
struct command_recorder {
  std::vector<recorded_command> started;
  std::vector<std::string> failed_names;

  client_options options() {
    client_options o;
    o.on_command = [this](const command_event& e) {
      if (e.type == command_event_type::started)
        started.push_back({e.command_name, e.database_name, bson::document(e.document)});
      if (e.type == command_event_type::failed) failed_names.push_back(e.command_name);
    };
    return o;
  }
  std::vector<const recorded_command*> named(std::string_view name) const {
    std::vector<const recorded_command*> out;
    for (const auto& c : started)
      if (c.name == name) out.push_back(&c);
    return out;
  }
  void clear() {
    started.clear();
    failed_names.clear();
  }
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

inline void run(asio::io_context& io, asio::awaitable<void> aw) {
  std::exception_ptr ex;
  asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e) {
    ex = e;
    io.stop();
  });
  io.restart();
  io.run();
  if (ex) std::rethrow_exception(ex);
}

inline bson::document doc_from_json(std::string_view json) { return bson::document::from_json(json); }

// A server, a recording client and its io_context.
struct fixture {
  testd::embedded_server server;
  asio::io_context io;
  command_recorder rec;
  std::unique_ptr<client> c;

  explicit fixture(std::string uri_options = "") {
    c = std::make_unique<client>(io.get_executor(), server.uri() + uri_options, rec.options());
  }
  // A server started with `server_options` (e.g. a standalone, or one without sessions support).
  fixture(testd::server_options server_options, std::string uri_options) : server(std::move(server_options)) {
    c = std::make_unique<client>(io.get_executor(), server.uri() + uri_options, rec.options());
  }
  ~fixture() {
    if (c) run(io, close_client());
  }
  asio::awaitable<void> close_client() { co_await c->close(); }

  // configureFailPoint failCommand {mode: {times: n}, data: {...}} on admin.
  void fail_command(std::string_view command, int times, bool close_connection, std::optional<int> server_code = {}) {
    bson::document data;
    data.append_array_of("failCommands", [&](bson::array_builder& a) { a.push(std::string_view(command)); });
    if (close_connection) data.append("closeConnection", true);
    if (server_code) data.append("errorCode", std::int32_t{*server_code});
    bson::document mode;
    mode.append("times", std::int32_t{times});
    configure_fail_point(mode, data);
  }
  // failCommand with a retryable overload error (client-backpressure.md): mode {times: n}, or
  // alwaysOn for times < 0.
  void fail_with_overload(std::string_view command, int times) {
    bson::document data =
        doc_from_json(R"({"errorCode": 462, "errorLabels": ["SystemOverloadedError", "RetryableError"]})");
    data.append_array_of("failCommands", [&](bson::array_builder& a) { a.push(std::string_view(command)); });
    bson::document mode;
    if (times >= 0) mode.append("times", std::int32_t{times});
    configure_fail_point(mode, data, times < 0);
  }
  void configure_fail_point(const bson::document& mode, const bson::document& data, bool always_on = false) {
    bson::document cmd;
    cmd.append("configureFailPoint", "failCommand");
    if (always_on) cmd.append("mode", "alwaysOn");
    else cmd.append("mode", mode);
    cmd.append("data", data);
    diagnostics diag;
    auto ec = run(io, [&]() -> asio::awaitable<error_code> {
      bson::document reply;
      co_return co_await c->run_command("admin", cmd, reply, diag);
    }());
    REQUIRE_MESSAGE(!ec, "configureFailPoint failed: " << ec.message() << " " << describe(diag));
  }

  std::int64_t count(std::string_view db, std::string_view coll) {
    return run(io, [&]() -> asio::awaitable<std::int64_t> {
      std::int64_t n = -1;
      diagnostics diag;
      const bson::document all;
      const count_options options;
      auto ec = co_await c->get_collection(db, coll).count_documents(all, options, n, diag);
      REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
      co_return n;
    }());
  }
};

inline transaction_options snapshot_majority() {
  transaction_options o;
  o.read_concern = doc_from_json(R"({"level": "snapshot"})");
  o.write_concern = doc_from_json(R"({"w": "majority"})");
  return o;
}

// The lsid's UUID bytes of a recorded command, for comparisons.
// A standalone mongod (no replica set): no transactions, no retryable writes.
inline testd::server_options standalone() {
  testd::server_options o;
  o.standalone = true;
  return o;
}

inline std::string lsid_of(const bson::view& cmd) {
  auto lsid = cmd["lsid"].as_document();
  if (!lsid) return {};
  auto id = (*lsid)["id"].as_binary();
  if (!id) return {};
  return std::string(reinterpret_cast<const char*>(id->bytes.data()), id->bytes.size());
}

}  // namespace txn_test
