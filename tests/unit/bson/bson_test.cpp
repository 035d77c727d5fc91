#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "mongowire/bson.hpp"

using namespace mongowire::bson;

TEST_CASE("bson: builder appends every scalar type and reads them back") {
  document d;
  d.append("i32", std::int32_t{7}).append("i64", std::int64_t{1} << 40).append("dbl", 2.5);
  d.append("flag", true).append("s", "txt").append_null("nil");
  d.append_document("sub", [](document& c) { c.append("x", std::int32_t{1}); });
  d.append_array_of("arr", [](array_builder& a) { a.push(std::int32_t{1}).push(std::string_view("two")); });
  CHECK(d["i32"].as_int32() == 7);
  CHECK(d["i64"].as_int64() == (std::int64_t{1} << 40));
  CHECK(d["dbl"].as_double() == 2.5);
  CHECK(d["flag"].as_bool() == true);
  CHECK(d["s"].as_string() == "txt");
  CHECK(d["nil"].is_null());
  CHECK(d.get_view().find_path("sub.x").as_int32() == 1);
  CHECK(d.get_view().find_path("arr.1").as_string() == "two");
  CHECK_FALSE(d["missing"]);
  CHECK(d.get_view().first_key() == "i32");
  CHECK(d.get_view().count() == 8);
}

TEST_CASE("bson: truthiness reads ok as bool, int, long or double") {
  auto d = document::from_json(R"({"a": 1, "b": 0.0, "c": true, "d": {"$numberLong": "0"}, "e": "x"})");
  CHECK(d["a"].as_truthy() == true);
  CHECK(d["b"].as_truthy() == false);
  CHECK(d["c"].as_truthy() == true);
  CHECK(d["d"].as_truthy() == false);
  CHECK_FALSE(d["e"].as_truthy().has_value());
}

TEST_CASE("bson: canonical extended JSON round-trips") {
  auto d = document::from_json(R"({"n": {"$numberLong": "5"}, "t": {"$timestamp": {"t": 3, "i": 4}}})");
  auto again = document::from_json(d.to_json());
  CHECK(again.get_view() == d.get_view());
  CHECK(d.to_json().find("$numberLong") != std::string::npos);
  CHECK(d["t"].as_timestamp() == timestamp{3, 4});
}

TEST_CASE("bson: invalid JSON is a clear error") {
  std::string why;
  CHECK_FALSE(document::try_from_json("{\"a\": ", &why));
  CHECK_FALSE(why.empty());
  CHECK_THROWS_AS(document::from_json("[1,"), std::invalid_argument);
}

// Found by fuzz_extended_json: libbson reads the overlong NUL (C0 80) into a string, then cannot
// print the document back. A string holding a real NUL ("\u0000") is valid and stays accepted.
TEST_CASE("bson: JSON text that is not UTF-8 is refused, with the reason") {
  std::string why;
  CHECK_FALSE(document::try_from_json("{\"a\": \"x\xC0\x80y\"}", &why));
  CHECK(why == "a key or string is not valid UTF-8");
  CHECK_FALSE(document::try_from_json("{\"k\xFF\": 1}", &why));
  const auto nul = document::try_from_json(R"({"a": "x\u0000y"})", &why);
  REQUIRE(nul);
  CHECK(nul->get_view().find("a").as_string() == std::string_view("x\0y", 3));
}

TEST_CASE("bson: validate rejects lying lengths and garbage without over-reading") {
  document d;
  d.append("a", std::int32_t{1});
  std::vector<std::uint8_t> bytes(d.data(), d.data() + d.size());
  std::string why;
  CHECK(view::validate(bytes, &why));

  SUBCASE("too short") { CHECK_FALSE(view::validate(std::span(bytes).first(4), &why)); }
  SUBCASE("declared length beyond buffer") {
    bytes[0] = 200;
    CHECK_FALSE(view::validate(bytes, &why));
    CHECK(why.find("overruns") != std::string::npos);
  }
  SUBCASE("declared length below minimum") {
    bytes[0] = 3;
    CHECK_FALSE(view::validate(bytes, &why));
  }
  SUBCASE("missing terminator") {
    bytes.back() = 1;
    CHECK_FALSE(view::validate(bytes, &why));
  }
  SUBCASE("element type garbage") {
    bytes[4] = 0x7e;
    CHECK_FALSE(view::validate(bytes, &why));
  }
  SUBCASE("inner string length lies") {
    document s;
    s.append("k", "value");
    std::vector<std::uint8_t> b(s.data(), s.data() + s.size());
    b[7] = 0x7f;  // string length field
    CHECK_FALSE(view::validate(b, &why));
  }
}

namespace {
std::vector<std::uint8_t> bytes_of(const document& d) { return {d.data(), d.data() + d.size()}; }

bool valid(const std::vector<std::uint8_t>& b, std::string& why) { return view::validate(b, &why).has_value(); }
}  // namespace

