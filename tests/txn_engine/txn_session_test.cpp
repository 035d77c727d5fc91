// driver-sessions.md: the server session pool, dirty sessions, endSessions on close.
#include "txn_support.hpp"

#include <set>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/client_access.hpp"

using namespace txn_test;

namespace {

asio::awaitable<error_code> ping_with(session& s, diagnostics& diag) {
  bson::document reply;
  co_return co_await s.run_command("admin", doc_from_json(R"({"ping": 1})"), reply, diag);
}

// session::id() is {id: UUID}, as sent in lsid.
std::string session_id(const session& s) {
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
    first = session_id(a);
    CHECK(lsid_of(f.rec.started.back().doc) == first);
    run(f.io, a.end());
  }
  auto b = f.c->start_session();
  CHECK(session_id(b) == first);
  REQUIRE(!run(f.io, ping_with(b, diag)));
  CHECK(lsid_of(f.rec.started.back().doc) == first);
}

TEST_CASE("driver-sessions.md: two sessions in use at once have different lsids") {
  fixture f;
  auto a = f.c->start_session();
  auto b = f.c->start_session();
  CHECK(session_id(a) != session_id(b));
}

TEST_CASE("driver-sessions.md: implicit sessions send an lsid and return it to the pool") {
  fixture f;
  diagnostics diag;
  insert_one_result r;
  auto coll = f.c->get_collection("app", "items");
  REQUIRE(!run(f.io, coll.insert_one(doc_from_json(R"({"_id": 1})"), insert_one_options{}, r, diag)));
  REQUIRE(!run(f.io, coll.insert_one(doc_from_json(R"({"_id": 2})"), insert_one_options{}, r, diag)));
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
    dirty_id = session_id(a);
    run(f.io, a.end());
  }
  auto b = f.c->start_session();
  CHECK_FALSE(b.is_dirty());
  CHECK(session_id(b) != dirty_id);
}

