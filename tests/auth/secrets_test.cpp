// Issue 11 "Secrets never leak": an authenticated session, a wrong-password failure and the
// printed connection strings, with every output channel captured (command, pool, heartbeat
// and SDAM events, the log, the frame trace, error messages), searched for the password, its
// encodings, the SCRAM keys derived from it and any SCRAM message.
#include <doctest/doctest.h>

#include "auth_support.hpp"
#include "proto/auth/scram.hpp"
#include "sasl_commands.hpp"

namespace auth_test {
namespace {

namespace scram = mongowire::detail::auth;

// The server's salt and iteration count for alice, from a saslStart of our own.
scram::server_first_message server_first_for(auth_server& server, scram::scram_mechanism m) {
  auto ctx = server.embedded().core().open_connection();
  const auto start = testd::test::sasl_start_command(scram::mechanism_name(m), "n,,n=alice,r=testnonce0123456789");
  const auto text = testd::test::payload_text(server.embedded().core().handle(start, {}, ctx));
  scram::server_first_message out;
  std::string why;
  REQUIRE_MESSAGE(scram::parse_server_first(text, "testnonce0123456789", out, why), why);
  return out;
}

// The password in every form a leak could take: as given, percent-encoded, prepared, and the
// keys derived from it (raw and base64), plus the markers of SCRAM messages.
std::vector<std::string> secrets_of(auth_server& server) {
  std::vector<std::string> out = {secret_password, "s3cr3t%3AP%40ss%2Fw%C2%ADrd%3F", "s3cr3t:P@ss/word?", "n,,n=alice",
                                  "c=biws,r="};
  for (auto m : {scram::scram_mechanism::sha1, scram::scram_mechanism::sha256}) {
    std::string why;
    const auto prepared = scram::prepared_password(m, "alice", secret_password, why);
    REQUIRE(prepared);
    out.push_back(*prepared);
    const auto first = server_first_for(server, m);
    const auto alg = scram::algorithm_of(m);
    const auto salted = scram::pbkdf2(alg, *prepared, first.salt, first.iterations);
    const auto keys = scram::derive_keys(m, *prepared, first.salt, first.iterations);
    for (const auto* key : {&salted, &keys.client_key, &keys.server_key, &keys.stored_key}) {
      out.push_back(scram::base64_encode(*key));
      out.emplace_back(key->begin(), key->end());
    }
  }
  return out;
}

asio::awaitable<error_code> session_with_transaction(client& c, std::string new_user, diagnostics& diag) {
  auto s = c.start_session();
  s.start_transaction();
  bson::document reply;
  auto insert = bson::document::from_json(R"({"insert": "c", "documents": [{"x": 1}]})");
  if (auto ec = co_await s.run_command("app", std::move(insert), reply, diag)) co_return ec;
  if (auto ec = co_await s.commit_transaction(diag)) co_return ec;
  bson::document create;
  create.append("createUser", new_user);
  create.append("pwd", "another-secret");
  create.append_array_of("roles", [](bson::array_builder&) {});
  co_return co_await c.run_command("admin", std::move(create), reply, diag);
}

TEST_CASE("no password, derived key or SCRAM payload in any output channel (command-logging-and-monitoring.md)") {
  auth_server server;
  outputs out;
  for (std::string mechanism : {"SCRAM-SHA-256", "SCRAM-SHA-1"}) {
    asio::io_context io;
    client good(io.get_executor(), server.uri() + "&authMechanism=" + mechanism, out.options());
    client bad(io.get_executor(), server.uri("not-" + secret_password) + "&authMechanism=" + mechanism, out.options());
    diagnostics ok_diag, bad_diag;
    auto ec = run(io, [&]() -> asio::awaitable<error_code> {
      auto good_ec = co_await session_with_transaction(good, "bob-" + mechanism, ok_diag);
      auto bad_ec = co_await session_with_transaction(bad, "eve-" + mechanism, bad_diag);
      CHECK(bad_ec == make_server_error(18));
      co_await good.close();
      co_await bad.close();
      co_return good_ec;
    }());
    CHECK_MESSAGE(!ec, describe(ok_diag));
    out.add(describe(ok_diag) + describe(bad_diag) + bad_diag.reply.get_view().to_relaxed_json());
  }
  out.add(parse_uri(server.uri()).to_string());  // the printed connection string
  try {
    asio::io_context io;
    client broken(io.get_executor(), server.uri() + "&authMechanism=PLAIN&authSource=nowhere");
    FAIL("an unsupported mechanism must be refused");
  } catch (const mongowire::error& e) {
    out.add(e.what() + describe(e.diag()));
  }
  // The channels did carry the authentication: the search below can fail.
  REQUIRE(out.text.find("saslContinue") != std::string::npos);
  REQUIRE(out.text.find("speculativeAuthenticate") != std::string::npos);
  REQUIRE(out.text.find("createUser") != std::string::npos);
  REQUIRE(out.text.find("SCRAM-SHA-1 authentication failed") != std::string::npos);
  REQUIRE(out.text.find("alice:****@") != std::string::npos);
  for (const auto& secret : secrets_of(server)) {
    CAPTURE(scram::base64_encode(scram::as_bytes(secret)));
    CHECK(out.text.find(secret) == std::string::npos);
  }
  CHECK(out.text.find("another-secret") == std::string::npos);  // createUser is redacted too
}

}  // namespace
}  // namespace auth_test
