// The test server's network layer over real loopback sockets: port-0 addresses, replica
// sets of several members, malformed frames, moreToCome, checksums, legacy OP_QUERY.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <mutex>
#include <thread>

#include "proto/wire/compression.hpp"
#include "net/embedded_server.hpp"
#include "raw_client.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;
using namespace std::chrono_literals;

namespace {

// Collects the server's protocol log lines (written from the server's thread).
struct log_capture {
  std::mutex mutex;
  std::vector<std::string> lines;
  listen_options options() {
    listen_options o;
    o.log = [this](const std::string& line) {
      std::lock_guard lock(mutex);
      lines.push_back(line);
    };
    return o;
  }
  bool contains(std::string_view text) {
    std::lock_guard lock(mutex);
    for (auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

std::vector<std::string> strings_of(bson::element array) {
  std::vector<std::string> out;
  if (array.is_array())
    for (auto e : bson::view(*array.as_array())) out.emplace_back(e.as_string().value_or(""));
  return out;
}

std::int64_t topology_counter(const bson::document& hello) {
  return hello.get_view().find_path("topologyVersion.counter").as_int64().value_or(-1);
}

bool ok(const bson::document& reply) { return reply["ok"].as_number().value_or(0) == 1.0; }

// The reply `c` awaits, while member 1 is elected 100 ms into the wait (a topology change).
auto read_during_failover(embedded_replica_set& rs, raw_client& c) {
  std::thread failover([&] {
    std::this_thread::sleep_for(100ms);
    rs.step_down_and_elect(1);
  });
  auto frame = c.read_frame(10s);
  failover.join();
  return frame;
}

// An awaitable hello (SDAM "Streaming Protocol"): answered on a topology change or after maxAwaitTimeMS.
bson::document awaitable_hello(bson::view topology_version, std::int64_t max_await_ms) {
  bson::document awaitable;
  awaitable.append("hello", 1);
  awaitable.append("topologyVersion", topology_version);
  awaitable.append("maxAwaitTimeMS", max_await_ms);
  awaitable.append("$db", "admin");
  return awaitable;
}
std::int32_t code_of(const bson::document& reply) { return reply["code"].as_int32().value_or(0); }

// A valid OP_MSG ping frame to corrupt.
std::vector<std::uint8_t> ping_frame(std::int32_t request_id = 7, bool checksum = false) {
  auto body = bson::document::from_json(R"({"ping": 1, "$db": "admin"})");
  return raw_client::op_msg(body, request_id, 0, checksum);
}

void set_length(std::vector<std::uint8_t>& frame, std::uint32_t length) { wire::store_u32le(frame.data(), length); }

// Sends `bytes` on a fresh connection; checks that the server closes that connection and
// logs why, while an already open connection keeps being served.
void check_closes_only_that_connection(std::span<const std::uint8_t> bytes, std::string_view logged) {
  log_capture log;
  embedded_server server({}, log.options());
  raw_client healthy(server.port());
  REQUIRE(ok(healthy.command(R"({"ping": 1})")));
  {
    raw_client bad(server.port());
    bad.send(bytes);
    CHECK(bad.wait_closed());
  }
  CHECK(log.contains("closed"));
  CHECK(log.contains(logged));
  CHECK(ok(healthy.command(R"({"ping": 1})")));
  raw_client fresh(server.port());
  CHECK(ok(fresh.command(R"({"ping": 1})")));
}

}  // namespace

TEST_CASE("an embedded server on port 0 advertises the address it is bound to in hello") {
  embedded_server server;
  REQUIRE(server.port() != 0);
  raw_client c(server.port());
  auto hello = c.command(R"({"hello": 1})");
  auto address = "127.0.0.1:" + std::to_string(server.port());
  CHECK(server.address() == address);
  CHECK(hello["me"].as_string() == address);
  CHECK(hello["primary"].as_string() == address);
  CHECK(strings_of(hello["hosts"]) == std::vector<std::string>{address});
  CHECK(server.uri() == "mongodb://" + address + "/?directConnection=true");
}

TEST_CASE("set_members changes hosts and me in hello and bumps topologyVersion") {
  embedded_server server;
  raw_client c(server.port());
  auto before = c.command(R"({"hello": 1})");
  server.core().set_members({"a:1", "b:2"}, "b:2");
  auto after = c.command(R"({"hello": 1})");
  CHECK(strings_of(after["hosts"]) == std::vector<std::string>{"a:1", "b:2"});
  CHECK(after["me"].as_string() == "b:2");
  CHECK(topology_counter(after) == topology_counter(before) + 1);
}

TEST_CASE("a replica set of three: every member lists all hosts, the set name and the primary") {
  embedded_replica_set rs(3);
  auto hosts = rs.hosts();
  REQUIRE(hosts.size() == 3);
  CHECK(rs.uri() == "mongodb://" + hosts[0] + "," + hosts[1] + "," + hosts[2] + "/?replicaSet=rs0");
  for (std::size_t i = 0; i < 3; ++i) {
    raw_client c(rs.member(i).port());
    auto hello = c.command(R"({"hello": 1})");
    CAPTURE(i);
    CHECK(strings_of(hello["hosts"]) == hosts);
    CHECK(hello["setName"].as_string() == "rs0");
    CHECK(hello["me"].as_string() == hosts[i]);
    CHECK(hello["primary"].as_string() == hosts[0]);
    CHECK(hello["isWritablePrimary"].as_bool() == (i == 0));
    CHECK(hello["secondary"].as_bool() == (i != 0));
    CHECK(hello.get_view().contains("electionId") == (i == 0));
  }
}

TEST_CASE("secondaries refuse writes with NotWritablePrimary (10107) and the primary accepts them") {
  embedded_replica_set rs(2);
  raw_client primary(rs.member(0).port());
  raw_client secondary(rs.member(1).port());
  CHECK(ok(primary.command(R"({"insert": "c", "documents": [{"_id": 1}], "$db": "test"})")));
  auto refused = secondary.command(R"({"insert": "c", "documents": [{"_id": 1}], "$db": "test"})");
  CHECK(code_of(refused) == 10107);
  CHECK(refused["codeName"].as_string() == "NotWritablePrimary");
}

TEST_CASE("replica set members replicate over the network: lag, afterClusterTime waits, failover keeps the data") {
  server_options lagging;
  lagging.replication_lag = 300ms;
  embedded_replica_set rs(2, lagging);
  raw_client primary(rs.member(0).port());
  raw_client secondary(rs.member(1).port());
  auto write =
      primary.command(R"({"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 1}, "$db": "test"})");
  REQUIRE(ok(write));
  const auto t = *write["operationTime"].as_timestamp();
  const std::string secondary_find = R"({"find": "c", "$db": "test", "$readPreference": {"mode": "secondary"})";
  auto early = secondary.command(secondary_find + "}");
  CHECK(early.get_view().find_path("cursor.firstBatch").as_array()->empty());
  // The secondary holds the read back until it has applied the write, then answers it.
  const auto started = std::chrono::steady_clock::now();
  auto causal = secondary.command(secondary_find + R"(, "readConcern": {"afterClusterTime": {"$timestamp": {"t": )" +
                                  std::to_string(t.t) + R"(, "i": )" + std::to_string(t.i) + "}}}}");
  CHECK(std::chrono::steady_clock::now() - started >= 200ms);
  REQUIRE(ok(causal));
  CHECK_FALSE(causal.get_view().find_path("cursor.firstBatch").as_array()->empty());
  rs.step_down_and_elect(1);
  auto found = secondary.command(R"({"find": "c", "$db": "test"})");
  REQUIRE(ok(found));
  CHECK_FALSE(found.get_view().find_path("cursor.firstBatch").as_array()->empty());
}

TEST_CASE("replSetStepDown elects the next member not frozen by replSetFreeze; the data follows the primary") {
  embedded_replica_set rs(3);
  raw_client primary(rs.member(0).port());
  raw_client second(rs.member(1).port());
  raw_client third(rs.member(2).port());
  REQUIRE(ok(primary.command(R"({"insert": "c", "documents": [{"_id": 1}], "$db": "test"})")));
  CHECK(code_of(primary.command(R"({"replSetFreeze": 10, "$db": "admin"})")) == 95);  // NotSecondary
  CHECK(code_of(second.command(R"({"replSetStepDown": 10, "$db": "admin"})")) == 10107);
  CHECK(code_of(second.command(R"({"replSetFreeze": 10, "$db": "test"})")) == 13);  // admin only
  REQUIRE(ok(second.command(R"({"replSetFreeze": 30, "$db": "admin"})")));
  REQUIRE(ok(primary.command(R"({"replSetStepDown": 30, "secondaryCatchUpPeriodSecs": 10, "$db": "admin"})")));
  CHECK(primary.command(R"({"hello": 1})")["isWritablePrimary"].as_bool() == false);
  // The election runs right after the reply, on the member's own thread.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (rs.primary() != 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  CHECK(rs.primary() == 2);  // member 1 is frozen
  CHECK(third.command(R"({"hello": 1})")["isWritablePrimary"].as_bool() == true);
  auto found = third.command(R"({"find": "c", "$db": "test"})");
  REQUIRE(ok(found));
  CHECK_FALSE(found.get_view().find_path("cursor.firstBatch").as_array()->empty());
}

TEST_CASE("step_down_and_elect moves the primary, raises the electionId and bumps every topologyVersion") {
  embedded_replica_set rs(3);
  auto hosts = rs.hosts();
  std::vector<std::unique_ptr<raw_client>> clients;
  std::vector<std::int64_t> counters;
  for (std::size_t i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<raw_client>(rs.member(i).port()));
    counters.push_back(topology_counter(clients[i]->command(R"({"hello": 1})")));
  }
  auto old_election = *clients[0]->command(R"({"hello": 1})")["electionId"].as_oid();

