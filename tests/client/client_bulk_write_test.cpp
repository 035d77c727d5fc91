// client::bulk_write against the test server playing MongoDB 8.0 (maxWireVersion 25): the
// prose tests of the crud tests README for MongoClient.bulkWrite (3-9, 12, 15, 16) and the
// client-side refusals of bulk-write.md.
#include <chrono>
#include <thread>

#include "client_support.hpp"

using namespace client_test;

namespace {

// The server's maxWriteBatchSize, lowered from mongod's 100,000: the prose tests' batches of
// maxWriteBatchSize + 1 writes split the same way, in a fraction of the time.
constexpr std::int32_t max_write_batch_size = 4;
constexpr std::size_t max_bson_object_size = 16 * 1024 * 1024;

testd::server_options mongod_8_0() {
  testd::server_options o;
  o.max_wire_version = 25;
  o.max_write_batch_size = max_write_batch_size;
  return o;
}

// Batches are planned with the limits of the server the topology knows (mongod's values until
// its hello is in): a first command makes sure the lowered maxWriteBatchSize is known.
struct bulk_fixture : fixture {
  explicit bulk_fixture(std::string uri_options = "") : fixture(std::move(uri_options), mongod_8_0()) {
    fail_point(R"({"configureFailPoint": "failCommand", "mode": "off"})");
    events.clear();
  }
};

error_code client_bulk_write(fixture& f, std::vector<client_write_model> models, client_bulk_write_options options,
                             client_bulk_write_result& result, diagnostics& diag) {
  return run(f.io, [&]() -> asio::awaitable<error_code> {
    auto pending = f.c->bulk_write(std::move(models), std::move(options), result, diag);
    co_return co_await std::move(pending);
  }());
}

client_write_model insert_model(std::string ns, bson::document doc) {
  client_write_model m;
  m.ns = std::move(ns);
  m.model.document = std::move(doc);
  return m;
}

// UpdateOne {_id: id} {$set: {x: 1}} with upsert.
client_write_model upsert_model(std::string ns, std::string id) {
  client_write_model m;
  m.ns = std::move(ns);
  m.model.type = write_model::kind::update_one;
  m.model.filter.append("_id", id);
  m.model.update = bson::document::from_json(R"({"$set": {"x": 1}})");
  m.model.options.upsert = true;
  return m;
}

std::vector<client_write_model> repeated(const client_write_model& m, std::size_t n) {
  return std::vector<client_write_model>(n, m);
}

// {a: "bbb..."} of `size` bytes of string.
bson::document a_string(std::size_t size) {
  bson::document d;
  d.append("a", std::string(size, 'b'));
  return d;
}

// Prose tests 7-9: two upserts whose results (their _id) need two cursor batches.
std::vector<client_write_model> two_big_upserts() {
  return {upsert_model("test.big", std::string(max_bson_object_size / 2, 'a')),
          upsert_model("test.big", std::string(max_bson_object_size / 2, 'b'))};
}

client_bulk_write_options verbose() {
  client_bulk_write_options o;
  o.verbose_results = true;
  return o;
}

}  // namespace

TEST_CASE("client bulkWrite: maxWriteBatchSize + 1 inserts are two bulkWrite commands (crud prose test 3)") {
  bulk_fixture f;
  bson::document doc;
  doc.append("a", "b");
  client_bulk_write_result r;
  diagnostics diag;
  auto models = repeated(insert_model("test.c", doc), max_write_batch_size + 1);
  REQUIRE_MESSAGE(!client_bulk_write(f, std::move(models), {}, r, diag), describe(diag));
  CHECK(r.inserted_count == max_write_batch_size + 1);
  auto commands = f.started("bulkWrite");
  REQUIRE(commands.size() == 2);
  CHECK(array_size(*commands[0], "ops") == static_cast<std::size_t>(max_write_batch_size));
  CHECK(array_size(*commands[1], "ops") == 1);
  CHECK((*commands[0])["$db"].as_string() == std::optional<std::string_view>("admin"));
  std::vector<std::int64_t> operation_ids;
  for (const auto& e : f.events)
    if (e.type == command_event_type::started && e.name == "bulkWrite") operation_ids.push_back(e.operation_id);
  REQUIRE(operation_ids.size() == 2);
  CHECK(operation_ids[0] == operation_ids[1]);  // one operation, one operationId
  CHECK(f.count("c") == max_write_batch_size + 1);
}

TEST_CASE("client bulkWrite: writes beyond maxMessageSizeBytes are split (crud prose test 4)") {
  bulk_fixture f;
  const std::size_t models_count = 48'000'000 / max_bson_object_size + 1;
  client_bulk_write_result r;
  diagnostics diag;
  auto models = repeated(insert_model("test.c", a_string(max_bson_object_size - 500)), models_count);
  REQUIRE_MESSAGE(!client_bulk_write(f, std::move(models), {}, r, diag), describe(diag));
  CHECK(r.inserted_count == static_cast<std::int64_t>(models_count));
  auto commands = f.started("bulkWrite");
  REQUIRE(commands.size() == 2);
  CHECK(array_size(*commands[0], "ops") == models_count - 1);
  CHECK(array_size(*commands[1], "ops") == 1);
  CHECK(f.pool_cleared_count() == 0);
}

