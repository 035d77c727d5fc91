#include "query/test_util.hpp"

using namespace mongowire;
using namespace mongowire::testd::query;
using namespace mongowire::testd::query::test;

namespace {
std::vector<bson::document> sample() {
  return {doc(R"({"_id": 1, "k": "a", "n": 1, "tags": ["x", "y"]})"), doc(R"({"_id": 2, "k": "b", "n": 2.5})"),
          doc(R"({"_id": 3, "k": "a", "n": 3, "tags": []})"), doc(R"({"_id": 4, "k": "b", "n": "text"})")};
}

// Runs `pipeline` (a JSON array) over sample() and renders the output as one JSON array.
std::string run(const char* pipeline) {
  auto p = doc(std::string("{\"p\": ") + pipeline + "}");
  auto r = ok(run_pipeline(sample(), *p.find("p").as_array()));
  std::string out = "[";
  for (auto& d : r.docs) out += (out.size() > 1 ? ", " : "") + d.to_json();
  return out + "]";
}

std::string expect(std::initializer_list<const char*> docs) {
  std::string out = "[";
  for (auto d : docs) out += (out.size() > 1 ? ", " : "") + canon(d);
  return out + "]";
}

query_error failure(const char* pipeline) {
  auto p = doc(std::string("{\"p\": ") + pipeline + "}");
  return err(run_pipeline(sample(), *p.find("p").as_array()));
}
}  // namespace

TEST_CASE("$match, $sort, $skip, $limit and $count filter and order documents") {
  CHECK(run(R"([{"$match": {"k": "a"}}, {"$project": {"_id": 1}}])") == expect({R"({"_id": 1})", R"({"_id": 3})"}));
  CHECK(run(R"([{"$sort": {"_id": -1}}, {"$skip": 1}, {"$limit": 2}, {"$project": {"_id": 1}}])") ==
        expect({R"({"_id": 3})", R"({"_id": 2})"}));
  CHECK(run(R"([{"$match": {"k": "a"}}, {"$count": "total"}])") == expect({R"({"total": 2})"}));
  CHECK(run(R"([{"$match": {"k": "zzz"}}, {"$count": "total"}])") == "[]");
}

TEST_CASE("$project, $addFields/$set, $unset and $replaceRoot reshape documents") {
  CHECK(run(R"([{"$match": {"_id": 1}}, {"$project": {"k": 1, "_id": 0, "double": {"$multiply": ["$n", 2]}}}])") ==
        expect({R"({"k": "a", "double": 2})"}));
  CHECK(
      run(R"([{"$match": {"_id": 2}}, {"$set": {"m": {"$add": ["$n", 1]}, "sub.x": "$k"}}, {"$unset": ["tags", "n"]}])") ==
      expect({R"({"_id": 2, "k": "b", "m": 3.5, "sub": {"x": "b"}})"}));
  CHECK(run(R"([{"$match": {"_id": 1}}, {"$replaceRoot": {"newRoot": {"key": "$k", "first": {"$literal": "$x"}}}}])") ==
        expect({R"({"key": "a", "first": "$x"})"}));
  auto e = failure(R"([{"$replaceRoot": {"newRoot": "$n"}}])");
  CHECK(e.code == 40228);
  CHECK(
      e.message.starts_with("'newRoot' expression must evaluate to an object, but resulting value was: 1. Type of "
                            "resulting value: 'int'."));
}

