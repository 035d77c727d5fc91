// mongod's size and count limits on writes (T3): maxWriteBatchSize (write_ops.cpp
// checkOpCountForCommand), BSONObjMaxUserSize for inserted documents (insert.cpp
// fixDocumentForInsert) and BSONObjMaxInternalSize for every object of a message.
#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;

namespace {
constexpr std::size_t mib16 = 16 * 1024 * 1024;

// {_id: id, s: "xxx..."} of exactly `size` bytes.
bson::document document_of_size(std::int32_t id, std::size_t size) {
  bson::document probe;
  probe.append("_id", id);
  probe.append("s", std::string_view(""));
  bson::document d;
  d.append("_id", id);
  d.append("s", std::string(size - probe.size(), 'x'));
  REQUIRE(d.size() == size);
  return d;
}

bson::document insert_with_sequence(harness& h, const std::vector<bson::document>& docs) {
  auto body = bson::document::from_json(R"({"insert": "c", "$db": "test"})");
  sequence seq{"documents", {}};
  for (auto& d : docs) seq.docs.push_back(d.get_view());
  return h.server.handle(body, std::span<const sequence>(&seq, 1), h.conn);
}

}  // namespace

TEST_CASE("a write batch above maxWriteBatchSize fails with InvalidLength before writing anything") {
  harness h;
  std::vector<bson::document> docs;
  for (std::int32_t i = 0; i < 100'001; ++i)
    docs.push_back(bson::document::from_json("{\"_id\": " + std::to_string(i) + "}"));
  auto r = insert_with_sequence(h, docs);
  CHECK(code_of(r) == 16);
  CHECK(r["codeName"].as_string() == "InvalidLength");
  CHECK(errmsg(r) == "Write batch sizes must be between 1 and 100000. Got 100001 operations.");
  CHECK(count_docs(h) == 0);
  docs.pop_back();
  CHECK(insert_with_sequence(h, docs)["n"].as_int32() == 100'000);
}

TEST_CASE("an empty insert, update or delete batch fails with InvalidLength") {
  harness h;
  CHECK(code_of(h.run(R"({"insert": "c", "documents": []})")) == 16);
  CHECK(code_of(h.run(R"({"update": "c", "updates": []})")) == 16);
  CHECK(code_of(h.run(R"({"delete": "c", "deletes": []})")) == 16);
}

TEST_CASE("a document above maxBsonObjectSize is a BadValue write error; the others of the batch are written") {
  harness h;
  std::vector<bson::document> docs;
  docs.push_back(document_of_size(1, mib16));
  docs.push_back(document_of_size(2, mib16 + 1));
  auto r = insert_with_sequence(h, docs);
  CHECK(ok(r));
  CHECK(r["n"].as_int32() == 1);
  CHECK(r.get_view().find_path("writeErrors.0.index").as_int32() == 1);
  CHECK(r.get_view().find_path("writeErrors.0.code").as_int32() == 2);
  CHECK(r.get_view().find_path("writeErrors.0.errmsg").as_string() ==
        "object to insert too large. size in bytes: 16777217, max size: 16777216");
}

TEST_CASE("an object above the internal limit (16 MiB + 16 KiB) fails the command with BSONObjectTooLarge") {
  harness h;
  std::vector<bson::document> docs;
  docs.push_back(bson::document::from_json(R"({"_id": 1})"));
  docs.push_back(document_of_size(2, mib16 + 16 * 1024 + 1));
  auto r = insert_with_sequence(h, docs);
  CHECK(code_of(r) == 10334);
  CHECK(r["codeName"].as_string() == "BSONObjectTooLarge");
  CHECK(errmsg(r).starts_with("BSONObj size: 16793601 (0x1004001) is invalid."));
  CHECK(count_docs(h) == 0);
}
