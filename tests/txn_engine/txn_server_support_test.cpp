// What the selected server supports decides the session and transaction fields:
// retryable-writes.md "Supported Server Versions" (no txnNumber for a standalone or a server
// without sessions) and driver-sessions.md "How to Tell Whether a Connection Supports
// Sessions" (sessions prose tests 18 and 19), against a test server playing a standalone
// mongod and one playing a server without sessions (as mongocryptd).
#include "txn_support.hpp"

using namespace txn_test;

namespace {

testd::server_options without_sessions() {
  testd::server_options o;
  o.standalone = true;
  o.sessions_supported = false;
  return o;
}

asio::awaitable<error_code> insert_one(collection coll, int id, diagnostics& diag) {
  insert_one_result r;
  bson::document d;
  d.append("_id", std::int32_t{id});
  co_return co_await coll.insert_one(d, insert_one_options{}, r, diag);
}

asio::awaitable<error_code> find_one(collection coll, diagnostics& diag) {
  std::optional<bson::document> out;
  bson::document filter;
  const find_options options;
  co_return co_await coll.find_one(filter, options, out, diag);
}

}  // namespace

TEST_CASE("retryable-writes.md \"Supported Server Versions\": a standalone gets no txnNumber, and the write succeeds") {
  fixture f(standalone(), "");
  diagnostics diag;
  auto ec = run(f.io, insert_one(f.c->get_collection("app", "items"), 1, diag));
  REQUIRE_MESSAGE(!ec, ec.message() << " " << describe(diag));  // mongod: IllegalOperation for a txnNumber
  auto inserts = f.rec.named("insert");
  REQUIRE(inserts.size() == 1);
  CHECK_FALSE(inserts[0]->doc.get_view().contains("txnNumber"));
  CHECK_FALSE(lsid_of(inserts[0]->doc).empty());  // a standalone supports sessions
  CHECK(f.count("app", "items") == 1);
}

TEST_CASE("retryable-writes.md: a write to a standalone is not retried, even after a network error") {
  fixture f(standalone(), "");
  diagnostics diag;
  f.fail_command("insert", 1, true);
  f.rec.clear();
  CHECK(run(f.io, insert_one(f.c->get_collection("app", "items"), 2, diag)));
  CHECK(f.rec.named("insert").size() == 1);
  CHECK_FALSE(diag.has_label(label::retryable_write_error));
}

TEST_CASE("sessions prose test 18: an implicit session is ignored when the server does not support sessions") {
  fixture f(without_sessions(), "");
  diagnostics diag;
  run(f.io, find_one(f.c->get_collection("app", "items"), diag));
  run(f.io, insert_one(f.c->get_collection("app", "items"), 1, diag));
  auto finds = f.rec.named("find");
  auto inserts = f.rec.named("insert");
  REQUIRE(finds.size() == 1);
  REQUIRE(inserts.size() == 1);
  CHECK_FALSE(finds[0]->doc.get_view().contains("lsid"));
  CHECK_FALSE(inserts[0]->doc.get_view().contains("lsid"));
  CHECK_FALSE(inserts[0]->doc.get_view().contains("txnNumber"));
}

TEST_CASE(
    "sessions prose test 19: an explicit session raises a client error when the server does not support sessions") {
  fixture f(without_sessions(), "");
  diagnostics diag;
  auto s = f.c->start_session();  // "this MUST NOT error"
  f.rec.clear();
  CHECK(run(f.io, find_one(s.get_collection("app", "items"), diag)) == client_errc::sessions_not_supported);
  CHECK(diag.client_message.find("logicalSessionTimeoutMinutes") != std::string::npos);
  diag.clear();
  CHECK(run(f.io, insert_one(s.get_collection("app", "items"), 1, diag)) == client_errc::sessions_not_supported);
  CHECK(f.rec.started.empty());
}

TEST_CASE("driver-sessions.md \"ClientSession\": a session gives its client and its options") {
  fixture f;
  session_options o;
  o.causal_consistency = false;
  auto s = f.c->start_session(o);
  CHECK(&s.client() == f.c.get());
  REQUIRE(s.options().causal_consistency.has_value());
  CHECK(*s.options().causal_consistency == false);
  // convenient API "ClientSession must provide access to a MongoClient": usable in a callback.
  diagnostics diag;
  auto ec = run(f.io, s.with_transaction(
                          [](session& in, diagnostics& d) -> asio::awaitable<error_code> {
                            auto coll = in.client().get_collection("app", "other");
                            co_return co_await insert_one(coll, 1, d);
                          },
                          std::nullopt, diag));
  CHECK_MESSAGE(!ec, ec.message() << " " << describe(diag));
  run(f.io, f.close_client());
  f.c.reset();
  CHECK_THROWS_AS(s.client(), mongowire::error);
}

TEST_CASE("issue 16 capability preflight: a transaction on a standalone is refused before anything is sent") {
  fixture f(standalone(), "");
  auto s = f.c->start_session();
  REQUIRE_FALSE(s.start_transaction());
  diagnostics diag;
  f.rec.clear();
  auto ec = run(f.io, insert_one(s.get_collection("app", "c"), 1, diag));
  // Without the preflight mongod answers IllegalOperation ("Transaction numbers are only
  // allowed on a replica set member or mongos") after a round trip.
  CHECK(ec == client_errc::transactions_not_supported);
  CHECK(diag.client_message.find("standalone") != std::string::npos);
  CHECK(diag.client_message.find("--replSet") != std::string::npos);
  CHECK(f.rec.named("insert").empty());
  CHECK(s.current_transaction_state() == transaction_state::starting);  // client errors change nothing
  CHECK_FALSE(run(f.io, s.abort_transaction(diag)));
}