  rs.step_down_and_elect(2);
  CHECK(rs.primary() == 2);
  for (std::size_t i = 0; i < 3; ++i) {
    auto hello = clients[i]->command(R"({"hello": 1})");
    CAPTURE(i);
    CHECK(hello["primary"].as_string() == hosts[2]);
    CHECK(hello["isWritablePrimary"].as_bool() == (i == 2));
    CHECK(topology_counter(hello) > counters[i]);
  }
  auto new_election = *clients[2]->command(R"({"hello": 1})")["electionId"].as_oid();
  CHECK(old_election.bytes < new_election.bytes);  // SDAM: a higher electionId wins
  CHECK(code_of(clients[0]->command(R"({"insert": "c", "documents": [{}], "$db": "test"})")) == 10107);
  CHECK(ok(clients[2]->command(R"({"insert": "c", "documents": [{}], "$db": "test"})")));

  rs.step_down_and_elect(-1);
  auto leaderless = clients[1]->command(R"({"hello": 1})");
  CHECK_FALSE(leaderless.get_view().contains("primary"));
  CHECK(leaderless["isWritablePrimary"].as_bool() == false);
}

TEST_CASE("an awaitable hello is answered as soon as the topology changes, with the new state") {
  embedded_replica_set rs(2);
  raw_client c(rs.member(1).port());
  auto first = c.command(R"({"hello": 1})");
  auto tv = *first["topologyVersion"].as_document();
  const bson::document awaitable = awaitable_hello(tv, 20000);
  auto started = std::chrono::steady_clock::now();
  c.send(raw_client::op_msg(awaitable, 42));
  auto frame = read_during_failover(rs, c);
  REQUIRE(frame);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  wire::op_msg_view msg;
  REQUIRE_FALSE(wire::op_msg_view::parse(*frame, msg));
  bson::view reply = msg.body();
  CHECK(reply["isWritablePrimary"].as_bool() == true);
  CHECK(reply.find_path("topologyVersion.counter").as_int64() > tv["counter"].as_int64());
}

