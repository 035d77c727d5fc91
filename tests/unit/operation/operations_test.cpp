// The operation types: their traits against the spec tables (retryable-reads.md "Supported
// Read Operations", retryable-writes.md "Supported Write Operations", read-write-concern.md,
// causal-consistency.md, server-selection.md), and that each builds the command it names and
// parses the reply it gets.
#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <vector>

#include "proto/operation/operations.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

const bson::document empty;
const bson::document one_doc = bson::document::from_json(R"({"a": 1})");
const bson::document set_b = bson::document::from_json(R"({"$set": {"b": 1}})");

// Every operation type must build a body whose first key is its traits' name.
template <operation_type Op>
std::string built_name(const Op& op) {
  bson::document body;
  REQUIRE_FALSE(op.build(body));
  CHECK(std::string(body.get_view().first_key()) == std::string(op.traits().name));
  return std::string(op.traits().name);
}

}  // namespace

TEST_CASE("operation traits: the reads of retryable-reads.md are retryable reads selected by read preference") {
  const operation_traits reads[] = {
      find_op{"c", empty, {}}.traits(),
      aggregate_op{"c", bson::document::from_json(R"({"0": {"$match": {}}})"), {}}.traits(),
      distinct_op{"c", "x", empty, {}, {}, {}}.traits(),
      count_op{"c", empty, {}}.traits(),
      count_documents_op{"c", empty, {}}.traits(),
      list_databases_op{}.traits(),
      list_collections_op{}.traits(),
      list_indexes_op{"c"}.traits()};
  for (const auto& t : reads) {
    CAPTURE(std::string(t.name));
    CHECK(t.retryability == retry_family::read);
    CHECK(t.selects_by_read_preference);
    CHECK_FALSE(t.takes_write_concern);
    CHECK_FALSE(t.sent_as_given);
  }
}

TEST_CASE("operation traits: read concern and afterClusterTime go to the CRUD reads, not the enumerations") {
  CHECK(find_op{"c", empty, {}}.traits().takes_read_concern);
  CHECK(find_op{"c", empty, {}}.traits().takes_after_cluster_time);
  CHECK(count_op{"c", empty, {}}.traits().takes_read_concern);
  CHECK(distinct_op{"c", "x", empty, {}, {}, {}}.traits().takes_after_cluster_time);
  CHECK_FALSE(list_databases_op{}.traits().takes_read_concern);
  CHECK_FALSE(list_indexes_op{"c"}.traits().takes_after_cluster_time);
}

TEST_CASE("operation traits: getMore, killCursors and aggregate with $out/$merge are not retryable reads") {
  const auto get_more = get_more_op{5, "c", {}}.traits();
  CHECK(get_more.retryability == retry_family::other);
  CHECK_FALSE(get_more.takes_read_concern);
  CHECK(kill_cursors_op{"c", {}}.traits().retryability == retry_family::other);
  for (const char* json : {R"({"0": {"$match": {}}, "1": {"$merge": {"into": "o"}}})", R"({"0": {"$out": "o"}})"}) {
    CAPTURE(json);
    const auto pipeline = bson::document::from_json(json);
    const auto t = aggregate_op{"c", pipeline, {}}.traits();
    CHECK(t.retryability == retry_family::other);
    CHECK(t.takes_write_concern);
    CHECK_FALSE(t.selects_by_read_preference);  // the primary
  }
}

TEST_CASE("operation traits: single-document writes are retryable writes; multi-document statements are not") {
  const bson::view docs[] = {one_doc, one_doc};
  CHECK(insert_op{"c", docs}.traits().retryability == retry_family::write);
  const update_statement one_update{.q = empty, .u = set_b};
  const update_statement many_update{.q = empty, .u = set_b, .multi = true};
  const update_statement mixed[] = {one_update, many_update};
  CHECK(update_op{"c", std::span(&one_update, 1)}.traits().retryability == retry_family::write);
  CHECK(update_op{"c", mixed}.traits().retryability == retry_family::other);
  const delete_statement delete_one{.q = empty, .limit = 1};
  const delete_statement delete_many{.q = empty, .limit = 0};
  CHECK(delete_op{"c", std::span(&delete_one, 1)}.traits().retryability == retry_family::write);
  CHECK(delete_op{"c", std::span(&delete_many, 1)}.traits().retryability == retry_family::other);
  find_and_modify_options remove;
  remove.remove = true;
  CHECK(find_and_modify_op{"c", remove}.traits().retryability == retry_family::write);
  for (const auto& t : {insert_op{"c", docs}.traits(), update_op{"c", mixed}.traits()}) {
    CHECK(t.takes_write_concern);
    CHECK(t.takes_after_cluster_time);
    CHECK_FALSE(t.selects_by_read_preference);
  }
}

TEST_CASE("operation traits: a bulk write's command is judged on the statements it carries") {
  const auto one = bson::document::from_json(R"({"update": "c", "updates": [{"q": {}, "u": {"$set": {"a": 1}}}]})");
  const auto many =
      bson::document::from_json(R"({"delete": "c", "deletes": [{"q": {}, "limit": 1}, {"q": {}, "limit": 0}]})");
  CHECK(bulk_batch_traits(one).retryability == retry_family::write);
  CHECK(bulk_batch_traits(one).name == "update");
  CHECK(bulk_batch_traits(many).retryability == retry_family::other);
  CHECK(bulk_batch_traits(many).takes_write_concern);
}

