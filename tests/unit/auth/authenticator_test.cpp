// The authentication step of the handshake as a conversation of commands (auth.md
// "Authentication Handshake", "Mechanism Negotiation via Handshake", "Default Authentication
// Methods"; handshake.md "Speculative Authentication"), driven with auth.md's SCRAM-SHA-256
// example conversation and a fixed client nonce.
#include <doctest/doctest.h>

#include <string>

#include "proto/auth/authenticator.hpp"

using namespace mongowire;
using namespace mongowire::detail::auth;

namespace {

constexpr std::string_view nonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

credential user_pencil(std::optional<std::string> mechanism) {
  credential c;
  c.username = "user";
  c.password = "pencil";
  c.source = "admin";
  c.mechanism = std::move(mechanism);
  return c;
}

authenticator make(std::optional<std::string> mechanism, std::shared_ptr<scram_cache> cache = nullptr) {
  return authenticator(user_pencil(std::move(mechanism)), std::move(cache), [] { return std::string(nonce); });
}

std::span<const std::uint8_t> bin(std::string_view s) { return as_bytes(s); }

std::string payload_of(bson::view command) {
  auto b = command["payload"].as_binary();
  REQUIRE(b);
  return {reinterpret_cast<const char*>(b->bytes.data()), b->bytes.size()};
}

bson::document sasl_reply(std::string_view payload, bool done, bool ok_field = true) {
  bson::document d;
  d.append("conversationId", 1);
  d.append("payload", bson::binary_ref{BSON_SUBTYPE_BINARY, bin(payload)});
  d.append("done", done);
  if (ok_field) d.append("ok", 1.0);
  return d;
}

bson::document hello_reply(std::optional<bson::document> speculative, std::vector<std::string> mechs = {}) {
  bson::document d;
  d.append("isWritablePrimary", true);
  if (!mechs.empty())
    d.append_array_of("saslSupportedMechs", [&](bson::array_builder& a) {
      for (auto& m : mechs) a.push(m);
    });
  if (speculative) d.append("speculativeAuthenticate", *speculative);
  d.append("ok", 1.0);
  return d;
}

}  // namespace