TEST_CASE("an awaitable hello without topology change waits maxAwaitTimeMS") {
  embedded_server server;
  raw_client c(server.port());
  auto first = c.command(R"({"hello": 1})");  // named: `tv` views into it
  auto tv = *first["topologyVersion"].as_document();
  const bson::document awaitable = awaitable_hello(tv, 300);
  auto started = std::chrono::steady_clock::now();
  c.send(raw_client::op_msg(awaitable, 1));
  CHECK(c.read_frame(5s));
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);
}

// mongod sleeps blockTimeMS before it runs the hello, which then waits maxAwaitTimeMS: the
// monitor's check takes both (sdam-unified/hello-timeout.json "Network timeout on Monitor check").
TEST_CASE("failCommand blockConnection on an awaitable hello adds blockTimeMS to maxAwaitTimeMS") {
  embedded_server server;
  raw_client setup(server.port());
  REQUIRE(ok(setup.command(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["hello"], "appName": "monitor", "blockConnection": true, "blockTimeMS": 400}})")));
  raw_client c(server.port());
  auto first = c.command(R"({"hello": 1, "client": {"application": {"name": "monitor"}}})");  // not awaitable: blocked
  auto tv = *first["topologyVersion"].as_document();
  REQUIRE(ok(setup.command(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["hello"], "appName": "monitor", "blockConnection": true, "blockTimeMS": 400}})")));
  const bson::document awaitable = awaitable_hello(tv, 300);
  auto started = std::chrono::steady_clock::now();
  c.send(raw_client::op_msg(awaitable, 1));
  CHECK(c.read_frame(5s));
  CHECK(std::chrono::steady_clock::now() - started >= 700ms);
}

