#include <doctest/doctest.h>

#include <vector>

#include "proto/wire/legacy.hpp"
#include "wire_test_support.hpp"

using namespace mongowire;
using namespace mongowire::detail::wire;
using wire_test::bytes;
using wire_test::frame_builder;

namespace {
bson::document is_master() {
  bson::document d;
  d.append("isMaster", std::int32_t{1});
  return d;
}
}  // namespace

TEST_CASE("wire protocol OP_QUERY: the legacy handshake encodes to the hand-built bytes") {
  std::vector<std::uint8_t> out;
  REQUIRE_FALSE(encode_op_query(out, 9, "admin.$cmd", query_flag::secondary_ok, 0, -1, is_master()));
  bytes want = {0x3a, 0x00, 0x00, 0x00,  // messageLength 58
                0x09, 0x00, 0x00, 0x00,  // requestID 9
                0x00, 0x00, 0x00, 0x00,  // responseTo
                0xd4, 0x07, 0x00, 0x00,  // opCode 2004
                0x04, 0x00, 0x00, 0x00,  // flags: SecondaryOk
                'a',  'd',  'm',  'i',  'n',  '.', '$', 'c', 'm', 'd', 0x00, 0x00, 0x00, 0x00, 0x00,  // numberToSkip 0
                0xff, 0xff, 0xff, 0xff,  // numberToReturn -1
                0x13, 0x00, 0x00, 0x00, 0x10, 'i', 's', 'M', 'a', 's', 't',  'e',  'r',  0x00, 0x01,
                0x00, 0x00, 0x00, 0x00};
  CHECK(out == want);
}

TEST_CASE("wire protocol OP_QUERY: parse_op_query reads back what encode_op_query wrote") {
  std::vector<std::uint8_t> out;
  REQUIRE_FALSE(encode_op_query(out, 9, "admin.$cmd", 0, 2, -1, is_master()));
  op_query_view q;
  REQUIRE_FALSE(parse_op_query(out, q));
  CHECK(q.header == msg_header{static_cast<std::int32_t>(out.size()), 9, 0, 2004});
  CHECK(q.full_collection_name == "admin.$cmd");
  CHECK(q.number_to_skip == 2);
  CHECK(q.number_to_return == -1);
  CHECK(q.query == is_master().get_view());
  CHECK_FALSE(q.return_fields_selector);
}

TEST_CASE("wire protocol OP_QUERY: the optional returnFieldsSelector is parsed") {
  bson::document sel;
  sel.append("a", std::int32_t{1});
  bytes f = frame_builder().header(1, 0, 2004).i32(0).cstring("db.c").i32(0).i32(1).doc(is_master()).doc(sel).done();
  op_query_view q;
  REQUIRE_FALSE(parse_op_query(f, q));
  REQUIRE(q.return_fields_selector);
  CHECK(*q.return_fields_selector == sel.get_view());
}

TEST_CASE("wire protocol OP_QUERY: malformed queries are rejected with their specific error") {
  decode_error err;
  op_query_view q;
  SUBCASE("collection name without NUL") {
    bytes f = frame_builder()
                  .header(1, 0, 2004)
                  .i32(0)
                  .raw({'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n'})
                  .done();
    CHECK(parse_op_query(f, q, &err) == protocol_errc::truncated_cstring);
    CHECK(err.offset == 20);
  }
  SUBCASE("no room for skip/return") {
    bytes f = frame_builder().header(1, 0, 2004).i32(0).cstring("a.very.long.name").raw({1, 2, 3}).done();
    CHECK(parse_op_query(f, q, &err) == protocol_errc::message_too_short);
  }
  SUBCASE("query document lies about its length") {
    bytes f = frame_builder().header(1, 0, 2004).i32(0).cstring("a.b").i32(0).i32(1).raw({0x40, 0, 0, 0, 0}).done();
    CHECK(parse_op_query(f, q, &err) == protocol_errc::invalid_bson);
  }
  SUBCASE("garbage after the selector") {
    bytes f = frame_builder()
                  .header(1, 0, 2004)
                  .i32(0)
                  .cstring("a.b")
                  .i32(0)
                  .i32(1)
                  .doc(is_master())
                  .doc(is_master())
                  .u8(7)
                  .done();
    CHECK(parse_op_query(f, q, &err) == protocol_errc::trailing_bytes);
  }
  SUBCASE("wrong opcode") {
    std::vector<std::uint8_t> out;
    encode_op_reply(out, 1, 2, is_master());
    CHECK(parse_op_query(out, q, &err) == protocol_errc::unknown_opcode);
  }
  SUBCASE("encoder refuses a name with NUL") {
    std::vector<std::uint8_t> out;
    CHECK(encode_op_query(out, 1, std::string_view("adm\0in", 6), 0, 0, -1, is_master()) ==
          client_errc::invalid_argument);
  }
}