TEST_CASE("$group groups by _id expression and accumulates as mongod does") {
  CHECK(run(R"([{"$group": {"_id": "$k", "sum": {"$sum": "$n"}, "count": {"$sum": 1}, "avg": {"$avg": "$n"},
                 "min": {"$min": "$n"}, "max": {"$max": "$n"}, "first": {"$first": "$_id"}, "last": {"$last": "$_id"},
                 "ids": {"$push": "$_id"}, "kinds": {"$addToSet": "$k"}}}])") ==
        expect({R"({"_id": "a", "sum": 4, "count": 2, "avg": 2.0, "min": 1, "max": 3, "first": 1, "last": 3,
                    "ids": [1, 3], "kinds": ["a"]})",
                R"({"_id": "b", "sum": 2.5, "count": 2, "avg": 2.5, "min": 2.5, "max": "text", "first": 2, "last": 4,
                    "ids": [2, 4], "kinds": ["b"]})"}));
  CHECK(run(R"([{"$group": {"_id": null, "n": {"$count": {}}}}])") == expect({R"({"_id": null, "n": 4})"}));
  CHECK(run(R"([{"$match": {"_id": {"$lte": 2}}}, {"$group": {"_id": {"kind": "$k", "none": "$nope"}}}])") ==
        expect({R"({"_id": {"kind": "a"}})", R"({"_id": {"kind": "b"}})"}));
  // Numerically equal keys (1 and 1.0) form one group.
  std::vector<bson::document> input = {doc(R"({"g": 1})"), doc(R"({"g": 1.0})")};
  auto p = doc(R"({"p": [{"$group": {"_id": "$g", "c": {"$sum": 1}}}]})");
  CHECK(ok(run_pipeline(input, *p.find("p").as_array())).docs.size() == 1);
  auto e = failure(R"([{"$group": {"total": {"$sum": 1}}}])");
  CHECK(e.code == 15955);
  CHECK(e.message == "a group specification must include an _id");
  e = failure(R"([{"$group": {"_id": 1, "x": {"$median": 1}}}])");
  CHECK(e.code == 15952);
  CHECK(e.message == "unknown group operator '$median'");
}

TEST_CASE("$unwind emits one document per array element and drops empty ones unless preserved") {
  CHECK(run(R"([{"$unwind": "$tags"}, {"$project": {"tags": 1}}])") ==
        expect({R"({"_id": 1, "tags": "x"})", R"({"_id": 1, "tags": "y"})"}));
  CHECK(run(R"([{"$unwind": {"path": "$tags", "preserveNullAndEmptyArrays": true, "includeArrayIndex": "i"}},
                {"$project": {"tags": 1, "i": 1}}])") ==
        expect({R"({"_id": 1, "tags": "x", "i": {"$numberLong": "0"}})",
                R"({"_id": 1, "tags": "y", "i": {"$numberLong": "1"}})", R"({"_id": 2, "i": null})",
                R"({"_id": 3, "i": null})", R"({"_id": 4, "i": null})"}));
}

TEST_CASE("$out must be last and names the collection the caller writes") {
  auto p = doc(R"({"p": [{"$match": {"k": "a"}}, {"$out": "target"}]})");
  auto r = ok(run_pipeline(sample(), *p.find("p").as_array()));
  CHECK(r.out_collection == "target");
  CHECK(r.docs.size() == 2);
  auto e = failure(R"([{"$out": "t"}, {"$match": {}}])");
  CHECK(e.code == 40601);
  CHECK(e.message == "$out can only be the final stage in the pipeline");
}

TEST_CASE("malformed pipelines fail with mongod's codes before any stage runs") {
  auto e = failure(R"([{"$foo": 1}])");
  CHECK(e.code == 40324);
  CHECK(e.code_name == "Location40324");
  CHECK(e.message == "Unrecognized pipeline stage name: '$foo'");
  CHECK(failure(R"([{"$match": {}, "$limit": 1}])").code == 40323);
  CHECK(failure(R"([{"$limit": 0}])").code == 15958);
  CHECK(failure(R"([{"$skip": -1}])").code == 15956);
  CHECK(failure(R"([{"$sort": {}}])").code == 15976);
  CHECK(failure(R"([{"$count": "a.b"}])").code == 40160);
  CHECK(failure(R"([{"$match": {"$bad": 1}}])").code == 2);
  CHECK(failure(R"([{"$project": {"x": {"$nope": 1}}}])").code == 168);
  auto add = failure(R"([{"$set": {"x": {"$add": ["$k", 1]}}}])");
  CHECK(add.code == 16554);
  CHECK(add.message == "$add only supports numeric or date types, not string");
}
