#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "proto/command/command_builder.hpp"
#include "encoded_sequence.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

// Canonical extended JSON keeps BSON types apart (int vs long), so equal strings mean
// equal field order, types and values.
std::string canonical(std::string_view json) { return bson::document::from_json(json).to_json(); }

std::vector<std::string> keys_of(bson::view v) {
  std::vector<std::string> keys;
  for (const bson::element& e : v) keys.emplace_back(e.key());
  return keys;
}

const session_id test_lsid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr std::string_view test_lsid_json =
    R"({"id": {"$binary": {"base64": "AQIDBAUGBwgJCgsMDQ4PEA==", "subType": "04"}}})";

}  // namespace

TEST_CASE("command: session and transaction fields follow the user's fields in a fixed order with exact types") {
  auto docs = bson::document::from_json(R"({"_id": 1})");
  bson::view doc_views[] = {docs};
  auto cluster_time =
      bson::document::from_json(R"({"clusterTime": {"$timestamp": {"t": 5, "i": 1}}, "signature": {}})");
  auto token = bson::document::from_json(R"({"recoveryShardId": "s1"})");

  command_fields f;
  f.db = "test";
  f.lsid = test_lsid;
  f.txn_number = 1;
  f.start_transaction = true;
  f.in_transaction = true;
  f.read_concern.level = "snapshot";
  f.read_concern.after_cluster_time = bson::timestamp{7, 2};
  f.write_concern = write_concern_fields{std::string_view("majority"), true, 10000};
  f.max_time_ms = 5000;
  f.cluster_time = cluster_time.get_view();
  f.recovery_token = token.get_view();

  bson::document body;
  build_insert(body, "coll", doc_views, true);
  append_command_fields(body, f);

  std::string expected =
      std::string(R"({"insert": "coll", "documents": [{"_id": 1}], "ordered": true, "$db": "test", "lsid": )") +
      std::string(test_lsid_json) + R"(, "txnNumber": {"$numberLong": "1"}, "startTransaction": true,
      "autocommit": false, "readConcern": {"level": "snapshot", "afterClusterTime": {"$timestamp": {"t": 7, "i": 2}}},
      "writeConcern": {"w": "majority", "j": true, "wtimeout": 10000}, "maxTimeMS": 5000,
      "$clusterTime": {"clusterTime": {"$timestamp": {"t": 5, "i": 1}}, "signature": {}},
      "recoveryToken": {"recoveryShardId": "s1"}})";
  CHECK(body.to_json() == canonical(expected));
}

TEST_CASE("command: txnNumber is an int64 even when it fits an int32 (transactions.md)") {
  for (std::int64_t n : {std::int64_t{0}, std::int64_t{1}, std::int64_t{2147483647}, std::int64_t{1} << 40}) {
    bson::document body;
    build_commit_transaction(body);
    command_fields f;
    f.txn_number = n;
    append_command_fields(body, f);
    CHECK(body.find("txnNumber").type() == BSON_TYPE_INT64);
    CHECK(body.find("txnNumber").as_int64() == n);
  }
}

TEST_CASE("command: unset fields are not sent; startTransaction and autocommit only when set") {
  bson::document body;
  build_find(body, "c", bson::view{});
  append_command_fields(body, command_fields{});
  CHECK(keys_of(body) == std::vector<std::string>{"find", "filter"});

  command_fields in_txn;
  in_txn.db = "d";
  in_txn.lsid = test_lsid;
  in_txn.txn_number = 3;
  in_txn.in_transaction = true;  // a later command of the transaction
  build_find(body, "c", bson::view{});
  append_command_fields(body, in_txn);
  CHECK(keys_of(body) == std::vector<std::string>{"find", "filter", "$db", "lsid", "txnNumber", "autocommit"});
  CHECK(body.find("autocommit").as_bool() == false);
  CHECK_FALSE(body.find("startTransaction"));
}

TEST_CASE("command: write concern w is sent as a number or a string, wtimeout widens past int32") {
  bson::document body;
  command_fields f;
  f.write_concern = write_concern_fields{std::int32_t{2}, std::nullopt, std::int64_t{1} << 33};
  build_drop(body, "c");
  append_command_fields(body, f);
  CHECK(body.to_json() ==
        canonical(R"({"drop": "c", "writeConcern": {"w": 2, "wtimeout": {"$numberLong": "8589934592"}}})"));

  f.write_concern = write_concern_fields{};  // an empty write concern is still sent as {}
  build_drop(body, "c");
  append_command_fields(body, f);
  CHECK(body.to_json() == canonical(R"({"drop": "c", "writeConcern": {}})"));
}

