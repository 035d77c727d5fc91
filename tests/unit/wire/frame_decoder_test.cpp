#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "proto/wire/frame_decoder.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"
#include "wire_test_support.hpp"

using namespace mongowire;
using namespace mongowire::detail::wire;
using wire_test::bytes;
using wire_test::frame_builder;

namespace {

bytes encode_random_op_msg(std::mt19937& rng, std::int32_t request_id) {
  std::vector<std::uint8_t> out;
  op_msg_encoder enc(out);
  enc.begin(request_id);
  bson::document body = wire_test::random_document(rng);
  REQUIRE_FALSE(enc.body(body));
  std::vector<bson::document> docs;
  for (int i = static_cast<int>(rng() % 4); i > 0; --i) docs.push_back(wire_test::random_document(rng));
  std::vector<bson::view> views(docs.begin(), docs.end());
  if (!views.empty()) REQUIRE_FALSE(enc.add_sequence("documents", views));
  REQUIRE_FALSE(enc.finish((rng() & 1) != 0));
  return out;
}

// A stream of `n` frames (OP_MSG mostly, one OP_REPLY and one OP_QUERY to cover all opcodes).
std::vector<bytes> random_frames(std::mt19937& rng, int n) {
  std::vector<bytes> frames;
  for (int i = 0; i < n; ++i) frames.push_back(encode_random_op_msg(rng, i));
  bson::document doc = wire_test::random_document(rng);
  bytes reply, query;
  encode_op_reply(reply, 100, 1, doc);
  REQUIRE_FALSE(encode_op_query(query, 101, "admin.$cmd", 0, 0, -1, doc));
  frames.insert(frames.begin() + n / 2, reply);
  frames.push_back(query);
  return frames;
}

// Drains every ready frame into `got`; returns the last status.
decode_status drain(frame_decoder& dec, std::vector<bytes>& got) {
  decode_status st;
  while ((st = dec.next()) == decode_status::frame_ready) {
    auto f = dec.frame();
    got.emplace_back(f.begin(), f.end());
    op_msg_view msg;
    if (dec.header().op_code == static_cast<std::int32_t>(opcode::msg)) CHECK_FALSE(op_msg_view::parse(f, msg));
  }
  return st;
}

bytes header_only(std::int32_t length, std::int32_t op_code) {
  return frame_builder().i32(length).i32(1).i32(0).i32(op_code).raw_bytes();
}

}  // namespace

TEST_CASE("frame_decoder: frames fed one byte at a time come out whole and in order") {
  std::mt19937 rng(7);
  auto frames = random_frames(rng, 6);
  frame_decoder dec;
  std::vector<bytes> got;
  for (const bytes& f : frames)
    for (std::uint8_t b : f) {
      dec.feed({&b, 1});
      REQUIRE(drain(dec, got) == decode_status::need_more);
    }
  CHECK(got == frames);
  CHECK(dec.buffered() == 0);
}

TEST_CASE("frame_decoder: random chunk sizes through prepare/commit yield the same frames (seeded)") {
  for (std::uint32_t seed : {1u, 2u, 3u, 4u, 5u}) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    auto frames = random_frames(rng, 20);
    bytes stream;
    for (const bytes& f : frames) stream.insert(stream.end(), f.begin(), f.end());
    frame_decoder dec;
    std::vector<bytes> got;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      std::size_t chunk = std::min<std::size_t>(1 + rng() % 300, stream.size() - pos);
      auto room = dec.prepare(chunk + rng() % 16);  // readers often get less than they asked for
      std::memcpy(room.data(), stream.data() + pos, chunk);
      dec.commit(chunk);
      pos += chunk;
      REQUIRE(drain(dec, got) == decode_status::need_more);
    }
    CHECK(got == frames);
  }
}

TEST_CASE("frame_decoder: several frames in one chunk are all returned") {
  std::mt19937 rng(11);
  auto frames = random_frames(rng, 4);
  bytes stream;
  for (const bytes& f : frames) stream.insert(stream.end(), f.begin(), f.end());
  frame_decoder dec;
  dec.feed(stream);
  std::vector<bytes> got;
  CHECK(drain(dec, got) == decode_status::need_more);
  CHECK(got == frames);
}

TEST_CASE("frame_decoder: bytes_needed tells how much of the header, then of the frame, is missing") {
  std::mt19937 rng(3);
  bytes f = encode_random_op_msg(rng, 1);
  frame_decoder dec;
  CHECK(dec.bytes_needed() == 16);
  dec.feed(std::span(f).first(10));
  CHECK(dec.next() == decode_status::need_more);
  CHECK(dec.bytes_needed() == 6);
  dec.feed(std::span(f).subspan(10, 10));
  CHECK(dec.next() == decode_status::need_more);
  CHECK(dec.bytes_needed() == f.size() - 20);
  dec.feed(std::span(f).subspan(20));
  CHECK(dec.next() == decode_status::frame_ready);
  CHECK(dec.bytes_needed() == 16);
  CHECK(dec.next() == decode_status::need_more);
}

