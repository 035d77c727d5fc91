// Load-balanced mode (load-balancers.md) against the test server's mongos behind a load
// balancer (server_options::load_balanced): the handshake, the connection a transaction pins,
// serviceId in the events, and the refusals on both sides when the modes do not match.
#include "txn_support.hpp"

using namespace txn_test;

namespace {

asio::awaitable<error_code> insert_json(collection coll, std::string json, diagnostics& diag) {
  insert_one_result r;
  const bson::document doc = doc_from_json(json);
  co_return co_await coll.insert_one(doc, insert_one_options{}, r, diag);
}

asio::awaitable<void> close(client& c) { co_await c.close(); }

testd::server_options behind_load_balancer() {
  testd::server_options o;
  o.load_balanced = true;
  return o;
}

std::size_t pinned_transactions(const client& c) {
  std::size_t n = 0;
  for (const auto& p : c.gauges().pools) n += p.pinned_transaction;
  return n;
}

}  // namespace

TEST_CASE("load-balancers.md: a transaction keeps the connection of its first command until it is unpinned") {
  testd::embedded_sharded_cluster lb(1, behind_load_balancer());
  REQUIRE(lb.uri().find("loadBalanced=true") != std::string::npos);
  asio::io_context io;
  std::vector<std::uint64_t> connections;
  std::vector<std::optional<bson::object_id>> services;
  client_options o;
  o.on_command = [&](const command_event& e) {
    if (e.type != command_event_type::started) return;
    connections.push_back(e.connection_id);
    services.push_back(e.service_id);
  };
  client c(io.get_executor(), lb.uri(), o);
  {
    auto s = c.start_session();
    auto coll = s.get_collection("lb", "c");
    diagnostics diag;
    REQUIRE_FALSE(s.start_transaction());
    REQUIRE_FALSE(run(io, insert_json(coll, R"({"_id": 1})", diag)));
    CHECK(pinned_transactions(c) == 1);
    REQUIRE_FALSE(run(io, insert_json(coll, R"({"_id": 2})", diag)));
    REQUIRE_FALSE(run(io, s.commit_transaction(diag)));
    CHECK(pinned_transactions(c) == 1);    // transactions.md: a repeated commit goes there too
    REQUIRE_FALSE(s.start_transaction());  // "When to unpin": a new transaction
    CHECK(pinned_transactions(c) == 0);
    REQUIRE_FALSE(run(io, s.abort_transaction(diag)));
  }
  REQUIRE(connections.size() == 3);
  CHECK(connections[1] == connections[0]);
  CHECK(connections[2] == connections[0]);
  for (const auto& id : services) CHECK(id.has_value());
  CHECK(services[0] == services[2]);
  CHECK(c.gauges().pools.at(0).in_use == 0);
  run(io, close(c));
}

TEST_CASE("load-balancers.md: a server that sends no serviceId is refused in load-balanced mode") {
  testd::embedded_sharded_cluster plain(1);  // a mongos not behind a load balancer
  asio::io_context io;
  client c(io.get_executor(), "mongodb://" + plain.address(0) + "/?loadBalanced=true");
  auto coll = c.get_collection("lb", "c");
  diagnostics diag;
  CHECK(run(io, insert_json(coll, R"({"_id": 1})", diag)));
  CHECK(describe(diag).find("does not support this mode") != std::string::npos);
  run(io, close(c));
}

TEST_CASE("load-balancers.md: a mongos behind a load balancer refuses a client not in load-balanced mode") {
  testd::embedded_sharded_cluster lb(1, behind_load_balancer());
  asio::io_context io;
  client c(io.get_executor(), "mongodb://" + lb.address(0) + "/?serverSelectionTimeoutMS=300");
  auto coll = c.get_collection("lb", "c");
  diagnostics diag;
  CHECK(run(io, insert_json(coll, R"({"_id": 1})", diag)));
  CHECK(describe(diag).find("load balanc") != std::string::npos);
  run(io, close(c));
}