TEST_CASE("a topology change during a failCommand block ends the block-free wait, and fires no failpoint again") {
  embedded_replica_set rs(2);
  raw_client c(rs.member(1).port());
  auto first = c.command(R"({"hello": 1, "client": {"application": {"name": "monitor"}}})");
  auto tv = *first["topologyVersion"].as_document();
  REQUIRE(ok(c.command(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 2}, "data": {"failCommands": ["hello"], "appName": "monitor", "blockConnection": true, "blockTimeMS": 400}})")));
  const bson::document awaitable = awaitable_hello(tv, 20000);
  auto started = std::chrono::steady_clock::now();
  c.send(raw_client::op_msg(awaitable, 42));
  auto frame = read_during_failover(rs, c);
  REQUIRE(frame);
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(took >= 400ms);  // the block is not cut short
  CHECK(took < 5s);      // nor is the new state held back for maxAwaitTimeMS
  wire::op_msg_view msg;
  REQUIRE_FALSE(wire::op_msg_view::parse(*frame, msg));
  CHECK(msg.body()["isWritablePrimary"].as_bool() == true);
  // The hello ran again with the same request: the failpoint acted once, one time is left.
  auto off = c.command(R"({"configureFailPoint": "failCommand", "mode": "off"})");
  CHECK(off["count"].as_int64() == 1);
}

TEST_CASE("malformed frames close only their own connection, and the reason is logged") {
  SUBCASE("messageLength below the 16-byte header") {
    auto f = ping_frame();
    set_length(f, 10);
    check_closes_only_that_connection(f, "messageLength");
  }
  SUBCASE("messageLength above maxMessageSizeBytes") {
    auto f = ping_frame();
    set_length(f, 0x7ffffff0);
    check_closes_only_that_connection(f, "messageLength");
  }
  SUBCASE("messageLength that cuts the body document short") {
    auto f = ping_frame();
    f.resize(f.size() - 4);
    set_length(f, static_cast<std::uint32_t>(f.size()));
    check_closes_only_that_connection(f, "closed:");
  }
  SUBCASE("a frame cut short by the peer closing its side") {
    auto f = ping_frame();
    log_capture log;
    embedded_server server({}, log.options());
    {
      raw_client bad(server.port());
      bad.send(std::span(f).first(f.size() / 2));
    }  // closes the socket
    raw_client probe(server.port());
    CHECK(ok(probe.command(R"({"ping": 1})")));
    for (int i = 0; i < 100 && !log.contains("middle of a frame"); ++i) std::this_thread::sleep_for(10ms);
    CHECK(log.contains("middle of a frame"));
  }
  SUBCASE("an unknown section kind") {
    auto f = ping_frame();
    f[20] = 7;  // header (16) + flagBits (4): the first section's kind byte
    check_closes_only_that_connection(f, "closed:");
  }
  SUBCASE("a checksum that does not match") {
    auto f = ping_frame(7, true);
    f.back() ^= 0xff;
    check_closes_only_that_connection(f, "closed:");
  }
  SUBCASE("an unknown required flag bit") {
    auto f = raw_client::op_msg(bson::document::from_json(R"({"ping": 1, "$db": "admin"})"), 1, 1u << 5);
    check_closes_only_that_connection(f, "closed:");
  }
  SUBCASE("OP_COMPRESSED, never negotiated") {
    auto f = ping_frame();
    wire::store_i32le(f.data() + 12, static_cast<std::int32_t>(wire::opcode::compressed));
    check_closes_only_that_connection(f, "OP_COMPRESSED");
  }
}

