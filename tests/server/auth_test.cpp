// Access control of the test server as mongod --auth: the Unauthorized gate, SCRAM-SHA-1 and
// SCRAM-SHA-256 (driven by the client's own sans-I/O authenticator), speculative
// authentication in hello, saslSupportedMechs, and createUser/dropUser/usersInfo.
#include <string>

#include "proto/auth/authenticator.hpp"
#include "sasl_commands.hpp"
#include "test_support.hpp"

using namespace mongowire;
using namespace mongowire::testd;
using namespace mongowire::testd::test;
namespace auth = mongowire::detail::auth;

namespace {

server_options with_auth() {
  server_options o;
  o.auth = true;
  o.users.push_back({"alice", "s3cr3t"});
  return o;
}

auth::credential credential_of(std::string user, std::string password, std::optional<std::string> mechanism) {
  auth::credential c;
  c.username = std::move(user);
  c.password = std::move(password);
  c.source = "admin";
  c.mechanism = std::move(mechanism);
  return c;
}

struct conversation_result {
  auth::auth_step last;
  diagnostics diag;
  int sasl_commands = 0;  // saslStart/saslContinue sent after the hello
  bool speculative = false;
};

// Runs the client's authenticator against the server core on `conn`: hello, then every
// saslStart/saslContinue it asks for.
conversation_result authenticate(harness& h, connection_context& conn, const auth::credential& cred,
                                 bool speculative = true) {
  auth::authenticator a(cred, nullptr);
  bson::document hello;
  hello.append("hello", 1);
  if (speculative) a.prepare_hello(hello);
  hello.append("$db", "admin");
  auto hello_reply = h.server.handle(hello, {}, conn);
  conversation_result r;
  r.last = a.on_hello_reply(hello_reply, r.diag);
  while (r.last.action == auth::auth_action::send) {
    ++r.sasl_commands;
    auto reply = h.server.handle(r.last.command, {}, conn);
    r.last = a.on_reply(reply, r.diag);
  }
  r.speculative = a.speculative_accepted();
  return r;
}

}  // namespace

TEST_CASE("mongod --auth: every command but the handshake and SASL ones needs an authenticated connection") {
  harness h(with_auth());
  for (auto cmd : {R"({"insert": "c", "documents": [{"_id": 1}]})", R"({"find": "c"})", R"({"endSessions": []})",
                   R"({"usersInfo": 1})", R"({"serverStatus": 1})"}) {
    CAPTURE(cmd);
    auto r = h.run(cmd);
    CHECK(code_of(r) == 13);
    CHECK(r["codeName"].as_string() == "Unauthorized");
    CHECK(errmsg(r).find("requires authentication") != std::string::npos);
  }
  CHECK(errmsg(h.run(R"({"insert": "c", "documents": [{"_id": 1}]})")) == "Command insert requires authentication");
  for (auto cmd : {R"({"hello": 1})", R"({"isMaster": 1})", R"({"ping": 1})", R"({"buildInfo": 1})"})
    CHECK(ok(h.admin(cmd)));
  CHECK(code_of(h.run(R"({"noSuchCommand": 1})")) == 59);  // the command is looked up first
}

TEST_CASE("SCRAM-SHA-256 and SCRAM-SHA-1 authenticate a connection, which may then run commands") {
  for (auto mechanism : {"SCRAM-SHA-256", "SCRAM-SHA-1"}) {
    CAPTURE(mechanism);
    harness h(with_auth());
    auto r = authenticate(h, h.conn, credential_of("alice", "s3cr3t", mechanism), false);
    CHECK(r.last.action == auth::auth_action::done);
    CHECK(r.sasl_commands == 2);  // saslStart, saslContinue (skipEmptyExchange)
    CHECK(ok(h.run(R"({"insert": "c", "documents": [{"_id": 1}]})")));
    auto other = h.server.open_connection();  // authentication belongs to the connection
    CHECK(code_of(h.run(R"({"find": "c"})", &other)) == 13);
  }
}

