#include "query/detail.hpp"
#include "query/test_util.hpp"

#include <algorithm>
#include <random>

using namespace mongowire;
using namespace mongowire::testd::query;
using namespace mongowire::testd::query::test;

namespace {
std::vector<std::string> sorted_ids(const char* spec, std::vector<const char*> docs) {
  auto s = ok(sort_spec::compile(doc(spec)));
  std::vector<bson::document> v;
  for (auto d : docs) v.push_back(doc(d));
  mongowire::testd::query::detail::stable_sort_aligned(v, [&](auto& a, auto& b) { return s.less(a, b); });
  std::vector<std::string> ids;
  for (auto& d : v) ids.emplace_back(*d.find("_id").as_string());
  return ids;
}
using ids = std::vector<std::string>;
}  // namespace

TEST_CASE("sort orders across types by BSON order, missing as null, empty array below null") {
  auto r =
      sorted_ids(R"({"a": 1})", {R"({"_id": "str", "a": "x"})", R"({"_id": "num", "a": 3})", R"({"_id": "missing"})",
                                 R"({"_id": "obj", "a": {"k": 1}})", R"({"_id": "bool", "a": true})",
                                 R"({"_id": "empty", "a": []})", R"({"_id": "minkey", "a": {"$minKey": 1}})"});
  CHECK(r == ids{"minkey", "empty", "missing", "num", "str", "obj", "bool"});
}

TEST_CASE("sort uses an array's smallest element ascending and its largest descending") {
  std::vector<const char*> docs = {R"({"_id": "A", "a": [1, 10]})", R"({"_id": "B", "a": 5})",
                                   R"({"_id": "C", "a": [3, 7]})"};
  CHECK(sorted_ids(R"({"a": 1})", docs) == ids{"A", "C", "B"});
  CHECK(sorted_ids(R"({"a": -1})", docs) == ids{"A", "C", "B"});
  CHECK(sorted_ids(R"({"a.b": 1})", {R"({"_id": "X", "a": [{"b": 4}, {"b": 2}]})", R"({"_id": "Y", "a": {"b": 3}})"}) ==
        ids{"X", "Y"});
}

TEST_CASE("sort with several keys breaks ties with the next key") {
  CHECK(sorted_ids(R"({"a": 1, "b": -1})", {R"({"_id": "1", "a": 1, "b": 1})", R"({"_id": "2", "a": 1, "b": 2})",
                                            R"({"_id": "3", "a": 0, "b": 0})"}) == ids{"3", "2", "1"});
}

TEST_CASE("sort keys must be 1 or -1") {
  auto e = err(sort_spec::compile(doc(R"({"a": 2})")));
  CHECK(e.code == 15975);
  CHECK(e.message == "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
}

TEST_CASE("property: sort_spec::less is a strict weak ordering over random documents") {
  std::mt19937 rng(12345);
  const char* values[] = {"1",
                          "2.5",
                          "-3",
                          R"({"$numberLong": "2"})",
                          R"("a")",
                          R"("b")",
                          "null",
                          "true",
                          "[]",
                          "[1, 9]",
                          "[\"a\", 0]",
                          R"({"x": 1})",
                          R"({"$minKey": 1})",
                          R"({"$numberDouble": "NaN"})"};
  auto random_doc = [&] {
    std::string json = "{";
    bool first = true;
    for (const char* field : {"a", "b"}) {
      if (rng() % 4 == 0) continue;  // sometimes missing
      json += std::string(first ? "" : ", ") + "\"" + field + "\": " + values[rng() % std::size(values)];
      first = false;
    }
    return doc(json + "}");
  };
  std::vector<bson::document> docs;
  for (int i = 0; i < 40; ++i) docs.push_back(random_doc());
  for (const char* spec : {R"({"a": 1})", R"({"a": -1, "b": 1})", R"({"b": -1, "a": -1})"}) {
    auto s = ok(sort_spec::compile(doc(spec)));
    auto lt = [&](auto& x, auto& y) { return s.less(x, y); };
    auto equiv = [&](auto& x, auto& y) { return !lt(x, y) && !lt(y, x); };
    for (auto& x : docs) {
      CHECK_FALSE(lt(x, x));  // irreflexive
      for (auto& y : docs) {
        if (lt(x, y)) CHECK_FALSE(lt(y, x));  // asymmetric
        for (auto& z : docs) {
          if (lt(x, y) && lt(y, z)) CHECK(lt(x, z));           // transitive
          if (equiv(x, y) && equiv(y, z)) CHECK(equiv(x, z));  // equivalence is transitive
        }
      }
    }
  }
}

TEST_CASE("property: compare_values is antisymmetric and transitive over random values") {
  std::mt19937 rng(99);
  const char* values[] = {"1",
                          "1.0",
                          "2",
                          R"({"$numberLong": "1"})",
                          R"("a")",
                          R"("")",
                          "null",
                          "false",
                          "[]",
                          "[1]",
                          "[1, 2]",
                          "[[1]]",
                          R"({"a": 1})",
                          R"({"a": "1"})",
                          R"({"b": 0})",
                          R"({})",
                          R"({"$numberDouble": "NaN"})",
                          R"({"$numberDouble": "-Infinity"})",
                          R"({"$maxKey": 1})"};
  std::vector<bson::document> v;
  for (int i = 0; i < 30; ++i) v.push_back(doc(std::string("{\"v\": ") + values[rng() % std::size(values)] + "}"));
  auto c = [](auto& x, auto& y) { return compare_values(x.find("v"), y.find("v")); };
  for (auto& x : v)
    for (auto& y : v) {
      CHECK((c(x, y) < 0) == (c(y, x) > 0));
      for (auto& z : v)
        if (c(x, y) <= 0 && c(y, z) <= 0) CHECK(c(x, z) <= 0);
    }
}
