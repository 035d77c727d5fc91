// Read preferences end to end against a replicated three-member test replica set
// (server-selection.md "Read preference configuration", "Use of read preferences with
// commands", "Passing read preference to mongos and load balancers", "Topology type:
// Single", "Cursors"; causal-consistency.md against a lagging secondary).
#include <algorithm>
#include <chrono>

#include "client_support.hpp"

using namespace client_test;
using namespace std::chrono_literals;

namespace {

struct sent_command {
  std::string name;
  std::string address;
  bson::document command;
};

// A replica set (member 0 primary) whose secondaries apply writes `lag` after their commit,
// and a client on it that records where each command went.
struct replica_set_client {
  testd::embedded_replica_set set;
  asio::io_context io;
  std::vector<sent_command> sent;
  std::unique_ptr<client> c;

  // `direct_member` >= 0: a direct connection to that member instead of the replica set.
  replica_set_client(std::chrono::milliseconds lag, const std::string& uri_options, int direct_member = -1)
      : set(3, lagging(lag)) {
    client_options o;
    o.on_command = [this](const command_event& e) {
      if (e.type == command_event_type::started)
        sent.push_back({e.command_name, e.address, bson::document(e.document)});
    };
    const std::string uri =
        direct_member < 0 ? set.uri() : "mongodb://" + set.member(direct_member).address() + "/?directConnection=true";
    c = std::make_unique<client>(io.get_executor(), uri + uri_options, std::move(o));
  }
  ~replica_set_client() { run(io, close_client()); }
  asio::awaitable<error_code> close_client() { co_return co_await c->close(); }

  static testd::server_options lagging(std::chrono::milliseconds lag) {
    testd::server_options o;
    o.replication_lag = lag;
    return o;
  }
  bool is_secondary(const std::string& address) {
    return address == set.member(1).address() || address == set.member(2).address();
  }
  const sent_command& last(std::string_view name) const {
    auto it = std::find_if(sent.rbegin(), sent.rend(), [&](const sent_command& s) { return s.name == name; });
    REQUIRE_MESSAGE(it != sent.rend(), "no " << name << " was sent");
    return *it;
  }
};

asio::awaitable<error_code> insert(collection coll, std::string json) {
  insert_one_result r;
  diagnostics diag;
  auto doc = bson::document::from_json(json);
  const insert_one_options options;
  auto ec = co_await coll.insert_one(doc, options, r, diag);
  if (ec) MESSAGE(describe(diag));
  co_return ec;
}

asio::awaitable<std::vector<bson::document>> find_all(collection coll, find_options options = {}) {
  std::vector<bson::document> out;
  diagnostics diag;
  auto filter = bson::document();
  auto pending = coll.find(filter, std::move(options), out, diag);  // no temporaries in co_await (g++ 12)
  auto ec = co_await std::move(pending);
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));
  co_return out;
}

std::string mode_sent(const sent_command& s) {
  auto rp = s.command["$readPreference"].as_document();
  return rp ? std::string((*rp)["mode"].as_string().value_or("?")) : "-";
}

}  // namespace

TEST_CASE("readPreference=secondary: reads go to a secondary with $readPreference, writes to the primary without") {
  replica_set_client f(0ms, "&readPreference=secondary&maxStalenessSeconds=120");
  auto coll = f.c->get_collection("test", "c");
  REQUIRE(!run(f.io, insert(coll, R"({"_id": 1})")));
  auto found = run(f.io, find_all(coll));
  CHECK(found.size() == 1);  // replicated
  const auto& find = f.last("find");
  CHECK(f.is_secondary(find.address));
  CHECK(mode_sent(find) == "secondary");
  CHECK(find.command.get_view().find_path("$readPreference.maxStalenessSeconds").as_integer() == 120);
  const auto& write = f.last("insert");
  CHECK(write.address == f.set.member(0).address());
  CHECK(mode_sent(write) == "-");
}

TEST_CASE("a handle's read preference beats the client's; runCommand and listCollections ignore both") {
  replica_set_client f(0ms, "&readPreference=secondary");
  collection_options primary;
  primary.read_preference = bson::document::from_json(R"({"mode": "primary"})");
  auto on_primary = f.c->get_collection("test", "c").with_options(primary);
  run(f.io, find_all(on_primary));
  CHECK(f.last("find").address == f.set.member(0).address());
  CHECK(mode_sent(f.last("find")) == "-");  // replica set, mode primary: nothing is sent

  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    bson::document reply;
    diagnostics diag;
    auto db = f.c->get_database("test");
    auto ping = bson::document::from_json(R"({"ping": 1})");
    std::optional<bson::document> none;
    if (auto ec = co_await db.run_command(ping, none, reply, diag)) co_return ec;
    std::optional<bson::document> nearest_secondary = bson::document::from_json(R"({"mode": "secondary"})");
    co_return co_await db.run_command(ping, nearest_secondary, reply, diag);
  }());
  REQUIRE(!ec);
  const auto pings = std::count_if(f.sent.begin(), f.sent.end(), [](auto& s) { return s.name == "ping"; });
  REQUIRE(pings == 2);
  auto first_ping = std::find_if(f.sent.begin(), f.sent.end(), [](auto& s) { return s.name == "ping"; });
  CHECK(first_ping->address == f.set.member(0).address());  // the client's default is ignored
  CHECK(mode_sent(*first_ping) == "-");
  CHECK(f.is_secondary(f.last("ping").address));  // its own read preference is used
  CHECK(mode_sent(f.last("ping")) == "secondary");

  ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    std::vector<std::string> names;
    diagnostics diag;
    const list_collections_options options;
    auto db = f.c->get_database("test");
    co_return co_await db.list_collection_names(options, names, diag);
  }());
  REQUIRE(!ec);
  CHECK(f.last("listCollections").address == f.set.member(0).address());  // "should-use-primary"
}

