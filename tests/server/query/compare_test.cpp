#include "query/test_util.hpp"

#include <vector>

using namespace mongowire;
using namespace mongowire::testd::query;
using namespace mongowire::testd::query::test;

namespace {
int cmp(std::string_view a, std::string_view b) {
  auto da = doc(a), db = doc(b);
  int c = compare_values(da.find("v"), db.find("v"));
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}
}  // namespace

TEST_CASE(
    "compare_values follows BSON type order MinKey < null < numbers < string < object < array < binData < "
    "ObjectId < bool < date < timestamp < regex < MaxKey") {
  std::vector<std::string> ascending = {
      R"({"v": {"$minKey": 1}})",
      R"({"v": null})",
      R"({"v": -5})",
      R"({"v": "abc"})",
      R"({"v": {"a": 1}})",
      R"({"v": [1]})",
      R"({"v": {"$binary": {"base64": "AA==", "subType": "00"}}})",
      R"({"v": {"$oid": "000000000000000000000001"}})",
      R"({"v": false})",
      R"({"v": {"$date": {"$numberLong": "0"}}})",
      R"({"v": {"$timestamp": {"t": 1, "i": 1}}})",
      R"({"v": {"$regularExpression": {"pattern": "a", "options": ""}}})",
      R"({"v": {"$maxKey": 1}})",
  };
  for (std::size_t i = 0; i < ascending.size(); ++i)
    for (std::size_t j = 0; j < ascending.size(); ++j) {
      CAPTURE(ascending[i]);
      CAPTURE(ascending[j]);
      CHECK(cmp(ascending[i], ascending[j]) == (i < j ? -1 : i > j ? 1 : 0));
    }
}

TEST_CASE("compare_values compares numbers by value across int32, int64 and double") {
  CHECK(cmp(R"({"v": 1})", R"({"v": 1.0})") == 0);
  CHECK(cmp(R"({"v": {"$numberLong": "2"}})", R"({"v": 1.5})") == 1);
  CHECK(cmp(R"({"v": 3})", R"({"v": {"$numberLong": "3"}})") == 0);
  // 2^53 + 1 is not representable as a double: the long is still greater than 2^53.
  CHECK(cmp(R"({"v": {"$numberLong": "9007199254740993"}})", R"({"v": 9007199254740992.0})") == 1);
  CHECK(cmp(R"({"v": {"$numberDouble": "NaN"}})", R"({"v": {"$numberDouble": "-Infinity"}})") == -1);
  CHECK(cmp(R"({"v": {"$numberDouble": "NaN"}})", R"({"v": {"$numberDouble": "NaN"}})") == 0);
  CHECK(cmp(R"({"v": {"$numberDecimal": "2.5"}})", R"({"v": 2})") == 1);
}

TEST_CASE("compare_values orders strings bytewise and shorter prefixes first") {
  CHECK(cmp(R"({"v": "a"})", R"({"v": "ab"})") == -1);
  CHECK(cmp(R"({"v": "B"})", R"({"v": "a"})") == -1);
}

TEST_CASE("compare_values compares documents field by field: type, then name, then value") {
  CHECK(cmp(R"({"v": {"a": 1}})", R"({"v": {"a": 1, "b": 1}})") == -1);
  CHECK(cmp(R"({"v": {"a": 2}})", R"({"v": {"b": 1}})") == -1);
  CHECK(cmp(R"({"v": {"a": "x"}})", R"({"v": {"a": 5}})") == 1);
  CHECK(cmp(R"({"v": {"a": 1, "b": 2}})", R"({"v": {"b": 2, "a": 1}})") == -1);
  CHECK(cmp(R"({"v": [1, 2]})", R"({"v": [1, 3]})") == -1);
  CHECK(cmp(R"({"v": [2]})", R"({"v": [1, 3]})") == 1);
}

TEST_CASE("distinct_values flattens arrays at the path and removes duplicates by BSON equality") {
  std::vector<bson::document> docs = {doc(R"({"a": [1, 2, [3]]})"), doc(R"({"a": 1.0})"), doc(R"({"a": {"b": 1}})"),
                                      doc(R"({"b": 1})"), doc(R"({"a": [{"c": 1}]})")};
  CHECK(distinct_values(docs, "a").to_json() ==
        doc(R"({"0": 1, "1": 2, "2": {"b": 1}, "3": {"c": 1}, "4": [3]})").to_json());
  std::vector<bson::document> nested = {doc(R"({"a": [{"b": 1}, {"b": [2, 1]}, {"c": 3}]})")};
  CHECK(distinct_values(nested, "a.b").to_json() == doc(R"({"0": 1, "1": 2})").to_json());
}
