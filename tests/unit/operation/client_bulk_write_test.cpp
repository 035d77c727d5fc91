// MongoClient.bulkWrite's sans-I/O parts (bulk-write.md): the bulkWrite command and its two
// document sequences, its traits (retryable-writes.md: retryable unless a write is multi),
// batch splitting ("Command Batching", crud tests README prose tests 3, 4 and 11 with small
// limits), and the reply and its results cursor ("Handling the bulkWrite Server Response").
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../command/encoded_sequence.hpp"
#include "proto/command/write_batches.hpp"
#include "proto/operation/operations.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

const bson::document doc_a = bson::document::from_json(R"({"_id": 1, "a": "b"})");
const bson::document filter_1 = bson::document::from_json(R"({"_id": 1})");
const bson::document inc_x = bson::document::from_json(R"({"$inc": {"x": 1}})");
const bson::document replacement = bson::document::from_json(R"({"x": 2})");
const bson::document pipeline = bson::document::from_json(R"({"0": {"$set": {"y": 1}}})");

client_write insert_into(std::string_view ns, bson::view doc = doc_a) {
  client_write w;
  w.ns = ns;
  w.document = doc;
  return w;
}

client_write update_of(std::string_view ns, bool multi) {
  client_write w;
  w.type = client_write::kind::update;
  w.ns = ns;
  w.filter = filter_1;
  w.update_mods = inc_x;
  w.multi = multi;
  return w;
}

client_write delete_of(std::string_view ns, bool multi) {
  client_write w;
  w.type = client_write::kind::remove;
  w.ns = ns;
  w.filter = filter_1;
  w.multi = multi;
  return w;
}

std::string json_of(const bson::element& e) { return e.as_document()->to_relaxed_json(); }

std::string canonical(std::string_view json) { return bson::document::from_json(json).get_view().to_relaxed_json(); }

}  // namespace

TEST_CASE(
    "client bulkWrite: {bulkWrite: 1, errorsOnly, ordered} then ops and nsInfo, namespaces once in order of use") {
  const client_write writes[] = {insert_into("db.b"), update_of("db.a", false), delete_of("db.b", true)};
  bson::document body;
  REQUIRE_FALSE((client_bulk_write_op{writes, {}}.build(body)));
  std::vector<std::string> keys;
  for (const auto& e : body.get_view()) keys.emplace_back(e.key());
  CHECK(keys == std::vector<std::string>{"bulkWrite", "errorsOnly", "ordered", "ops", "nsInfo"});
  CHECK(body["errorsOnly"].as_bool() == true);  // "If the user did not specify ... errorsOnly as true"
  CHECK(body["ordered"].as_bool() == true);     // "MUST explicitly define ordered as true"
  CHECK(body["nsInfo"].as_array()->to_relaxed_json() == canonical(R"({"0": {"ns": "db.b"}, "1": {"ns": "db.a"}})"));
  const bson::view ops = *body["ops"].as_array();
  CHECK(json_of(ops["0"]) == canonical(R"({"insert": 0, "document": {"_id": 1, "a": "b"}})"));
  CHECK(json_of(ops["1"]) ==
        canonical(R"({"update": 1, "filter": {"_id": 1}, "updateMods": {"$inc": {"x": 1}}, "multi": false})"));
  CHECK(json_of(ops["2"]) == canonical(R"({"delete": 0, "filter": {"_id": 1}, "multi": true})"));
}

TEST_CASE("client bulkWrite: update options only when given; replacements and pipelines go in updateMods") {
  const auto filters = bson::document::from_json(R"({"0": {"e.x": 1}})");
  const auto collation = bson::document::from_json(R"({"locale": "fr"})");
  client_write upsert = update_of("db.c", false);
  upsert.update_mods = replacement;
  upsert.upsert = true;
  upsert.hint = std::string_view("x_1");
  client_write piped = update_of("db.c", true);
  piped.update_mods = pipeline;
  piped.update_is_pipeline = true;
  piped.array_filters = filters.get_view();
  piped.collation = collation.get_view();
  bson::document entry;
  build_client_write_entry(entry, upsert, 3);
  CHECK(entry.to_json() == bson::document::from_json(R"({"update": 3, "filter": {"_id": 1}, "updateMods": {"x": 2},
                                                         "multi": false, "upsert": true, "hint": "x_1"})")
                               .to_json());
  build_client_write_entry(entry, piped, 0);
  CHECK(entry["updateMods"].is_array());
  CHECK(entry["arrayFilters"].is_array());
  CHECK(entry["collation"].as_document()->to_relaxed_json() == collation.get_view().to_relaxed_json());
  CHECK_FALSE(entry.get_view().contains("upsert"));
}