TEST_CASE("client bulkWrite: write concern errors of every command are collected (crud prose test 5)") {
  // Code 91 (ShutdownInProgress) marks the server Unknown; a polling monitor finds it again at
  // once, where a streaming one ignores the check request until its awaitable hello returns.
  bulk_fixture f("&retryWrites=false&serverMonitoringMode=poll");
  f.fail_point(R"({"configureFailPoint": "failCommand", "mode": {"times": 2}, "data": {"failCommands": ["bulkWrite"],
                   "writeConcernError": {"code": 91, "errmsg": "Replication is being shut down"}}})");
  bson::document doc;
  doc.append("a", "b");
  client_bulk_write_result r;
  diagnostics diag;
  auto ec = client_bulk_write(f, repeated(insert_model("test.c", doc), max_write_batch_size + 1), {}, r, diag);
  CHECK(ec == make_server_error(91));
  CHECK(r.write_concern_errors.size() == 2);
  CHECK(r.has_partial_result);
  CHECK(r.inserted_count == max_write_batch_size + 1);
  CHECK(f.started("bulkWrite").size() == 2);
}

TEST_CASE("client bulkWrite: write errors across batches, all when unordered, the first when ordered (prose test 6)") {
  bulk_fixture f;
  bson::document id_1;
  id_1.append("_id", 1);
  client_bulk_write_result r;
  diagnostics diag;
  REQUIRE(!client_bulk_write(f, {insert_model("test.c", id_1)}, {}, r, diag));
  const auto models = repeated(insert_model("test.c", id_1), max_write_batch_size + 1);
  f.events.clear();
  client_bulk_write_options unordered;
  unordered.ordered = false;
  CHECK(client_bulk_write(f, models, unordered, r, diag) == make_server_error(11000));
  CHECK(diag.write_errors.size() == static_cast<std::size_t>(max_write_batch_size + 1));
  CHECK(diag.write_errors.back().index == max_write_batch_size);  // the model's index, not the command's
  CHECK(f.started("bulkWrite").size() == 2);
  CHECK_FALSE(r.has_partial_result);
  f.events.clear();
  diagnostics ordered_diag;
  CHECK(client_bulk_write(f, models, {}, r, ordered_diag) == make_server_error(11000));
  CHECK(ordered_diag.write_errors.size() == 1);
  CHECK(f.started("bulkWrite").size() == 1);
  CHECK_FALSE(r.has_partial_result);  // the first write failed: nothing succeeded
}

TEST_CASE("client bulkWrite: a results cursor beyond 16 MB is drained with getMore (crud prose test 7)") {
  bulk_fixture f;
  client_bulk_write_result r;
  diagnostics diag;
  REQUIRE_MESSAGE(!client_bulk_write(f, two_big_upserts(), verbose(), r, diag), describe(diag));
  CHECK(r.upserted_count == 2);
  CHECK(r.update_results.size() == 2);
  CHECK(r.update_results[1].upserted_id);
  CHECK(f.started("getMore").size() == 1);
  CHECK(f.started("killCursors").empty());
}

TEST_CASE("client bulkWrite in a transaction drains its cursor with getMore in it (crud prose test 8)") {
  bulk_fixture f;
  client_bulk_write_result r;
  diagnostics diag;
  auto ec = run(f.io, [&]() -> asio::awaitable<error_code> {
    auto s = f.c->start_session();
    s.start_transaction();
    auto pending = s.bulk_write(two_big_upserts(), verbose(), r, diag);
    if (auto e = co_await std::move(pending)) co_return e;
    co_return co_await s.commit_transaction(diag);
  }());
  REQUIRE_MESSAGE(!ec, describe(diag));
  CHECK(r.upserted_count == 2);
  CHECK(r.update_results.size() == 2);
  auto get_mores = f.started("getMore");
  REQUIRE(get_mores.size() == 1);
  CHECK((*get_mores[0])["autocommit"].as_bool() == false);  // a statement of the transaction
  CHECK(f.count("big") == 2);
}

TEST_CASE(
    "client bulkWrite: a getMore error is a top-level error with the partial result; the cursor is killed "
    "(crud prose test 9)") {
  bulk_fixture f;
  f.fail_point(R"({"configureFailPoint": "failCommand", "mode": {"times": 1},
                   "data": {"failCommands": ["getMore"], "errorCode": 8}})");
  client_bulk_write_result r;
  diagnostics diag;
  CHECK(client_bulk_write(f, two_big_upserts(), verbose(), r, diag) == make_server_error(8));
  CHECK(diag.server_code == 8);
  CHECK(r.has_partial_result);
  CHECK(r.upserted_count == 2);
  CHECK(r.update_results.size() == 1);
  CHECK(f.started("getMore").size() == 1);
  CHECK(f.started("killCursors").size() == 1);
}

