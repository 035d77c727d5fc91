// classify_command: the read/write nature and retryability of the commands the API builds
// (retryable-reads.md "Supported Read Operations", retryable-writes.md "Supported Write
// Operations", read-write-concern.md).
#include <doctest/doctest.h>

#include <string>

#include "proto/command/command_kind.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {
command_kind kind_of(const std::string& json) { return classify_command(bson::document::from_json(json)); }
}  // namespace

TEST_CASE("command kind: every read operation of retryable-reads.md is a retryable read") {
  for (const char* json : {R"({"find": "c", "filter": {}})", R"({"aggregate": "c", "pipeline": [{"$match": {}}]})",
                           R"({"distinct": "c", "key": "x"})", R"({"count": "c"})", R"({"listDatabases": 1})",
                           R"({"listCollections": 1})", R"({"listIndexes": "c"})"}) {
    CAPTURE(json);
    CHECK(kind_of(json).family == retry_family::read);
    CHECK_FALSE(kind_of(json).takes_write_concern);
  }
}

TEST_CASE("command kind: the enumeration commands take no read concern; the CRUD reads do") {
  CHECK(kind_of(R"({"find": "c"})").takes_read_concern);
  CHECK(kind_of(R"({"count": "c"})").takes_read_concern);
  CHECK_FALSE(kind_of(R"({"listDatabases": 1})").takes_read_concern);
  CHECK_FALSE(kind_of(R"({"listIndexes": "c"})").takes_read_concern);
}

TEST_CASE("command kind: getMore and an aggregate with $out or $merge are not retryable reads") {
  CHECK(kind_of(R"({"getMore": {"$numberLong": "5"}, "collection": "c"})").family == retry_family::other);
  CHECK_FALSE(kind_of(R"({"getMore": {"$numberLong": "5"}, "collection": "c"})").takes_read_concern);
  auto merge = kind_of(R"({"aggregate": "c", "pipeline": [{"$match": {}}, {"$merge": {"into": "o"}}]})");
  CHECK(merge.family == retry_family::other);
  CHECK(merge.takes_write_concern);
  CHECK(kind_of(R"({"aggregate": "c", "pipeline": [{"$out": "o"}]})").family == retry_family::other);
}

TEST_CASE("command kind: single-document writes are retryable writes; multi-document statements are not") {
  CHECK(kind_of(R"({"insert": "c", "documents": [{}, {}]})").family == retry_family::write);
  CHECK(kind_of(R"({"update": "c", "updates": [{"q": {}, "u": {"$set": {"a": 1}}}]})").family == retry_family::write);
  CHECK(kind_of(R"({"update": "c", "updates": [{"q": {}, "u": {}}, {"q": {}, "u": {}, "multi": true}]})").family ==
        retry_family::other);
  CHECK(kind_of(R"({"delete": "c", "deletes": [{"q": {}, "limit": 1}]})").family == retry_family::write);
  CHECK(kind_of(R"({"delete": "c", "deletes": [{"q": {}, "limit": 0}]})").family == retry_family::other);
  CHECK(kind_of(R"({"findAndModify": "c", "query": {}, "remove": true})").family == retry_family::write);
  CHECK(kind_of(R"({"insert": "c", "documents": [{}]})").takes_write_concern);
}

TEST_CASE("command kind: DDL takes a write concern and is never retried") {
  for (const char* json : {R"({"create": "c"})", R"({"drop": "c"})", R"({"createIndexes": "c", "indexes": []})",
                           R"({"dropDatabase": 1})"}) {
    CAPTURE(json);
    CHECK(kind_of(json).takes_write_concern);
    CHECK(kind_of(json).family == retry_family::other);
  }
  CHECK(kind_of(R"({"ping": 1})").family == retry_family::other);
  CHECK(kind_of("{}").family == retry_family::other);
}
