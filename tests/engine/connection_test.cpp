// net::connection against the embedded server: handshake contents on both sides, OP_MSG
// round trips, timeouts, server-side connection closes, cancellation, response matching.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "engine_support.hpp"
#include "proto/wire/frame.hpp"
#include "proto/wire/op_msg.hpp"

namespace mongowire::enginetest {
namespace {

struct connected {
  asio::io_context io;
  command_log log;
  std::unique_ptr<testd::embedded_server> server;
  std::unique_ptr<net::connection> conn;
  bson::document hello_reply;

  explicit connected(net::connection_settings settings = {}, std::string app_name = "enginetest") {
    testd::server_options so;
    so.command_log = log.sink();
    server = std::make_unique<testd::embedded_server>(std::move(so));
    conn = std::make_unique<net::connection>(io.get_executor(), std::move(settings));
    net::topology_options opts;
    opts.app_name = std::move(app_name);
    auto ec = run(io, [&]() -> asio::awaitable<error_code> {
      diagnostics diag;
      if (auto ec = co_await conn->async_connect("127.0.0.1", server->port(), diag)) co_return ec;
      co_return co_await net::handshake(*conn, opts, hello_reply, diag);
    }());
    REQUIRE_MESSAGE(!ec, ec.message());
  }

  // One command on the connection; returns the error and a copy of the reply.
  std::pair<error_code, bson::document> command(bson::view cmd, diagnostics& diag,
                                                std::chrono::milliseconds limit = 10s) {
    return run(
        io,
        [&]() -> asio::awaitable<std::pair<error_code, bson::document>> {
          bson::view reply;
          auto ec = co_await conn->async_command(cmd, std::nullopt, reply, diag);
          co_return std::pair{ec, ec ? bson::document() : bson::document(reply)};
        }(),
        limit);
  }