TEST_CASE("getMore goes to the server that opened the cursor (server-selection.md \"Cursors\")") {
  replica_set_client f(0ms, "&readPreference=nearest&localThresholdMS=10000");
  auto coll = f.c->get_collection("test", "c");
  for (int i = 0; i < 5; ++i) REQUIRE(!run(f.io, insert(coll, R"({"_id": )" + std::to_string(i) + "}")));
  for (int round = 0; round < 4; ++round) {
    f.sent.clear();
    find_options small_batches;
    small_batches.batch_size = 2;
    CHECK(run(f.io, find_all(coll, small_batches)).size() == 5);
    const auto& opened = f.last("find").address;
    std::size_t get_mores = 0;
    for (const auto& s : f.sent)
      if (s.name == "getMore") {
        ++get_mores;
        CHECK(s.address == opened);
        CHECK(mode_sent(s) == "-");
      }
    CHECK(get_mores == 2);
  }
}

TEST_CASE("a causally consistent session reads its own write from a lagging secondary") {
  replica_set_client f(400ms, "&readPreference=secondary&w=1");
  auto plain = f.c->get_collection("test", "c");
  // Without a session the secondary answers at once, without the write.
  REQUIRE(!run(f.io, insert(plain, R"({"_id": 1})")));
  CHECK(run(f.io, find_all(plain)).empty());

  auto s = f.c->start_session();
  auto in_session = s.get_collection("test", "c");
  REQUIRE(!run(f.io, insert(in_session, R"({"_id": 2})")));
  const auto started = std::chrono::steady_clock::now();
  auto found = run(f.io, find_all(in_session));
  CHECK(found.size() == 2);                                    // its own write, and the earlier one applied before it
  CHECK(std::chrono::steady_clock::now() - started >= 200ms);  // the secondary held the read back
  const auto& read = f.last("find");
  CHECK(f.is_secondary(read.address));
  CHECK(read.command.get_view().find_path("readConcern.afterClusterTime").as_timestamp());
}

TEST_CASE(
    "a direct connection to a secondary reads with primaryPreferred (server-selection.md \"Topology type: Single\")") {
  replica_set_client f(0ms, "", 1);
  auto coll = f.c->get_collection("test", "c");
  CHECK(run(f.io, find_all(coll)).empty());  // NotPrimaryNoSecondaryOk without $readPreference
  const auto& find = f.last("find");
  CHECK(find.address == f.set.member(1).address());
  CHECK(mode_sent(find) == "primaryPreferred");
  // A write to it is sent as is (Single: the one server), and refused by the secondary.
  CHECK(run(f.io, insert(coll, R"({"_id": 1})")) == make_server_error(10107));
  CHECK(mode_sent(f.last("insert")) == "-");
}

TEST_CASE("a standalone gets no $readPreference, whatever the read preference (server-selection.md)") {
  testd::server_options standalone;
  standalone.standalone = true;
  testd::embedded_server server(standalone);
  asio::io_context io;
  std::vector<sent_command> sent;
  client_options o;
  o.on_command = [&](const command_event& e) {
    if (e.type == command_event_type::started) sent.push_back({e.command_name, e.address, bson::document(e.document)});
  };
  client c(io.get_executor(), "mongodb://" + server.address() + "/?readPreference=secondaryPreferred", std::move(o));
  CHECK(run(io, find_all(c.get_collection("test", "c"))).empty());
  REQUIRE(!sent.empty());
  CHECK(sent.back().name == "find");
  CHECK(mode_sent(sent.back()) == "-");
  run(io, [&]() -> asio::awaitable<error_code> { co_return co_await c.close(); }());
}

TEST_CASE("in a transaction reads go to the primary without $readPreference (transactions.md \"readPreference\")") {
  replica_set_client f(0ms, "&readPreference=secondary");
  auto s = f.c->start_session();
  transaction_options primary;
  primary.read_preference = bson::document::from_json(R"({"mode": "primary"})");
  diagnostics diag;
  REQUIRE(!s.start_transaction(primary, diag));
  CHECK(run(f.io, find_all(s.get_collection("test", "c"))).empty());
  CHECK(f.last("find").address == f.set.member(0).address());
  CHECK(mode_sent(f.last("find")) == "-");
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> { co_return co_await s.commit_transaction(diag); }());
  CHECK(!ec);
}