TEST_CASE("speculative authentication in hello saves the saslStart round trip (handshake.md)") {
  harness h(with_auth());
  auto plain = authenticate(h, h.conn, credential_of("alice", "s3cr3t", "SCRAM-SHA-256"), false);
  auto conn = h.server.open_connection();
  auto speculative = authenticate(h, conn, credential_of("alice", "s3cr3t", "SCRAM-SHA-256"), true);
  CHECK(speculative.last.action == auth::auth_action::done);
  CHECK(speculative.speculative);
  CHECK(speculative.sasl_commands == plain.sasl_commands - 1);
  CHECK(ok(h.run(R"({"find": "c"})", &conn)));
}

TEST_CASE("a wrong password fails with AuthenticationFailed (18) and leaves the connection unauthenticated") {
  harness h(with_auth());
  for (bool speculative : {true, false}) {
    auto conn = h.server.open_connection();
    auto r = authenticate(h, conn, credential_of("alice", "wrong", "SCRAM-SHA-256"), speculative);
    CHECK(r.last.action == auth::auth_action::failed);
    CHECK(r.last.ec == make_server_error(18));
    CHECK(r.diag.code_name == "AuthenticationFailed");
    CHECK(r.diag.client_message == "SCRAM-SHA-256 authentication failed");
    CHECK(r.diag.server_message == "Authentication failed.");
    CHECK(code_of(h.run(R"({"find": "c"})", &conn)) == 13);
  }
  auto conn = h.server.open_connection();  // an unknown user fails alike (nothing leaks)
  auto unknown = authenticate(h, conn, credential_of("mallory", "x", std::nullopt));
  CHECK(unknown.last.ec == make_server_error(18));
}

TEST_CASE("saslSupportedMechs lists the user's mechanisms; negotiation picks SCRAM-SHA-256") {
  harness h(with_auth());
  auto r = h.admin(R"({"hello": 1, "saslSupportedMechs": "admin.alice"})");
  REQUIRE(r["saslSupportedMechs"].is_array());
  CHECK(r["saslSupportedMechs"].as_array()->to_relaxed_json() == R"({ "0" : "SCRAM-SHA-1", "1" : "SCRAM-SHA-256" })");
  CHECK_FALSE(h.admin(R"({"hello": 1, "saslSupportedMechs": "admin.nobody"})").find("saslSupportedMechs"));
  auto negotiated = authenticate(h, h.conn, credential_of("alice", "s3cr3t", std::nullopt));
  CHECK(negotiated.last.action == auth::auth_action::done);
  CHECK(negotiated.speculative);  // the SCRAM-SHA-256 speculative saslStart was taken
}

TEST_CASE("mongod's credentials: 15000 iterations for SCRAM-SHA-256, 10000 for SCRAM-SHA-1, random salts") {
  harness h(with_auth());
  auto start = [&](std::string_view mechanism) {
    return payload_text(h.server.handle(sasl_start_command(mechanism, "n,,n=alice,r=abcdefghijklmnop"), {}, h.conn));
  };
  auth::server_first_message sha256, sha1;
  std::string why;
  REQUIRE(auth::parse_server_first(start("SCRAM-SHA-256"), "abcdefghijklmnop", sha256, why));
  REQUIRE(auth::parse_server_first(start("SCRAM-SHA-1"), "abcdefghijklmnop", sha1, why));
  CHECK(sha256.iterations == 15000);
  CHECK(sha1.iterations == 10000);
  CHECK(sha256.salt.size() == 28);
  CHECK(sha1.salt.size() == 16);
}

TEST_CASE("without skipEmptyExchange the server wants the empty final turn (auth.md Backwards Compatibility)") {
  harness h(with_auth());
  auth::scram_client c(auth::scram_mechanism::sha256, "alice", "s3cr3t", "clientnonce123", nullptr);
  auto r = h.server.handle(sasl_start_command("SCRAM-SHA-256", c.client_first()), {}, h.conn);
  std::string final_message, why;
  REQUIRE(c.on_server_first(payload_text(r), final_message, why));
  auto step = [&](std::string_view payload) {
    return h.server.handle(sasl_continue_command(r["conversationId"].as_int32().value_or(0), payload), {}, h.conn);
  };
  auto second = step(final_message);
  CHECK(second["done"].as_bool() == false);
  CHECK(c.on_server_final(payload_text(second), why));
  CHECK(code_of(h.run(R"({"find": "c"})")) == 13);  // not yet: the conversation is not done
  auto third = step("");
  CHECK(third["done"].as_bool() == true);
  CHECK(ok(h.run(R"({"find": "c"})")));
}

