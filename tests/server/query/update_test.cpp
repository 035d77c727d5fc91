#include "query/test_util.hpp"

using namespace mongowire;
using namespace mongowire::testd::query;
using namespace mongowire::testd::query::test;

namespace {
std::string updated(const char* document, const char* update) {
  auto spec = ok(update_spec::compile(doc(update)));
  bson::document out;
  auto e = spec.apply(doc(document), out);
  if (e) FAIL("update failed: " << e->code << " " << e->message);
  return out.to_json();
}

query_error apply_error(const char* document, const char* update) {
  auto spec = ok(update_spec::compile(doc(update)));
  bson::document out;
  auto e = spec.apply(doc(document), out);
  REQUIRE(e.has_value());
  return *e;
}

struct update_case {
  const char* document;
  const char* update;
  const char* expected;
};
}  // namespace

TEST_CASE("update operators produce the documents mongod produces") {
  for (auto& c : std::initializer_list<update_case>{
           {R"({"_id": 1, "a": 1})", R"({"$set": {"a": 2, "b": 3}})", R"({"_id": 1, "a": 2, "b": 3})"},
           // New fields appear in field-name order, as mongod applies modifiers sorted by path.
           {R"({"_id": 1})", R"({"$set": {"z": 1, "b": 2}})", R"({"_id": 1, "b": 2, "z": 1})"},
           {R"({"_id": 1})", R"({"$set": {"a.b.c": 1}})", R"({"_id": 1, "a": {"b": {"c": 1}}})"},
           {R"({"_id": 1, "a": [1, 2]})", R"({"$set": {"a.1": 5}})", R"({"_id": 1, "a": [1, 5]})"},
           {R"({"_id": 1, "a": [1]})", R"({"$set": {"a.3": 5}})", R"({"_id": 1, "a": [1, null, null, 5]})"},
           {R"({"_id": 1, "a": 1, "b": 2})", R"({"$unset": {"a": "", "zz": 1}})", R"({"_id": 1, "b": 2})"},
           {R"({"_id": 1, "a": [1, 2]})", R"({"$unset": {"a.0": 1}})", R"({"_id": 1, "a": [null, 2]})"},
           {R"({"_id": 1, "n": 1})", R"({"$inc": {"n": 2, "m": 5}})", R"({"_id": 1, "n": 3, "m": 5})"},
           {R"({"_id": 1, "n": 2147483647})", R"({"$inc": {"n": 1}})",
            R"({"_id": 1, "n": {"$numberLong": "2147483648"}})"},
           {R"({"_id": 1, "n": 1})", R"({"$inc": {"n": 0.5}})", R"({"_id": 1, "n": 1.5})"},
           {R"({"_id": 1, "n": 3})", R"({"$mul": {"n": 2, "m": 4}})", R"({"_id": 1, "n": 6, "m": 0})"},
           {R"({"_id": 1, "a": 5, "b": 5})", R"({"$min": {"a": 3, "b": 9}, "$max": {"c": 1}})",
            R"({"_id": 1, "a": 3, "b": 5, "c": 1})"},
           {R"({"_id": 1})", R"({"$push": {"a": 1}})", R"({"_id": 1, "a": [1]})"},
           {R"({"_id": 1, "a": [1]})", R"({"$push": {"a": {"$each": [2, 3]}}})", R"({"_id": 1, "a": [1, 2, 3]})"},
           {R"({"_id": 1, "a": [5, 1]})", R"({"$push": {"a": {"$each": [3], "$sort": 1, "$slice": -2}}})",
            R"({"_id": 1, "a": [3, 5]})"},
           {R"({"_id": 1, "a": [1, 2]})", R"({"$push": {"a": {"$each": [0], "$position": 0}}})",
            R"({"_id": 1, "a": [0, 1, 2]})"},
           {R"({"_id": 1, "a": [{"s": 2}, {"s": 1}]})", R"({"$push": {"a": {"$each": [], "$sort": {"s": 1}}}})",
            R"({"_id": 1, "a": [{"s": 1}, {"s": 2}]})"},
           {R"({"_id": 1, "a": [1, 2]})", R"({"$addToSet": {"a": {"$each": [2, 3, 3]}}})",
            R"({"_id": 1, "a": [1, 2, 3]})"},
           {R"({"_id": 1, "a": [1, 2, 3, 2]})", R"({"$pull": {"a": 2}})", R"({"_id": 1, "a": [1, 3]})"},
           {R"({"_id": 1, "a": [1, 5, 9]})", R"({"$pull": {"a": {"$gte": 5}}})", R"({"_id": 1, "a": [1]})"},
           {R"({"_id": 1, "a": [{"x": 1, "y": 1}, {"x": 2}]})", R"({"$pull": {"a": {"x": 1}}})",
            R"({"_id": 1, "a": [{"x": 2}]})"},
           {R"({"_id": 1, "a": [1, 2, 3]})", R"({"$pullAll": {"a": [1, 3]}})", R"({"_id": 1, "a": [2]})"},
           {R"({"_id": 1, "a": [1, 2, 3]})", R"({"$pop": {"a": -1}})", R"({"_id": 1, "a": [2, 3]})"},
           {R"({"_id": 1, "a": 1, "b": 2})", R"({"$rename": {"a": "c.d"}})", R"({"_id": 1, "b": 2, "c": {"d": 1}})"},
           {R"({"_id": 1, "a": 1})", R"({"$setOnInsert": {"b": 1}})", R"({"_id": 1, "a": 1})"},
           {R"({"_id": 1, "a": 1})", R"({"$set": {"_id": 1}})", R"({"_id": 1, "a": 1})"},
           {R"({"_id": 1, "a": 1})", R"({"$set": {}})", R"({"_id": 1, "a": 1})"},
       }) {
    std::string document = c.document, update = c.update;
    CAPTURE(document);
    CAPTURE(update);
    CHECK(updated(c.document, c.update) == canon(c.expected));
  }
}

