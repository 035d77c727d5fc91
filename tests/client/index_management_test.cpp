// collection::drop_index and drop_indexes against the test server (index-management.md
// "dropIndex", "dropIndexes"): what they send, what they drop, the server's errors, and the
// deprecated maxTimeMS under timeoutMS (client-side-operations-timeout.md).
#include "client_support.hpp"

using namespace client_test;

namespace {

// Creates {<field>: 1} named "<field>_1" on test.c for each field (and so the collection).
void create_indexes(fixture& f, std::initializer_list<const char*> fields) {
  for (const char* field : fields) {
    auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
      bson::document keys;
      keys.append(field, 1);
      std::string name;
      diagnostics diag;
      auto coll = f.c->get_collection("test", "c");
      auto pending = coll.create_index(keys, index_options{}, name, diag);
      co_return co_await std::move(pending);
    }());
    REQUIRE(!ec);
  }
  f.events.clear();
}

std::vector<std::string> index_names(fixture& f) {
  std::vector<std::string> names;
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    diagnostics diag;
    auto coll = f.c->get_collection("test", "c");
    auto pending = coll.list_index_names(names, diag);
    co_return co_await std::move(pending);
  }());
  REQUIRE(!ec);
  return names;
}

// drop_index(name), or drop_indexes() when `name` is nullopt, through a handle with `timeout`.
error_code drop(fixture& f, std::optional<std::string> name, drop_index_options options, diagnostics& diag,
                std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
  return run(f.io, [&]() -> asio::awaitable<error_code> {
    collection_options handle;
    handle.timeout = timeout;
    auto coll = f.c->get_collection("test", "c").with_options(handle);
    auto pending = name ? coll.drop_index(*name, options, diag) : coll.drop_indexes(options, diag);
    co_return co_await std::move(pending);
  }());
}

}  // namespace

TEST_CASE("drop_index drops one index by name; IndexNotFound for an unknown name, InvalidOptions for _id_") {
  fixture f;
  create_indexes(f, {"x", "y"});
  diagnostics diag;
  auto ec = drop(f, "x_1", {}, diag);
  REQUIRE_MESSAGE(!ec, describe(diag));
  CHECK(index_names(f) == std::vector<std::string>{"_id_", "y_1"});
  auto sent = f.started("dropIndexes");
  REQUIRE(sent.size() == 1);
  CHECK((*sent[0])["dropIndexes"].as_string() == "c");
  CHECK((*sent[0])["index"].as_string() == "x_1");

  diagnostics again;
  CHECK(drop(f, "x_1", {}, again) == make_server_error(server_code::index_not_found));
  CHECK(again.server_code == 27);
  CHECK(again.server_message == "index not found with name [x_1]");
  diagnostics id;
  CHECK(drop(f, "_id_", {}, id) == make_server_error(server_code::invalid_options));
  CHECK(index_names(f) == std::vector<std::string>{"_id_", "y_1"});
}

TEST_CASE("drop_index refuses '*' before sending anything; drop_indexes drops every index but _id_") {
  fixture f;
  create_indexes(f, {"x", "y"});
  diagnostics star;
  CHECK(drop(f, "*", {}, star) == make_error_code(client_errc::invalid_argument));
  CHECK(!star.client_message.empty());
  CHECK(f.started("dropIndexes").empty());
  CHECK(index_names(f).size() == 3);

  diagnostics diag;
  drop_index_options o;
  o.comment = bson_value(std::string_view("cleanup"));
  auto ec = drop(f, std::nullopt, o, diag);
  REQUIRE_MESSAGE(!ec, describe(diag));
  CHECK(index_names(f) == std::vector<std::string>{"_id_"});
  auto sent = f.started("dropIndexes");
  REQUIRE(sent.size() == 1);
  CHECK((*sent[0])["index"].as_string() == "*");
  CHECK((*sent[0])["comment"].as_string() == "cleanup");
}

TEST_CASE("dropIndexes sends the maxTimeMS option without timeoutMS, and the remaining time instead with it") {
  fixture f;
  create_indexes(f, {"x", "y"});
  drop_index_options o;
  o.max_time_ms = 90'000;
  diagnostics diag;
  REQUIRE(!drop(f, "x_1", o, diag));
  REQUIRE(!drop(f, "y_1", o, diag, std::chrono::milliseconds(60'000)));
  auto sent = f.started("dropIndexes");
  REQUIRE(sent.size() == 2);
  CHECK((*sent[0])["maxTimeMS"].as_integer() == 90'000);
  auto remaining = (*sent[1])["maxTimeMS"].as_integer();
  REQUIRE(remaining);
  CHECK(*remaining > 0);
  CHECK(*remaining <= 60'000);  // client-side-operations-timeout.md: maxTimeMS is ignored
}