TEST_CASE("operation traits: DDL takes a write concern and is never retried; runCommand is sent as given") {
  const index_model ix{.keys = one_doc};
  for (const auto& t :
       {create_collection_op{"c", empty}.traits(), drop_collection_op{"c"}.traits(),
        create_indexes_op{"c", std::span(&ix, 1), {}, {}}.traits(), drop_indexes_op{"c", "*", {}, {}}.traits()}) {
    CAPTURE(std::string(t.name));
    CHECK(t.takes_write_concern);
    CHECK(t.retryability == retry_family::other);
  }
  const auto user = bson::document::from_json(R"({"insert": "c", "documents": [{}]})");
  const auto t = run_command_op{user}.traits();
  CHECK(t.name == "insert");
  CHECK(t.sent_as_given);
  CHECK(t.retryability == retry_family::other);  // run-command.md: never retried as a write
  CHECK_FALSE(t.takes_write_concern);
}

TEST_CASE("operation traits: commit and abort are their own retry families (transactions.md)") {
  CHECK(commit_transaction_op{}.traits().retryability == retry_family::commit);
  CHECK(abort_transaction_op{}.traits().retryability == retry_family::abort);
  CHECK(end_sessions_op{}.traits().retryability == retry_family::other);
}

TEST_CASE("operations: each builds the command its traits name") {
  const bson::view docs[] = {one_doc};
  const update_statement u{.q = empty, .u = set_b};
  const delete_statement d{.q = empty, .limit = 1};
  const std::int64_t ids[] = {7};
  const session_id sid{};
  find_and_modify_options fam;
  fam.remove = true;
  const index_model ix{.keys = one_doc};
  const auto pipeline = bson::document::from_json(R"({"0": {"$match": {}}})");
  const std::vector<std::string> names = {
      built_name(insert_op{"c", docs}),
      built_name(update_op{"c", std::span(&u, 1)}),
      built_name(delete_op{"c", std::span(&d, 1)}),
      built_name(find_and_modify_op{"c", fam}),
      built_name(find_op{"c", empty, {}}),
      built_name(aggregate_op{"c", pipeline, {}}),
      built_name(get_more_op{7, "c", {}}),
      built_name(kill_cursors_op{"c", ids}),
      built_name(distinct_op{"c", "x", empty, {}, {}, {}}),
      built_name(count_op{"c", empty, {}}),
      built_name(count_documents_op{"c", empty, {}}),
      built_name(estimated_document_count_op{"c", {}, {}}),
      built_name(list_databases_op{}),
      built_name(list_collections_op{}),
      built_name(list_indexes_op{"c"}),
      built_name(create_collection_op{"c", empty}),
      built_name(drop_collection_op{"c"}),
      built_name(create_indexes_op{"c", std::span(&ix, 1), {}, {}}),
      built_name(drop_indexes_op{"c", "x_1", {}, {}}),
      built_name(commit_transaction_op{}),
      built_name(abort_transaction_op{}),
      built_name(end_sessions_op{std::span(&sid, 1)}),
      built_name(run_command_op{one_doc}),
  };
  CHECK(names.size() == 23);
}

TEST_CASE("operations: listIndexes sends cursor.batchSize and comment only when given (index-management.md)") {
  bson::document body;
  REQUIRE_FALSE(list_indexes_op{"c"}.build(body));
  CHECK(body.to_json() == bson::document::from_json(R"({"listIndexes": "c"})").to_json());
  const auto comment = bson::document::from_json(R"({"comment": "why"})");
  REQUIRE_FALSE(list_indexes_op{"c", 2, comment["comment"]}.build(body));
  CHECK(body.to_json() ==
        bson::document::from_json(R"({"listIndexes": "c", "cursor": {"batchSize": 2}, "comment": "why"})").to_json());
}

TEST_CASE("operations: findAndModify refuses a body that neither removes nor updates") {
  bson::document body;
  CHECK(find_and_modify_op{"c", {}}.build(body) == make_error_code(client_errc::invalid_argument));
}

TEST_CASE("operations: replies are parsed into each type's result") {
  diagnostics diag;
  write_result w;
  const auto write_reply = bson::document::from_json(R"({"ok": 1, "n": 2})");
  const bson::view docs[] = {one_doc};
  CHECK_FALSE(parse_reply(insert_op{"c", docs}, write_reply, w, diag));
  CHECK(w.n == 2);
  cursor_reply cursor;
  const auto cursor_json = R"({"ok": 1, "cursor": {"id": {"$numberLong": "0"}, "ns": "db.c", "firstBatch": [{}]}})";
  CHECK_FALSE(parse_reply(find_op{"c", empty, {}}, bson::document::from_json(cursor_json), cursor, diag));
  CHECK(cursor.batch_count == 1);
  bson::view databases;
  const auto list_reply = bson::document::from_json(R"({"ok": 1, "databases": [{"name": "a"}]})");
  CHECK_FALSE(list_databases_op{}.parse(list_reply, databases, diag));
  CHECK_FALSE(databases.empty());
  // A reply without the array is the server's mistake, reported as such.
  CHECK(list_databases_op{}.parse(bson::document::from_json(R"({"ok": 1})"), databases, diag) ==
        make_error_code(client_errc::invalid_reply));
}

TEST_CASE("operations: dropIndexes names one index or '*', with maxTimeMS and comment (index-management.md)") {
  const auto options = bson::document::from_json(R"({"comment": "why"})");
  bson::document body;
  REQUIRE_FALSE(drop_indexes_op{"c", "x_1", 5, options["comment"]}.build(body));
  CHECK(body.get_view().to_relaxed_json() ==
        R"({ "dropIndexes" : "c", "index" : "x_1", "maxTimeMS" : 5, "comment" : "why" })");
  REQUIRE_FALSE(drop_indexes_op{"c", "*", {}, {}}.build(body));
  CHECK(body.get_view().to_relaxed_json() == R"({ "dropIndexes" : "c", "index" : "*" })");
}