TEST_CASE("$currentDate sets a date, or a timestamp when asked") {
  auto out = doc(updated(R"({"_id": 1})", R"({"$currentDate": {"d": true, "t": {"$type": "timestamp"}}})"));
  CHECK(out.find("d").type() == BSON_TYPE_DATE_TIME);
  CHECK(out.find("t").type() == BSON_TYPE_TIMESTAMP);
}

TEST_CASE("a replacement keeps the original _id first and may not change it") {
  CHECK(updated(R"({"_id": 1, "a": 1})", R"({"b": 2})") == canon(R"({"_id": 1, "b": 2})"));
  CHECK(updated(R"({"_id": 1, "a": 1})", R"({"b": 2, "_id": 1})") == canon(R"({"_id": 1, "b": 2})"));
  auto e = apply_error(R"({"_id": 1, "a": 1})", R"({"_id": 2})");
  CHECK(e.code == 66);
  CHECK(e.code_name == "ImmutableField");
  CHECK(e.message == "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2");
}

TEST_CASE("update errors carry mongod's codes and messages") {
  auto e = apply_error(R"({"_id": 1})", R"({"$set": {"_id": 2}})");
  CHECK(e.code == 66);
  CHECK(e.message == "Performing an update on the path '_id' would modify the immutable field '_id'");
  e = apply_error(R"({"_id": 1, "a": "x"})", R"({"$inc": {"a": 1}})");
  CHECK(e.code == 14);
  CHECK(e.code_name == "TypeMismatch");
  CHECK(e.message ==
        "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string");
  e = apply_error(R"({"_id": 1, "a": 1})", R"({"$push": {"a": 2}})");
  CHECK(e.code == 2);
  CHECK(e.message == "The field 'a' must be an array but is of type int in document {_id: 1}");
  e = apply_error(R"({"_id": 1, "a": 1})", R"({"$set": {"a.b": 2}})");
  CHECK(e.code == 28);
  CHECK(e.code_name == "PathNotViable");
  CHECK(e.message == "Cannot create field 'b' in element {a: 1}");

  auto c = err(update_spec::compile(doc(R"({"$inc": {"a": "x"}})")));
  CHECK(c.code == 14);
  CHECK(c.message == "Cannot increment with non-numeric argument: {a: \"x\"}");
  c = err(update_spec::compile(doc(R"({"$set": {"a": 1}, "$inc": {"a": 1}})")));
  CHECK(c.code == 40);
  CHECK(c.code_name == "ConflictingUpdateOperators");
  CHECK(c.message == "Updating the path 'a' would create a conflict at 'a'");
  c = err(update_spec::compile(doc(R"({"$set": {"a.b": 1}, "$unset": {"a": 1}})")));
  CHECK(c.code == 40);
  c = err(update_spec::compile(doc(R"({"$set": {"a": 1}, "b": 2})")));
  CHECK(c.code == 9);
  CHECK(c.message ==
        "Unknown modifier: b. Expected a valid update modifier or pipeline-style update specified as an array");
  c = err(update_spec::compile(doc(R"({"$bogus": {"a": 1}})")));
  CHECK(c.code == 9);
  c = err(update_spec::compile(doc(R"({"$set": 1})")));
  CHECK(c.code == 9);
  c = err(update_spec::compile(doc(R"({"b": 2, "$set": {"a": 1}})")));
  CHECK(c.code == 52);
  c = err(update_spec::compile(doc(R"({"$set": {"a..b": 1}})")));
  CHECK(c.code == 56);
}

TEST_CASE("upsert seeds the new document from the query's equalities, _id first, then applies the update") {
  auto spec = ok(update_spec::compile(doc(R"({"$set": {"c": 3}, "$setOnInsert": {"d": 4}, "$inc": {"n": 1}})")));
  bson::document out;
  REQUIRE_FALSE(spec.apply_for_upsert(doc(R"({"a": 1, "b.x": 2, "_id": 7, "z": {"$gt": 1}})"), out));
  CHECK(out.to_json() == canon(R"({"_id": 7, "a": 1, "b": {"x": 2}, "c": 3, "d": 4, "n": 1})"));

  auto replacement = ok(update_spec::compile(doc(R"({"r": 1})")));
  REQUIRE_FALSE(replacement.apply_for_upsert(doc(R"({"_id": 5, "a": 1})"), out));
  CHECK(out.to_json() == canon(R"({"_id": 5, "r": 1})"));

  REQUIRE_FALSE(replacement.apply_for_upsert(doc(R"({"a": 1})"), out));
  CHECK(out.find("_id").type() == BSON_TYPE_OID);  // generated, as mongod does on insert
  CHECK(out.get_view().first_key() == "_id");

  auto e = spec.apply_for_upsert(doc(R"({"$and": [{"a": 1}, {"a": 2}]})"), out);
  REQUIRE(e);
  CHECK(e->code == 54);
  CHECK(e->message == "cannot infer query fields to set, path 'a' is matched twice");
}