TEST_CASE("frame_decoder: messageLength above the maximum fails as soon as the header arrives") {
  frame_decoder dec;
  dec.feed(header_only(100'000'000, 2013));
  CHECK(dec.next() == decode_status::error);
  CHECK(dec.error() == protocol_errc::message_too_long);
  CHECK(dec.diagnostic().detail.find("48000000") != std::string::npos);
}

TEST_CASE("frame_decoder: set_max_message_size applies maxMessageSizeBytes from hello") {
  frame_decoder dec;
  dec.set_max_message_size(1000);
  dec.feed(header_only(1001, 2013));
  CHECK(dec.next() == decode_status::error);
  CHECK(dec.error() == protocol_errc::message_too_long);
  frame_decoder ok;
  ok.set_max_message_size(1000);
  ok.feed(header_only(1000, 2013));
  CHECK(ok.next() == decode_status::need_more);
  CHECK(ok.bytes_needed() == 984);
}

TEST_CASE("frame_decoder: OP_COMPRESSED is compression_unsupported") {
  frame_decoder dec;
  dec.feed(header_only(40, 2012));
  CHECK(dec.next() == decode_status::error);
  CHECK(dec.error() == protocol_errc::compression_unsupported);
}

TEST_CASE("frame_decoder: an unknown opcode is unknown_opcode") {
  for (std::int32_t op : {0, 2, 2001, 2010, 2014, -1}) {
    frame_decoder dec;
    dec.feed(header_only(40, op));
    CHECK(dec.next() == decode_status::error);
    CHECK(dec.error() == protocol_errc::unknown_opcode);
    CHECK(dec.diagnostic().offset == 12);
  }
}

TEST_CASE("frame_decoder: messageLength below the header or the opcode minimum is message_too_short") {
  for (auto length_and_op : {std::pair{15, 2013}, std::pair{0, 2013}, std::pair{-5, 1}, std::pair{20, 2013},
                             std::pair{35, 1}, std::pair{33, 2004}}) {
    CAPTURE(length_and_op.first);
    frame_decoder dec;
    dec.feed(header_only(length_and_op.first, length_and_op.second));
    CHECK(dec.next() == decode_status::error);
    CHECK(dec.error() == protocol_errc::message_too_short);
  }
}

TEST_CASE("frame_decoder: errors are sticky and later input is ignored") {
  std::mt19937 rng(5);
  frame_decoder dec;
  dec.feed(header_only(10, 2013));
  CHECK(dec.next() == decode_status::error);
  dec.feed(encode_random_op_msg(rng, 1));
  CHECK(dec.next() == decode_status::error);
  CHECK(dec.error() == protocol_errc::message_too_short);
  CHECK(dec.frame().empty());
  CHECK(dec.bytes_needed() == 0);
  dec.reset();
  dec.feed(encode_random_op_msg(rng, 2));
  CHECK(dec.next() == decode_status::frame_ready);
}

TEST_CASE("frame_decoder: the error detail names the stream offset of the bad frame") {
  std::mt19937 rng(9);
  bytes good = encode_random_op_msg(rng, 1);
  frame_decoder dec;
  dec.feed(good);
  dec.feed(header_only(40, 2012));
  CHECK(dec.next() == decode_status::frame_ready);
  CHECK(dec.next() == decode_status::error);
  CHECK(dec.diagnostic().detail.find("stream byte " + std::to_string(good.size())) != std::string::npos);
}

TEST_CASE("frame_decoder: steady state reuses one buffer (no growth per frame)") {
  std::mt19937 rng(21);
  bytes f = encode_random_op_msg(rng, 1);
  frame_decoder dec;
  auto cycle = [&] {
    for (std::size_t pos = 0; pos < f.size(); pos += 7) {
      std::size_t n = std::min<std::size_t>(7, f.size() - pos);
      auto room = dec.prepare(64);
      std::memcpy(room.data(), f.data() + pos, n);
      dec.commit(n);
      while (dec.next() == decode_status::frame_ready) CHECK(dec.frame().size() == f.size());
    }
  };
  cycle();
  cycle();
  const std::uint8_t* buffer = dec.prepare(64).data();
  for (int i = 0; i < 50; ++i) cycle();
  CHECK(dec.prepare(64).data() == buffer);
}

TEST_CASE("frame_decoder: a peer closing mid-frame leaves buffered bytes to report") {
  std::mt19937 rng(4);
  bytes f = encode_random_op_msg(rng, 1);
  frame_decoder dec;
  dec.feed(std::span(f).first(f.size() - 1));
  CHECK(dec.next() == decode_status::need_more);
  CHECK(dec.buffered() == f.size() - 1);
  CHECK(dec.bytes_needed() == 1);
}