TEST_CASE("client bulkWrite: verboseResults, bypassDocumentValidation (false too), comment and let are sent") {
  const auto let = bson::document::from_json(R"({"v": 1})");
  bson::document holder;
  holder.append("c", "why");
  client_bulk_write_fields f;
  f.errors_only = false;
  f.ordered = false;
  f.bypass_document_validation = false;
  f.let = let.get_view();
  f.comment = holder["c"];
  bson::document head;
  build_client_bulk_write_head(head, f);
  CHECK(head.to_json() == bson::document::from_json(R"({"bulkWrite": 1, "errorsOnly": false, "ordered": false,
      "bypassDocumentValidation": false, "comment": "why", "let": {"v": 1}})")
                              .to_json());
}

TEST_CASE("client bulkWrite: ops and nsInfo both travel as document sequences (bulk-write.md, OP_MSG.md)") {
  const client_write writes[] = {insert_into("db.c"), insert_into("db.d")};
  bson::document body, rest;
  client_bulk_write_op{writes, {}}.build(body);
  auto seqs = find_document_sequences(body);
  REQUIRE(seqs);
  REQUIRE(seqs->count == 2);
  CHECK(seqs->items[0].identifier == "ops");
  CHECK(seqs->items[1].identifier == "nsInfo");
  CHECK(seqs->items[1].array.count() == 2);
  auto first = encode_with_sequence(body, rest);
  REQUIRE(first);
  CHECK_FALSE(rest.get_view().contains("ops"));
  CHECK_FALSE(rest.get_view().contains("nsInfo"));
  CHECK(rest.get_view().contains("errorsOnly"));
}

TEST_CASE("client bulkWrite traits: a write to admin, retryable unless one of its writes is multi") {
  const client_write single[] = {insert_into("db.c"), update_of("db.c", false), delete_of("db.c", false)};
  const client_write with_multi[] = {insert_into("db.c"), update_of("db.c", true)};
  const client_write with_delete_many[] = {delete_of("db.c", true)};
  const auto t = client_bulk_write_op{single, {}}.traits();
  CHECK(t.name == "bulkWrite");
  CHECK(t.retryability == retry_family::write);
  CHECK(t.takes_write_concern);
  CHECK_FALSE(t.selects_by_read_preference);
  CHECK(client_bulk_write_op{with_multi, {}}.traits().retryability == retry_family::other);
  CHECK(client_bulk_write_op{with_delete_many, {}}.traits().retryability == retry_family::other);
}

TEST_CASE("client bulkWrite batches: at most maxWriteBatchSize writes per command (prose test 3)") {
  const std::vector<client_write> writes(5, insert_into("db.c"));
  const auto sizes = client_write_entry_sizes(writes);
  write_limits limits;
  limits.max_write_batch_size = 4;
  CHECK(next_client_bulk_write_count(writes, sizes, 43, limits) == 4);
  CHECK(next_client_bulk_write_count(std::span(writes).subspan(4), std::span(sizes).subspan(4), 43, limits) == 1);
}

TEST_CASE("client bulkWrite batches: head, ops and nsInfo within maxMessageSizeBytes - 1000 (prose tests 4, 11)") {
  CHECK(ns_info_entry_size("db.coll") == 21);  // the crud tests README's "Size: 21 bytes"
  const std::string long_ns = "db." + std::string(200, 'c');
  CHECK(ns_info_entry_size(long_ns) == 217);
  const std::vector<client_write> same = {insert_into("db.coll"), insert_into("db.coll"), insert_into("db.coll")};
  const auto sizes = client_write_entry_sizes(same);
  bson::document head;
  build_client_bulk_write_head(head, {});
  CHECK(head.size() == 43);  // {bulkWrite: 1, errorsOnly: true, ordered: true}
  write_limits limits;
  // Exactly the head, one nsInfo entry and two ops entries: the third op goes to the next command.
  limits.max_message_size_bytes = static_cast<std::int32_t>(1000 + 43 + 21 + sizes[0] + sizes[1]);
  CHECK(next_client_bulk_write_count(same, sizes, head.size(), limits) == 2);
  // Room for one more op entry but not for a new namespace's nsInfo entry as well (prose 11).
  std::vector<client_write> mixed = {insert_into("db.coll"), insert_into(long_ns)};
  const auto mixed_sizes = client_write_entry_sizes(mixed);
  limits.max_message_size_bytes = static_cast<std::int32_t>(1000 + 43 + 21 + mixed_sizes[0] + mixed_sizes[1] + 216);
  CHECK(next_client_bulk_write_count(mixed, mixed_sizes, head.size(), limits) == 1);
  limits.max_message_size_bytes += 1;
  CHECK(next_client_bulk_write_count(mixed, mixed_sizes, head.size(), limits) == 2);
}

TEST_CASE("client bulkWrite batches: 0 when the first write cannot fit, the caller's client error (prose test 12)") {
  const std::vector<client_write> writes = {insert_into("db.c")};
  const auto sizes = client_write_entry_sizes(writes);
  write_limits limits;
  limits.max_message_size_bytes = static_cast<std::int32_t>(1000 + 43 + sizes[0]);  // no room for nsInfo
  CHECK(next_client_bulk_write_count(writes, sizes, 43, limits) == 0);
  limits.max_message_size_bytes = 500;  // not even the overhead
  CHECK(next_client_bulk_write_count(writes, sizes, 43, limits) == 0);
}