TEST_CASE("wire protocol OP_REPLY: encode_op_reply writes one document the client parser reads") {
  bson::document hello;
  hello.append("ismaster", true).append("maxWireVersion", std::int32_t{21}).append("ok", 1.0);
  std::vector<std::uint8_t> out;
  encode_op_reply(out, 77, 9, hello);
  CHECK(out.size() == 36 + hello.size());
  CHECK(load_i32le(out.data() + 12) == 1);
  op_reply_view r;
  REQUIRE_FALSE(parse_op_reply(out, r));
  CHECK(r.header == msg_header{static_cast<std::int32_t>(out.size()), 77, 9, 1});
  CHECK(r.response_flags == reply_flag::await_capable);
  CHECK(r.cursor_id == 0);
  CHECK(r.starting_from == 0);
  CHECK(r.number_returned == 1);
  CHECK(r.first_document == hello.get_view());
}

TEST_CASE("wire protocol OP_REPLY: cursorID is a little-endian int64") {
  bytes f =
      frame_builder().header(1, 2, 1).i32(0).i32(0x01020304).i32(0x05060708).i32(0).i32(1).doc(is_master()).done();
  op_reply_view r;
  REQUIRE_FALSE(parse_op_reply(f, r));
  CHECK(r.cursor_id == 0x0506070801020304LL);
}

TEST_CASE("wire protocol OP_REPLY: no document, a zero count or an invalid document is bad_reply") {
  decode_error err;
  op_reply_view r;
  SUBCASE("numberReturned 0") {
    bytes f = frame_builder().header(1, 2, 1).i32(0).i32(0).i32(0).i32(0).i32(0).doc(is_master()).done();
    CHECK(parse_op_reply(f, r, &err) == protocol_errc::bad_reply);
    CHECK(err.offset == 32);
  }
  SUBCASE("count 1 but no bytes") {
    bytes f = frame_builder().header(1, 2, 1).i32(0).i32(0).i32(0).i32(0).i32(1).done();
    CHECK(parse_op_reply(f, r, &err) == protocol_errc::bad_reply);
    CHECK(err.offset == 36);
  }
  SUBCASE("document length lies") {
    bytes f = frame_builder().header(1, 2, 1).i32(0).i32(0).i32(0).i32(0).i32(1).raw({0x30, 0, 0, 0, 0}).done();
    CHECK(parse_op_reply(f, r, &err) == protocol_errc::bad_reply);
    CHECK(err.detail.find("overruns") != std::string::npos);
  }
  SUBCASE("frame shorter than the fixed fields") {
    bytes f = frame_builder().header(1, 2, 1).i32(0).i32(0).done();
    CHECK(parse_op_reply(f, r, &err) == protocol_errc::message_too_short);
  }
  SUBCASE("an OP_MSG frame") {
    bytes f = frame_builder().header(1, 2, 2013).i32(0).i32(0).i32(0).i32(0).i32(1).doc(is_master()).done();
    CHECK(parse_op_reply(f, r, &err) == protocol_errc::unknown_opcode);
  }
}