TEST_CASE("bson: validate checks nested lengths, booleans, names and code with scope in one pass") {
  std::string why;
  SUBCASE("a nested document whose own length lies (libbson 1.23 alone skips it)") {
    document d;
    d.append_document("sub", [](document& c) { c.append("x", std::int32_t{1}); });
    auto b = bytes_of(d);
    REQUIRE(valid(b, why));
    b[9] = 6;  // sub's length prefix: shorter than its elements
    CHECK_FALSE(valid(b, why));
    CHECK(why.find("invalid BSON") != std::string::npos);
  }
  SUBCASE("a boolean that is neither 0 nor 1") {
    document d;
    d.append("b", true);
    auto b = bytes_of(d);
    b[7] = 2;
    CHECK_FALSE(valid(b, why));
    CHECK(why.find("boolean") != std::string::npos);
  }
  SUBCASE("an element name that is not UTF-8") {
    document d;
    d.append("k", std::int32_t{1});
    auto b = bytes_of(d);
    b[5] = 0xff;
    CHECK_FALSE(valid(b, why));
    CHECK(why.find("UTF-8") != std::string::npos);
  }
  SUBCASE("a string without its terminating zero") {
    document d;
    d.append("s", "abc");
    auto b = bytes_of(d);
    b[b.size() - 2] = 'x';
    CHECK_FALSE(valid(b, why));
    CHECK(why.find("string") != std::string::npos);
  }
  SUBCASE("code with scope whose scope does not fill it") {
    auto d = document::from_json(R"j({"c": {"$code": "f()", "$scope": {"x": 1}}})j");
    auto b = bytes_of(d);
    REQUIRE(valid(b, why));
    b[8] = static_cast<std::uint8_t>(b[8] + 1);  // the total length, now one byte too long
    CHECK_FALSE(valid(b, why));
  }
  SUBCASE("binary subtype 2 with a wrong inner length") {
    auto d = document::from_json(R"j({"b": {"$binary": {"base64": "AAAAAA==", "subType": "02"}}})j");
    auto b = bytes_of(d);
    REQUIRE(valid(b, why));
    b[12] = 9;  // the inner length of the old binary subtype
    CHECK_FALSE(valid(b, why));
  }
  SUBCASE("nesting deeper than 256 levels") {
    document d;
    d.append("x", std::int32_t{1});
    for (int i = 0; i < 300; ++i) {
      document outer;
      outer.append("a", d.get_view());
      d = std::move(outer);
    }
    CHECK_FALSE(valid(bytes_of(d), why));
    CHECK(why.find("nesting") != std::string::npos);
  }
}

TEST_CASE("bson: find skips every element type to reach the key after it") {
  auto d = document::from_json(R"j({"d": 1.5, "s": "x", "o": {"a": 1}, "arr": [1, 2],
      "bin": {"$binary": {"base64": "AAAAAA==", "subType": "02"}}, "u": {"$undefined": true},
      "oid": {"$oid": "0123456789abcdef01234567"}, "t": true, "dt": {"$date": {"$numberLong": "1"}},
      "n": null, "re": {"$regularExpression": {"pattern": "^a", "options": "i"}},
      "dbp": {"$dbPointer": {"$ref": "c", "$id": {"$oid": "0123456789abcdef01234567"}}},
      "code": {"$code": "f()"}, "sym": {"$symbol": "s"}, "cws": {"$code": "g()", "$scope": {"y": 2}},
      "i": 7, "ts": {"$timestamp": {"t": 1, "i": 2}}, "l": {"$numberLong": "8"},
      "dec": {"$numberDecimal": "1.5"}, "min": {"$minKey": 1}, "max": {"$maxKey": 1}, "last": "here"})j");
  const view v = d.get_view();
  for (const element& e : v) CHECK(v.find(e.key()).key() == e.key());
  CHECK(v.find("last").as_string() == "here");
  CHECK(v.find("i").as_int32() == 7);
  CHECK_FALSE(v.find("las"));
  CHECK_FALSE(v.find("lastx"));
  CHECK_FALSE(v.find(""));
}

TEST_CASE("bson: validated view covers exactly the declared length") {
  document d;
  d.append("a", std::int32_t{1});
  std::vector<std::uint8_t> bytes(d.data(), d.data() + d.size());
  bytes.push_back(0xAA);
  auto v = view::validate(bytes);
  REQUIRE(v);
  CHECK(v->size() == d.size());
}

TEST_CASE("bson: clear() keeps the buffer and copies/moves are deep") {
  document d;
  for (int i = 0; i < 50; ++i) d.append("k" + std::to_string(i), std::int32_t{i});
  document copy = d;
  document moved = std::move(d);
  CHECK(copy.get_view() == moved.get_view());
  CHECK(d.get_view().empty());
  moved.clear();
  CHECK(moved.get_view().empty());
  moved.append("z", std::int32_t{1});
  CHECK(moved["z"].as_int32() == 1);
}

TEST_CASE("bson: object ids are unique and 24 hex chars") {
  auto a = object_id::generate();
  auto b = object_id::generate();
  CHECK(a != b);
  CHECK(a.to_hex().size() == 24);
}
