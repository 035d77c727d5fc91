// client::gauges (issue 16 "live gauges") against the test server: server sessions in use and
// pooled, the pools' connections, wait queue, generation and clear causes, and write conflicts
// per namespace.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "txn_support.hpp"

using namespace txn_test;

namespace {

asio::awaitable<error_code> insert_id(collection coll, int id, diagnostics& diag) {
  insert_one_result r;
  bson::document d;
  d.append("_id", std::int32_t{id});
  co_return co_await coll.insert_one(d, insert_one_options{}, r, diag);
}

asio::awaitable<error_code> set_x(collection coll, int id, int x, diagnostics& diag) {
  bson::document filter;
  filter.append("_id", std::int32_t{id});
  bson::document update;
  update.append_document("$set", [&](bson::document& set) { set.append("x", std::int32_t{x}); });
  update_result r;
  co_return co_await coll.update_one(filter, update, update_options{}, r, diag);
}

const pool_gauges& only_pool(const client_gauges& g) {
  REQUIRE(g.pools.size() == 1);
  return g.pools.front();
}

// An insert that holds the pool's only connection for 300 ms (failCommand blockConnection),
// and a second one that waits for it; the gauges are read while both are in flight.
asio::awaitable<client_gauges> gauges_while_blocked(client& c, diagnostics& d1, diagnostics& d2) {
  auto ex = co_await asio::this_coro::executor;
  auto coll = c.get_collection("app", "items");
  asio::co_spawn(ex, insert_id(coll, 1, d1), asio::detached);
  asio::co_spawn(ex, insert_id(coll, 2, d2), asio::detached);
  asio::steady_timer t(ex, std::chrono::milliseconds(100));
  co_await t.async_wait(asio::use_awaitable);
  client_gauges during = c.gauges();
  t.expires_after(std::chrono::milliseconds(600));  // both done
  co_await t.async_wait(asio::use_awaitable);
  co_return during;
}

}  // namespace

TEST_CASE("issue 16 gauges: server sessions in use rise while a transaction is open and drop after it") {
  fixture f;
  CHECK(f.c->gauges().sessions.in_use == 0);
  auto s = f.c->start_session();
  REQUIRE_FALSE(s.start_transaction());
  diagnostics diag;
  REQUIRE_FALSE(run(f.io, insert_id(s.get_collection("app", "items"), 1, diag)));
  const auto open = f.c->gauges().sessions;
  CHECK(open.in_use == 1);
  CHECK(open.pooled == 0);
  REQUIRE_FALSE(run(f.io, s.commit_transaction(diag)));
  run(f.io, s.end());
  const auto after = f.c->gauges().sessions;
  CHECK(after.in_use == 0);
  CHECK(after.pooled == 1);
  CHECK(after.created == open.created);
  CHECK(after.discarded_dirty == 0);
}

TEST_CASE("issue 16 gauges: an implicit session is in use only during its operation") {
  fixture f;
  diagnostics diag;
  std::size_t in_use_inside = 0;
  auto s = f.c->start_session();
  REQUIRE_FALSE(run(f.io, s.with_transaction(
                              [&](session& in, diagnostics& d) -> asio::awaitable<error_code> {
                                in_use_inside = in.client().gauges().sessions.in_use;
                                co_return co_await insert_id(in.get_collection("app", "items"), 7, d);
                              },
                              std::nullopt, diag)));
  CHECK(in_use_inside == 1);  // the explicit session's
  REQUIRE_FALSE(run(f.io, insert_id(f.c->get_collection("app", "items"), 8, diag)));
  CHECK(f.c->gauges().sessions.in_use == 1);  // the implicit one went back to the pool
  run(f.io, s.end());
  CHECK(f.c->gauges().sessions.in_use == 0);
}

TEST_CASE("issue 16 gauges: a network error clears the pool; the clear shows its cause and generation") {
  fixture f;
  diagnostics diag;
  REQUIRE_FALSE(run(f.io, insert_id(f.c->get_collection("app", "items"), 1, diag)));
  const auto before = only_pool(f.c->gauges());
  CHECK(before.generation == 0);
  CHECK(before.clears.empty());
  CHECK(before.total >= 1);
  CHECK(before.in_use == 0);
  CHECK(before.idle == before.total - before.pending);
  f.fail_command("insert", 1, true);  // closeConnection: a network error, then the retry succeeds
  REQUIRE_FALSE(run(f.io, insert_id(f.c->get_collection("app", "items"), 2, diag)));
  const auto g = f.c->gauges();
  const auto& after = only_pool(g);
  CHECK(after.generation == 1);
  REQUIRE(after.clears.size() == 1);
  CHECK(after.clears[0].cause == pool_clear_cause::network_error);
  CHECK(to_string(after.clears[0].cause) == "network_error");
  CHECK(after.clears[0].generation == 1);
  CHECK_FALSE(after.clears[0].error.empty());
  CHECK(g.sessions.discarded_dirty == 1);  // driver-sessions.md: the session saw a network error
}

TEST_CASE("issue 16 gauges: the wait queue counts checkouts waiting for a connection") {
  fixture f("&maxPoolSize=1");
  bson::document data = doc_from_json(R"({"blockConnection": true, "blockTimeMS": 300})");
  data.append_array_of("failCommands", [](bson::array_builder& a) { a.push(std::string_view("insert")); });
  f.configure_fail_point(doc_from_json(R"({"times": 1})"), data);
  diagnostics d1, d2;
  const auto during = run(f.io, gauges_while_blocked(*f.c, d1, d2));
  CHECK(during.wait_queue == 1);
  const auto& pool = only_pool(during);
  CHECK(pool.wait_queue == 1);
  CHECK(pool.in_use == 1);
  CHECK(pool.total == 1);
  CHECK(f.c->gauges().wait_queue == 0);
  CHECK(f.count("app", "items") == 2);
}

TEST_CASE("issue 16 gauges: write conflicts are counted per namespace, most conflicted first") {
  fixture f;
  diagnostics diag;
  REQUIRE_FALSE(run(f.io, insert_id(f.c->get_collection("app", "hot"), 1, diag)));
  f.fail_command("update", 2, false, 112);  // WriteConflict, twice
  CHECK(run(f.io, set_x(f.c->get_collection("app", "hot"), 1, 1, diag)) == make_server_error(112));
  CHECK(run(f.io, set_x(f.c->get_collection("app", "hot"), 1, 2, diag)) == make_server_error(112));
  // A real conflict: two transactions write the same document (the second one loses).
  auto s1 = f.c->start_session();
  auto s2 = f.c->start_session();
  REQUIRE_FALSE(s1.start_transaction());
  REQUIRE_FALSE(s2.start_transaction());
  REQUIRE_FALSE(run(f.io, set_x(s1.get_collection("app", "hot"), 1, 3, diag)));
  CHECK(run(f.io, set_x(s2.get_collection("app", "hot"), 1, 4, diag)) == make_server_error(112));
  f.fail_command("insert", 1, false, 112);
  CHECK(run(f.io, insert_id(f.c->get_collection("app", "cold"), 5, diag)) == make_server_error(112));
  const auto g = f.c->gauges();
  CHECK(g.write_conflicts == 4);
  REQUIRE(g.write_conflicts_by_namespace.size() == 2);
  CHECK(g.write_conflicts_by_namespace[0].ns == "app.hot");
  CHECK(g.write_conflicts_by_namespace[0].count == 3);
  CHECK(g.write_conflicts_by_namespace[1].ns == "app.cold");
  CHECK(g.write_conflicts_by_namespace[1].count == 1);
  run(f.io, s1.end());
  run(f.io, s2.end());
}
