// The read operations of the public API against the test server: what they send and that
// each is a retryable read (retryable-reads.md "Supported Read Operations"), and unacknowledged
// writes (OP_MSG.md "moreToCome", command monitoring's {ok: 1} reply).
#include "client_support.hpp"

using namespace client_test;

namespace {

void seed(fixture& f) {
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    insert_many_result r;
    diagnostics diag;
    std::vector<bson::document> docs;
    for (auto json : {R"({"_id": 1, "x": 11})", R"({"_id": 2, "x": 22})", R"({"_id": 3, "x": 33})"})
      docs.push_back(bson::document::from_json(json));
    auto coll = f.c->get_collection("test", "c");
    auto pending = coll.insert_many(std::move(docs), insert_many_options{}, r, diag);
    co_return co_await std::move(pending);
  }());
  REQUIRE(!ec);
  f.events.clear();
}

// failCommand: the next `times` commands named `command` fail with NotWritablePrimary.
void fail_next(fixture& f, std::string_view command, int times = 1) {
  f.fail_point(R"({"configureFailPoint": "failCommand", "mode": {"times": )" + std::to_string(times) +
               R"(}, "data": {"failCommands": [")" + std::string(command) + R"("], "errorCode": 10107}})");
  f.events.clear();
}

}  // namespace

TEST_CASE("listDatabaseNames sends nameOnly on admin, returns names, and is retried once") {
  fixture f;
  seed(f);
  fail_next(f, "listDatabases");
  std::vector<std::string> names;
  diagnostics diag;
  list_databases_options o;
  o.filter = bson::document::from_json(R"({"name": "test"})");
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    auto pending = f.c->list_database_names(o, names, diag);
    co_return co_await std::move(pending);
  }());
  REQUIRE_MESSAGE(!ec, describe(diag));
  CHECK(names == std::vector<std::string>{"test"});
  auto sent = f.started("listDatabases");
  REQUIRE(sent.size() == 2);  // the retry after NotWritablePrimary
  CHECK((*sent[0])["nameOnly"].as_bool() == true);
  CHECK((*sent[0])["$db"].as_string() == "admin");
}

namespace {
std::size_t list_databases_attempts(const std::string& uri_options) {
  fixture f(uri_options);
  fail_next(f, "listDatabases");
  std::vector<bson::document> dbs;
  diagnostics diag;
  run(f.io, [&]() -> asio::awaitable<error_code> {
    const list_databases_options o;
    co_return co_await f.c->list_databases(o, dbs, diag);
  }());
  return f.started("listDatabases").size();
}
}  // namespace

TEST_CASE("client::list_databases is a retryable read, not a runCommand: retried once unless retryReads=false") {
  CHECK(list_databases_attempts("") == 2);
  CHECK(list_databases_attempts("&retryReads=false") == 1);
}

TEST_CASE("listCollectionNames and listIndexNames return names; estimatedDocumentCount counts without a query") {
  fixture f;
  seed(f);
  std::vector<std::string> collections, indexes;
  std::int64_t n = -1;
  diagnostics diag;
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    auto db = f.c->get_database("test");
    list_collections_options list_options;  // named: no temporaries in co_await (g++ 12)
    if (auto e = co_await db.list_collection_names(list_options, collections, diag)) co_return e;
    auto coll = db.get_collection("c");
    if (auto e = co_await coll.list_index_names(indexes, diag)) co_return e;
    estimated_document_count_options count_options;
    co_return co_await coll.estimated_document_count(count_options, n, diag);
  }());
  REQUIRE_MESSAGE(!ec, describe(diag));
  CHECK(collections == std::vector<std::string>{"c"});
  CHECK(indexes == std::vector<std::string>{"_id_"});
  CHECK(n == 3);
  CHECK((*f.started("listCollections")[0])["nameOnly"].as_bool() == true);
  auto count = f.started("count");
  REQUIRE(count.size() == 1);
  CHECK_FALSE(count[0]->get_view().contains("query"));
}

TEST_CASE("findOne with find options sends them, limit 1 and singleBatch, and is retried once") {
  fixture f;
  seed(f);
  fail_next(f, "find");
  find_options o;
  o.sort = bson::document::from_json(R"({"x": -1})");
  o.comment = bson_value(std::string_view("why"));
  o.hint = index_hint(bson::document::from_json(R"({"_id": 1})"));
  o.max_time_ms = 5000;
  std::optional<bson::document> doc;
  diagnostics diag;
  auto filter = bson::document();
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    auto coll = f.c->get_collection("test", "c");
    auto pending = coll.find_one(filter, std::move(o), doc, diag);
    co_return co_await std::move(pending);
  }());
  REQUIRE_MESSAGE(!ec, describe(diag));
  REQUIRE(doc);
  CHECK((*doc)["_id"].as_int32() == 3);
  auto sent = f.started("find");
  REQUIRE(sent.size() == 2);
  CHECK((*sent[0])["comment"].as_string() == "why");
  CHECK((*sent[0])["maxTimeMS"].as_integer() == 5000);
  CHECK((*sent[0])["limit"].as_integer() == 1);
  CHECK((*sent[0])["singleBatch"].as_bool() == true);
  CHECK((*sent[0]).get_view().find_path("hint._id").as_integer() == 1);
}

TEST_CASE("an unacknowledged write goes with moreToCome: its succeeded event reply is {ok: 1}") {
  fixture f;
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    collection_options o;
    o.write_concern = bson::document::from_json(R"({"w": 0})");
    auto coll = f.c->get_collection("test", "c").with_options(std::move(o));
    insert_one_result r;
    diagnostics diag;
    auto doc = bson::document::from_json(R"({"_id": 1})");
    const insert_one_options options;
    co_return co_await coll.insert_one(doc, options, r, diag);
  }());
  REQUIRE(!ec);
  const recorded_event* succeeded = nullptr;
  for (const auto& e : f.events)
    if (e.type == command_event_type::succeeded && e.name == "insert") succeeded = &e;
  REQUIRE(succeeded);
  CHECK(succeeded->doc.get_view() == bson::document::from_json(R"({"ok": 1})").get_view());
  CHECK(f.count("c") == 1);  // the server ran it; the next command on the connection waited for it
}
