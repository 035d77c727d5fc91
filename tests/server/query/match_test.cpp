#include "query/test_util.hpp"

using namespace mongowire;
using namespace mongowire::testd::query;
using namespace mongowire::testd::query::test;

namespace {
struct match_case {
  const char* filter;
  const char* document;
  bool expected;
};

bool run(const char* filter, const char* document) {
  auto m = ok(matcher::compile(doc(filter)));
  return m.matches(doc(document));
}

void check_table(std::initializer_list<match_case> cases) {
  for (auto& c : cases) {
    std::string filter = c.filter, document = c.document;
    CAPTURE(filter);
    CAPTURE(document);
    CHECK(run(c.filter, c.document) == c.expected);
  }
}

query_error compile_error(const char* filter) { return err(matcher::compile(doc(filter))); }
}  // namespace

TEST_CASE("equality matches scalars, dotted paths, array elements and whole arrays") {
  check_table({
      {R"({})", R"({"a": 1})", true},
      {R"({"a": 1})", R"({"a": 1.0})", true},
      {R"({"a": 1})", R"({"a": "1"})", false},
      {R"({"a": 1})", R"({"a": [0, 1]})", true},
      {R"({"a": [0, 1]})", R"({"a": [0, 1]})", true},
      {R"({"a": [0, 1]})", R"({"a": [1, 0]})", false},
      {R"({"a": [0, 1]})", R"({"a": [[0, 1], 2]})", true},
      {R"({"a": 1})", R"({"a": [[1]]})", false},
      {R"({"a.b": 1})", R"({"a": {"b": 1}})", true},
      {R"({"a.b": 1})", R"({"a": [{"b": 2}, {"b": 1}]})", true},
      {R"({"a.b": 1})", R"({"a": [{"b": [0, 1]}]})", true},
      {R"({"a.1": 5})", R"({"a": [4, 5]})", true},
      {R"({"a.1.b": 5})", R"({"a": [{"b": 4}, {"b": 5}]})", true},
      {R"({"a.0.b": 5})", R"({"a": [{"b": 4}, {"b": 5}]})", false},
      {R"({"a": {"b": 1}})", R"({"a": {"b": 1}})", true},
      {R"({"a": {"b": 1}})", R"({"a": {"b": 1, "c": 2}})", false},
      {R"({"a": {}})", R"({"a": {}})", true},
  });
}

TEST_CASE("null equality matches missing fields and nulls but not undefined or non-document array elements") {
  check_table({
      {R"({"a": null})", R"({})", true},
      {R"({"a": null})", R"({"a": null})", true},
      {R"({"a": null})", R"({"a": {"$undefined": true}})", false},
      {R"({"a": null})", R"({"a": 0})", false},
      {R"({"a.b": null})", R"({"a": 5})", true},
      {R"({"a.b": null})", R"({"a": [{"c": 1}]})", true},
      {R"({"a.b": null})", R"({"a": [1, 2]})", false},
      {R"({"a": {"$ne": null}})", R"({})", false},
      {R"({"a": {"$gte": null}})", R"({})", true},
      {R"({"a": {"$gt": null}})", R"({})", false},
  });
}

TEST_CASE("comparison operators only match values of the same canonical type (type bracketing)") {
  check_table({
      {R"({"a": {"$gt": 1}})", R"({"a": 2})", true},
      {R"({"a": {"$gt": 1}})", R"({"a": "2"})", false},
      {R"({"a": {"$lt": "b"}})", R"({"a": "a"})", true},
      {R"({"a": {"$lt": "b"}})", R"({"a": 1})", false},
      // Without $elemMatch each condition may be met by a different element.
      {R"({"a": {"$gte": 2, "$lt": 3}})", R"({"a": [1, 5]})", true},
      {R"({"a": {"$gte": 2, "$lt": 3}})", R"({"a": [1, 0]})", false},
      {R"({"a": {"$gte": 2, "$lt": 3}})", R"({"a": [1, 2.5]})", true},
      {R"({"a": {"$gt": {"$minKey": 1}}})", R"({"a": "x"})", true},
      {R"({"a": {"$lt": {"$maxKey": 1}}})", R"({"a": {"o": 1}})", true},
      {R"({"a": {"$eq": {"$maxKey": 1}}})", R"({"a": 1})", false},
      {R"({"a": {"$lte": {"$numberDouble": "NaN"}}})", R"({"a": {"$numberDouble": "NaN"}})", true},
      {R"({"a": {"$lt": {"$numberDouble": "NaN"}}})", R"({"a": 1})", false},
      {R"({"a": {"$gt": [1]}})", R"({"a": [2]})", true},
      {R"({"a": {"$ne": 1}})", R"({"a": [1, 2]})", false},
      {R"({"a": {"$ne": 1}})", R"({"a": [2, 3]})", true},
  });
}

