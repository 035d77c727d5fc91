// Snapshot history retention (core/history.cpp): versions older than
// minSnapshotHistoryWindowInSeconds behind the newest commit are dropped unless an open
// transaction still reads them, reads before the oldest timestamp fail with SnapshotTooOld
// (239), and the oplog keeps only what a member replicating from here has not fetched.
#include "core/storage.hpp"
#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kNs = "t.c";

// A storage written to directly, one autocommit write per timestamp, at `now` seconds.
struct store_fixture {
  storage st;
  std::uint32_t now = 1'700'000'000;

  write_context autocommit() {
    write_context wc;
    wc.view = {st.last_committed(), 0};
    wc.commit_ts = st.allocate_timestamp(now);
    return wc;
  }
  record_id insert(int id, int n) {
    auto wc = autocommit();
    auto& c = st.get_or_create(kNs, wc);
    return st.insert(c, kNs, doc(id, n), wc);
  }
  bson::timestamp update(record_id rid, int id, int n) {
    auto wc = autocommit();
    st.update(*st.find_any(kNs), kNs, rid, doc(id, n), wc);
    return wc.commit_ts;
  }
  // The n field seen at `at`, or -1 when the record is invisible or gone.
  int n_at(record_id rid, bson::timestamp at) {
    auto& records = st.find_any(kNs)->records;
    auto it = records.find(rid);
    if (it == records.end()) return -1;
    auto* d = st.visible(it->second, {at, 0});
    return d ? (*d)["n"].as_int32().value_or(-2) : -1;
  }
  static bson::document doc(int id, int n) {
    bson::document d;
    d.append("_id", std::int32_t{id}).append("n", std::int32_t{n});
    return d;
  }
};

std::string timestamp_json(bson::timestamp t) {
  return R"({"$timestamp": {"t": )" + std::to_string(t.t) + R"(, "i": )" + std::to_string(t.i) + "}}";
}

bson::timestamp operation_time_of(const bson::document& reply) {
  auto t = reply["operationTime"].as_timestamp();
  REQUIRE(t);
  return *t;
}

}  // namespace

TEST_CASE("history: versions older than the window go, the newest one before it stays") {
  store_fixture f;
  f.st.set_history_window(10);
  auto rid = f.insert(1, 0);
  const auto first = f.update(rid, 1, 1);
  f.update(rid, 1, 2);
  f.st.prune(std::nullopt);
  CHECK(f.st.stats().versions == 3);  // all within the window
  CHECK(f.n_at(rid, first) == 1);

  f.now += 11;
  const auto later = f.update(rid, 1, 3);
  CHECK(f.st.oldest_timestamp() == bson::timestamp{later.t - 10, later.i});
  f.st.prune(std::nullopt);
  // The window starts after every old version: only the newest of them is still readable.
  CHECK(f.st.stats().versions == 2);
  CHECK(f.n_at(rid, f.st.oldest_timestamp()) == 2);
  CHECK(f.n_at(rid, later) == 3);
}

TEST_CASE("history: an open reader's snapshot keeps the versions it reads") {
  store_fixture f;
  f.st.set_history_window(0);
  auto rid = f.insert(1, 0);
  const auto reader = f.update(rid, 1, 1);
  f.update(rid, 1, 2);
  f.update(rid, 1, 3);
  f.st.prune(reader);
  CHECK(f.n_at(rid, reader) == 1);
  CHECK(f.st.stats().versions == 3);  // n=0 goes; 1 for the reader, 2 and 3 after it
  f.st.prune(std::nullopt);           // the reader is gone
  CHECK(f.st.stats().versions == 1);
}

TEST_CASE("history: a record deleted before the horizon goes with its _id index entry") {
  store_fixture f;
  f.st.set_history_window(0);
  auto rid = f.insert(7, 0);
  auto wc = f.autocommit();
  f.st.remove(*f.st.find_any(kNs), kNs, rid, wc);
  f.insert(8, 0);
  f.st.prune(std::nullopt);
  CHECK(f.st.stats().records == 1);
  CHECK(f.st.find_any(kNs)->id_index.size() == 1);
  f.insert(7, 1);  // the same _id again: a new record, no duplicate key
  CHECK(f.st.stats().records == 2);
}