TEST_CASE("command: readConcern may carry only afterClusterTime (causal consistency)") {
  bson::document body;
  command_fields f;
  f.read_concern.after_cluster_time = bson::timestamp{9, 9};
  build_find(body, "c", bson::view{});
  append_command_fields(body, f);
  CHECK(body.find("readConcern").as_document()->to_json() ==
        canonical(R"({"afterClusterTime": {"$timestamp": {"t": 9, "i": 9}}})"));
}

TEST_CASE("command: commit and abort are {name: 1} with the transaction fields (transactions.md, Server Commands)") {
  auto token = bson::document::from_json(R"({"t": 1})");
  command_fields f;
  f.db = admin_db;
  f.lsid = test_lsid;
  f.txn_number = 4;
  f.in_transaction = true;
  f.write_concern = write_concern_fields{std::string_view("majority"), std::nullopt, 10000};
  f.recovery_token = token.get_view();

  bson::document body;
  build_commit_transaction(body);
  append_command_fields(body, f);
  CHECK(body.to_json() ==
        canonical(std::string(R"({"commitTransaction": 1, "$db": "admin", "lsid": )") + std::string(test_lsid_json) +
                  R"(, "txnNumber": {"$numberLong": "4"}, "autocommit": false,
        "writeConcern": {"w": "majority", "wtimeout": 10000}, "recoveryToken": {"t": 1}})"));
  build_abort_transaction(body);
  CHECK(body.get_view().first_key() == "abortTransaction");
  CHECK(body.find("abortTransaction").as_int32() == 1);
}

TEST_CASE("command: the statement array moves to a document sequence and leaves the body without it (OP_MSG.md)") {
  auto d1 = bson::document::from_json(R"({"_id": 1})");
  auto d2 = bson::document::from_json(R"({"_id": 2, "s": "x"})");
  bson::view docs[] = {d1, d2};
  bson::document body;
  build_insert(body, "coll", docs, false);
  command_fields f;
  f.db = "db";
  f.txn_number = 1;
  append_command_fields(body, f);

  bson::document rest;
  auto seq = encode_with_sequence(body, rest);
  REQUIRE(seq);
  CHECK(seq->identifier == "documents");
  CHECK(keys_of(rest) == std::vector<std::string>{"insert", "ordered", "$db", "txnNumber"});
  CHECK(seq->array == *body.find("documents").as_array());
  std::vector<bson::view> seen;
  for (const bson::element& e : seq->array) seen.push_back(*e.as_document());
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == d1.get_view());
  CHECK(seen[1] == d2.get_view());
}

TEST_CASE("command: update and delete move their own arrays; other commands are copied unchanged") {
  auto q = bson::document::from_json(R"({"a": 1})");
  auto u = bson::document::from_json(R"({"$set": {"b": 2}})");
  update_statement us{.q = q, .u = u};
  delete_statement ds{.q = q, .limit = 1};
  bson::document body, rest;

  build_update(body, "c", std::span(&us, 1));
  auto seq = encode_with_sequence(body, rest);
  REQUIRE(seq);
  CHECK(seq->identifier == "updates");
  CHECK_FALSE(rest.find("updates"));

  build_delete(body, "c", std::span(&ds, 1));
  seq = encode_with_sequence(body, rest);
  REQUIRE(seq);
  CHECK(seq->identifier == "deletes");
  CHECK(keys_of(rest) == std::vector<std::string>{"delete", "ordered"});

  build_find(body, "c", q);
  CHECK_FALSE(encode_with_sequence(body, rest));
  CHECK(rest.get_view() == body.get_view());

  // A user command whose "documents" is not an array is left alone.
  auto odd = bson::document::from_json(R"({"insert": "c", "documents": {"0": {}}})");
  CHECK_FALSE(encode_with_sequence(odd, rest));
  CHECK(rest.get_view() == odd.get_view());
}

TEST_CASE("command: update statements carry q, u, upsert, multi, arrayFilters, collation and hint (crud.md)") {
  auto q = bson::document::from_json(R"({"a": 1})");
  auto pipeline = bson::document::from_json(R"({"0": {"$set": {"b": 1}}})");
  auto filters = bson::document::from_json(R"({"0": {"e.x": 1}})");
  auto collation = bson::document::from_json(R"({"locale": "fr"})");
  update_statement s;
  s.q = q;
  s.u = pipeline;
  s.u_is_pipeline = true;
  s.upsert = true;
  s.multi = false;
  s.array_filters = filters.get_view();
  s.collation = collation.get_view();
  s.hint = std::string_view("a_1");
  bson::document body;
  build_update(body, "c", std::span(&s, 1), true);
  CHECK(body.to_json() == canonical(R"({"update": "c", "updates": [{"q": {"a": 1}, "u": [{"$set": {"b": 1}}],
      "upsert": true, "multi": false, "arrayFilters": [{"e.x": 1}], "collation": {"locale": "fr"}, "hint": "a_1"}],
      "ordered": true})"));
}