TEST_CASE("SASL protocol errors: no conversation, mismatched conversationId, unavailable mechanism") {
  harness h(with_auth());
  auto r =
      h.admin(R"({"saslContinue": 1, "conversationId": 1, "payload": {"$binary": {"base64": "", "subType": "00"}}})");
  CHECK(code_of(r) == 17);
  CHECK(errmsg(r) == "No SASL session state found");
  auto plain =
      h.admin(R"({"saslStart": 1, "mechanism": "PLAIN", "payload": {"$binary": {"base64": "", "subType": "00"}}})");
  CHECK(code_of(plain) == 334);
  CHECK(plain["codeName"].as_string() == "MechanismUnavailable");
  REQUIRE(ok(h.server.handle(sasl_start_command("SCRAM-SHA-256", "n,,n=alice,r=abc"), {}, h.conn)));
  auto mismatch =
      h.admin(R"({"saslContinue": 1, "conversationId": 7, "payload": {"$binary": {"base64": "", "subType": "00"}}})");
  CHECK(code_of(mismatch) == 17);
  CHECK(errmsg(mismatch) == "sasl: Mismatched conversation id");
}

TEST_CASE("createUser, usersInfo, dropUser as mongod; the localhost exception creates the first user") {
  server_options o;
  o.auth = true;
  harness h(o);
  CHECK(ok(h.admin(R"({"createUser": "root", "pwd": "pw", "roles": ["root"]})")));         // no user yet
  CHECK(code_of(h.admin(R"({"createUser": "second", "pwd": "pw", "roles": []})")) == 13);  // exception closed
  auto r = authenticate(h, h.conn, credential_of("root", "pw", std::nullopt));
  REQUIRE(r.last.action == auth::auth_action::done);
  CHECK(ok(h.run(R"({"createUser": "bob", "pwd": "pw", "roles": [{"role": "read", "db": "test"}],
                    "mechanisms": ["SCRAM-SHA-256"]})")));
  auto dup = h.run(R"({"createUser": "bob", "pwd": "x", "roles": []})");
  CHECK(code_of(dup) == 51003);
  CHECK(errmsg(dup) == "User \"bob@test\" already exists");
  CHECK(code_of(h.run(R"({"createUser": "carol", "roles": []})")) == 2);
  CHECK(code_of(h.run(R"({"createUser": "carol", "pwd": "x"})")) == 40414);
  CHECK(code_of(h.run(R"({"createUser": "carol", "pwd": "x", "roles": [], "mechanisms": ["PLAIN"]})")) == 2);
  auto info = h.run(R"({"usersInfo": "bob"})");
  REQUIRE(ok(info));
  auto user = info.get_view().find_path("users.0");
  REQUIRE(user.is_document());
  CHECK((*user.as_document())["_id"].as_string() == "test.bob");
  CHECK((*user.as_document())["userId"].as_binary()->subtype == BSON_SUBTYPE_UUID);
  CHECK(user.as_document()->find_path("roles.0.role").as_string() == "read");
  CHECK(user.as_document()->find_path("mechanisms.0").as_string() == "SCRAM-SHA-256");
  CHECK_FALSE(user.as_document()->find_path("mechanisms.1"));
  CHECK(h.admin(R"({"usersInfo": 1})").get_view().find_path("users.0.user").as_string() == "root");
  CHECK(ok(h.run(R"({"dropUser": "bob"})")));
  auto gone = h.run(R"({"dropUser": "bob"})");
  CHECK(code_of(gone) == 11);
  CHECK(errmsg(gone) == "User 'bob@test' not found");
}

TEST_CASE("without --auth the server still authenticates users that exist, and requires nothing") {
  server_options o;
  o.users.push_back({"alice", "s3cr3t"});
  harness h(o);
  CHECK(ok(h.run(R"({"find": "c"})")));
  CHECK(authenticate(h, h.conn, credential_of("alice", "s3cr3t", std::nullopt)).last.action == auth::auth_action::done);
}
