// Rules of the runner itself: "Evaluating Matches", version strings and client URIs
// (unified-test-format.md).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "entities.hpp"
#include "match.hpp"
#include "uri_options.hpp"
#include "value.hpp"

using namespace mongowire;
using namespace mongowire::spec;

namespace {

// {"v": <json>} so that any JSON value can be matched.
bson::document holder(const std::string& json) { return bson::document::from_json("{\"v\": " + json + "}"); }

bool matches(const std::string& expected, const std::string& actual, match_root root = match_root::document,
             const entity_map& entities = entity_map()) {
  auto e = holder(expected);
  auto a = holder(actual);
  try {
    assert_matches(e["v"], a["v"], root, entities, "result");
    return true;
  } catch (const test_failure&) {
    return false;
  }
}

std::string mismatch(const std::string& expected, const std::string& actual) {
  auto e = holder(expected);
  auto a = holder(actual);
  try {
    assert_matches(e["v"], a["v"], match_root::document, entity_map(), "result");
  } catch (const test_failure& f) {
    return f.what();
  }
  return "";
}

}  // namespace

TEST_CASE("root-level documents may have extra fields, nested documents may not") {
  CHECK(matches(R"({"x": 1})", R"({"x": 1, "y": 1})"));
  CHECK_FALSE(matches(R"({"x": 1, "y": 1})", R"({"x": 1})"));
  CHECK_FALSE(matches(R"({"x": {"y": 1}})", R"({"x": {"y": 1, "z": 1}})"));
}

TEST_CASE("document key order does not matter") { CHECK(matches(R"({"x": 1, "y": 2})", R"({"y": 2, "x": 1})")); }

TEST_CASE("numbers compare by value across int32, int64 and double") {
  CHECK(matches(R"({"n": 1})", R"({"n": {"$numberLong": "1"}})"));
  CHECK(matches(R"({"ok": 1})", R"({"ok": 1.0})"));
  CHECK_FALSE(matches(R"({"n": 1})", R"({"n": 1.5})"));
  CHECK_FALSE(matches(R"({"n": 1})", R"({"n": "1"})"));
}

TEST_CASE("arrays must have the same number of elements") {
  CHECK(matches("[1, 2, 3]", "[1, 2, 3]", match_root::value));
  CHECK_FALSE(matches("[1, 2, 3]", "[1, 2, 3, 4]", match_root::value));
}

TEST_CASE("iterated results match each document as a root, distinct values do not") {
  CHECK(matches(R"([{"x": 1}])", R"([{"x": 1, "y": 1}])", match_root::array_of_roots));
  CHECK_FALSE(matches(R"([{"x": 1}])", R"([{"x": 1, "y": 1}])", match_root::value));
}

TEST_CASE("$$exists checks presence only") {
  CHECK(matches(R"({"a": {"$$exists": true}})", R"({"a": null})"));
  CHECK_FALSE(matches(R"({"a": {"$$exists": true}})", R"({})"));
  CHECK(matches(R"({"a": {"$$exists": false}})", R"({})"));
  CHECK_FALSE(matches(R"({"a": {"$$exists": false}})", R"({"a": 1})"));
}

TEST_CASE("$$unsetOrMatches accepts absence or a match, also for the whole result") {
  CHECK(matches(R"({"id": {"$$unsetOrMatches": 2}})", R"({})"));
  CHECK(matches(R"({"id": {"$$unsetOrMatches": 2}})", R"({"id": 2})"));
  CHECK_FALSE(matches(R"({"id": {"$$unsetOrMatches": 2}})", R"({"id": 3})"));
  auto expected = holder(R"({"$$unsetOrMatches": {"insertedId": 1}})");
  CHECK_NOTHROW(assert_matches(expected["v"], bson::element(), match_root::document, entity_map(), "result"));
}

TEST_CASE("$$type accepts one name or any of several, and requires a value") {
  CHECK(matches(R"({"n": {"$$type": "int"}})", R"({"n": 1})"));
  CHECK(matches(R"({"n": {"$$type": ["int", "long"]}})", R"({"n": {"$numberLong": "5"}})"));
  CHECK_FALSE(matches(R"({"n": {"$$type": "string"}})", R"({"n": 1})"));
  CHECK_FALSE(matches(R"({"n": {"$$type": "int"}})", R"({})"));
}

