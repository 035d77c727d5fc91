#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "proto/wire/crc32c.hpp"
#include "proto/wire/op_msg.hpp"
#include "wire_test_support.hpp"

using namespace mongowire;
using namespace mongowire::detail::wire;
using wire_test::bytes;
using wire_test::frame_builder;

namespace {

// Element-wise append: vector::insert of a vector trips a g++ 12 -Warray-bounds false positive.
void append(bytes& to, const bytes& more) {
  for (std::uint8_t b : more) to.push_back(b);
}

// {"ping": 1, "$db": "admin"}, 30 bytes, written out by hand.
const bytes ping_body = {0x1e, 0x00, 0x00, 0x00,                                      // length 30
                         0x10, 'p',  'i',  'n',  'g',  0x00, 0x01, 0x00, 0x00, 0x00,  // int32 ping: 1
                         0x02, '$',  'd',  'b',  0x00, 0x06, 0x00, 0x00, 0x00,        // string $db,
                         'a',  'd',  'm',  'i',  'n',  0x00,                          //   "admin"
                         0x00};

// OP_MSG.md: MsgHeader, uint32 flagBits, Section+ ; kind 0 = uint8 0 then the document.
bytes golden_ping(std::uint8_t flag_byte0, std::uint8_t flag_byte2, std::uint8_t length) {
  bytes b = {length,     0x00, 0x00,       0x00,         // messageLength
             0x01,       0x00, 0x00,       0x00,         // requestID 1
             0x00,       0x00, 0x00,       0x00,         // responseTo 0
             0xdd,       0x07, 0x00,       0x00,         // opCode 2013
             flag_byte0, 0x00, flag_byte2, 0x00, 0x00};  // section kind 0
  append(b, ping_body);
  return b;
}

bson::document ping_command() {
  bson::document d;
  d.append("ping", std::int32_t{1}).append("$db", "admin");
  return d;
}

bson::document id_doc(std::int32_t id) {
  bson::document d;
  d.append("_id", id);
  return d;
}

error_code parse(const bytes& frame, op_msg_view& out, decode_error* err = nullptr,
                 std::size_t max = default_max_message_size) {
  return op_msg_view::parse(frame, out, err, max);
}

error_code parse_error(const bytes& frame, std::size_t* offset = nullptr, std::size_t max = default_max_message_size) {
  op_msg_view msg;
  decode_error err;
  error_code ec = op_msg_view::parse(frame, msg, &err, max);
  if (ec) {
    CHECK(err.code == ec);
    CHECK_FALSE(err.detail.empty());
    CHECK(err.message().find("at byte") != std::string::npos);
  }
  if (offset) *offset = err.offset;
  return ec;
}

// Kind-0 + kind-1 insert example of OP_MSG.md "Command Arguments As Payload", by hand.
bytes golden_insert() {
  bytes body = {0x1e, 0x00, 0x00, 0x00,                                                             // length 30
                0x02, 'i',  'n',  's',  'e',  'r',  't',  0x00, 0x02, 0x00, 0x00, 0x00, 'c', 0x00,  // insert: "c"
                0x02, '$',  'd',  'b',  0x00, 0x02, 0x00, 0x00, 0x00, 'd',  0x00,                   // $db: "d"
                0x00};
  bytes doc1 = {0x0e, 0x00, 0x00, 0x00, 0x10, '_', 'i', 'd', 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
  bytes doc2 = {0x0e, 0x00, 0x00, 0x00, 0x10, '_', 'i', 'd', 0x00, 0x02, 0x00, 0x00, 0x00, 0x00};
  bytes b = {0x5e, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00,
             0x00, 0x00, 0xdd, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // flagBits
             0x00};                                                       // kind 0
  append(b, body);
  bytes seq = {0x01,                    // kind 1
               0x2a, 0x00, 0x00, 0x00,  // size 42 = 4 + "documents\0" + 2 * 14
               'd',  'o',  'c',  'u',  'm', 'e', 'n', 't', 's', 0x00};
  append(b, seq);
  append(b, doc1);
  append(b, doc2);
  return b;
}

bson::document insert_command() {
  bson::document d;
  d.append("insert", "c").append("$db", "d");
  return d;
}

}  // namespace

// ---------------------------------------------------------------- golden encodings

TEST_CASE("OP_MSG.md: a single kind-0 section encodes to the hand-built bytes") {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(1);
  auto cmd = ping_command();
  REQUIRE_FALSE(enc.body(cmd));
  REQUIRE_FALSE(enc.finish());
  CHECK(out == golden_ping(0x00, 0x00, 51));
}

TEST_CASE("OP_MSG.md: kind-0 plus a kind-1 'documents' sequence encodes to the hand-built bytes") {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(7);
  auto cmd = insert_command();
  bson::document d1 = id_doc(1), d2 = id_doc(2);
  bson::view docs[] = {d1, d2};
  REQUIRE_FALSE(enc.body(cmd));
  REQUIRE_FALSE(enc.add_sequence("documents", docs));
  REQUIRE_FALSE(enc.finish());
  CHECK(out == golden_insert());
}

TEST_CASE("OP_MSG.md: checksumPresent sets bit 0 and appends the CRC-32C of everything before it") {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(1);
  REQUIRE_FALSE(enc.body(ping_command()));
  REQUIRE_FALSE(enc.finish(true));
  bytes want = golden_ping(0x01, 0x00, 55);
  // CRC-32C of the 51 bytes above, computed with an independent bitwise implementation.
  want.insert(want.end(), {0x32, 0x7e, 0x69, 0xa8});
  CHECK(out == want);
}

TEST_CASE("OP_MSG.md: moreToCome is bit 1 and exhaustAllowed bit 16 of flagBits") {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(1, 0, msg_flag::more_to_come);
  REQUIRE_FALSE(enc.body(ping_command()));
  REQUIRE_FALSE(enc.finish());
  CHECK(out == golden_ping(0x02, 0x00, 51));
  enc.begin(1, 0, msg_flag::exhaust_allowed);
  REQUIRE_FALSE(enc.body(ping_command()));
  REQUIRE_FALSE(enc.finish());
  CHECK(out == golden_ping(0x00, 0x01, 51));
}

// ---------------------------------------------------------------- golden parses

TEST_CASE("OP_MSG.md: parsing the hand-built insert yields the body and the 'documents' sequence") {
  bytes frame = golden_insert();
  op_msg_view msg;
  REQUIRE_FALSE(parse(frame, msg));
  CHECK(msg.header() == msg_header{94, 7, 0, 2013});
  CHECK(msg.flag_bits() == 0);
  CHECK(msg.body() == insert_command().get_view());
  CHECK(msg.sequence_count() == 1);
  auto seq = msg.find_sequence("documents");
  REQUIRE(seq);
  CHECK(seq->identifier() == "documents");
  CHECK(seq->offset() == 51);
  CHECK(seq->size() == 2);
  std::int32_t want = 1;
  for (bson::view d : *seq) CHECK(d["_id"].as_int32() == want++);
  CHECK_FALSE(msg.find_sequence("updates"));
  CHECK_FALSE(msg.checksum());
}

TEST_CASE("OP_MSG.md: a kind-1 section may come before the kind-0 section") {
  bson::document d1 = id_doc(1);
  bytes frame = frame_builder()
                    .header(3, 0, 2013)
                    .i32(0)
                    .u8(1)
                    .i32(4 + 10 + static_cast<std::int32_t>(d1.size()))
                    .cstring("documents")
                    .doc(d1)
                    .u8(0)
                    .doc(insert_command())
                    .done();
  op_msg_view msg;
  REQUIRE_FALSE(parse(frame, msg));
  CHECK(msg.body() == insert_command().get_view());
  REQUIRE(msg.sequence_count() == 1);
  CHECK((*msg.sequences().begin()).size() == 1);
}

TEST_CASE("OP_MSG.md: an empty kind-1 sequence (zero documents) is valid") {
  bytes frame =
      frame_builder().header(3, 0, 2013).i32(0).u8(0).doc(ping_command()).u8(1).i32(4 + 2).cstring("x").done();
  op_msg_view msg;
  REQUIRE_FALSE(parse(frame, msg));
  auto seq = msg.find_sequence("x");
  REQUIRE(seq);
  CHECK(seq->empty());
  CHECK(seq->size() == 0);
}

TEST_CASE("OP_MSG.md: a received checksum is verified and exposed") {
  bytes frame = golden_ping(0x01, 0x00, 55);
  frame.insert(frame.end(), {0x32, 0x7e, 0x69, 0xa8});
  op_msg_view msg;
  REQUIRE_FALSE(parse(frame, msg));
  CHECK(msg.checksum_present());
  CHECK(msg.checksum() == 0xa8697e32u);
  CHECK(msg.body() == ping_command().get_view());
}

TEST_CASE("OP_MSG.md flagBits: unknown optional bits (16-31) are ignored") {
  bytes frame = golden_ping(0x00, 0x02, 51);  // bit 17
  op_msg_view msg;
  CHECK_FALSE(parse(frame, msg));
  CHECK(msg.flag_bits() == (1u << 17));
  frame = golden_ping(0x02, 0x01, 51);
  REQUIRE_FALSE(parse(frame, msg));
  CHECK(msg.more_to_come());
  CHECK(msg.exhaust_allowed());
}

// ---------------------------------------------------------------- malformed frames

TEST_CASE("OP_MSG parse: fewer than 16 bytes is short_header") {
  bytes frame = golden_ping(0, 0, 51);
  frame.resize(15);
  CHECK(parse_error(frame) == protocol_errc::short_header);
}

TEST_CASE("OP_MSG parse: messageLength below 21 is message_too_short") {
  bytes frame = frame_builder().header(1, 0, 2013).i32(0).done();  // 20 bytes, no section
  std::size_t at = 99;
  CHECK(parse_error(frame, &at) == protocol_errc::message_too_short);
  CHECK(at == 0);
}

TEST_CASE("OP_MSG parse: a frame shorter than its messageLength is message_too_short, longer is trailing_bytes") {
  bytes frame = golden_ping(0, 0, 51);
  bytes cut(frame.begin(), frame.end() - 1);
  CHECK(parse_error(cut) == protocol_errc::message_too_short);
  frame.push_back(0);
  std::size_t at = 0;
  CHECK(parse_error(frame, &at) == protocol_errc::trailing_bytes);
  CHECK(at == 51);
}

TEST_CASE("OP_MSG parse: messageLength above maxMessageSizeBytes is message_too_long") {
  bytes frame = golden_ping(0, 0, 51);
  CHECK(parse_error(frame, nullptr, 50) == protocol_errc::message_too_long);
  frame[0] = 0xff;
  frame[1] = 0xff;
  frame[2] = 0xff;
  frame[3] = 0x7f;  // INT32_MAX
  CHECK(parse_error(frame) == protocol_errc::message_too_long);
}

TEST_CASE("OP_MSG parse: negative messageLength is message_too_short") {
  bytes frame = golden_ping(0, 0, 51);
  frame[3] = 0x80;
  CHECK(parse_error(frame) == protocol_errc::message_too_short);
}

TEST_CASE("OP_MSG parse: another opcode is unknown_opcode") {
  bytes frame = golden_ping(0, 0, 51);
  frame[12] = 0xd4;  // 2004 OP_QUERY
  CHECK(parse_error(frame) == protocol_errc::unknown_opcode);
}

TEST_CASE("OP_MSG.md flagBits: an unknown required bit (0-15) is unknown_required_flag") {
  for (std::uint8_t bit : {2, 3, 7}) {
    bytes frame = golden_ping(static_cast<std::uint8_t>(1u << bit), 0x00, 51);
    std::size_t at = 0;
    CHECK(parse_error(frame, &at) == protocol_errc::unknown_required_flag);
    CHECK(at == 16);
  }
  bytes frame = golden_ping(0x00, 0x00, 51);
  frame[17] = 0x80;  // bit 15
  CHECK(parse_error(frame) == protocol_errc::unknown_required_flag);
}

TEST_CASE("OP_MSG.md sections: a payload type other than 0 or 1 is bad_section_kind") {
  bytes frame = golden_ping(0, 0, 51);
  frame[20] = 2;
  std::size_t at = 0;
  CHECK(parse_error(frame, &at) == protocol_errc::bad_section_kind);
  CHECK(at == 20);
}

TEST_CASE("OP_MSG.md sections: no kind-0 section is missing_body_section") {
  bson::document d1 = id_doc(1);
  bytes frame = frame_builder()
                    .header(1, 0, 2013)
                    .i32(0)
                    .u8(1)
                    .i32(4 + 2 + static_cast<std::int32_t>(d1.size()))
                    .cstring("d")
                    .doc(d1)
                    .done();
  CHECK(parse_error(frame) == protocol_errc::missing_body_section);
}

TEST_CASE("OP_MSG.md sections: two kind-0 sections is duplicate_body_section") {
  bytes frame = frame_builder().header(1, 0, 2013).i32(0).u8(0).doc(ping_command()).u8(0).doc(ping_command()).done();
  std::size_t at = 0;
  CHECK(parse_error(frame, &at) == protocol_errc::duplicate_body_section);
  CHECK(at == 51);
}

TEST_CASE("OP_MSG parse: a kind-1 size running past the frame is section_overrun") {
  bytes frame = golden_insert();
  frame[52] = 0x2b;  // size 43 instead of 42
  std::size_t at = 0;
  CHECK(parse_error(frame, &at) == protocol_errc::section_overrun);
  CHECK(at == 52);
  frame[52] = 0x02;  // size 2 < its own 4 bytes
  CHECK(parse_error(frame) == protocol_errc::section_overrun);
  frame[52] = 0x2a;
  frame[55] = 0x80;  // negative size
  CHECK(parse_error(frame) == protocol_errc::section_overrun);
}

TEST_CASE("OP_MSG parse: a kind-1 or kind-0 header cut by the frame end is section_overrun") {
  bytes seq_cut = frame_builder().header(1, 0, 2013).i32(0).u8(0).doc(ping_command()).u8(1).raw({0x05, 0x00}).done();
  CHECK(parse_error(seq_cut) == protocol_errc::section_overrun);
  bytes body_cut = frame_builder().header(1, 0, 2013).i32(0).u8(0).raw({0x05, 0x00, 0x00}).done();
  CHECK(parse_error(body_cut) == protocol_errc::section_overrun);
}

TEST_CASE("OP_MSG parse: a body document length running past the frame is section_overrun") {
  bytes frame = golden_ping(0, 0, 51);
  frame[21] = 0x1f;
  std::size_t at = 0;
  CHECK(parse_error(frame, &at) == protocol_errc::section_overrun);
  CHECK(at == 21);
}

TEST_CASE("OP_MSG parse: a BSON length that lies inside a document is invalid_bson") {
  SUBCASE("body: inner string length overruns the document") {
    bytes frame = golden_ping(0, 0, 51);
    frame[21 + 19] = 0x40;  // "$db" string length 64
    CHECK(parse_error(frame) == protocol_errc::invalid_bson);
  }
  SUBCASE("body: declared length shorter than its elements") {
    bytes frame = golden_ping(0, 0, 51);
    frame[21] = 0x1d;  // 29: the "$db" string now runs into the terminator
    std::size_t at = 0;
    CHECK(parse_error(frame, &at) == protocol_errc::invalid_bson);
    CHECK(at == 21);
  }
  SUBCASE("sequence: a document longer than its sequence") {
    bytes frame = golden_insert();
    frame[94 - 14] = 0x0f;  // second document claims 15 bytes, sequence ends after 14
    std::size_t at = 0;
    CHECK(parse_error(frame, &at) == protocol_errc::invalid_bson);
    CHECK(at == 80);
  }
  SUBCASE("sequence: stray bytes after the last document") {
    bson::document d1 = id_doc(1);
    bytes frame = frame_builder()
                      .header(1, 0, 2013)
                      .i32(0)
                      .u8(0)
                      .doc(ping_command())
                      .u8(1)
                      .i32(4 + 2 + static_cast<std::int32_t>(d1.size()) + 3)
                      .cstring("d")
                      .doc(d1)
                      .raw({0x01, 0x02, 0x03})
                      .done();
    CHECK(parse_error(frame) == protocol_errc::invalid_bson);
  }
  SUBCASE("sequence: element of an unknown type") {
    bytes frame = golden_insert();
    frame[94 - 10] = 0x7e;
    CHECK(parse_error(frame) == protocol_errc::invalid_bson);
  }
}

TEST_CASE("OP_MSG parse: an identifier without NUL inside its section is truncated_cstring") {
  bytes frame =
      frame_builder().header(1, 0, 2013).i32(0).u8(0).doc(ping_command()).u8(1).i32(4 + 3).raw({'a', 'b', 'c'}).done();
  std::size_t at = 0;
  CHECK(parse_error(frame, &at) == protocol_errc::truncated_cstring);
  CHECK(at == 56);
  // The NUL exists, but only after the section's end.
  bytes frame2 =
      frame_builder().header(1, 0, 2013).i32(0).u8(1).i32(4 + 3).raw({'a', 'b', 'c'}).u8(0).doc(ping_command()).done();
  CHECK(parse_error(frame2) == protocol_errc::truncated_cstring);
}

TEST_CASE("OP_MSG.md checksum: flag set without room for the 4 checksum bytes is checksum_missing") {
  // 21..24 bytes: flag set, no room for a section and a checksum.
  for (std::uint8_t extra : {0, 1, 2, 3}) {
    frame_builder b;
    b.header(1, 0, 2013).i32(1).u8(0);
    for (int i = 0; i < extra; ++i) b.u8(0);
    CHECK(parse_error(b.done()) == protocol_errc::checksum_missing);
  }
}

TEST_CASE("OP_MSG.md checksum: a flipped byte is checksum_mismatch") {
  bytes good = golden_ping(0x01, 0x00, 55);
  good.insert(good.end(), {0x32, 0x7e, 0x69, 0xa8});
  for (std::size_t i : {std::size_t{4}, std::size_t{30}, std::size_t{54}}) {
    bytes bad = good;
    bad[i] ^= 0x01;
    std::size_t at = 0;
    CHECK(parse_error(bad, &at) == protocol_errc::checksum_mismatch);
    CHECK(at == 51);
  }
}

TEST_CASE("OP_MSG.md checksum: a sender that sets the flag but omits the checksum is rejected") {
  bytes frame = golden_ping(0x01, 0x00, 51);
  CHECK(parse_error(frame) == protocol_errc::checksum_mismatch);
}

TEST_CASE("OP_MSG parse: without an error sink it still reports the code") {
  bytes frame = golden_ping(0, 0, 51);
  frame[20] = 9;
  op_msg_view msg;
  CHECK(op_msg_view::parse(frame, msg) == protocol_errc::bad_section_kind);
}

TEST_CASE("OP_MSG parse: every truncation of a valid frame is an error, never a crash") {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(5);
  bson::document d1 = id_doc(1), d2 = id_doc(2);
  bson::view docs[] = {d1, d2};
  REQUIRE_FALSE(enc.body(insert_command()));
  REQUIRE_FALSE(enc.add_sequence("documents", docs));
  REQUIRE_FALSE(enc.finish(true));
  for (std::size_t len = 0; len < out.size(); ++len) {
    bytes cut(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(len));
    CHECK(parse_error(cut));  // messageLength as sent: the frame is cut short
    if (len >= 16) {
      store_i32le(cut.data(), static_cast<std::int32_t>(len));  // and with an honest length
      CHECK(parse_error(cut));
    }
  }
}

// ---------------------------------------------------------------- encoder rules

TEST_CASE("op_msg_encoder: add_sequence_from_array copies each array element as one sequence document") {
  bson::document with_array;
  with_array.append("insert", "c");
  with_array.append_array_of("documents", [](bson::array_builder& a) { a.push(id_doc(1)).push(id_doc(2)); });
  with_array.append("$db", "d");

  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(7);
  REQUIRE_FALSE(enc.body_without(with_array, "documents"));
  REQUIRE_FALSE(enc.add_sequence_from_array("documents", *with_array["documents"].as_array()));
  REQUIRE_FALSE(enc.finish());
  CHECK(out == golden_insert());
}

TEST_CASE("op_msg_encoder: body_without drops only the named top-level field") {
  bson::document cmd;
  cmd.append("update", "c").append_array_of("updates", [](bson::array_builder& a) { a.push(id_doc(1)); });
  cmd.append_document("updatesX", [](bson::document& d) { d.append("updates", 1); });
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(1);
  REQUIRE_FALSE(enc.body_without(cmd, "updates"));
  REQUIRE_FALSE(enc.finish());
  op_msg_view msg;
  REQUIRE_FALSE(op_msg_view::parse(enc.frame(), msg));
  CHECK(msg.body().count() == 2);
  CHECK_FALSE(msg.body().contains("updates"));
  CHECK(msg.body().find_path("updatesX.updates").as_int32() == 1);
}

TEST_CASE("op_msg_encoder: an array element that is not a document is invalid_argument") {
  bson::document cmd;
  cmd.append_array_of("documents", [](bson::array_builder& a) { a.push(id_doc(1)).push(std::int32_t{5}); });
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(1);
  REQUIRE_FALSE(enc.body(ping_command()));
  CHECK(enc.add_sequence_from_array("documents", *cmd["documents"].as_array()) == client_errc::invalid_argument);
  CHECK(enc.finish() == client_errc::invalid_argument);  // sticky
}

TEST_CASE("OP_MSG.md: sequence identifiers must be unique per message and be cstrings") {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  bson::document d1 = id_doc(1);
  bson::view docs[] = {d1};
  enc.begin(1);
  REQUIRE_FALSE(enc.add_sequence("documents", docs));
  CHECK(enc.add_sequence("documents", docs) == client_errc::invalid_argument);
  enc.begin(1);
  CHECK(enc.add_sequence(std::string_view("a\0b", 3), docs) == client_errc::invalid_argument);
  enc.begin(1);
  CHECK(enc.add_sequence("", docs) == client_errc::invalid_argument);
  enc.begin(1);
  REQUIRE_FALSE(enc.add_sequence("documents", docs));
  CHECK_FALSE(enc.add_sequence("documentsX", docs));  // a prefix is not a duplicate
}

TEST_CASE("OP_MSG.md: exactly one kind-0 section is encoded") {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(1);
  CHECK(enc.finish() == client_errc::invalid_message);  // our own mistake: not a protocol_errc
  enc.begin(1);
  REQUIRE_FALSE(enc.body(ping_command()));
  CHECK(enc.body(ping_command()) == client_errc::invalid_message);
  CHECK(enc.finish() == client_errc::invalid_message);
}

TEST_CASE("OP_MSG.md: building a frame over maxMessageSizeBytes is client_errc::message_too_large") {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out, 51);
  enc.begin(1);
  REQUIRE_FALSE(enc.body(ping_command()));
  CHECK_FALSE(enc.finish());  // exactly 51 fits
  enc.begin(1);
  REQUIRE_FALSE(enc.body(ping_command()));
  CHECK(enc.finish(true) == client_errc::message_too_large);  // 55 does not
}