TEST_CASE("driver-sessions.md: closing the client sends endSessions with the pooled session ids") {
  fixture f;
  diagnostics diag;
  std::string id;
  {
    auto a = f.c->start_session();
    REQUIRE(!run(f.io, ping_with(a, diag)));
    id = session_id(a);
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
  REQUIRE(
      !run(f.io,
           a.get_collection("app", "items").insert_one(doc_from_json(R"({"_id": 5})"), insert_one_options{}, r, diag)));
  run(f.io, a.end());
  auto aborts = f.rec.named("abortTransaction");
  REQUIRE(aborts.size() == 1);
  CHECK(aborts[0]->doc["txnNumber"].as_int64() == f.rec.named("insert")[0]->doc["txnNumber"].as_int64());
  CHECK(f.count("app", "items") == 0);
}

namespace {

// The distinct lsids sent by the eight concurrent operations of sessions prose test 14.
std::size_t lsids_of_eight_concurrent_operations(fixture& f) {
  f.rec.clear();
  auto coll = f.c->get_collection("app", "prose14");
  const bson::document empty = doc_from_json("{}");
  const bson::document set_a = doc_from_json(R"({"$set": {"a": 1}})");
  const bson::document replacement = doc_from_json(R"({"a": 1})");
  int done = 0;
  std::vector<error_code> errors;
  auto finish = [&](error_code ec) {
    if (ec) errors.push_back(ec);
    if (++done == 8) f.io.stop();
  };
  insert_one_result ir;
  delete_result dr;
  update_result ur1;
  bulk_write_result br;
  std::optional<bson::document> fd, fu, fr;
  std::vector<bson::document> found;
  diagnostics d[8];
  std::vector<write_model> bulk(1);
  bulk[0].type = write_model::kind::update_one;
  bulk[0].filter = empty;
  bulk[0].update = set_a;
  auto spawn = [&](asio::awaitable<error_code> op) {
    asio::co_spawn(f.io, std::move(op), [&](std::exception_ptr, error_code ec) { finish(ec); });
  };
  spawn(coll.insert_one(empty, insert_one_options{}, ir, d[0]));
  spawn(coll.delete_one(empty, delete_options{}, dr, d[1]));
  spawn(coll.update_one(empty, set_a, update_options{}, ur1, d[2]));
  spawn(coll.bulk_write(std::move(bulk), bulk_write_options{}, br, d[3]));
  spawn(coll.find_one_and_delete(empty, find_one_and_delete_options{}, fd, d[4]));
  spawn(coll.find_one_and_update(empty, set_a, find_one_and_update_options{}, fu, d[5]));
  spawn(coll.find_one_and_replace(empty, replacement, find_one_and_replace_options{}, fr, d[6]));
  spawn(coll.find(empty, find_options{}, found, d[7]));
  f.io.restart();
  f.io.run();
  REQUIRE(done == 8);
  CHECK(errors.empty());
  std::set<std::string> lsids;
  for (const auto& c : f.rec.started)
    if (c.name != "configureFailPoint") lsids.insert(lsid_of(c.doc));
  return lsids.size();
}

}  // namespace

TEST_CASE("sessions prose test 14: implicit sessions take their server session only after connection checkout") {
  fixture f("&maxPoolSize=1&retryWrites=true");
  bool one_session_at_least_once = false;
  for (int run_index = 0; run_index < 5; ++run_index) {
    const auto n = lsids_of_eight_concurrent_operations(f);
    CAPTURE(run_index);
    CHECK(n < 8);
    one_session_at_least_once = one_session_at_least_once || n == 1;
  }
  CHECK(one_session_at_least_once);
}

TEST_CASE("driver-sessions.md \"lastUse\": updated every time the session id is sent") {
  fixture f;
  diagnostics diag;
  auto a = f.c->start_session();  // lastUse: now (creation)
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto before_sending = std::chrono::steady_clock::now();
  REQUIRE(!run(f.io, ping_with(a, diag)));
  run(f.io, a.end());
  const auto& pooled = detail::client_access::impl(*f.c).session_pool().sessions();
  REQUIRE(pooled.size() == 1);
  CHECK(pooled.front().last_use >= before_sending);
}

TEST_CASE("driver-sessions.md \"When using unacknowledged writes\": no lsid with w:0; an explicit session is refused") {
  fixture f;
  diagnostics diag;
  collection_options w0;
  w0.write_concern = doc_from_json(R"({"w": 0})");
  insert_one_result r;
  auto implicit = f.c->get_collection("app", "w0").with_options(w0);
  REQUIRE(!run(f.io, implicit.insert_one(doc_from_json(R"({"_id": 1})"), insert_one_options{}, r, diag)));
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 1);
  CHECK_FALSE(inserts[0]->doc.get_view().contains("lsid"));
  CHECK_FALSE(inserts[0]->doc.get_view().contains("txnNumber"));
  CHECK(detail::client_access::impl(*f.c).session_pool().size() == 0);  // no server session was taken for it

  auto s = f.c->start_session();
  f.rec.clear();
  auto explicit_w0 = s.get_collection("app", "w0").with_options(w0);
  auto ec = run(f.io, explicit_w0.insert_one(doc_from_json(R"({"_id": 2})"), insert_one_options{}, r, diag));
  CHECK(ec == client_errc::invalid_argument);
  CHECK(diag.client_message.find("unacknowledged") != std::string::npos);
  CHECK(f.rec.started.empty());
}

TEST_CASE("driver-sessions.md \"endSessions\": without a primary, endSessions goes to an available secondary") {
  testd::embedded_replica_set rs(2);
  asio::io_context io;
  std::vector<std::string> end_sessions_addresses;
  client_options o;
  o.on_command = [&](const command_event& e) {
    if (e.type == command_event_type::started && e.command_name == "endSessions")
      end_sessions_addresses.push_back(e.address);
  };
  client c(io.get_executor(), rs.uri() + "&heartbeatFrequencyMS=500&serverSelectionTimeoutMS=2000", o);
  diagnostics diag;
  {
    auto a = c.start_session();
    REQUIRE(!run(io, ping_with(a, diag)));
    run(io, a.end());  // its server session goes back to the pool
  }
  rs.step_down_and_elect(-1);
  // Wait until the client has seen that there is no primary any more.
  using mongowire::detail::sdam::topology_type;
  run(io, [&]() -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (int i = 0; i < 100 && detail::client_access::impl(c).topology().description().type() !=
                                   topology_type::replica_set_no_primary;
         ++i) {
      t.expires_after(std::chrono::milliseconds(50));
      co_await t.async_wait(asio::use_awaitable);
    }
  }());
  REQUIRE(detail::client_access::impl(c).topology().description().type() == topology_type::replica_set_no_primary);
  run(io, [&]() -> asio::awaitable<void> { co_await c.close(); }());
  REQUIRE(end_sessions_addresses.size() == 1);
  // Both members are secondaries now: either will do.
  CHECK((end_sessions_addresses[0] == rs.member(0).address() || end_sessions_addresses[0] == rs.member(1).address()));
}