TEST_CASE("OP_COMPRESSED: a negotiated compressor is answered in kind; another one closes the connection") {
  log_capture log;
  embedded_server server({}, log.options());
  raw_client c(server.port());
  auto hello = c.command(R"({"hello": 1, "compression": ["zlib"]})");
  REQUIRE(hello["compression"].as_array()->count() == 1);
  wire::frame_codec codec;
  std::vector<std::uint8_t> compressed, reply;
  REQUIRE_FALSE(codec.compress(ping_frame(9), wire::compressor_id::zlib, compressed));
  c.send(compressed);
  auto frame = c.read_frame();
  REQUIRE(frame);
  CHECK(wire::read_header(frame->data()).op_code == static_cast<std::int32_t>(wire::opcode::compressed));
  CHECK((*frame)[24] == static_cast<std::uint8_t>(wire::compressor_id::zlib));  // the request's compressor
  REQUIRE_FALSE(codec.decompress(*frame, reply));
  wire::op_msg_view msg;
  REQUIRE_FALSE(wire::op_msg_view::parse(reply, msg));
  CHECK(msg.header().response_to == 9);
  CHECK(msg.body()["ok"].as_number() == 1.0);
  // An uncompressed request still gets an uncompressed reply.
  CHECK(ok(c.command(R"({"ping": 1})")));
  REQUIRE_FALSE(codec.compress(ping_frame(10), wire::compressor_id::zstd, compressed));
  c.send(compressed);
  CHECK(c.wait_closed());
  for (int i = 0; i < 100 && !log.contains("not negotiated"); ++i) std::this_thread::sleep_for(10ms);
  CHECK(log.contains("zstd) was not negotiated"));
}

TEST_CASE("a moreToCome request gets no reply; the next request's reply comes first") {
  embedded_server server;
  raw_client c(server.port());
  auto insert = bson::document::from_json(
      R"({"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 0}, "$db": "test"})");
  c.send(raw_client::op_msg(insert, 100, wire::msg_flag::more_to_come));
  c.send(ping_frame(101));
  auto frame = c.read_frame();
  REQUIRE(frame);
  CHECK(wire::read_header(frame->data()).response_to == 101);
  CHECK_FALSE(c.read_frame(200ms));  // nothing else is coming
  auto found = c.command(R"({"find": "c", "$db": "test"})");
  CHECK(found.get_view().find_path("cursor.firstBatch").as_array()->to_relaxed_json() == R"({ "0" : { "_id" : 1 } })");
}

TEST_CASE("a moreToCome write refused as not primary closes the connection, as mongod does") {
  embedded_replica_set rs(2);
  raw_client c(rs.member(1).port());
  auto insert = bson::document::from_json(
      R"({"insert": "c", "documents": [{"_id": 1}], "writeConcern": {"w": 0}, "$db": "test"})");
  c.send(raw_client::op_msg(insert, 5, wire::msg_flag::more_to_come));
  CHECK(c.wait_closed());
}

TEST_CASE("a checksummed request gets a checksummed reply") {
  embedded_server server;
  raw_client c(server.port());
  c.send(ping_frame(9, true));
  auto frame = c.read_frame();
  REQUIRE(frame);
  wire::op_msg_view msg;
  REQUIRE_FALSE(wire::op_msg_view::parse(*frame, msg));  // parse verifies the CRC-32C
  CHECK(msg.checksum_present());
  CHECK(msg.header().response_to == 9);
  CHECK(msg.body()["ok"].as_number() == 1.0);

  c.send(ping_frame(10, false));
  auto plain = c.read_frame();
  REQUIRE(plain);
  REQUIRE_FALSE(wire::op_msg_view::parse(*plain, msg));
  CHECK_FALSE(msg.checksum_present());
}

TEST_CASE("a legacy OP_QUERY isMaster on admin.$cmd is answered with OP_REPLY") {
  embedded_server server;
  raw_client c(server.port());
  std::vector<std::uint8_t> q;
  REQUIRE_FALSE(wire::encode_op_query(q, 77, "admin.$cmd", 0, 0, -1, bson::document::from_json(R"({"isMaster": 1})")));
  c.send(q);
  auto frame = c.read_frame();
  REQUIRE(frame);
  wire::op_reply_view reply;
  REQUIRE_FALSE(wire::parse_op_reply(*frame, reply));
  CHECK(reply.header.op_code == static_cast<std::int32_t>(wire::opcode::reply));
  CHECK(reply.header.response_to == 77);
  CHECK(reply.number_returned == 1);
  CHECK(reply.first_document["ismaster"].as_bool() == true);
  CHECK(reply.first_document["me"].as_string() == server.address());
}

TEST_CASE("pipelined requests are all answered, in order") {
  embedded_server server;
  raw_client c(server.port());
  std::vector<std::uint8_t> batch;
  for (std::int32_t id = 1; id <= 50; ++id) {
    auto f = ping_frame(id);
    batch.insert(batch.end(), f.begin(), f.end());
  }
  c.send(batch);
  for (std::int32_t id = 1; id <= 50; ++id) {
    auto frame = c.read_frame();
    REQUIRE(frame);
    CHECK(wire::read_header(frame->data()).response_to == id);
  }
}

