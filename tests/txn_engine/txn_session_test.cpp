// driver-sessions.md: the server session pool, dirty sessions, endSessions on close.
#include "txn_support.hpp"

using namespace txn_test;

namespace {

asio::awaitable<error_code> ping_with(session& s, diagnostics& diag) {
  bson::document reply;
  co_return co_await s.run_command("admin", doc_from_json(R"({"ping": 1})"), reply, diag);
}

// session::id() is {id: UUID}, as sent in lsid.
std::string lsid_bytes(const session& s) {
  bson::document wrapped;
  wrapped.append("lsid", s.id());
  return lsid_of(wrapped);
}

}  // namespace

TEST_CASE("driver-sessions.md: a server session is reused (same lsid) once its session ended") {
  fixture f;
  diagnostics diag;
  std::string first;
  {
    auto a = f.c->start_session();
    REQUIRE(!run(f.io, ping_with(a, diag)));
    first = lsid_bytes(a);
    CHECK(lsid_of(f.rec.started.back().doc) == first);
    run(f.io, a.end());
  }
  auto b = f.c->start_session();
  CHECK(lsid_bytes(b) == first);
  REQUIRE(!run(f.io, ping_with(b, diag)));
  CHECK(lsid_of(f.rec.started.back().doc) == first);
}

TEST_CASE("driver-sessions.md: two sessions in use at once have different lsids") {
  fixture f;
  auto a = f.c->start_session();
  auto b = f.c->start_session();
  CHECK(lsid_bytes(a) != lsid_bytes(b));
}

TEST_CASE("driver-sessions.md: implicit sessions send an lsid and return it to the pool") {
  fixture f;
  diagnostics diag;
  insert_one_result r;
  auto coll = f.c->get_collection("app", "items");
  REQUIRE(!run(f.io, coll.insert_one(doc_from_json(R"({"_id": 1})"), r, diag)));
  REQUIRE(!run(f.io, coll.insert_one(doc_from_json(R"({"_id": 2})"), r, diag)));
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 2);
  CHECK(!lsid_of(inserts[0]->doc).empty());
  CHECK(lsid_of(inserts[0]->doc) == lsid_of(inserts[1]->doc));  // the pooled session, reused
  // retryable-writes.md: each retryable write takes the next txnNumber of the session.
  CHECK(*inserts[1]->doc["txnNumber"].as_int64() == *inserts[0]->doc["txnNumber"].as_int64() + 1);
}

TEST_CASE("driver-sessions.md: a session that saw a network error is dirty and is not reused") {
  fixture f("&retryWrites=false");
  diagnostics diag;
  std::string dirty_id;
  {
    auto a = f.c->start_session();
    f.fail_command("ping", 1, true);
    CHECK(run(f.io, ping_with(a, diag)));
    CHECK(a.is_dirty());
    dirty_id = lsid_bytes(a);
    run(f.io, a.end());
  }
  auto b = f.c->start_session();
  CHECK_FALSE(b.is_dirty());
  CHECK(lsid_bytes(b) != dirty_id);
}

TEST_CASE("driver-sessions.md: closing the client sends endSessions with the pooled session ids") {
  fixture f;
  diagnostics diag;
  std::string id;
  {
    auto a = f.c->start_session();
    REQUIRE(!run(f.io, ping_with(a, diag)));
    id = lsid_bytes(a);
    run(f.io, a.end());
  }
  run(f.io, f.close_client());
  auto ends = f.rec.named("endSessions");
  REQUIRE(ends.size() == 1);
  CHECK(ends[0]->db == "admin");
  auto ids = ends[0]->doc["endSessions"].as_array();
  REQUIRE(ids);
  bool found = false;
  for (const auto& e : *ids)
    if (auto d = e.as_document()) {
      bson::document wrapped;
      wrapped.append("lsid", *d);
      found = found || lsid_of(wrapped) == id;
    }
  CHECK(found);
  // After close, operations are refused.
  CHECK(run(f.io, [&]() -> asio::awaitable<error_code> {
          bson::document reply;
          co_return co_await f.c->run_command("admin", doc_from_json(R"({"ping": 1})"), reply, diag);
        }()) == client_errc::client_closed);
}

TEST_CASE("driver-sessions.md: an ended session refuses operations") {
  fixture f;
  diagnostics diag;
  auto a = f.c->start_session();
  run(f.io, a.end());
  CHECK(run(f.io, ping_with(a, diag)) == client_errc::session_ended);
  CHECK(a.start_transaction(std::nullopt, diag) == client_errc::session_ended);
}

TEST_CASE("transactions.md: ending a session aborts its transaction in progress") {
  fixture f;
  diagnostics diag;
  auto a = f.c->start_session();
  REQUIRE(!a.start_transaction(snapshot_majority(), diag));
  insert_one_result r;
  REQUIRE(!run(f.io, a.get_collection("app", "items").insert_one(doc_from_json(R"({"_id": 5})"), r, diag)));
  run(f.io, a.end());
  auto aborts = f.rec.named("abortTransaction");
  REQUIRE(aborts.size() == 1);
  CHECK(aborts[0]->doc["txnNumber"].as_int64() == f.rec.named("insert")[0]->doc["txnNumber"].as_int64());
  CHECK(f.count("app", "items") == 0);
}