TEST_CASE("history: the oplog keeps what a lagging member has not fetched, then stays bounded") {
  store_fixture f;
  f.st.record_oplog(true);
  f.st.set_history_window(0);
  f.st.set_oplog_cap(50);
  f.st.note_oplog_reader("b:2", {0, 0});
  for (int i = 0; i < 200; ++i) f.insert(i, 0);
  f.st.prune(std::nullopt);
  CHECK(f.st.oplog_size() == 201);  // the collection's creation and 200 inserts: b:2 has none
  CHECK(f.st.oplog_after({0, 0}).size() == 201);

  f.st.note_oplog_reader("b:2", f.st.last_committed());
  f.st.prune(std::nullopt);
  CHECK(f.st.oplog_size() == 1);  // fetched, and older than a window of 0: all but the newest

  f.st.set_history_window(3600);  // within the window: the cap bounds it
  for (int i = 200; i < 400; ++i) f.insert(i, 0);
  f.st.note_oplog_reader("b:2", f.st.last_committed());
  f.st.prune(std::nullopt);
  CHECK(f.st.oplog_size() == 50);
  f.st.forget_oplog_reader("b:2");
}

TEST_CASE("history: setParameter minSnapshotHistoryWindowInSeconds, SnapshotTooOld past the window") {
  harness h;
  auto set = h.admin(R"({"setParameter": 1, "minSnapshotHistoryWindowInSeconds": 5})");
  REQUIRE_MESSAGE(ok(set), set.to_json());
  CHECK(set["was"].as_int32() == 300);
  CHECK(h.admin(R"({"getParameter": 1, "minSnapshotHistoryWindowInSeconds": 1})")["minSnapshotHistoryWindowInSeconds"]
            .as_int32() == 5);
  CHECK(code_of(h.admin(R"({"setParameter": 1, "minSnapshotHistoryWindowInSeconds": -1})")) == 2);
  CHECK(code_of(h.admin(R"({"setParameter": 1, "noSuchParameter": 1})")) == 72);
  CHECK(code_of(h.run(R"({"setParameter": 1, "minSnapshotHistoryWindowInSeconds": 5})")) == 13);

  const auto inserted = operation_time_of(h.run(R"({"insert": "c", "documents": [{"_id": 1, "n": 0}]})"));
  REQUIRE(ok(h.run(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$set": {"n": 1}}}]})")));
  const std::string at_insert =
      R"({"find": "c", "readConcern": {"level": "snapshot", "atClusterTime": )" + timestamp_json(inserted) + "}}";
  CHECK(first_batch(h.run(at_insert)) == std::vector<std::string>{R"({ "_id" : 1, "n" : 0 })"});

  h.now += 6s;
  for (int i = 0; i < 300; ++i)  // enough writes for a pruning pass
    REQUIRE(ok(h.run(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}]})")));
  auto too_old = h.run(at_insert);
  CHECK(code_of(too_old) == 239);
  CHECK(too_old["codeName"].as_string() == "SnapshotTooOld");
  CHECK(errmsg(too_old).find("is older than the oldest available timestamp") != std::string::npos);
  auto status = h.admin(R"({"serverStatus": 1})");
  CHECK(status.get_view()
            .find_path("wiredTiger.snapshot-window-settings.total number of SnapshotTooOld errors")
            .as_int64() == 1);
  CHECK(status.get_view().find_path("mem.resident").as_int64() > 0);
}

TEST_CASE("history: a transaction's snapshot stays readable past the window while it is open") {
  harness h;
  REQUIRE(ok(h.admin(R"({"setParameter": 1, "minSnapshotHistoryWindowInSeconds": 1})")));
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 1, "n": 0}]})")));
  const std::string s = session_fields(0, 1);
  auto read = h.run(R"({"find": "c", )" + s + R"(, "startTransaction": true, "autocommit": false})");
  REQUIRE_MESSAGE(ok(read), read.to_json());
  h.now += 5s;
  for (int i = 0; i < 300; ++i)
    REQUIRE(ok(h.run(R"({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"n": 1}}}]})")));
  read = h.run(R"({"find": "c", )" + s + R"(, "autocommit": false})");
  CHECK(first_batch(read) == std::vector<std::string>{R"({ "_id" : 1, "n" : 0 })"});
  REQUIRE(ok(h.admin(R"({"abortTransaction": 1, )" + s + R"(, "autocommit": false})")));
}

TEST_CASE("history: a document inserted and deleted in an aborted transaction leaves no _id behind") {
  harness h;
  const std::string s = session_fields(1, 1);
  REQUIRE(ok(h.run(R"({"insert": "c", "documents": [{"_id": 7}], )" + s +
                   R"(, "startTransaction": true, "autocommit": false})")));
  REQUIRE(
      ok(h.run(R"({"delete": "c", "deletes": [{"q": {"_id": 7}, "limit": 1}], )" + s + R"(, "autocommit": false})")));
  REQUIRE(ok(h.admin(R"({"abortTransaction": 1, )" + s + R"(, "autocommit": false})")));
  auto again = h.run(R"({"insert": "c", "documents": [{"_id": 7}]})");
  CHECK_MESSAGE(ok(again), again.to_json());
}
