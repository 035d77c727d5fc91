// Wire compression against the embedded server (compression/OP_COMPRESSED.md): negotiation in
// the handshake, compressed requests and replies on the wire, the commands never compressed,
// and a whole transaction through the client with each compressor.
#include <map>

#include "engine_support.hpp"
#include "mongowire/client.hpp"
#include "proto/wire/compression.hpp"
#include "proto/wire/frame.hpp"

namespace mongowire::enginetest {
namespace {

namespace wire = mongowire::detail::wire;

// What went over the wire, by direction: opcode and, for OP_COMPRESSED, the compressorId.
struct wire_tally {
  std::mutex mutex;
  std::vector<std::pair<bool, std::int32_t>> frames;  // outgoing, opCode
  std::map<int, int> compressor_ids;                  // compressorId -> frames
  frame_event_handler handler() {
    return [this](const frame_event& e) {
      std::lock_guard lock(mutex);
      const auto op = wire::read_header(e.frame.data()).op_code;
      frames.emplace_back(e.outgoing, op);
      if (op == static_cast<std::int32_t>(wire::opcode::compressed)) ++compressor_ids[e.frame[24]];
    };
  }
  int count(bool outgoing, wire::opcode op) {
    std::lock_guard lock(mutex);
    int n = 0;
    for (auto [out, code] : frames) n += out == outgoing && code == static_cast<std::int32_t>(op);
    return n;
  }
};

struct compressed_connection {
  asio::io_context io;
  command_log log;
  wire_tally tally;
  std::unique_ptr<testd::embedded_server> server;
  std::unique_ptr<net::connection> conn;
  bson::document hello_reply;

  compressed_connection(std::vector<wire::compressor_id> ours, std::vector<std::string> servers) {
    testd::server_options so;
    so.command_log = log.sink();
    so.compressors = std::move(servers);
    server = std::make_unique<testd::embedded_server>(std::move(so));
    net::connection_settings settings;
    settings.compressors = ours;
    settings.observer = tally.handler();
    conn = std::make_unique<net::connection>(io.get_executor(), std::move(settings));
    net::topology_options opts;
    opts.connection.compressors = std::move(ours);
    auto ec = run(io, [&]() -> asio::awaitable<error_code> {
      diagnostics diag;
      if (auto ec = co_await conn->async_connect("127.0.0.1", server->port(), diag)) co_return ec;
      co_return co_await net::handshake(*conn, opts, hello_reply, diag);
    }());
    REQUIRE_MESSAGE(!ec, ec.message());
  }

