#include "query/test_util.hpp"

using namespace mongowire;
using namespace mongowire::testd::query;
using namespace mongowire::testd::query::test;

namespace {
std::string projected(const char* spec, const char* document) {
  auto p = ok(projection::compile(doc(spec)));
  bson::document out;
  p.apply(doc(document), out);
  return out.to_json();
}
}  // namespace

TEST_CASE("projections include, exclude, follow dotted paths into arrays and keep _id unless excluded") {
  struct row {
    const char *spec, *document, *expected;
  };
  for (auto& r : std::initializer_list<row>{
           {R"({})", R"({"_id": 1, "a": 1})", R"({"_id": 1, "a": 1})"},
           {R"({"a": 1})", R"({"_id": 1, "a": 1, "b": 2})", R"({"_id": 1, "a": 1})"},
           {R"({"b": 1, "a": true})", R"({"_id": 1, "a": 1, "b": 2, "c": 3})", R"({"_id": 1, "a": 1, "b": 2})"},
           {R"({"a": 1, "_id": 0})", R"({"_id": 1, "a": 1, "b": 2})", R"({"a": 1})"},
           {R"({"_id": 0})", R"({"_id": 1, "a": 1})", R"({"a": 1})"},
           {R"({"_id": 1})", R"({"_id": 1, "a": 1})", R"({"_id": 1})"},
           {R"({"a": 0})", R"({"_id": 1, "a": 1, "b": 2})", R"({"_id": 1, "b": 2})"},
           {R"({"a.b": 1})", R"({"_id": 1, "a": {"b": 1, "c": 2}, "d": 3})", R"({"_id": 1, "a": {"b": 1}})"},
           {R"({"a": {"b": 1}})", R"({"_id": 1, "a": {"b": 1, "c": 2}})", R"({"_id": 1, "a": {"b": 1}})"},
           {R"({"a.b": 1})", R"({"_id": 1, "a": [{"b": 1, "c": 2}, 5, {"c": 3}]})",
            R"({"_id": 1, "a": [{"b": 1}, {}]})"},
           {R"({"a.b": 1})", R"({"_id": 1, "a": 5})", R"({"_id": 1})"},
           {R"({"a.b": 0})", R"({"_id": 1, "a": [{"b": 1, "c": 2}, 5]})", R"({"_id": 1, "a": [{"c": 2}, 5]})"},
           {R"({"x": "$a.b", "a": 1})", R"({"_id": 1, "a": {"b": 7}})", R"({"_id": 1, "a": {"b": 7}, "x": 7})"},
           {R"({"x": {"$literal": 1}, "y": "$missing"})", R"({"_id": 1})", R"({"_id": 1, "x": 1})"},
       }) {
    std::string spec = r.spec, document = r.document;
    CAPTURE(spec);
    CAPTURE(document);
    CHECK(projected(r.spec, r.document) == canon(r.expected));
  }
}

TEST_CASE("mixing inclusion and exclusion is rejected with mongod's codes") {
  auto e = err(projection::compile(doc(R"({"a": 1, "b": 0})")));
  CHECK(e.code == 31254);
  CHECK(e.code_name == "Location31254");
  CHECK(e.message == "Cannot do exclusion on field b in inclusion projection");
  e = err(projection::compile(doc(R"({"a": 0, "b": 1})")));
  CHECK(e.code == 31253);
  CHECK(e.message == "Cannot do inclusion on field b in exclusion projection");
  // _id may be excluded from an inclusion projection and vice versa.
  CHECK(projection::compile(doc(R"({"a": 1, "_id": 0})")).index() == 0);
  CHECK(projection::compile(doc(R"({"a": 0, "_id": 1})")).index() == 0);
  e = err(projection::compile(doc(R"({"a": 1, "a.b": 1})")));
  CHECK(e.code == 31250);
  e = err(projection::compile(doc(R"({"x": {"$bogus": 1}})")));
  CHECK(e.code == 168);
  CHECK(e.message == "Unrecognized expression '$bogus'");
}
