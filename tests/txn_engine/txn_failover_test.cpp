// Replica-set discovery and failover through the public API, against three in-process
// members (one primary, two hello-only secondaries): SDAM finds every member from one
// seed, writes go to the primary, and after an election they go to the new one.
#include "txn_support.hpp"

#include "client/client_access.hpp"

namespace txn_test {
namespace {

std::string seed_uri(testd::embedded_replica_set& rs, std::size_t member) {
  return "mongodb://" + rs.member(member).address() +
         "/?replicaSet=rs0&heartbeatFrequencyMS=500&serverSelectionTimeoutMS=5000";
}

// The address a command ran on, from its succeeded event.
struct address_recorder {
  std::vector<std::string> ping_addresses;
  client_options options() {
    client_options o;
    o.on_command = [this](const command_event& e) {
      if (e.type == command_event_type::succeeded && e.command_name == "ping") ping_addresses.push_back(e.address);
    };
    return o;
  }
};

asio::awaitable<error_code> ping(client& c) {
  bson::document reply;
  diagnostics diag;
  auto cmd = bson::document::from_json(R"({"ping": 1})");
  co_return co_await c.run_command("admin", std::move(cmd), reply, diag);
}

TEST_CASE("SDAM: a seed that is a secondary leads to the primary it names (replica-set discovery)") {
  testd::embedded_replica_set rs(3);
  asio::io_context io;
  address_recorder rec;
  client c(io.get_executor(), seed_uri(rs, 2), rec.options());  // member 2 is a secondary
  REQUIRE_FALSE(run(io, ping(c)));
  REQUIRE(rec.ping_addresses.size() == 1);
  CHECK(rec.ping_addresses[0] == rs.member(0).address());
  CHECK(detail::client_access::impl(c).topology().description().servers().size() == 3);
  run(io, [&]() -> asio::awaitable<void> { co_await c.close(); }());
}

TEST_CASE("SDAM: after the primary steps down and another member is elected, writes go to the new primary") {
  testd::embedded_replica_set rs(3);
  asio::io_context io;
  address_recorder rec;
  client c(io.get_executor(), seed_uri(rs, 0), rec.options());
  REQUIRE_FALSE(run(io, ping(c)));
  rs.step_down_and_elect(1);
  // The old primary now answers NotWritablePrimary to writes; the client must re-select.
  diagnostics diag;
  auto ec = run(io, [&]() -> asio::awaitable<error_code> {
    insert_one_result r;
    auto doc = bson::document::from_json(R"({"x": 1})");
    co_return co_await c.get_collection("db", "coll").insert_one(doc, insert_one_options{}, r, diag);
  }());
  // A retryable write: at most one NotWritablePrimary attempt, then the retry on the new primary.
  CHECK_MESSAGE(!ec, describe(diag));
  REQUIRE_FALSE(run(io, ping(c)));
  CHECK(rec.ping_addresses.back() == rs.member(1).address());
  std::optional<bson::document> found;
  run(io, [&]() -> asio::awaitable<void> {
    diagnostics d;
    auto filter = bson::document::from_json(R"({"x": 1})");
    const find_options options;
    co_await c.get_collection("db", "coll").find_one(filter, options, found, d);
  }());
  CHECK(found.has_value());  // written on member 1, the new primary
  run(io, [&]() -> asio::awaitable<void> { co_await c.close(); }());
}

}  // namespace
}  // namespace txn_test