TEST_CASE("the latency knob delays every reply") {
  listen_options o;
  o.reply_latency = 30ms;
  embedded_server server({}, o);
  raw_client c(server.port());
  auto started = std::chrono::steady_clock::now();
  CHECK(ok(c.command(R"({"ping": 1})")));
  CHECK(ok(c.command(R"({"ping": 1})")));
  CHECK(std::chrono::steady_clock::now() - started >= 60ms);
}

TEST_CASE("a failCommand closeConnection closes the connection without a reply") {
  embedded_server server;
  raw_client admin(server.port());
  REQUIRE(ok(admin.command(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["ping"], "closeConnection": true}})")));
  raw_client victim(server.port());
  victim.send(ping_frame(3));
  CHECK_FALSE(victim.read_frame());
  CHECK(victim.closed());
  CHECK(ok(admin.command(R"({"ping": 1})")));
}

TEST_CASE("an embedded sharded cluster: routers on their own ports over one store, each with its own transactions") {
  embedded_sharded_cluster cluster(2);
  REQUIRE(cluster.size() == 2);
  CHECK(cluster.uri() == "mongodb://" + cluster.address(0) + "," + cluster.address(1) + "/");
  CHECK(cluster.router_uri(1) == "mongodb://" + cluster.address(1) + "/?directConnection=true");
  const auto port = [&](std::size_t i) {
    auto a = cluster.address(i);
    return static_cast<std::uint16_t>(std::stoi(a.substr(a.rfind(':') + 1)));
  };
  raw_client first(port(0));
  raw_client second(port(1));
  CHECK(second.command(R"({"hello": 1, "$db": "admin"})")["msg"].as_string() ==
        std::optional<std::string_view>("isdbgrid"));
  const std::string txn = R"("lsid": {"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAA==", "subType": "04"}}},
      "txnNumber": {"$numberLong": "1"}, "autocommit": false, "$db": "test")";
  auto started = first.command(R"({"insert": "c", "documents": [{"_id": 1}], "startTransaction": true, )" + txn + "}");
  REQUIRE(started["ok"].as_number() == 1.0);
  CHECK(started["recoveryToken"].is_document());
  CHECK(second.command(R"({"insert": "c", "documents": [{"_id": 2}], )" + txn + "}")["code"].as_int32() == 251);
  CHECK(first.command(R"({"commitTransaction": 1, )" + txn + "}")["ok"].as_number() == 1.0);
  auto found = second.command(R"({"find": "c", "$db": "test"})");
  CHECK(found.get_view().find_path("cursor.firstBatch").as_array()->count() == 1);
}

TEST_CASE("load-balanced embedded cluster: one load balancer over router 0, one round robin over every router") {
  server_options o;
  o.load_balanced = true;
  embedded_sharded_cluster cluster(2, o);
  REQUIRE(cluster.size() == 2);
  CHECK(cluster.uri() == "mongodb://" + cluster.address(0) + "/?loadBalanced=true");
  CHECK(cluster.multi_mongos_uri() == "mongodb://" + cluster.address(1) + "/?loadBalanced=true");
  const auto port = [&](std::size_t i) {
    auto a = cluster.address(i);
    return static_cast<std::uint16_t>(std::stoi(a.substr(a.rfind(':') + 1)));
  };
  const std::string hello = R"({"hello": 1, "loadBalanced": true, "$db": "admin"})";
  const auto service_of = [&](raw_client& c) { return *c.command(hello)["serviceId"].as_oid(); };
  // load-balancers.md: each mongos has its own serviceId; new connections alternate between them.
  raw_client single_a(port(0)), single_b(port(0));
  const auto router0 = service_of(single_a);
  CHECK(service_of(single_b) == router0);
  raw_client multi_a(port(1)), multi_b(port(1)), multi_c(port(1));
  const auto first = service_of(multi_a);
  const auto second = service_of(multi_b);
  CHECK_FALSE(first == second);
  CHECK((first == router0 || second == router0));
  CHECK(service_of(multi_c) == first);
  // failCommand is the mongos's own: set through one connection, the other router ignores it.
  REQUIRE(ok(multi_a.command(
      R"({"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["ping"], "errorCode": 11600}, "$db": "admin"})")));
  CHECK(ok(multi_b.command(R"({"ping": 1, "$db": "admin"})")));
  CHECK(multi_c.command(R"({"ping": 1, "$db": "admin"})")["code"].as_int32() == 11600);
}