TEST_CASE("$in, $nin, $all, $exists, $type and $size follow mongod semantics") {
  check_table({
      {R"({"a": {"$in": [1, "x"]}})", R"({"a": "x"})", true},
      {R"({"a": {"$in": [1, "x"]}})", R"({"a": [3, 1]})", true},
      {R"({"a": {"$in": [null]}})", R"({})", true},
      {R"({"a": {"$in": []}})", R"({"a": 1})", false},
      {R"({"a": {"$in": [{"$regularExpression": {"pattern": "^ab", "options": ""}}]}})", R"({"a": "abc"})", true},
      {R"({"a": {"$nin": [1, 2]}})", R"({"a": 3})", true},
      {R"({"a": {"$nin": [1, 2]}})", R"({})", true},
      {R"({"a": {"$nin": [1, 2]}})", R"({"a": [3, 2]})", false},
      {R"({"a": {"$all": [1, 2]}})", R"({"a": [2, 3, 1]})", true},
      {R"({"a": {"$all": [1, 2]}})", R"({"a": [1]})", false},
      {R"({"a": {"$all": []}})", R"({"a": []})", false},
      {R"({"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"c": 2}}]}})", R"({"a": [{"b": 1}, {"c": 2}]})",
       true},
      {R"({"a": {"$exists": true}})", R"({"a": null})", true},
      {R"({"a": {"$exists": false}})", R"({"b": 1})", true},
      {R"({"a.b": {"$exists": true}})", R"({"a": [{"c": 1}, {"b": 2}]})", true},
      {R"({"a": {"$exists": 0}})", R"({"a": 1})", false},
      {R"({"a": {"$size": 2}})", R"({"a": [1, [2, 3]]})", true},
      {R"({"a": {"$size": 1}})", R"({"a": [[1, 2]]})", true},
      {R"({"a": {"$size": 0}})", R"({"a": 0})", false},
      {R"({"a.b": {"$size": 1}})", R"({"a": [{"b": [1]}, {"b": 2}]})", true},
      {R"({"a": {"$mod": [4, 1]}})", R"({"a": 9})", true},
      {R"({"a": {"$mod": [4, 1]}})", R"({"a": 9.9})", true},
  });
}

TEST_CASE("$elemMatch needs one array element satisfying every condition") {
  check_table({
      {R"({"a": {"$elemMatch": {"$gte": 80, "$lt": 85}}})", R"({"a": [82]})", true},
      {R"({"a": {"$elemMatch": {"$gte": 80, "$lt": 85}}})", R"({"a": [79, 90]})", false},
      {R"({"a": {"$elemMatch": {"$gte": 80, "$lt": 85}}})", R"({"a": 82})", false},
      {R"({"a": {"$elemMatch": {"b": 1, "c": 2}}})", R"({"a": [{"b": 1}, {"c": 2}]})", false},
      {R"({"a": {"$elemMatch": {"b": 1, "c": 2}}})", R"({"a": [{"b": 1, "c": 2}]})", true},
      {R"({"a": {"$elemMatch": {"$or": [{"b": 1}, {"c": 1}]}}})", R"({"a": [{"c": 1}]})", true},
      {R"({"a": {"$elemMatch": {}}})", R"({"a": [{"x": 1}]})", true},
      {R"({"a": {"$elemMatch": {}}})", R"({"a": [1]})", false},
  });
}

TEST_CASE("$and, $or, $nor and $not combine conditions; $not of a path also matches missing fields") {
  check_table({
      {R"({"$and": [{"a": 1}, {"b": 2}]})", R"({"a": 1, "b": 2})", true},
      {R"({"$and": [{"a": 1}, {"b": 2}]})", R"({"a": 1})", false},
      {R"({"$or": [{"a": 1}, {"b": 2}]})", R"({"b": 2})", true},
      {R"({"$nor": [{"a": 1}, {"b": 2}]})", R"({"c": 3})", true},
      {R"({"$nor": [{"a": 1}, {"b": 2}]})", R"({"a": 1})", false},
      {R"({"a": {"$not": {"$gt": 5}}})", R"({"a": 3})", true},
      {R"({"a": {"$not": {"$gt": 5}}})", R"({})", true},
      {R"({"a": {"$not": {"$gt": 5}}})", R"({"a": [1, 6]})", false},
      {R"({"a": {"$not": {"$regularExpression": {"pattern": "^x", "options": ""}}}})", R"({"a": "yes"})", true},
      {R"({"a": {"$regex": "^A", "$options": "i"}})", R"({"a": "abc"})", true},
      {R"({"a": {"$regularExpression": {"pattern": "b", "options": ""}}})", R"({"a": ["xbx"]})", true},
      {R"({"a": 1, "$comment": "why"})", R"({"a": 1})", true},
  });
}

