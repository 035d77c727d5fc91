// client-backpressure.md against the test server: the handshake flag, maxAdaptiveRetries from
// the connection string, and overload retries that follow retryWrites/retryReads, inside
// transactions too (transactions.md "Interaction with Client Backpressure").
#include "txn_support.hpp"

#include <mutex>

#include "client/client_access.hpp"

using namespace txn_test;

namespace {

asio::awaitable<error_code> insert_in(session& s, int id, diagnostics& diag) {
  insert_one_result r;
  bson::document d;
  d.append("_id", std::int32_t{id});
  co_return co_await s.get_collection("app", "items").insert_one(d, insert_one_options{}, r, diag);
}

asio::awaitable<error_code> ping(database db, diagnostics& diag) {
  bson::document reply;
  bson::document cmd = doc_from_json(R"({"ping": 1})");
  co_return co_await db.run_command(std::move(cmd), std::nullopt, reply, diag);
}

// The backoffs of these tests are not what they check: no waiting.
void without_backoff(fixture& f) {
  detail::client_access::impl(*f.c).set_jitter_source([] { return 0.0; });
}

}  // namespace

TEST_CASE(
    "handshake.md / client-backpressure.md: connection handshakes carry backpressure: \"2\", monitoring hellos do "
    "not") {
  std::mutex m;
  std::vector<bson::document> hellos;
  testd::server_options o;
  o.command_log = [&](const testd::command_log_entry& e) {
    if (e.command_name != "hello" && e.command_name != "isMaster" && e.command_name != "ismaster") return;
    std::lock_guard lock(m);
    hellos.emplace_back(e.command);
  };
  fixture f(std::move(o), "");
  diagnostics diag;
  REQUIRE(!run(f.io, ping(f.c->get_database("admin"), diag)));
  std::lock_guard lock(m);
  int handshakes = 0;
  for (const auto& h : hellos) {
    const bool handshake = h.get_view().contains("client");
    handshakes += handshake;
    if (handshake) CHECK(h["backpressure"].as_string() == "2");
    else CHECK_FALSE(h.get_view().contains("backpressure"));
  }
  CHECK(handshakes >= 2);  // the monitor's connection and the pooled one
}

TEST_CASE(
    "client-backpressure.md prose test 4: maxAdaptiveRetries from the connection string limits overload retries") {
  fixture f("&maxAdaptiveRetries=1");
  without_backoff(f);
  f.fail_with_overload("find", -1);
  f.rec.clear();
  diagnostics diag;
  std::optional<bson::document> out;
  auto ec = run(f.io, f.c->get_collection("app", "items").find_one(doc_from_json("{}"), find_options{}, out, diag));
  CHECK(ec == make_server_error(462));
  CHECK(diag.has_label(label::system_overloaded));
  CHECK(diag.has_label(label::retryable_error));
  CHECK(f.rec.named("find").size() == 2);  // maxAdaptiveRetries + 1
}

TEST_CASE(
    "client-backpressure.md step 2.4: in a transaction, overload errors are retried only when retryWrites allows") {
  for (bool retry_writes : {true, false}) {
    CAPTURE(retry_writes);
    fixture f(retry_writes ? "" : "&retryWrites=false");
    without_backoff(f);
    diagnostics diag;
    auto s = f.c->start_session();
    REQUIRE(!s.start_transaction(snapshot_majority(), diag));
    f.fail_with_overload("insert", 1);
    f.rec.clear();
    auto ec = run(f.io, insert_in(s, 1, diag));
    auto inserts = f.rec.named("insert");
    if (retry_writes) {
      CHECK_MESSAGE(!ec, ec.message() << " " << describe(diag));
      REQUIRE(inserts.size() == 2);
      // transactions.md: the retry of the first command is still the first command.
      CHECK(inserts[1]->doc["startTransaction"].as_bool() == true);
    } else {
      CHECK(ec == make_server_error(462));
      CHECK(inserts.size() == 1);
    }
  }
}

TEST_CASE(
    "client-backpressure.md step 2.4: runCommand is retried on overload errors only when retryReads and retryWrites "
    "are on") {
  for (const char* options : {"", "&retryWrites=false", "&retryReads=false"}) {
    CAPTURE(options);
    fixture f(options);
    without_backoff(f);
    f.fail_with_overload("ping", 1);
    f.rec.clear();
    diagnostics diag;
    auto ec = run(f.io, ping(f.c->get_database("app"), diag));
    const bool both = std::string_view(options).empty();
    CHECK(f.rec.named("ping").size() == (both ? 2u : 1u));
    CHECK(static_cast<bool>(ec) == !both);
  }
}
