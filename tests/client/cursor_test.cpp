// mongowire::cursor (include/mongowire/cursor.hpp) against the test server: batches across
// getMores, killCursors on close, the implicit session's lifetime (driver-sessions.md), the
// load-balanced pinned connection (load-balancers.md "Behaviour With Cursors"), tailable
// awaitData cursors on a capped collection and the timeoutMS refusals of
// client-side-operations-timeout.md "Cursors".
#include "client_support.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "mongowire/cursor.hpp"

using namespace client_test;

namespace {

void seed(fixture& f, int n) {
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    insert_many_result r;
    diagnostics diag;
    std::vector<bson::document> docs;
    for (int i = 1; i <= n; ++i) docs.push_back(bson::document::from_json(R"({"_id": )" + std::to_string(i) + "}"));
    auto coll = f.c->get_collection("test", "c");
    const insert_many_options options;
    co_return co_await coll.insert_many(std::move(docs), options, r, diag);
  }());
  REQUIRE(!ec);
  f.events.clear();
}

asio::awaitable<error_code> open_find(collection coll, find_options o, cursor& out, diagnostics& diag) {
  const bson::document filter;
  co_return co_await coll.find_cursor(filter, std::move(o), out, diag);
}

// Every document next() gives until the cursor is exhausted (ids in order).
asio::awaitable<error_code> drain_ids(cursor& c, std::vector<std::int64_t>& ids, diagnostics& diag) {
  for (;;) {
    std::optional<bson::document> doc;
    if (auto ec = co_await c.next(doc, diag)) co_return ec;
    if (!doc) co_return error_code{};
    ids.push_back((*doc)["_id"].as_int64().value_or(-1));
  }
}

asio::awaitable<error_code> close_cursor(cursor& c, diagnostics& diag) { co_return co_await c.close(diag); }

// Three documents in test.c, read by a find with comment "why" in batches of two (one getMore).
void drain_commented_find(fixture& f) {
  seed(f, 3);
  find_options o;
  o.batch_size = 2;
  o.comment = bson_value(std::string_view("why"));
  cursor c;
  diagnostics diag;
  REQUIRE_FALSE(run(f.io, open_find(f.c->get_collection("test", "c"), o, c, diag)));
  std::vector<std::int64_t> ids;
  REQUIRE_FALSE(run(f.io, drain_ids(c, ids, diag)));
  CHECK(ids.size() == 3);
}

// A find cursor over test.c in batches of two.
void open_in_twos(fixture& f, cursor& c) {
  find_options o;
  o.batch_size = 2;
  diagnostics diag;
  REQUIRE_MESSAGE(!run(f.io, open_find(f.c->get_collection("test", "c"), o, c, diag)), describe(diag));
}

std::size_t sessions_in_use(const client& c) { return c.gauges().sessions.in_use; }

// Waits (at most 5 s) until `n` killCursors were answered and `sessions` sessions are in use: a
// destroyed cursor's kill runs detached.
asio::awaitable<bool> wait_for_kills(fixture& f, std::size_t n, std::size_t sessions) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < 500; ++i) {
    std::size_t answered = 0;
    for (const auto& e : f.events) answered += e.type != command_event_type::started && e.name == "killCursors";
    if (answered >= n && sessions_in_use(*f.c) == sessions) co_return true;
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return false;
}

}  // namespace