TEST_CASE("malformed filters fail as mongod reports them") {
  struct bad {
    const char* filter;
    int code;
    const char* message;
  };
  for (auto& b : std::initializer_list<bad>{
           {R"({"$foo": 1})", 2,
            "unknown top level operator: $foo. If you have a field name that starts with a '$' symbol, consider using "
            "$getField or $setField."},
           {R"({"a": {"$foo": 1}})", 2, "unknown operator: $foo"},
           {R"({"a": {"$gt": 1, "b": 1}})", 2, "unknown operator: b"},
           {R"({"$and": {}})", 2, "$and must be an array"},
           {R"({"$or": []})", 2, "$and/$or/$nor must be a nonempty array"},
           {R"({"$nor": [1]})", 2, "$or/$and/$nor entries need to be full objects"},
           {R"({"a": {"$in": 1}})", 2, "$in needs an array"},
           {R"({"a": {"$nin": {}}})", 2, "$nin needs an array"},
           {R"({"a": {"$all": 1}})", 2, "$all needs an array"},
           {R"({"a": {"$size": "x"}})", 2, "$size needs a number"},
           {R"({"a": {"$size": 1.5}})", 2, "$size must be a whole number"},
           {R"({"a": {"$elemMatch": 1}})", 2, "$elemMatch needs an Object"},
           {R"({"a": {"$not": 1}})", 2, "$not needs a regex or a document"},
           {R"({"a": {"$not": {}}})", 2, "$not cannot be empty"},
           {R"({"a": {"$mod": [0, 1]}})", 2, "divisor cannot be 0"},
       }) {
    std::string filter = b.filter;
    CAPTURE(filter);
    auto e = compile_error(b.filter);
    CHECK(e.code == b.code);
    CHECK(e.code_name == "BadValue");
    CHECK(e.message == b.message);
  }
}

TEST_CASE("upsert equalities come from equality, $eq, one-element $in and $and, not from ranges") {
  auto m = ok(matcher::compile(
      doc(R"({"a": 1, "b.c": {"$eq": 2}, "d": {"$gt": 3}, "$and": [{"e": "x"}], "f": {"$in": [7]}})")));
  auto& eq = m.upsert_equalities();
  REQUIRE(eq.size() == 4);
  CHECK(eq[0].first == "a");
  CHECK(eq[1].first == "b.c");
  CHECK(eq[2].first == "e");
  CHECK(eq[3].first == "f");
}

namespace {
// libbson's JSON reader takes {"$type": ...} for legacy binary, so $type filters are built.
bool type_matches(const bson::document& type_value, const char* document) {
  bson::document filter;
  filter.append_document("a", [&](bson::document& ops) { ops.append("$type", type_value.find("t")); });
  return ok(matcher::compile(filter)).matches(doc(document));
}
bson::document t(std::string_view json_value) { return doc(std::string("{\"t\": ") + std::string(json_value) + "}"); }
}  // namespace

TEST_CASE("$type matches by alias, by number, \"number\" for any numeric type, and arrays as a whole") {
  CHECK(type_matches(t(R"("string")"), R"({"a": "s"})"));
  CHECK(type_matches(t(R"("number")"), R"({"a": {"$numberLong": "1"}})"));
  CHECK(type_matches(t("16"), R"({"a": 1})"));
  CHECK_FALSE(type_matches(t(R"("double")"), R"({"a": 1})"));
  CHECK(type_matches(t(R"("array")"), R"({"a": []})"));
  CHECK(type_matches(t(R"("int")"), R"({"a": ["x", 2]})"));
  CHECK(type_matches(t(R"(["bool", "null"])"), R"({"a": null})"));
  CHECK_FALSE(type_matches(t(R"("null")"), R"({})"));
  bson::document filter;
  filter.append_document("a", [](bson::document& ops) { ops.append("$type", "foo"); });
  auto e = err(matcher::compile(filter));
  CHECK(e.code == 2);
  CHECK(e.message == "Unknown type name alias: foo");
}
