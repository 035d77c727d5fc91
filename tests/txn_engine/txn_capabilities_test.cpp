// client::capabilities (issue 16 "capability preflight") against the test server playing a
// replica set, a sharded cluster, a standalone, a server without sessions and old server
// versions (old mongoses: tests/unit/txn/capabilities_test.cpp).
#include "txn_support.hpp"

using namespace txn_test;

namespace {

asio::awaitable<error_code> query(client& c, deployment_capabilities& caps, diagnostics& diag) {
  co_return co_await c.capabilities(caps, diag);
}

asio::awaitable<void> close(client& c) { co_await c.close(); }

// A client of `server` through discovery (replicaSet=rs0), not a direct connection.
struct discovered {
  testd::embedded_server server;
  asio::io_context io;
  std::unique_ptr<client> c;
  explicit discovered(testd::server_options o = {}, std::string uri_options = "")
      : server(std::move(o)),
        c(std::make_unique<client>(io.get_executor(), "mongodb://" + server.address() + "/" + uri_options)) {}
  ~discovered() { run(io, close(*c)); }
  deployment_capabilities capabilities() {
    deployment_capabilities caps;
    diagnostics diag;
    const auto ec = run(io, query(*c, caps, diag));
    REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
    return caps;
  }
};

testd::server_options wire(std::int32_t max_wire_version) {
  testd::server_options o;
  o.max_wire_version = max_wire_version;
  return o;
}

}  // namespace

TEST_CASE("issue 16 capabilities: a replica set primary has sessions, retryable writes and transactions") {
  discovered d({}, "?replicaSet=rs0");
  const auto caps = d.capabilities();
  CHECK(caps.topology_type == "ReplicaSetWithPrimary");
  CHECK(caps.server == d.server.address());
  CHECK(caps.server_type == "RSPrimary");
  CHECK(caps.max_wire_version == 21);
  CHECK(caps.logical_session_timeout_minutes == 30);
  CHECK(caps.compatible);
  CHECK(caps.sessions);
  CHECK(caps.retryable_writes);
  CHECK(caps.transactions);
  CHECK(caps.transactions_why_not.empty());
  CHECK_FALSE(caps.sharded_transactions);  // not a sharded cluster
  CHECK(caps.sharded_transactions_why_not.find("not a sharded cluster") != std::string::npos);
}

TEST_CASE("issue 16 capabilities: a sharded cluster (two mongos routers of the test server) has sharded transactions") {
  testd::embedded_sharded_cluster cluster(2);
  asio::io_context io;
  client c(io.get_executor(), cluster.uri());
  deployment_capabilities caps;
  diagnostics diag;
  const auto ec = run(io, query(c, caps, diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  CHECK(caps.topology_type == "Sharded");
  CHECK(caps.server_type == "Mongos");
  CHECK(caps.retryable_writes);
  CHECK(caps.transactions);
  CHECK(caps.sharded_transactions);
  CHECK(caps.sharded_transactions_why_not.empty());
  run(io, close(c));
}

TEST_CASE("issue 16 capabilities: a standalone has sessions only, and the preflight refuses with the same reason") {
  fixture f(standalone(), "");
  deployment_capabilities caps;
  diagnostics diag;
  REQUIRE_FALSE(run(f.io, query(*f.c, caps, diag)));
  CHECK(caps.topology_type == "Single");
  CHECK(caps.server_type == "Standalone");
  CHECK(caps.sessions);
  CHECK_FALSE(caps.retryable_writes);
  CHECK(caps.retryable_writes_why_not.find("standalone") != std::string::npos);
  CHECK_FALSE(caps.transactions);
  CHECK(caps.transactions_why_not.find("--replSet") != std::string::npos);
  // One rule: the refusal of a transaction carries the reason the report gave.
  auto s = f.c->start_session();
  REQUIRE_FALSE(s.start_transaction());
  bson::document reply;
  const auto ping = doc_from_json(R"({"ping": 1})");
  CHECK(run(f.io, s.run_command("app", ping, reply, diag)) == client_errc::transactions_not_supported);
  CHECK(diag.client_message.find(caps.transactions_why_not) != std::string::npos);
  CHECK(f.rec.named("ping").empty());
  REQUIRE_FALSE(run(f.io, s.abort_transaction(diag)));
}

TEST_CASE("issue 16 capabilities: a server without logicalSessionTimeoutMinutes has no sessions and says so") {
  testd::server_options o = standalone();
  o.sessions_supported = false;
  fixture f(o, "");
  deployment_capabilities caps;
  diagnostics diag;
  REQUIRE_FALSE(run(f.io, query(*f.c, caps, diag)));
  CHECK_FALSE(caps.sessions);
  CHECK(caps.sessions_why_not.find("logicalSessionTimeoutMinutes") != std::string::npos);
  CHECK_FALSE(caps.logical_session_timeout_minutes);
  CHECK_FALSE(caps.transactions);
  CHECK(caps.transactions_why_not.find("sessions") != std::string::npos);
}

TEST_CASE("issue 16 capabilities: MongoDB 4.0 (wire 7) is reported, not failed: below this client's wire 8") {
  discovered d(wire(7), "?replicaSet=rs0");
  const auto caps = d.capabilities();
  CHECK(caps.max_wire_version == 7);
  CHECK_FALSE(caps.compatible);
  CHECK(caps.compatibility_error.find("requires at least 8") != std::string::npos);
  CHECK_FALSE(caps.transactions);
  CHECK(caps.transactions_why_not == caps.compatibility_error);  // 4.0 has replica-set transactions
  CHECK_FALSE(caps.retryable_writes);
}

TEST_CASE("issue 16 capabilities: a server below wire 6 (MongoDB 3.4) has no sessions") {
  discovered d(wire(5), "?replicaSet=rs0");
  const auto caps = d.capabilities();
  CHECK_FALSE(caps.compatible);
  CHECK_FALSE(caps.sessions);
  CHECK(caps.sessions_why_not.find("3.6") != std::string::npos);
  CHECK(caps.transactions_why_not.find("sessions") != std::string::npos);
}

TEST_CASE("issue 16 capabilities: no reachable server fails the query within serverSelectionTimeoutMS") {
  asio::io_context io;
  client c(io.get_executor(), "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=100");
  deployment_capabilities caps;
  diagnostics diag;
  CHECK(run(io, query(c, caps, diag)) == client_errc::server_selection_timeout);
  CHECK_FALSE(diag.client_message.empty());
  CHECK(caps.server.empty());
}

TEST_CASE("issue 16 capabilities: the async form completes a callback") {
  fixture f;
  deployment_capabilities caps;
  diagnostics diag;
  std::optional<error_code> done;
  f.c->async_capabilities(caps, diag, [&](error_code ec) {
    done = ec;
    f.io.stop();
  });
  f.io.restart();
  f.io.run();
  REQUIRE(done);
  CHECK_FALSE(*done);
  CHECK(caps.transactions);
}