  void set_failpoint(std::string_view data_json, int times = 1) {
    auto reply = run(io, admin_command(server->port(), fail_command(data_json, times)));
    REQUIRE_MESSAGE(reply["ok"].as_number().value_or(0) == 1.0, reply.to_json());
  }
};

TEST_CASE("handshake: the first hello is legacy isMaster with helloOk and the client metadata (handshake.md)") {
  connected c({}, "my-app");
  auto hellos = c.log.named("isMaster");
  REQUIRE(hellos.size() == 1);
  bson::view sent = hellos[0].command;
  CHECK(sent.first_key() == "isMaster");
  CHECK(sent["isMaster"].as_integer() == 1);
  CHECK(sent["helloOk"].as_bool() == true);
  CHECK(sent["$db"].as_string() == "admin");  // OP_QUERY on admin.$cmd
  CHECK(sent.find_path("client.driver.name").as_string() == "mongowire");
  CHECK(sent.find_path("client.driver.version").as_string().has_value());
  CHECK(sent.find_path("client.os.type").as_string() == "Linux");
  CHECK(sent.find_path("client.application.name").as_string() == "my-app");
  CHECK(c.log.named("hello").empty());
}

TEST_CASE("handshake: without app_name no client.application is sent (handshake.md)") {
  connected c({}, "");
  auto hellos = c.log.named("isMaster");
  REQUIRE(hellos.size() == 1);
  CHECK_FALSE(bson::view(hellos[0].command).find_path("client.application"));
}

TEST_CASE("handshake: the legacy hello reply carries helloOk, wire versions, limits and the connection id") {
  connected c;
  bson::view r = c.hello_reply;
  CHECK(r["ok"].as_number() == 1.0);
  CHECK(r["helloOk"].as_bool() == true);
  CHECK(r["ismaster"].as_bool() == true);  // legacy name answers with the legacy field
  CHECK(r["maxWireVersion"].as_integer() == 21);
  CHECK(r["maxMessageSizeBytes"].as_integer() == 48000000);
  CHECK(r["setName"].as_string() == "rs0");
  REQUIRE(r["connectionId"].as_integer().has_value());
  CHECK(c.conn->server_connection_id == *r["connectionId"].as_integer());
  CHECK(c.log.named("isMaster").at(0).connection_id == c.conn->server_connection_id);
}

TEST_CASE("connection: OP_MSG command round trip after the handshake, many times on one connection") {
  connected c;
  for (int i = 0; i < 20; ++i) {
    diagnostics diag;
    bson::document cmd;
    cmd.append("insert", "coll");
    cmd.append_array_of("documents", [&](bson::array_builder& a) {
      a.push(bson::document().append("_id", std::int32_t{i}).get_view());
    });
    cmd.append("$db", "test");
    auto [ec, reply] = c.command(cmd, diag);
    REQUIRE_MESSAGE(!ec, describe(diag));
    CHECK(reply["ok"].as_number() == 1.0);
    CHECK(reply["n"].as_integer() == 1);
  }
  CHECK(c.log.named("insert").size() == 20);
  CHECK(c.conn->bytes_sent() > 0);
  CHECK(c.conn->bytes_received() > 0);
}

TEST_CASE("connection: a kind-1 document sequence arrives as the named array (OP_MSG.md)") {
  connected c;
  bson::document docs;
  docs.append_array_of("documents", [](bson::array_builder& a) {
    a.push(bson::document().append("_id", std::int32_t{1}).get_view());
    a.push(bson::document().append("_id", std::int32_t{2}).get_view());
  });
  bson::document cmd;
  cmd.append("insert", "seq");
  cmd.append("$db", "test");
  auto [ec, reply] = run(c.io, [&]() -> asio::awaitable<std::pair<error_code, bson::document>> {
    diagnostics diag;
    bson::view r;
    auto ec = co_await c.conn->async_command(
        cmd, detail::document_sequence_ref{"documents", *docs["documents"].as_array()}, r, diag);
    co_return std::pair{ec, ec ? bson::document() : bson::document(r)};
  }());
  REQUIRE(!ec);
  CHECK(reply["n"].as_integer() == 2);
  auto inserts = c.log.named("insert");
  REQUIRE(inserts.size() == 1);
  CHECK(bson::view(*inserts[0].command["documents"].as_array()).count() == 2);
}

TEST_CASE("connection: a server error reply is returned as a reply, not a transport error") {
  connected c;
  diagnostics diag;
  bson::document cmd;
  cmd.append("noSuchCommand", std::int32_t{1});
  cmd.append("$db", "admin");
  auto [ec, reply] = c.command(cmd, diag);
  CHECK(!ec);
  CHECK(reply["ok"].as_number() == 0.0);
  CHECK(reply["code"].as_integer() == 59);  // CommandNotFound
  CHECK_FALSE(c.conn->is_broken());
}

TEST_CASE("connection: socketTimeoutMS expires against blockConnection -> socket_timeout, connection unusable") {
  net::connection_settings settings;
  settings.socket_timeout = 100ms;
  connected c(settings);
  c.set_failpoint(R"({"failCommands": ["ping"], "blockConnection": true, "blockTimeMS": 2000})");
  diagnostics diag;
  const auto started = clock::now();
  auto [ec, reply] = c.command(ping_command(), diag, 5s);
  const auto took = clock::now() - started;
  CHECK(ec == network_errc::socket_timeout);
  CHECK(took >= 90ms);
  CHECK(took < 1500ms);
  CHECK(c.conn->is_broken());
  CHECK_FALSE(c.conn->is_open());
  CHECK(diag.client_message.find("127.0.0.1:") != std::string::npos);
  // A broken connection refuses further commands instead of reading a stale reply.
  diagnostics again;
  auto [ec2, r2] = c.command(ping_command(), again);
  CHECK(ec2 == network_errc::connection_closed);
}

TEST_CASE("connection: a block shorter than socketTimeoutMS is only a slow reply") {
  net::connection_settings settings;
  settings.socket_timeout = 2s;
  connected c(settings);
  c.set_failpoint(R"({"failCommands": ["ping"], "blockConnection": true, "blockTimeMS": 150})");
  diagnostics diag;
  const auto started = clock::now();
  auto [ec, reply] = c.command(ping_command(), diag);
  CHECK(!ec);
  CHECK(clock::now() - started >= 140ms);
  CHECK(reply["ok"].as_number() == 1.0);
  // The timer of the last command must not fire into the next one.
  auto [ec2, r2] = c.command(ping_command(), diag);
  CHECK(!ec2);
}

TEST_CASE("connection: closeConnection failpoint -> network error connection_closed, connection broken") {
  connected c;
  c.set_failpoint(R"({"failCommands": ["ping"], "closeConnection": true})");
  diagnostics diag;
  auto [ec, reply] = c.command(ping_command(), diag);
  CHECK(ec == network_errc::connection_closed);
  CHECK(c.conn->is_broken());
  CHECK(diag.client_message.find("reading from 127.0.0.1:") != std::string::npos);
  CHECK(diag.server_address == "127.0.0.1:" + std::to_string(c.server->port()));
}

TEST_CASE(
    "connection: cancelling an in-flight command aborts it at once with operation_aborted and breaks the connection") {
  connected c;
  c.set_failpoint(R"({"failCommands": ["ping"], "blockConnection": true, "blockTimeMS": 3000})");
  asio::cancellation_signal signal;
  auto cmd = ping_command();
  diagnostics diag;
  auto fut = asio::co_spawn(
      c.io,
      [&]() -> asio::awaitable<error_code> {
        bson::view reply;
        co_return co_await c.conn->async_command(cmd, std::nullopt, reply, diag);
      },
      asio::bind_cancellation_slot(signal.slot(), asio::use_future));
  run_for(c.io, 100ms);  // the command is now waiting for the blocked reply
  REQUIRE(fut.wait_for(0s) == std::future_status::timeout);
  const auto cancelled_at = clock::now();
  signal.emit(asio::cancellation_type::terminal);
  auto ec = wait_for(c.io, fut, 2s);
  CHECK(ec == asio::error::operation_aborted);
  CHECK(clock::now() - cancelled_at < 1s);
  // The reply would still arrive later: the connection must not be reused.
  CHECK(c.conn->is_broken());
}

// A peer that answers every request with a reply for another request id.
asio::awaitable<void> mismatching_peer(asio::ip::tcp::acceptor& acceptor) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  std::uint8_t header[16];
  co_await asio::async_read(socket, asio::buffer(header), asio::use_awaitable);
  auto h = detail::wire::read_header(header);
  std::vector<std::uint8_t> rest(static_cast<std::size_t>(h.message_length) - 16);
  co_await asio::async_read(socket, asio::buffer(rest), asio::use_awaitable);
  std::vector<std::uint8_t> out;
  detail::wire::op_msg_encoder enc(out);
  enc.begin(1, h.request_id + 1000, 0);
  bson::document ok;
  ok.append("ok", 1.0);
  enc.body(ok);
  REQUIRE(!enc.finish(false));
  co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
  co_await sleep_for(200ms);
}

TEST_CASE("connection: a reply whose responseTo is not our requestID is a protocol error (wire protocol)") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::co_spawn(io, mismatching_peer(acceptor), asio::detached);
  net::connection conn(io.get_executor(), {});
  diagnostics diag;
  auto cmd = ping_command();
  auto ec = run(io, [&]() -> asio::awaitable<error_code> {
    if (auto ec = co_await conn.async_connect("127.0.0.1", acceptor.local_endpoint().port(), diag)) co_return ec;
    bson::view reply;
    co_return co_await conn.async_command(cmd, std::nullopt, reply, diag);
  }());
  CHECK(ec == protocol_errc::response_to_mismatch);
  CHECK(diag.client_message.find("expected") != std::string::npos);
  CHECK(conn.is_broken());
}

TEST_CASE("connection: connecting to a port nobody listens on fails with a message naming the address") {
  asio::io_context io;
  const auto port = free_port();
  net::connection conn(io.get_executor(), {});
  diagnostics diag;
  auto ec = run(io, conn.async_connect("127.0.0.1", port, diag));
  CHECK(ec == asio::error::connection_refused);
  CHECK(diag.client_message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_CASE("connection: requestIDs are positive and unique") {
  auto a = net::next_request_id();
  auto b = net::next_request_id();
  CHECK(a > 0);
  CHECK(b > 0);
  CHECK(a != b);
}

}  // namespace
}  // namespace mongowire::enginetest