TEST_CASE(
    "speculative authentication: the first saslStart rides in hello and the conversation continues from its reply") {
  auto a = make("SCRAM-SHA-256");
  bson::document hello;
  hello.append("hello", 1);
  a.prepare_hello(hello);
  CHECK_FALSE(hello.find("saslSupportedMechs"));  // the mechanism is configured: no negotiation
  auto spec = hello["speculativeAuthenticate"].as_document();
  REQUIRE(spec);
  CHECK(spec->first_key() == "saslStart");
  CHECK((*spec)["mechanism"].as_string() == "SCRAM-SHA-256");
  CHECK((*spec)["db"].as_string() == "admin");
  CHECK_FALSE(spec->find("$db"));
  CHECK((*spec)["options"].as_document()->find("skipEmptyExchange").as_bool() == true);
  CHECK(payload_of(*spec) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");

  diagnostics diag;
  auto step = a.on_hello_reply(hello_reply(sasl_reply(server_first, false, false)), diag);
  REQUIRE(step.action == auth_action::send);
  CHECK(a.speculative_accepted());
  CHECK(step.command.get_view().first_key() == "saslContinue");
  CHECK(step.command["conversationId"].as_int32() == 1);
  CHECK(step.command["$db"].as_string() == "admin");
  CHECK(payload_of(step.command) == client_final);
  step = a.on_reply(sasl_reply(server_final, true), diag);
  CHECK(step.action == auth_action::done);
  CHECK_FALSE(step.ec);
}

TEST_CASE("without a speculativeAuthenticate reply the client runs a normal conversation") {
  auto a = make("SCRAM-SHA-256");
  bson::document hello;
  a.prepare_hello(hello);
  diagnostics diag;
  auto step = a.on_hello_reply(hello_reply(std::nullopt), diag);
  REQUIRE(step.action == auth_action::send);
  CHECK_FALSE(a.speculative_accepted());
  CHECK(step.command.get_view().first_key() == "saslStart");
  CHECK(step.command["$db"].as_string() == "admin");
  CHECK(step.command["autoAuthorize"].as_int32() == 1);
  CHECK(payload_of(step.command) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  step = a.on_reply(sasl_reply(server_first, false), diag);
  REQUIRE(step.action == auth_action::send);
  CHECK(payload_of(step.command) == client_final);
  // auth.md "Backwards Compatibility": an old server wants one more, empty, turn.
  step = a.on_reply(sasl_reply(server_final, false), diag);
  REQUIRE(step.action == auth_action::send);
  CHECK(payload_of(step.command).empty());
  step = a.on_reply(sasl_reply("", true), diag);
  CHECK(step.action == auth_action::done);
}

TEST_CASE("mechanism negotiation: saslSupportedMechs <source>.<user>, SCRAM-SHA-256 when listed, else SCRAM-SHA-1") {
  {
    auto a = make(std::nullopt);
    bson::document hello;
    a.prepare_hello(hello);
    CHECK(hello["saslSupportedMechs"].as_string() == "admin.user");
    // handshake.md: negotiating, the speculative mechanism is SCRAM-SHA-256.
    CHECK(hello["speculativeAuthenticate"].as_document()->find("mechanism").as_string() == "SCRAM-SHA-256");
    diagnostics diag;
    auto step = a.on_hello_reply(hello_reply(std::nullopt, {"SCRAM-SHA-1"}), diag);
    REQUIRE(step.action == auth_action::send);
    CHECK(step.command["mechanism"].as_string() == "SCRAM-SHA-1");
    CHECK(a.mechanism() == "SCRAM-SHA-1");
  }
  for (auto mechs :
       {std::vector<std::string>{"SCRAM-SHA-1", "SCRAM-SHA-256"}, std::vector<std::string>{"SCRAM-SHA-256", "PLAIN"}}) {
    auto a = make(std::nullopt);
    bson::document hello;
    a.prepare_hello(hello);
    diagnostics diag;
    auto step = a.on_hello_reply(hello_reply(std::nullopt, mechs), diag);
    CHECK(step.command["mechanism"].as_string() == "SCRAM-SHA-256");
  }
  {  // no saslSupportedMechs (unknown user, or an old server): SCRAM-SHA-1
    auto a = make(std::nullopt);
    bson::document hello;
    a.prepare_hello(hello);
    diagnostics diag;
    auto step = a.on_hello_reply(hello_reply(std::nullopt), diag);
    CHECK(step.command["mechanism"].as_string() == "SCRAM-SHA-1");
  }
}

TEST_CASE("an explicit mechanism is honoured whatever the server lists (auth.md Default Authentication Methods)") {
  auto a = make("SCRAM-SHA-1");
  bson::document hello;
  a.prepare_hello(hello);
  diagnostics diag;
  auto step = a.on_hello_reply(hello_reply(std::nullopt, {"SCRAM-SHA-256"}), diag);
  CHECK(step.command["mechanism"].as_string() == "SCRAM-SHA-1");
}

TEST_CASE("an arbiter is not authenticated") {
  auto a = make("SCRAM-SHA-256");
  bson::document hello;
  a.prepare_hello(hello);
  bson::document reply;
  reply.append("arbiterOnly", true);
  reply.append("ok", 1.0);
  diagnostics diag;
  CHECK(a.on_hello_reply(reply, diag).action == auth_action::done);
}

TEST_CASE("AuthenticationFailed from the server keeps code 18 and names the mechanism") {
  auto a = make("SCRAM-SHA-256");
  bson::document hello;
  a.prepare_hello(hello);
  diagnostics diag;
  auto step = a.on_hello_reply(hello_reply(sasl_reply(server_first, false, false)), diag);
  auto failure = bson::document::from_json(
      R"({"ok": 0, "errmsg": "Authentication failed.", "code": 18, "codeName": "AuthenticationFailed"})");
  step = a.on_reply(failure, diag);
  CHECK(step.action == auth_action::failed);
  CHECK(step.ec == make_server_error(18));
  CHECK(diag.code_name == "AuthenticationFailed");
  CHECK(diag.client_message == "SCRAM-SHA-256 authentication failed");
  CHECK(diag.server_message == "Authentication failed.");  // the server's words, kept apart
  CHECK(diag.labels.empty());
}

TEST_CASE("a wrong server signature is a client authentication error naming the mechanism, never retryable") {
  auto a = make("SCRAM-SHA-256");
  bson::document hello;
  a.prepare_hello(hello);
  diagnostics diag;
  diag.labels.add("RetryableError");
  auto step = a.on_hello_reply(hello_reply(sasl_reply(server_first, false, false)), diag);
  step = a.on_reply(sasl_reply("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", true), diag);
  CHECK(step.action == auth_action::failed);
  CHECK(step.ec == client_errc::authentication_failed);
  CHECK(diag.client_message.find("SCRAM-SHA-256 authentication failed") == 0);
  CHECK(diag.client_message.find("signature") != std::string::npos);
  CHECK(diag.client_message.find("pencil") == std::string::npos);
  CHECK(diag.labels.empty());
  CHECK(diag.reply.get_view().empty());
}

TEST_CASE("a hostile iteration count (2^31) fails as authentication_failed naming the mechanism and the count") {
  for (const char* mechanism : {"SCRAM-SHA-256", "SCRAM-SHA-1"}) {
    CAPTURE(mechanism);
    auto a = make(mechanism);
    bson::document hello;
    a.prepare_hello(hello);
    diagnostics diag;
    const std::string hostile =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=2147483648";
    auto step = a.on_hello_reply(hello_reply(sasl_reply(hostile, false, false)), diag);
    CHECK(step.action == auth_action::failed);
    CHECK(step.ec == client_errc::authentication_failed);
    CHECK(diag.client_message.find(std::string(mechanism) + " authentication failed") == 0);
    CHECK(diag.client_message.find("iteration count 2147483648 is above the maximum") != std::string::npos);
    CHECK(diag.labels.empty());
  }
}

TEST_CASE("malformed SASL replies and early ends fail clearly") {
  auto run = [](bson::document reply) {
    auto a = make("SCRAM-SHA-256");
    bson::document hello;
    a.prepare_hello(hello);
    diagnostics diag;
    auto step = a.on_hello_reply(hello_reply(std::nullopt), diag);
    step = a.on_reply(reply, diag);
    CHECK(step.action == auth_action::failed);
    return describe(diag);
  };
  CHECK(run(bson::document::from_json(R"({"ok": 1, "done": false})")).find("lacks conversationId or payload") !=
        std::string::npos);
  CHECK(run(sasl_reply(server_first, true)).find("ended the conversation early") != std::string::npos);
  CHECK(run(sasl_reply("r=otherNonce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", false)).find("nonce") != std::string::npos);
}

TEST_CASE("unsupported mechanisms are refused up front") {
  std::string why;
  auto c = user_pencil("PLAIN");
  CHECK_FALSE(is_supported_mechanism(c, why));
  CHECK(why.find("PLAIN") != std::string::npos);
  c.mechanism = "SCRAM-SHA-256";
  CHECK(is_supported_mechanism(c, why));
}

TEST_CASE("a password SASLprep refuses fails the SCRAM-SHA-256 conversation without leaking it") {
  credential c = user_pencil("SCRAM-SHA-256");
  c.password = "bad\x07secret";
  authenticator a(c, nullptr);
  bson::document hello;
  a.prepare_hello(hello);
  CHECK_FALSE(hello.find("speculativeAuthenticate"));
  diagnostics diag;
  auto step = a.on_hello_reply(hello_reply(std::nullopt), diag);
  CHECK(step.action == auth_action::failed);
  CHECK(step.ec == client_errc::authentication_failed);
  CHECK(diag.client_message.find("SASLprep") != std::string::npos);
  CHECK(diag.client_message.find("secret") == std::string::npos);
}

TEST_CASE("connections of one client share the SCRAM cache: PBKDF2 runs once") {
  auto cache = std::make_shared<scram_cache>();
  for (int i = 0; i < 3; ++i) {
    auto a = make("SCRAM-SHA-256", cache);
    bson::document hello;
    a.prepare_hello(hello);
    diagnostics diag;
    auto step = a.on_hello_reply(hello_reply(sasl_reply(server_first, false, false)), diag);
    REQUIRE(step.action == auth_action::send);
    CHECK(a.on_reply(sasl_reply(server_final, true), diag).action == auth_action::done);
  }
  CHECK(cache->derivations() == 1);
}

TEST_CASE("MONGODB-X509: authenticate rides in hello as speculativeAuthenticate; otherwise one authenticate follows") {
  credential c;
  c.username = "CN=client,O=test";
  c.source = "$external";
  c.mechanism = "MONGODB-X509";
  authenticator a(c, nullptr);
  bson::document hello;
  a.prepare_hello(hello);
  CHECK_FALSE(hello.find("saslSupportedMechs"));
  auto spec = hello["speculativeAuthenticate"].as_document();
  REQUIRE(spec);
  CHECK(spec->first_key() == "authenticate");
  CHECK((*spec)["mechanism"].as_string() == "MONGODB-X509");
  CHECK((*spec)["user"].as_string() == "CN=client,O=test");
  CHECK_FALSE(spec->find("db"));  // handshake.md: the conversation's command as it is
  diagnostics diag;
  auto accepted = bson::document::from_json(R"({"dbname": "$external", "user": "CN=client,O=test"})");
  CHECK(a.on_hello_reply(hello_reply(accepted), diag).action == auth_action::done);
  CHECK(a.speculative_accepted());

  c.username.reset();  // auth.md: no user name given, none sent
  authenticator b(c, nullptr);
  bson::document hello2;
  b.prepare_hello(hello2);
  CHECK_FALSE(hello2["speculativeAuthenticate"].as_document()->find("user"));
  auto step = b.on_hello_reply(hello_reply(std::nullopt), diag);
  REQUIRE(step.action == auth_action::send);
  CHECK(step.command.get_view().first_key() == "authenticate");
  CHECK(step.command["$db"].as_string() == "$external");
  CHECK_FALSE(step.command.find("user"));
  auto refused = bson::document::from_json(
      R"({"ok": 0, "errmsg": "Authentication failed.", "code": 18, "codeName": "AuthenticationFailed"})");
  step = b.on_reply(refused, diag);
  CHECK(step.ec == make_server_error(18));
  CHECK(diag.client_message == "MONGODB-X509 authentication failed");
}

TEST_CASE("MONGODB-X509 needs TLS and a client certificate (the certificate is the credential)") {
  std::optional<credential> out;
  std::string why;
  CHECK(client_credential(parse_uri("mongodb://h/?authMechanism=MONGODB-X509&tls=true"), out, why) ==
        client_errc::invalid_uri);
  CHECK(why.find("tlsCertificateKeyFile") != std::string::npos);
  why.clear();
  CHECK_FALSE(client_credential(
      parse_uri("mongodb://h/?authMechanism=MONGODB-X509&tls=true&tlsCertificateKeyFile=c.pem"), out, why));
  REQUIRE(out);
  CHECK(out->source == "$external");
}