TEST_CASE("op_msg_encoder: using it before begin() is invalid_argument") {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  CHECK(enc.body(ping_command()) == client_errc::invalid_argument);
}

TEST_CASE("op_msg_encoder: a reused vector keeps its buffer across frames") {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  auto cmd = insert_command();
  bson::document d1 = id_doc(1);
  bson::view docs[] = {d1};
  auto encode = [&] {
    enc.begin(1);
    REQUIRE_FALSE(enc.body(cmd));
    REQUIRE_FALSE(enc.add_sequence("documents", docs));
    REQUIRE_FALSE(enc.finish(true));
  };
  encode();
  const std::uint8_t* data = out.data();
  std::size_t capacity = out.capacity();
  for (int i = 0; i < 100; ++i) encode();
  CHECK(out.data() == data);
  CHECK(out.capacity() == capacity);
}

// ---------------------------------------------------------------- round trips

TEST_CASE("OP_MSG: randomized commands round-trip through encoder and parser (seeded)") {
  std::mt19937 rng(20240601);
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  for (int iteration = 0; iteration < 300; ++iteration) {
    CAPTURE(iteration);
    bson::document body = wire_test::random_document(rng);
    std::uint32_t flags = (rng() & 1 ? msg_flag::more_to_come : 0) | (rng() & 1 ? msg_flag::exhaust_allowed : 0);
    bool checksum = (rng() & 1) != 0;
    int sequence_count = static_cast<int>(rng() % 4);
    std::vector<std::vector<bson::document>> sequences(static_cast<std::size_t>(sequence_count));
    for (auto& seq : sequences) {
      int n = static_cast<int>(rng() % 5);
      for (int i = 0; i < n; ++i) seq.push_back(wire_test::random_document(rng));
    }
    auto request_id = static_cast<std::int32_t>(rng());
    enc.begin(request_id, 17, flags);
    REQUIRE_FALSE(enc.body(body));
    for (std::size_t s = 0; s < sequences.size(); ++s) {
      std::vector<bson::view> views(sequences[s].begin(), sequences[s].end());
      REQUIRE_FALSE(enc.add_sequence("seq" + std::to_string(s), views));
    }
    REQUIRE_FALSE(enc.finish(checksum));

    op_msg_view msg;
    decode_error err;
    REQUIRE_MESSAGE(!op_msg_view::parse(out, msg, &err), err.message());
    CHECK(msg.header() == msg_header{static_cast<std::int32_t>(out.size()), request_id, 17, 2013});
    CHECK(msg.flag_bits() == (flags | (checksum ? msg_flag::checksum_present : 0)));
    CHECK(msg.body() == body.get_view());
    REQUIRE(msg.sequence_count() == sequences.size());
    std::size_t s = 0;
    for (document_sequence seq : msg.sequences()) {
      CHECK(seq.identifier() == "seq" + std::to_string(s));
      REQUIRE(seq.size() == sequences[s].size());
      std::size_t i = 0;
      for (bson::view d : seq) CHECK(d == sequences[s][i++].get_view());
      ++s;
    }
  }
}
