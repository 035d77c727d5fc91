#include <doctest/doctest.h>

#include <vector>

#include "proto/wire/describe.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

using namespace mongowire;
using namespace mongowire::detail::wire;

namespace {
bool has(const std::string& text, std::string_view needle) { return text.find(needle) != std::string::npos; }
}  // namespace

TEST_CASE("describe_frame: an OP_MSG shows header, flag names, both section kinds, documents and checksum") {
  bson::document cmd, d1;
  cmd.append("insert", "coll").append("$db", "db");
  d1.append("_id", std::int32_t{1});
  bson::view docs[] = {d1};
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(42, 0, msg_flag::more_to_come | msg_flag::exhaust_allowed);
  REQUIRE_FALSE(enc.body(cmd));
  REQUIRE_FALSE(enc.add_sequence("documents", docs));
  REQUIRE_FALSE(enc.finish(true));
  std::string text = describe_frame(out);
  INFO(text);
  CHECK(has(text, "messageLength " + std::to_string(out.size())));
  CHECK(has(text, "requestID     42"));
  CHECK(has(text, "2013 (OP_MSG)"));
  CHECK(has(text, "checksumPresent | moreToCome | exhaustAllowed"));
  CHECK(has(text, "kind 0 (body)"));
  CHECK(has(text, R"("insert" : "coll")"));
  CHECK(has(text, "kind 1 (document sequence)"));
  CHECK(has(text, R"(identifier "documents", 1 document(s))"));
  CHECK(has(text, R"([0] { "_id" : { "$numberInt" : "1" } })"));
  CHECK(has(text, "CRC-32C, verified"));
}

TEST_CASE("describe_frame: legacy OP_QUERY and OP_REPLY are described field by field") {
  bson::document q;
  q.append("isMaster", std::int32_t{1});
  std::vector<std::uint8_t> out;
  REQUIRE_FALSE(encode_op_query(out, 1, "admin.$cmd", 0, 0, -1, q));
  std::string text = describe_frame(out);
  CHECK(has(text, "(OP_QUERY)"));
  CHECK(has(text, R"(fullCollectionName "admin.$cmd")"));
  CHECK(has(text, "numberToReturn -1"));
  encode_op_reply(out, 2, 1, q);
  text = describe_frame(out);
  CHECK(has(text, "(OP_REPLY)"));
  CHECK(has(text, "AwaitCapable"));
  CHECK(has(text, "numberReturned 1"));
}

TEST_CASE("describe_frame: a malformed frame shows its header and the decoding error with its offset") {
  std::vector<std::uint8_t> out = {10, 0, 0, 0};
  CHECK(has(describe_frame(out), "short header"));
  bson::document cmd;
  cmd.append("ping", std::int32_t{1});
  op_msg_encoder enc(out);
  enc.begin(1);
  REQUIRE_FALSE(enc.body(cmd));
  REQUIRE_FALSE(enc.finish());
  out[20] = 5;
  std::string text = describe_frame(out);
  CHECK(has(text, "(OP_MSG)"));
  CHECK(has(text, "error:"));
  CHECK(has(text, "at byte 20: section kind 5"));
  out[12] = 0xdc;  // 2012
  CHECK(has(describe_frame(out), "OP_COMPRESSED"));
}
