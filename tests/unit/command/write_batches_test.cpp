// Write batch splitting (crud.md "Bulk Write", OP_MSG.md "Document Sequences"): by count,
// by message size with the 16 KiB allowance, and the statement size limits.
#include <doctest/doctest.h>

#include <vector>

#include "proto/command/write_batches.hpp"

using namespace mongowire;
using namespace mongowire::detail;

TEST_CASE("write batches: at most maxWriteBatchSize statements per command") {
  write_limits limits;
  limits.max_write_batch_size = 3;
  std::vector<std::size_t> sizes(7, 20);
  CHECK(next_batch_count(sizes, 50, "documents", limits) == 3);
  CHECK(next_batch_count(std::span(sizes).subspan(6), 50, "documents", limits) == 1);
  CHECK(next_batch_count({}, 50, "documents", limits) == 0);
}

TEST_CASE("write batches: the message with header, body, sequence and 16 KiB allowance fits maxMessageSizeBytes") {
  write_limits limits;
  const std::size_t body = 100;
  const std::size_t fixed = 16 + 4 + 1 + body + 1 + 4 + sizeof("documents") + command_fields_allowance;
  limits.max_message_size_bytes = static_cast<std::int32_t>(fixed + 3 * 1000);
  std::vector<std::size_t> sizes(5, 1000);
  CHECK(next_batch_count(sizes, body, "documents", limits) == 3);  // exactly full
  limits.max_message_size_bytes -= 1;
  CHECK(next_batch_count(sizes, body, "documents", limits) == 2);
  // 4 x 13 MB into 48 MB messages: 3 + 1 (the example of spec-conformance finding 2).
  write_limits mongod;
  std::vector<std::size_t> big(4, 13'000'000);
  CHECK(next_batch_count(big, 60, "documents", mongod) == 3);
}

TEST_CASE("write batches: a statement larger than the message still forms a batch of one") {
  write_limits limits;
  limits.max_message_size_bytes = 100;
  std::vector<std::size_t> sizes{500, 10};
  CHECK(next_batch_count(sizes, 10, "updates", limits) == 1);
}

TEST_CASE("write batches: inserts may be maxBsonObjectSize, update/delete statements 16 KiB more") {
  write_limits limits;
  CHECK(max_statement_size("insert", limits) == 16u * 1024 * 1024);
  CHECK(max_statement_size("update", limits) == 16u * 1024 * 1024 + 16 * 1024);
  CHECK(max_statement_size("delete", limits) == 16u * 1024 * 1024 + 16 * 1024);
}

TEST_CASE("write batches: copy_with_statements keeps the other fields in order and a slice of the array") {
  auto body =
      bson::document::from_json(R"({"insert": "c", "documents": [{"a": 0}, {"a": 1}, {"a": 2}], "ordered": false})");
  bson::document out;
  copy_with_statements(body, "documents", 1, 2, out);
  CHECK(
      out.get_view() ==
      bson::document::from_json(R"({"insert": "c", "documents": [{"a": 1}, {"a": 2}], "ordered": false})").get_view());
}