TEST_CASE("cursor: next() returns every batch, getMore sent with batchSize to the same server until id 0") {
  fixture f;
  seed(f, 5);
  find_options o;
  o.batch_size = 2;
  cursor c;
  diagnostics diag;
  REQUIRE_FALSE(run(f.io, open_find(f.c->get_collection("test", "c"), o, c, diag)));
  CHECK(c.buffered() == 2);
  CHECK(c.id() != 0);
  CHECK(c.ns() == "test.c");
  CHECK(sessions_in_use(*f.c) == 1);  // driver-sessions.md: the implicit session lives with the cursor
  std::vector<std::int64_t> ids;
  REQUIRE_FALSE(run(f.io, drain_ids(c, ids, diag)));
  CHECK(ids == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  auto get_mores = f.started("getMore");
  REQUIRE(get_mores.size() == 2);  // batches of 2, 2 and 1
  CHECK((*get_mores[0])["batchSize"].as_int32() == 2);
  CHECK((*get_mores[0])["collection"].as_string() == "c");
  CHECK(c.id() == 0);
  CHECK_FALSE(c.has_more());
  CHECK(sessions_in_use(*f.c) == 0);        // released at exhaustion
  CHECK(f.started("killCursors").empty());  // the server closed it: nothing to kill
}

TEST_CASE("cursor: getMore carries the find's comment (DRIVERS-2189) and runCursorCommand's") {
  fixture f;
  drain_commented_find(f);
  REQUIRE(f.started("getMore").size() == 1);
  CHECK((*f.started("getMore")[0])["comment"].as_string() == "why");
  run_cursor_command_options rc;
  diagnostics diag;
  std::vector<std::int64_t> ids;
  rc.batch_size = 1;
  rc.comment = bson_value(std::int32_t{7});
  const auto command = bson::document::from_json(R"({"find": "c", "batchSize": 1})");
  cursor r;
  REQUIRE_FALSE(run(f.io, f.c->get_database("test").run_cursor_command(command, rc, r, diag)));
  REQUIRE_FALSE(run(f.io, drain_ids(r, ids, diag)));
  auto get_mores = f.started("getMore");
  REQUIRE(get_mores.size() == 3);  // the find's one, then two for batches of one document
  CHECK((*get_mores[1])["comment"].as_int32() == 7);
}

TEST_CASE("cursor: a server older than 4.4 gets no comment on getMore (DRIVERS-2243)") {
  testd::server_options mongodb_4_2;
  mongodb_4_2.max_wire_version = 8;
  fixture f("", mongodb_4_2);
  drain_commented_find(f);
  CHECK((*f.started("find")[0])["comment"].as_string() == "why");
  REQUIRE(f.started("getMore").size() == 1);
  CHECK_FALSE((*f.started("getMore")[0])["comment"]);
}

TEST_CASE("cursor: an aggregate sends crud.md's AggregateOptions, and its comment with each getMore") {
  fixture f;
  seed(f, 3);
  aggregate_options o;
  o.batch_size = 2;
  o.allow_disk_use = true;
  o.hint = index_hint(std::string("_id_"));
  o.collation = bson::document::from_json(R"({"locale": "simple"})");
  o.let = bson::document::from_json(R"({"min": 2})");
  o.comment = bson_value(std::string_view("report"));
  const auto pipeline = bson::document::from_json(R"([{"$match": {"_id": {"$gte": 2}}}])");
  std::vector<bson::document> docs;
  diagnostics diag;
  REQUIRE_MESSAGE(!run(f.io, f.c->get_collection("test", "c").aggregate(pipeline, o, docs, diag)), describe(diag));
  CHECK(docs.size() == 2);
  auto sent = f.started("aggregate");
  REQUIRE(sent.size() == 1);
  CHECK((*sent[0])["allowDiskUse"].as_bool() == true);
  CHECK((*sent[0])["hint"].as_string() == "_id_");
  CHECK((*sent[0])["collation"].as_document().has_value());
  CHECK((*sent[0])["let"].as_document().has_value());
  CHECK((*sent[0])["comment"].as_string() == "report");
  o.batch_size = 1;
  docs.clear();
  REQUIRE_FALSE(run(f.io, f.c->get_collection("test", "c").aggregate(pipeline, o, docs, diag)));
  auto get_mores = f.started("getMore");
  REQUIRE_FALSE(get_mores.empty());
  CHECK((*get_mores[0])["comment"].as_string() == "report");
}

TEST_CASE("cursor: close() sends killCursors with the cursor id and releases the implicit session") {
  fixture f;
  seed(f, 5);
  find_options o;
  o.batch_size = 2;
  cursor c;
  diagnostics diag;
  REQUIRE_FALSE(run(f.io, open_find(f.c->get_collection("test", "c"), o, c, diag)));
  const std::int64_t id = c.id();
  REQUIRE(id != 0);
  REQUIRE_FALSE(run(f.io, close_cursor(c, diag)));
  auto kills = f.started("killCursors");
  REQUIRE(kills.size() == 1);
  CHECK((*kills[0])["killCursors"].as_string() == "c");
  auto ids = (*kills[0])["cursors"].as_array();
  REQUIRE(ids);
  CHECK((*ids->begin()).as_int64() == id);
  CHECK(c.id() == 0);
  CHECK(sessions_in_use(*f.c) == 0);
  std::vector<std::int64_t> after;
  REQUIRE_FALSE(run(f.io, drain_ids(c, after, diag)));
  CHECK(after.empty());  // a closed cursor gives nothing (its batch was dropped)
}

TEST_CASE("cursor: a failed getMore leaves it open (close() still kills it); destruction releases the session") {
  fixture f;
  seed(f, 5);
  find_options o;
  o.batch_size = 2;
  diagnostics diag;
  {
    cursor c;
    REQUIRE_FALSE(run(f.io, open_find(f.c->get_collection("test", "c"), o, c, diag)));
    f.fail_point(R"({"configureFailPoint": "failCommand", "mode": {"times": 1},
                     "data": {"failCommands": ["getMore"], "errorCode": 7}})");
    std::vector<std::int64_t> ids;
    auto ec = run(f.io, drain_ids(c, ids, diag));
    CHECK(ec == make_server_error(7));
    CHECK(ids == std::vector<std::int64_t>{1, 2});
    CHECK(c.has_more());
    REQUIRE_FALSE(run(f.io, close_cursor(c, diag)));
    CHECK(f.started("killCursors").size() == 1);
  }
  std::int64_t id = 0;
  {
    cursor c;
    open_in_twos(f, c);
    CHECK(sessions_in_use(*f.c) == 1);
    id = c.id();
  }  // destroyed open: a detached killCursors, then the session goes back
  CHECK(sessions_in_use(*f.c) == 1);
  REQUIRE(run(f.io, wait_for_kills(f, 2, 0)));
  auto ids = (*f.started("killCursors")[1])["cursors"].as_array();
  REQUIRE(ids);
  CHECK((*ids->begin()).as_int64() == id);
  CHECK(sessions_in_use(*f.c) == 0);
}