TEST_CASE("$$lte compares numerically") {
  CHECK(matches(R"({"n": {"$$lte": 5}})", R"({"n": 5.0})"));
  CHECK_FALSE(matches(R"({"n": {"$$lte": 1}})", R"({"n": 1.1})"));
}

TEST_CASE("$$matchAsDocument parses extended JSON and does not allow extra fields; $$matchAsRoot does") {
  CHECK(matches(R"({"s": {"$$matchAsDocument": {"a": 1}}})", R"({"s": "{\"a\": 1}"})"));
  CHECK_FALSE(matches(R"({"s": {"$$matchAsDocument": {"a": 1}}})", R"({"s": "{\"a\": 1, \"b\": 2}"})"));
  CHECK(matches(R"({"s": {"$$matchAsDocument": {"$$matchAsRoot": {"a": 1}}}})", R"({"s": "{\"a\": 1, \"b\": 2}"})"));
}

TEST_CASE("$$matchesEntity compares with a saved value") {
  entity_map entities;
  auto saved = holder(R"({"$timestamp": {"t": 5, "i": 1}})");
  entities.add("t0", value::of(saved["v"]));
  CHECK(matches(R"({"at": {"$$matchesEntity": "t0"}})", R"({"at": {"$timestamp": {"t": 5, "i": 1}}})",
                match_root::document, entities));
  CHECK_FALSE(matches(R"({"at": {"$$matchesEntity": "t0"}})", R"({"at": {"$timestamp": {"t": 6, "i": 1}}})",
                      match_root::document, entities));
  CHECK_THROWS_AS(matches(R"({"at": {"$$matchesEntity": "missing"}})", R"({"at": 1})"), runner_error);
}

TEST_CASE("a mismatch names the path of the first difference") {
  CHECK(mismatch(R"({"a": {"b": [1, {"c": 2}]}})", R"({"a": {"b": [1, {"c": 3}]}})") ==
        "result.a.b[1].c: expected 2, got 3");
  CHECK(mismatch(R"({"a": 1})", R"({})") == "result.a: expected 1, got nothing");
}

TEST_CASE("an unknown special operator is a runner error") {
  CHECK_THROWS_AS(matches(R"({"a": {"$$bogus": 1}})", R"({"a": 1})"), runner_error);
}

TEST_CASE("collection outcomes must be equal, without extra fields even at the root") {
  auto e = holder(R"([{"_id": 1, "x": 1}])");
  auto same = holder(R"([{"x": 1, "_id": 1}])");
  auto extra = holder(R"([{"_id": 1, "x": 1, "y": 2}])");
  CHECK_NOTHROW(assert_equal_documents(e["v"], same["v"], "outcome"));
  CHECK_THROWS_AS(assert_equal_documents(e["v"], extra["v"], "outcome"), test_failure);
}

TEST_CASE("version strings compare numerically and drop pre-release suffixes") {
  CHECK(version::parse("4.0.10") > version::parse("4.0.9"));
  CHECK(version::parse("3.6") < version::parse("4.2.0"));
  CHECK(version::parse("4.9.0-alpha4-271-g7d5cf02") == version{4, 9, 0});
  CHECK(version::parse("7") == version{7, 0, 0});
}

TEST_CASE("uriOptions override the options of the suite's connection string") {
  auto options = bson::document::from_json(R"({"retryWrites": false, "w": "majority", "appName": "a b&c"})");
  CHECK(uri_with_options("mongodb://h:1/?directConnection=true&retryWrites=true", options) ==
        "mongodb://h:1/?directConnection=true&retryWrites=false&w=majority&appName=a%20b%26c");
  CHECK(uri_with_options("mongodb://h:1", bson::document::from_json(R"({"w": 1})")) == "mongodb://h:1/?w=1");
  CHECK_THROWS_AS(uri_with_options("mongodb://h", bson::document::from_json(R"({"x": {"$$placeholder": 1}})")),
                  runner_error);
}
