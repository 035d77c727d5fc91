// OP_COMPRESSED codec (compression/OP_COMPRESSED.md): round trips with every compressor, the
// fixed fields, the commands never compressed, and hostile frames (bounds, bombs, corruption).
#include <doctest/doctest.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <string>
#include <utility>
#include <vector>

#include "proto/wire/compression.hpp"
#include "proto/wire/describe.hpp"
#include "proto/wire/frame_decoder.hpp"
#include "proto/wire/op_msg.hpp"
#include "wire_test_support.hpp"

using namespace mongowire;
using namespace mongowire::detail::wire;
using wire_test::bytes;

namespace {

bytes op_msg_frame(std::int32_t request_id, std::size_t padding) {
  bson::document body;
  body.append("insert", "coll");
  body.append("pad", std::string(padding, 'x'));
  body.append("$db", "db");
  bytes out;
  op_msg_encoder enc(out);
  enc.begin(request_id, 7);
  enc.body(body);
  REQUIRE_FALSE(enc.finish());
  return out;
}

// An OP_COMPRESSED frame around `payload` with the given fixed fields.
bytes compressed_frame(std::int32_t original, std::int32_t uncompressed_size, std::uint8_t id, const bytes& payload) {
  bytes f;
  append_header(f, 5, 0, opcode::compressed);
  append_i32le(f, original);
  append_i32le(f, uncompressed_size);
  f.push_back(id);
  f.insert(f.end(), payload.begin(), payload.end());
  patch_message_length(f);
  return f;
}

bytes zlib_bytes(const bytes& in) {
  uLongf n = compressBound(static_cast<uLong>(in.size()));
  bytes out(n);
  REQUIRE(compress2(out.data(), &n, in.data(), static_cast<uLong>(in.size()), 6) == Z_OK);
  out.resize(n);
  return out;
}

bytes zstd_bytes(const bytes& in) {
  bytes out(ZSTD_compressBound(in.size()));
  std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

bytes snappy_bytes(const bytes& in) {
  std::size_t n = snappy_max_compressed_length(in.size());
  bytes out(n);
  REQUIRE(snappy_compress(reinterpret_cast<const char*>(in.data()), in.size(), reinterpret_cast<char*>(out.data()),
                          &n) == SNAPPY_OK);
  out.resize(n);
  return out;
}

// `in` compressed by each reference library, as another peer would send it.
std::vector<std::pair<compressor_id, bytes>> reference_payloads(const bytes& in) {
  return {{compressor_id::zlib, zlib_bytes(in)},
          {compressor_id::zstd, zstd_bytes(in)},
          {compressor_id::snappy, snappy_bytes(in)}};
}

// The body of a minimal OP_MSG (flagBits + kind 0 + {}), as compressedMessage carries it.
bytes tiny_msg_body() { return {0, 0, 0, 0, 0, 5, 0, 0, 0, 0}; }

// What the malformed-frame cases share: a codec, and a minimal OP_MSG body to wrap.
struct malformed_case {
  const bytes body = tiny_msg_body();
  const std::int32_t size = static_cast<std::int32_t>(body.size());
  frame_codec codec;
  bytes out;
  decode_error err;
};

}  // namespace

TEST_CASE("compression: every compressor round-trips an OP_MSG frame (OP_COMPRESSED.md \"OP_COMPRESSED\")") {
  const bytes original = op_msg_frame(42, 2000);
  frame_codec codec;
  for (auto id : {compressor_id::noop, compressor_id::snappy, compressor_id::zlib, compressor_id::zstd}) {
    CAPTURE(compressor_name(id));
    bytes wrapped, unwrapped;
    REQUIRE_FALSE(codec.compress(original, id, wrapped));
    const msg_header h = read_header(wrapped.data());
    CHECK(h.op_code == 2012);
    CHECK(h.request_id == 42);
    CHECK(h.response_to == 7);
    CHECK(h.message_length == static_cast<std::int32_t>(wrapped.size()));
    CHECK(load_i32le(wrapped.data() + 16) == 2013);                                             // originalOpcode
    CHECK(load_i32le(wrapped.data() + 20) == static_cast<std::int32_t>(original.size() - 16));  // excludes the header
    CHECK(wrapped[24] == static_cast<std::uint8_t>(id));
    if (id != compressor_id::noop) CHECK(wrapped.size() < original.size() / 4);  // 2000 'x' compress well
    decode_error err;
    REQUIRE_FALSE(codec.decompress(wrapped, unwrapped, &err));
    CHECK(unwrapped == original);
  }
}

TEST_CASE("compression: frames compressed by the reference libraries decompress") {
  const bytes original = op_msg_frame(3, 300);
  const bytes body(original.begin() + 16, original.end());
  const auto size = static_cast<std::int32_t>(body.size());
  frame_codec codec;
  for (const auto& [id, payload] : reference_payloads(body)) {
    CAPTURE(compressor_name(id));
    bytes out;
    decode_error err;
    REQUIRE_FALSE(codec.decompress(compressed_frame(2013, size, static_cast<std::uint8_t>(id), payload), out, &err));
    CHECK(bytes(out.begin() + 16, out.end()) == body);
    CHECK(read_header(out.data()).op_code == 2013);
    CHECK(read_header(out.data()).request_id == 5);
  }
}

TEST_CASE("compression: names and ids (OP_COMPRESSED.md \"Compressor IDs\")") {
  CHECK(compressor_from_name("snappy") == compressor_id::snappy);
  CHECK(compressor_from_name("zlib") == compressor_id::zlib);
  CHECK(compressor_from_name("zstd") == compressor_id::zstd);
  CHECK_FALSE(compressor_from_name("snoopy"));
  CHECK_FALSE(compressor_from_name("noop"));  // for testing only: never negotiated
  CHECK_FALSE(compressor_from_name(""));
  CHECK(compressor_name(compressor_id::zstd) == "zstd");
}

TEST_CASE("compression: the handshake and authentication commands are never compressed") {
  for (const char* name : {"hello", "isMaster", "ismaster", "saslStart", "saslContinue", "getnonce", "authenticate",
                           "createUser", "updateUser", "copydbSaslStart", "copydbgetnonce", "copydb"}) {
    CAPTURE(name);
    CHECK_FALSE(may_compress(name));
  }
  for (const char* name : {"insert", "update", "find", "commitTransaction", "ping", "endSessions", "helloWorld"})
    CHECK(may_compress(name));
}

TEST_CASE("compression: a declared size above maxMessageSizeBytes is refused before inflating") {
  frame_codec codec;
  bytes out;
  decode_error err;
  auto f = compressed_frame(2013, 1'000'000, 2, zlib_bytes(bytes(100, 0)));
  CHECK(codec.decompress(f, out, &err, 64 * 1024) == protocol_errc::message_too_long);
  CHECK(err.offset == 20);
  CHECK(err.message().find("uncompressedSize 1000000") != std::string::npos);
  CHECK(out.capacity() == 0);  // nothing was allocated for it
  CHECK(codec.decompress(compressed_frame(2013, -1, 2, {}), out, &err) == protocol_errc::message_too_short);
  CHECK(codec.decompress(compressed_frame(2013, 4, 0, {1, 2, 3, 4}), out, &err) == protocol_errc::message_too_short);
}

TEST_CASE("compression: a decompression bomb is a clear error") {
  // 1 MB of zeros compresses to about 1 KB; the frame claims 100 bytes.
  const bytes big(1 << 20, 0);
  frame_codec codec;
  for (const auto& [id, payload] : reference_payloads(big)) {
    CAPTURE(compressor_name(id));
    bytes out;
    decode_error err;
    CHECK(codec.decompress(compressed_frame(2013, 100, static_cast<std::uint8_t>(id), payload), out, &err) ==
          protocol_errc::decompression_failed);
    CHECK(err.message().find("more than the declared uncompressedSize of 100") != std::string::npos);
    CHECK(out.empty());
  }
}

TEST_CASE_FIXTURE(malformed_case, "compression: corrupt, truncated and short payloads") {
  bytes z = zlib_bytes(body);
  z.resize(z.size() - 3);  // the adler32 trailer is cut
  CHECK(codec.decompress(compressed_frame(2013, size, 2, z), out, &err) == protocol_errc::decompression_failed);
  CHECK(err.message().find("zlib") != std::string::npos);
  CHECK(codec.decompress(compressed_frame(2013, size, 3, {1, 2, 3, 4, 5}), out, &err) ==
        protocol_errc::decompression_failed);
  CHECK(err.message().find("zstd payload is corrupt") != std::string::npos);
  CHECK(codec.decompress(compressed_frame(2013, size, 1, {0xff, 0xff, 0xff, 0xff, 0xff}), out, &err) ==
        protocol_errc::decompression_failed);
  // Declares more than the payload holds.
  CHECK(codec.decompress(compressed_frame(2013, size + 10, 3, zstd_bytes(body)), out, &err) ==
        protocol_errc::decompression_failed);
  CHECK(err.message().find("declares " + std::to_string(size + 10)) != std::string::npos);
  // The codec is still good after failures.
  REQUIRE_FALSE(codec.decompress(compressed_frame(2013, size, 2, zlib_bytes(body)), out, &err));
  CHECK(out.size() == body.size() + 16);
}

TEST_CASE_FIXTURE(malformed_case, "compression: originalOpcode and compressorId are checked") {
  CHECK(codec.decompress(compressed_frame(2012, size, 0, body), out, &err) == protocol_errc::unknown_opcode);
  CHECK(err.message().find("cannot wrap another") != std::string::npos);
  CHECK(codec.decompress(compressed_frame(9999, size, 0, body), out, &err) == protocol_errc::unknown_opcode);
  CHECK(codec.decompress(compressed_frame(2013, size, 4, body), out, &err) == protocol_errc::compression_unsupported);
  CHECK(err.offset == 24);
  const compressor_id only_zstd[] = {compressor_id::zstd};
  CHECK(codec.decompress(compressed_frame(2013, size, 2, zlib_bytes(body)), out, &err, default_max_message_size,
                         only_zstd) == protocol_errc::compression_unsupported);
  CHECK(err.message().find("not negotiated") != std::string::npos);
  CHECK(codec.decompress(bytes{1, 2, 3}, out, &err) == protocol_errc::short_header);
}

TEST_CASE("compression: the frame decoder passes OP_COMPRESSED only once compression is offered") {
  frame_codec codec;
  bytes wrapped;
  REQUIRE_FALSE(codec.compress(op_msg_frame(1, 10), compressor_id::zstd, wrapped));
  frame_decoder off;
  off.feed(wrapped);
  CHECK(off.next() == decode_status::error);
  CHECK(off.error() == protocol_errc::compression_unsupported);
  frame_decoder on;
  on.set_accept_compressed(true);
  on.feed(wrapped);
  REQUIRE(on.next() == decode_status::frame_ready);
  CHECK(on.frame().size() == wrapped.size());
}

TEST_CASE("compression: describe_frame shows the original message of an OP_COMPRESSED frame") {
  frame_codec codec;
  bytes wrapped;
  REQUIRE_FALSE(codec.compress(op_msg_frame(1, 10), compressor_id::snappy, wrapped));
  const std::string text = describe_frame(wrapped);
  CHECK(text.find("compressorId 1 (snappy)") != std::string::npos);
  CHECK(text.find("\"insert\" : \"coll\"") != std::string::npos);
  CHECK(text.find("error") == std::string::npos);
}

TEST_CASE("compression: zlibCompressionLevel bounds and the message size limit on compress") {
  frame_codec codec;
  bytes out;
  const bytes f = op_msg_frame(1, 100);
  CHECK(codec.compress(f, compressor_id::zlib, out, 10) == client_errc::invalid_argument);
  CHECK(codec.compress(f, compressor_id::zlib, out, -2) == client_errc::invalid_argument);
  for (int level : {-1, 0, 1, 9}) CHECK_FALSE(codec.compress(f, compressor_id::zlib, out, level));
  CHECK(codec.compress(f, compressor_id::noop, out, -1, 40) == client_errc::message_too_large);
}

TEST_CASE("compression: the first of the client's compressors that the server lists is used") {
  const compressor_id ours[] = {compressor_id::zstd, compressor_id::zlib};
  auto reply = bson::document::from_json(R"({"ok": 1, "compression": ["zlib", "zstd"]})");
  CHECK(negotiated_compressor(ours, reply) == compressor_id::zstd);
  reply = bson::document::from_json(R"({"ok": 1, "compression": ["snappy", "zlib"]})");
  CHECK(negotiated_compressor(ours, reply) == compressor_id::zlib);
  reply = bson::document::from_json(R"({"ok": 1, "compression": ["snappy"]})");
  CHECK_FALSE(negotiated_compressor(ours, reply));
  CHECK_FALSE(negotiated_compressor(ours, bson::document::from_json(R"({"ok": 1})")));
  CHECK_FALSE(negotiated_compressor({}, bson::document::from_json(R"({"compression": ["zlib"]})")));
}