TEST_CASE("cursor: assigning over an open cursor kills the old one; an exhausted one is dropped silently") {
  fixture f;
  seed(f, 5);
  cursor c;
  open_in_twos(f, c);
  cursor other;
  open_in_twos(f, other);
  const std::int64_t first = c.id();
  c = std::move(other);
  REQUIRE(run(f.io, wait_for_kills(f, 1, 1)));  // the second cursor keeps its session
  CHECK((*(*f.started("killCursors")[0])["cursors"].as_array()->begin()).as_int64() == first);
  std::vector<std::int64_t> ids;
  diagnostics diag;
  REQUIRE_FALSE(run(f.io, drain_ids(c, ids, diag)));  // the second cursor, intact
  CHECK(ids.size() == 5);
  c = cursor();  // exhausted: the server has nothing to kill
  CHECK(sessions_in_use(*f.c) == 0);
  CHECK(f.started("killCursors").size() == 1);
}

TEST_CASE("cursor: find() drains through the cursor, and a drain that fails kills the cursor") {
  fixture f;
  seed(f, 5);
  f.fail_point(R"({"configureFailPoint": "failCommand", "mode": {"times": 1},
                   "data": {"failCommands": ["getMore"], "errorCode": 7}})");
  find_options o;
  o.batch_size = 2;
  std::vector<bson::document> docs;
  diagnostics diag;
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    const bson::document filter;
    co_return co_await f.c->get_collection("test", "c").find(filter, o, docs, diag);
  }());
  CHECK(ec == make_server_error(7));
  CHECK(docs.size() == 2);
  CHECK(f.started("killCursors").size() == 1);
  CHECK(sessions_in_use(*f.c) == 0);
}

TEST_CASE("cursor: client-side-operations-timeout.md \"Cursors\" refusals are sent nowhere") {
  fixture f;
  seed(f, 1);
  auto refused = [&](find_options o, std::string_view uri_timeout_coll) {
    auto coll = f.c->get_collection("test", "c");
    if (!uri_timeout_coll.empty()) {
      collection_options co;
      co.timeout = std::chrono::milliseconds(100);
      coll = coll.with_options(co);
    }
    cursor c;
    diagnostics diag;
    auto ec = run(f.io, open_find(coll, std::move(o), c, diag));
    return ec == client_errc::invalid_argument && !diag.client_message.empty();
  };
  find_options mode_only;
  mode_only.timeout_mode = timeout_mode::iteration;
  CHECK(refused(mode_only, ""));  // timeoutMode without timeoutMS
  find_options tailable_lifetime;
  tailable_lifetime.type = cursor_type::tailable;
  tailable_lifetime.timeout_mode = timeout_mode::cursor_lifetime;
  CHECK(refused(tailable_lifetime, "with timeout"));
  find_options await_too_long;
  await_too_long.type = cursor_type::tailable_await;
  await_too_long.max_await_time_ms = 100;  // == timeoutMS
  CHECK(refused(await_too_long, "with timeout"));
  CHECK(f.started("find").empty());
}