  bson::document command(bson::view cmd) {
    return run(io, [&]() -> asio::awaitable<bson::document> {
      diagnostics diag;
      bson::view reply;
      auto ec = co_await conn->async_command(cmd, std::nullopt, reply, diag);
      REQUIRE_MESSAGE(!ec, ec.message() << " " << diag.client_message);
      co_return bson::document(reply);
    }());
  }
};

bson::document ping() {
  bson::document d;
  d.append("ping", std::int32_t{1}).append("$db", "admin");
  return d;
}

}  // namespace

TEST_CASE("compression: the handshake offers the compressors and the first common one is used") {
  using wire::compressor_id;
  compressed_connection c({compressor_id::zstd, compressor_id::snappy}, {"snappy", "zlib"});
  auto hellos = c.log.named("isMaster");
  REQUIRE(hellos.size() == 1);
  CHECK(hellos[0].command["compression"].as_array()->count() == 2);
  CHECK(c.hello_reply["compression"].as_array()->count() == 1);
  REQUIRE(c.conn->compressor() == compressor_id::snappy);
  // The hello went uncompressed (OP_QUERY), the ping compressed with snappy both ways.
  CHECK(c.tally.count(true, wire::opcode::query) == 1);
  CHECK(c.command(ping())["ok"].as_number() == 1.0);
  CHECK(c.tally.count(true, wire::opcode::compressed) == 1);
  CHECK(c.tally.count(false, wire::opcode::compressed) == 1);
  CHECK(c.tally.compressor_ids[1] == 2);
}

TEST_CASE("compression: without a common compressor nothing is compressed (OP_COMPRESSED.md: MUST NOT error)") {
  compressed_connection c({wire::compressor_id::zstd}, {"zlib"});
  CHECK_FALSE(c.hello_reply.find("compression"));
  CHECK_FALSE(c.conn->compressor());
  CHECK(c.command(ping())["ok"].as_number() == 1.0);
  CHECK(c.tally.count(true, wire::opcode::compressed) == 0);
}

TEST_CASE("compression: hello and saslStart are never compressed, other commands always are") {
  compressed_connection c({wire::compressor_id::zlib}, {"zlib"});
  REQUIRE(c.conn->compressor() == wire::compressor_id::zlib);
  bson::document hello;
  hello.append("hello", std::int32_t{1}).append("$db", "admin");
  CHECK(c.command(hello)["isWritablePrimary"].as_bool() == true);
  CHECK(c.tally.count(true, wire::opcode::compressed) == 0);
  CHECK(c.tally.count(true, wire::opcode::msg) == 1);
  bson::document big;
  big.append("insert", "c").append("$db", "db");
  big.append_array_of("documents", [](bson::array_builder& a) {
    for (int i = 0; i < 50; ++i)
      a.push(bson::document().append("_id", std::int32_t{i}).append("pad", std::string(200, 'p')).get_view());
  });
  const auto sent_before = c.conn->bytes_sent();
  CHECK(c.command(big)["n"].as_int32() == 50);
  CHECK(c.tally.count(true, wire::opcode::compressed) == 1);
  CHECK(c.conn->bytes_sent() - sent_before < big.size() / 4);  // 10 KB of padding compress well
  CHECK(c.log.named("insert").at(0).command["documents"].as_array()->count() == 50);
}

TEST_CASE("compression: a transaction through the client with each compressor, judged by the server") {
  for (const char* name : {"zlib", "zstd", "snappy"}) {
    CAPTURE(name);
    testd::embedded_server server;
    wire_tally tally;
    asio::io_context io;
    auto job = [&]() -> asio::awaitable<std::string> {
      client_options opts;
      opts.on_frame = tally.handler();
      client c(co_await asio::this_coro::executor,
               "mongodb://" + server.address() + "/?replicaSet=rs0&compressors=" + name, std::move(opts));
      auto s = c.start_session();
      diagnostics diag;
      bson::document reply, insert, update;
      insert.append("insert", "t").append_array_of("documents", [&](bson::array_builder& a) {
        a.push(bson::document().append("_id", std::string(name)).append("n", std::int32_t{1}).get_view());
      });
      update.append("update", "t").append_array_of("updates", [&](bson::array_builder& a) {
        a.push(bson::document::from_json(R"({"q": {"n": 1}, "u": {"$inc": {"n": 1}}})").get_view());
      });
      std::string failure;
      if (auto ec = s.start_transaction(std::nullopt, diag)) failure = "start: " + ec.message();
      else if (auto ec1 = co_await s.run_command("db", insert, reply, diag)) failure = "insert: " + ec1.message();
      else if (auto ec2 = co_await s.run_command("db", update, reply, diag)) failure = "update: " + ec2.message();
      else if (auto ec3 = co_await s.commit_transaction(diag)) failure = "commit: " + ec3.message();
      bson::document status, status_cmd;
      status_cmd.append("serverStatus", std::int32_t{1});
      if (failure.empty() && (co_await c.run_command("admin", status_cmd, status, diag))) failure = "serverStatus";
      co_await c.close();
      if (!failure.empty()) co_return failure;
      // The server decompressed what it received with the negotiated compressor.
      auto bytes = status.get_view().find_path(std::string("network.compression.") + name + ".decompressor.bytesIn");
      co_return bytes.as_int64().value_or(0) > 0 ? std::string() : "server decompressed nothing: " + status.to_json();
    };
    const std::string failure = run(io, job());
    CHECK_MESSAGE(failure.empty(), failure);
    const int id = static_cast<int>(*wire::compressor_from_name(name));
    // insert, update, commit and serverStatus, each way (monitoring hellos stay uncompressed).
    CHECK(tally.compressor_ids[id] >= 8);
    CHECK(tally.compressor_ids.size() == 1);
  }
}

}  // namespace mongowire::enginetest