TEST_CASE("command: find with a negative limit asks for a single batch of |limit| (find_getmore_killcursors.md)") {
  auto filter = bson::document::from_json(R"({"x": 1})");
  auto sort = bson::document::from_json(R"({"x": -1})");
  find_options o;
  o.sort = sort.get_view();
  o.skip = 2;
  o.limit = -5;
  o.batch_size = 10;
  bson::document body;
  build_find(body, "c", filter, o);
  CHECK(body.to_json() == canonical(R"({"find": "c", "filter": {"x": 1}, "sort": {"x": -1}, "skip": 2,
      "limit": 5, "batchSize": 10, "singleBatch": true})"));

  o = {};
  o.limit = 0;  // 0 means no limit and is not sent
  build_find(body, "c", filter, o);
  CHECK_FALSE(body.find("limit"));
}

TEST_CASE(
    "command: find of a tailable cursor sends tailable, and awaitData for TAILABLE_AWAIT (crud.md \"CursorType\")") {
  const auto filter = bson::document::from_json(R"({})");
  find_options o;
  bson::document body;
  build_find(body, "c", filter, o);
  CHECK_FALSE(body.find("tailable"));
  CHECK_FALSE(body.find("awaitData"));
  o.tailable = true;
  build_find(body, "c", filter, o);
  CHECK(body.to_json() == canonical(R"({"find": "c", "filter": {}, "tailable": true})"));
  o.await_data = true;
  build_find(body, "c", filter, o);
  CHECK(body.to_json() == canonical(R"({"find": "c", "filter": {}, "tailable": true, "awaitData": true})"));
}

TEST_CASE("command: getMore sends the cursor id as int64 and killCursors an array of int64") {
  bson::document body;
  build_get_more(body, 42, "c", 3);
  CHECK(body.to_json() == canonical(R"({"getMore": {"$numberLong": "42"}, "collection": "c", "batchSize": 3})"));
  std::int64_t ids[] = {7, 8};
  build_kill_cursors(body, "c", ids);
  CHECK(body.to_json() ==
        canonical(R"({"killCursors": "c", "cursors": [{"$numberLong": "7"}, {"$numberLong": "8"}]})"));
}

TEST_CASE("command: aggregate sends cursor {} and `aggregate: 1` for database aggregations") {
  auto pipeline = bson::document::from_json(R"({"0": {"$match": {}}})");
  bson::document body;
  build_aggregate(body, "c", pipeline);
  CHECK(body.to_json() == canonical(R"({"aggregate": "c", "pipeline": [{"$match": {}}], "cursor": {}})"));
  aggregate_options o;
  o.batch_size = 0;
  build_aggregate(body, "", pipeline, o);
  CHECK(body.to_json() == canonical(R"({"aggregate": 1, "pipeline": [{"$match": {}}], "cursor": {"batchSize": 0}})"));
}

TEST_CASE("command: countDocuments is $match, $skip, $limit, $group {_id: 1, n: {$sum: 1}} (crud.md)") {
  auto filter = bson::document::from_json(R"({"x": {"$gt": 1}})");
  count_options o;
  o.skip = 1;
  o.limit = 10;
  bson::document body;
  build_count_documents(body, "c", filter, o);
  CHECK(body.to_json() == canonical(R"({"aggregate": "c", "pipeline": [{"$match": {"x": {"$gt": 1}}}, {"$skip": 1},
      {"$limit": 10}, {"$group": {"_id": 1, "n": {"$sum": 1}}}], "cursor": {}})"));
  build_count_documents(body, "c", bson::view{});
  CHECK(body.find("pipeline").as_array()->count() == 2);
}

TEST_CASE("command: count, distinct, create, drop have the shapes the transactions tests expect") {
  auto filter = bson::document::from_json(R"({"_id": 1})");
  bson::document body;
  build_count(body, "test", filter);
  CHECK(body.to_json() == canonical(R"({"count": "test", "query": {"_id": 1}})"));
  build_distinct(body, "test", "_id", bson::view{});
  CHECK(body.to_json() == canonical(R"({"distinct": "test", "key": "_id", "query": {}})"));
  auto opts = bson::document::from_json(R"({"capped": true, "size": 1024})");
  build_create(body, "test", opts);
  CHECK(body.to_json() == canonical(R"({"create": "test", "capped": true, "size": 1024})"));
  build_drop(body, "test");
  CHECK(body.to_json() == canonical(R"({"drop": "test"})"));
}