TEST_CASE("client bulkWrite reply: the six counts and the results cursor") {
  const auto reply = bson::document::from_json(R"({"ok": 1, "nErrors": 1, "nInserted": 2, "nUpserted": 1,
      "nMatched": 3, "nModified": 4, "nDeleted": 5,
      "cursor": {"id": {"$numberLong": "42"}, "ns": "admin.$cmd.bulkWrite", "firstBatch": [{"ok": 1, "idx": 0, "n": 1}]}})");
  client_bulk_write_reply r;
  diagnostics diag;
  REQUIRE_FALSE(client_bulk_write_op{}.parse(reply, r, diag));
  CHECK(r.n_errors == 1);
  CHECK(r.n_inserted == 2);
  CHECK(r.n_upserted == 1);
  CHECK(r.n_matched == 3);
  CHECK(r.n_modified == 4);
  CHECK(r.n_deleted == 5);
  CHECK(r.cursor.id == 42);
  CHECK(r.cursor.ns == "admin.$cmd.bulkWrite");
  CHECK(r.cursor.batch_count == 1);
}

TEST_CASE("client bulkWrite reply: a missing count is an invalid reply naming it; ok: 0 is the server's error") {
  client_bulk_write_reply r;
  diagnostics diag;
  const auto no_deleted = bson::document::from_json(R"({"ok": 1, "nErrors": 0, "nInserted": 0, "nUpserted": 0,
      "nMatched": 0, "nModified": 0, "cursor": {"id": {"$numberLong": "0"}, "ns": "a.b", "firstBatch": []}})");
  CHECK(parse_client_bulk_write_reply(no_deleted, r, diag) == make_error_code(client_errc::invalid_reply));
  CHECK(diag.client_message.find("nDeleted") != std::string::npos);
  diagnostics server;
  const auto failed = bson::document::from_json(R"({"ok": 0, "code": 189, "errmsg": "stepping down"})");
  CHECK(parse_client_bulk_write_reply(failed, r, server) == make_server_error(189));
  CHECK(server.server_message == "stepping down");
}

TEST_CASE("client bulkWrite results: a success with nModified and upserted, a failure with its error") {
  client_bulk_write_item item;
  diagnostics diag;
  const auto upserted =
      bson::document::from_json(R"({"ok": 1.0, "idx": 3, "n": 1, "nModified": 0, "upserted": {"_id": "k"}})");
  REQUIRE_FALSE(parse_client_bulk_write_item(upserted, "cursor.firstBatch", 0, item, diag));
  CHECK(item.ok);
  CHECK(item.idx == 3);
  CHECK(item.n == 1);
  CHECK(item.n_modified == 0);
  REQUIRE(item.upserted_id);
  CHECK(item.upserted_id->as_string() == std::optional<std::string_view>("k"));
  const auto failure = bson::document::from_json(
      R"({"ok": 0.0, "idx": 1, "code": 11000, "errmsg": "E11000 duplicate key", "errInfo": {"why": 1}, "n": 0})");
  REQUIRE_FALSE(parse_client_bulk_write_item(failure, "cursor.nextBatch", 5, item, diag));
  CHECK_FALSE(item.ok);
  CHECK(item.error.index == 1);
  CHECK(item.error.code == 11000);
  CHECK(item.error.code_name == "DuplicateKey");  // from the code table when the server omits it
  CHECK(item.error.errmsg == "E11000 duplicate key");
  CHECK(item.error.err_info.get_view().contains("why"));
}

TEST_CASE("client bulkWrite results: malformed entries are invalid replies naming the entry") {
  struct bad_case {
    const char* json;
    const char* names;
  };
  const bad_case cases[] = {
      {R"({"ok": 1, "n": 1})", "cursor.nextBatch[2].idx"},
      {R"({"idx": 0, "n": 1})", "cursor.nextBatch[2].ok"},
      {R"({"ok": 1, "idx": -1, "n": 1})", "cursor.nextBatch[2].idx"},
      {R"({"ok": 1, "idx": 0})", "cursor.nextBatch[2].n"},
      {R"({"ok": 0, "idx": 0, "code": 0})", "cursor.nextBatch[2].code"},
      {R"({"ok": 0, "idx": 0})", "cursor.nextBatch[2].code"},
      {R"({"ok": 1, "idx": 0, "n": 1, "upserted": {}})", "cursor.nextBatch[2].upserted._id"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json);
    client_bulk_write_item item;
    diagnostics diag;
    CHECK(parse_client_bulk_write_item(bson::document::from_json(c.json), "cursor.nextBatch", 2, item, diag) ==
          make_error_code(client_errc::invalid_reply));
    CHECK(diag.client_message.find(c.names) != std::string::npos);
  }
}