TEST_CASE(
    "client bulkWrite: a write with no room in any message is a client error that sends nothing "
    "(crud prose test 12)") {
  bulk_fixture f;
  bson::document doc;
  doc.append("a", "b");
  client_bulk_write_result r;
  diagnostics diag;
  const std::string huge_ns = "db." + std::string(48'000'000, 'c');
  CHECK(client_bulk_write(f, {insert_model(huge_ns, doc)}, {}, r, diag) == client_errc::invalid_argument);
  CHECK(diag.client_message.find("does not fit") != std::string::npos);
  CHECK_FALSE(r.has_partial_result);
  CHECK(f.started("bulkWrite").empty());
}

TEST_CASE("client bulkWrite with w: 0 is unacknowledged, split like any, w: 0 on every command (prose test 15)") {
  bulk_fixture f;
  bson::document doc;
  doc.append("a", "b");
  client_bulk_write_options o;
  o.ordered = false;
  o.write_concern = bson::document::from_json(R"({"w": 0})");
  client_bulk_write_result r;
  diagnostics diag;
  auto models = repeated(insert_model("test.c", doc), max_write_batch_size + 1);
  REQUIRE_MESSAGE(!client_bulk_write(f, std::move(models), o, r, diag), describe(diag));
  CHECK_FALSE(r.acknowledged);
  auto commands = f.started("bulkWrite");
  REQUIRE(commands.size() == 2);
  for (const auto* c : commands) {
    CHECK((*c)["writeConcern"].as_document()->to_relaxed_json() == R"({ "w" : 0 })");
    CHECK_FALSE(c->get_view().contains("lsid"));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);  // w: 0 writes land eventually
  while (f.count("c") != max_write_batch_size + 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(f.count("c") == max_write_batch_size + 1);
}

TEST_CASE("client bulkWrite refuses, before sending anything, what it could not run or report") {
  bulk_fixture f;
  bson::document doc;
  doc.append("a", "b");
  client_write_model bad_update = insert_model("test.c", {});
  bad_update.model.type = write_model::kind::update_one;
  bad_update.model.update = bson::document::from_json(R"({"x": 1})");
  client_bulk_write_options unacknowledged_ordered;
  unacknowledged_ordered.write_concern = bson::document::from_json(R"({"w": 0})");
  client_bulk_write_options unacknowledged_verbose = unacknowledged_ordered;
  unacknowledged_verbose.ordered = false;
  unacknowledged_verbose.verbose_results = true;
  client_bulk_write_options unacknowledged = unacknowledged_verbose;
  unacknowledged.verbose_results = false;
  struct refusal {
    std::vector<client_write_model> models;
    client_bulk_write_options options;
    const char* says;
  };
  const refusal cases[] = {
      {{}, {}, "at least one model"},
      {{insert_model("nodot", doc)}, {}, "not \"database.collection\""},
      {{insert_model("test.c", doc), bad_update}, {}, "model 1: update document"},
      {{insert_model("test.c", doc)}, unacknowledged_ordered, "ordered writes"},
      {{insert_model("test.c", doc)}, unacknowledged_verbose, "verbose results"},
      // bulk-write.md "Size Limits": only an unacknowledged write checks them client-side.
      {{insert_model("test.c", document_of_size(1, max_bson_object_size + 1))},
       unacknowledged,
       "too large for an unacknowledged write"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.says);
    client_bulk_write_result r;
    diagnostics diag;
    CHECK(client_bulk_write(f, c.models, c.options, r, diag) == client_errc::invalid_argument);
    CHECK(diag.client_message.find(c.says) != std::string::npos);
  }
  CHECK(f.started("bulkWrite").empty());
}

TEST_CASE("client bulkWrite: one command for several namespaces; a generated _id comes first (prose test 16)") {
  bulk_fixture f;
  bson::document doc;
  doc.append("a", "b");
  client_write_model remove = insert_model("test.a", {});
  remove.model.type = write_model::kind::delete_many;
  client_bulk_write_result r;
  diagnostics diag;
  const std::vector<client_write_model> models = {insert_model("test.a", doc), insert_model("test.b", doc),
                                                  insert_model("test.a", doc), remove};
  REQUIRE_MESSAGE(!client_bulk_write(f, models, verbose(), r, diag), describe(diag));
  auto commands = f.started("bulkWrite");
  REQUIRE(commands.size() == 1);
  CHECK((*commands[0])["nsInfo"].as_array()->to_relaxed_json() ==
        R"({ "0" : { "ns" : "test.a" }, "1" : { "ns" : "test.b" } })");
  const auto first_op = (*commands[0])["ops"].as_array()->find("0").as_document();
  CHECK(first_op->find("document").as_document()->first_key() == "_id");
  CHECK(r.inserted_count == 3);
  CHECK(r.deleted_count == 2);
  REQUIRE(r.insert_results.size() == 3);
  CHECK(r.insert_results[0].inserted_id["_id"].as_oid() == first_op->find_path("document._id").as_oid());
  CHECK(r.delete_results[3].deleted_count == 2);
  CHECK(f.count("a") == 0);
  CHECK(f.count("b") == 1);
}