TEST_CASE("command: findAndModify needs exactly one of remove and update (crud.md, Find And Modify)") {
  auto q = bson::document::from_json(R"({"_id": 3})");
  auto u = bson::document::from_json(R"({"$inc": {"x": 1}})");
  bson::document body;
  find_and_modify_options o;
  o.query = q;
  o.remove = true;
  REQUIRE_FALSE(build_find_and_modify(body, "test", o));
  CHECK(body.to_json() == canonical(R"({"findAndModify": "test", "query": {"_id": 3}, "remove": true})"));

  o.remove = false;
  o.update = u.get_view();
  o.return_new = true;
  o.upsert = true;
  REQUIRE_FALSE(build_find_and_modify(body, "test", o));
  CHECK(body.to_json() == canonical(R"({"findAndModify": "test", "query": {"_id": 3}, "update": {"$inc": {"x": 1}},
      "new": true, "upsert": true})"));

  o.remove = true;  // both
  CHECK(build_find_and_modify(body, "test", o) == client_errc::invalid_argument);
  o.remove = false;
  o.update.reset();  // neither
  CHECK(build_find_and_modify(body, "test", o) == client_errc::invalid_argument);
}

TEST_CASE("command: createIndexes names indexes key_value joined by '_' when no name is given (index-management.md)") {
  auto keys = bson::document::from_json(R"({"a": 1, "b": -1, "loc": "2dsphere", "d": 1.0})");
  auto opts = bson::document::from_json(R"({"unique": true})");
  CHECK(default_index_name(keys) == "a_1_b_-1_loc_2dsphere_d_1");
  index_model models[] = {{keys, "", opts}, {keys, "mine", bson::view{}}};
  bson::document body;
  build_create_indexes(body, "test", models);
  CHECK(body.to_json() == canonical(R"({"createIndexes": "test", "indexes": [
      {"key": {"a": 1, "b": -1, "loc": "2dsphere", "d": 1.0}, "name": "a_1_b_-1_loc_2dsphere_d_1", "unique": true},
      {"key": {"a": 1, "b": -1, "loc": "2dsphere", "d": 1.0}, "name": "mine"}]})"));
}

TEST_CASE("command: endSessions lists {id: UUID} documents (driver-sessions.md)") {
  session_id ids[] = {test_lsid, test_lsid};
  bson::document body;
  build_end_sessions(body, ids);
  CHECK(body.to_json() == canonical(std::string(R"({"endSessions": [)") + std::string(test_lsid_json) + ", " +
                                    std::string(test_lsid_json) + "]}"));
}

TEST_CASE("command: the handshake hello carries helloOk, backpressure: \"2\" and the client metadata (handshake.md)") {
  hello_options o;
  o.client = client_metadata{"app", "mongowire", "1.2.3", "Linux", "Debian", "x86_64", "C++20"};
  bson::document body;
  build_hello(body, o);
  CHECK(body.to_json() == canonical(R"({"hello": 1, "helloOk": true, "backpressure": "2",
      "client": {"application": {"name": "app"},
      "driver": {"name": "mongowire", "version": "1.2.3"},
      "os": {"type": "Linux", "name": "Debian", "architecture": "x86_64"}, "platform": "C++20"}})"));

  hello_options legacy;
  legacy.legacy_name = true;
  build_hello(body, legacy);
  CHECK(body.to_json() == canonical(R"({"isMaster": 1, "helloOk": true})"));  // a monitoring hello

  auto defaults = default_client_metadata();
  CHECK_FALSE(defaults.os_type.empty());
  CHECK(defaults.driver_name == "mongowire");
}

TEST_CASE("command: client metadata over 512 bytes drops os details, then truncates platform (handshake.md)") {
  std::string long_platform(600, 'p');
  hello_options o;
  o.client = client_metadata{"app", "mongowire", "1", "Linux", "Debian", "x86_64", long_platform};
  bson::document body;
  build_hello(body, o);
  auto client = body.find("client").as_document();
  REQUIRE(client);
  CHECK(client->size() <= max_client_metadata_bytes);
  CHECK(client->find_path("os.type").as_string() == "Linux");
  CHECK_FALSE(client->find_path("os.name"));
  auto platform = client->find("platform").as_string();
  REQUIRE(platform);
  CHECK(platform->size() < long_platform.size());
  CHECK(client->size() >= max_client_metadata_bytes - 1);  // truncated just enough
}

TEST_CASE("command: user commands are copied as given") {
  auto cmd = bson::document::from_json(R"({"ping": 1, "comment": "x"})");
  bson::document body;
  build_user_command(body, cmd);
  CHECK(body.get_view() == cmd.get_view());
}