TEST_CASE("cursor: a tailable awaitData cursor waits for documents of a capped collection") {
  fixture f;
  diagnostics diag;
  auto db = f.c->get_database("test");
  REQUIRE_FALSE(run(f.io, [&]() -> asio::awaitable<error_code> {
    auto options = bson::document::from_json(R"({"capped": true, "size": 4096})");
    co_return co_await db.create_collection("capped", std::move(options), diag);
  }()));
  auto coll = db.get_collection("capped");
  auto insert = [&](int id) {
    REQUIRE_FALSE(run(f.io, [&]() -> asio::awaitable<error_code> {
      insert_one_result r;
      const bson::document doc = bson::document::from_json(R"({"_id": )" + std::to_string(id) + "}");
      const insert_one_options options;
      co_return co_await coll.insert_one(doc, options, r, diag);
    }()));
  };
  insert(1);
  find_options o;
  o.type = cursor_type::tailable_await;
  o.max_await_time_ms = 20;
  cursor c;
  REQUIRE_FALSE(run(f.io, open_find(coll, o, c, diag)));
  std::optional<bson::document> doc;
  REQUIRE_FALSE(run(f.io, c.try_next(doc, diag)));
  REQUIRE(doc);
  CHECK((*doc)["_id"].as_int32() == 1);
  REQUIRE_FALSE(run(f.io, c.try_next(doc, diag)));  // the end of the collection: no document yet
  CHECK_FALSE(doc);
  CHECK(c.id() != 0);  // still open
  auto get_mores = f.started("getMore");
  REQUIRE(get_mores.size() == 1);
  CHECK((*get_mores[0])["maxTimeMS"].as_int64() == 20);  // maxAwaitTimeMS
  insert(2);
  REQUIRE_FALSE(run(f.io, c.next(doc, diag)));
  REQUIRE(doc);
  CHECK((*doc)["_id"].as_int32() == 2);
  REQUIRE_FALSE(run(f.io, close_cursor(c, diag)));
  CHECK(f.started("killCursors").size() == 1);
  // find() with a tailable type drains to the end of the collection, then kills its cursor.
  std::vector<bson::document> docs;
  REQUIRE_FALSE(run(f.io, [&]() -> asio::awaitable<error_code> {
    const bson::document filter;
    co_return co_await coll.find(filter, o, docs, diag);
  }()));
  CHECK(docs.size() == 2);
  CHECK(f.started("killCursors").size() == 2);
}

TEST_CASE("cursor: load-balancers.md pins the cursor's connection until it is exhausted or closed") {
  testd::server_options lb_options;
  lb_options.load_balanced = true;
  testd::embedded_sharded_cluster lb(1, lb_options);
  asio::io_context io;
  client c(io.get_executor(), lb.uri(), client_options{});
  auto coll = c.get_collection("lb", "c");
  diagnostics diag;
  REQUIRE_FALSE(run(io, [&]() -> asio::awaitable<error_code> {
    insert_many_result r;
    std::vector<bson::document> docs;
    for (int i = 1; i <= 3; ++i) docs.push_back(bson::document::from_json(R"({"_id": )" + std::to_string(i) + "}"));
    const insert_many_options options;
    co_return co_await coll.insert_many(std::move(docs), options, r, diag);
  }()));
  auto pinned = [&] {
    std::size_t n = 0;
    for (const auto& p : c.gauges().pools) n += p.pinned_cursor;
    return n;
  };
  find_options o;
  o.batch_size = 2;
  {
    cursor cur;
    REQUIRE_FALSE(run(io, open_find(coll, o, cur, diag)));
    CHECK(pinned() == 1);
    std::vector<std::int64_t> ids;
    REQUIRE_FALSE(run(io, drain_ids(cur, ids, diag)));
    CHECK(ids.size() == 3);
    CHECK(pinned() == 0);  // exhausted: checked in
  }
  {
    cursor cur;
    REQUIRE_FALSE(run(io, open_find(coll, o, cur, diag)));
    CHECK(pinned() == 1);
    REQUIRE_FALSE(run(io, close_cursor(cur, diag)));
    CHECK(pinned() == 0);  // closed: checked in
  }
  o.batch_size.reset();
  {
    cursor cur;
    REQUIRE_FALSE(run(io, open_find(coll, o, cur, diag)));
    CHECK(cur.id() == 0);
    CHECK(pinned() == 0);  // one batch: never pinned
  }
  run(io, [&]() -> asio::awaitable<error_code> { co_return co_await c.close(); }());
}
