// SCRAM conversations against the published test vectors (RFC 5802 section 5, RFC 7677
// section 3, auth.md's MongoDB SCRAM-SHA-1 example) and every malformed server message
// the client must refuse.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "proto/auth/scram.hpp"

using namespace mongowire::detail::auth;

namespace {

struct vector_case {
  const char* name;
  scram_mechanism mechanism;
  const char* prepared;  // the password as Hi() receives it
  const char* nonce;
  const char* server_first;
  const char* client_final;
  const char* server_final;
};

// RFC 5802 section 5 and RFC 7677 section 3 feed "pencil" to Hi() directly; auth.md's
// SCRAM-SHA-1 example feeds the MongoDB digest of user:mongo:pencil.
const vector_case vectors[] = {
    {"RFC 5802 SCRAM-SHA-1", scram_mechanism::sha1, "pencil", "fyko+d2lbbFgONRv9qkxdawL",
     "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
     "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
     "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="},
    {"RFC 7677 SCRAM-SHA-256", scram_mechanism::sha256, "pencil", "rOprNGfwEbeRWgbNEkqO",
     "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
     "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
     "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
    {"auth.md MongoDB SCRAM-SHA-1", scram_mechanism::sha1, "1c33006ec1ffd90f9cadcbcc0e118200",
     "fyko+d2lbbFgONRv9qkxdawL",
     "r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,s=rQ9ZY3MntBeuP3E1TDVC4w==,i=10000",
     "c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,p=MC2T8BvbmWRckDw8oWl5IVghwCY=",
     "v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0="},
};

scram_client client_for(const vector_case& v, std::shared_ptr<scram_cache> cache = nullptr) {
  return scram_client(v.mechanism, "user", v.prepared, v.nonce, std::move(cache));
}

// The RFC 7677 client after its server-first-message, ready for a server-final-message.
scram_client sha256_client_after_first() {
  auto c = client_for(vectors[1]);
  std::string final_message, why;
  REQUIRE(c.on_server_first(vectors[1].server_first, final_message, why));
  return c;
}

std::string server_first_error(std::string_view message) {
  auto c = client_for(vectors[1]);
  std::string final_message, why;
  CHECK_FALSE(c.on_server_first(message, final_message, why));
  CHECK(final_message.empty());
  return why;
}

}  // namespace

TEST_CASE("SCRAM test vectors: client-first, client-final with proof, server signature (RFC 5802, RFC 7677)") {
  for (const auto& v : vectors) {
    CAPTURE(v.name);
    auto c = client_for(v);
    CHECK(c.client_first() == std::string("n,,n=user,r=") + v.nonce);
    std::string final_message, why;
    REQUIRE(c.on_server_first(v.server_first, final_message, why));
    CHECK(final_message == v.client_final);
    CHECK_FALSE(c.server_verified());
    REQUIRE(c.on_server_final(v.server_final, why));
    CHECK(c.server_verified());
  }
}

TEST_CASE("auth.md SCRAM-SHA-1: the password is the hex MD5 of user:mongo:password, not SASLprep'd") {
  CHECK(mongo_password_digest("user", "pencil") == "1c33006ec1ffd90f9cadcbcc0e118200");
  std::string why;
  CHECK(prepared_password(scram_mechanism::sha1, "user", "pencil", why) == "1c33006ec1ffd90f9cadcbcc0e118200");
  // SCRAM-SHA-256 SASLprep's the password (soft hyphen mapped to nothing) and never digests it.
  CHECK(prepared_password(scram_mechanism::sha256, "user",
                          "pen\xC2\xAD"
                          "cil",
                          why) == "pencil");
}

TEST_CASE("the user name is escaped as RFC 5802 saslname and never SASLprep'd (auth.md)") {
  CHECK(escape_username("a=b,c") == "a=3Db=2Cc");
  CHECK(unescape_username("a=3Db=2Cc") == "a=b,c");
  CHECK_FALSE(unescape_username("a=3"));
  CHECK_FALSE(unescape_username("a=41"));
  scram_client c(scram_mechanism::sha256,
                 "I\xC2\xAD"
                 "X=",
                 "x", "abc", nullptr);
  CHECK(c.client_first() ==
        "n,,n=I\xC2\xAD"
        "X=3D,r=abc");
}

TEST_CASE("a malformed or hostile server-first-message is refused with the reason") {
  CHECK(server_first_error("s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").find("expected r=<nonce>") != std::string::npos);
  CHECK(server_first_error("r=someoneElsesNonce123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            .find("does not start with the client's nonce") != std::string::npos);
  CHECK(server_first_error("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").find("adds nothing") !=
        std::string::npos);
  CHECK(server_first_error("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0").find("below the minimum") !=
        std::string::npos);
  CHECK(server_first_error("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095")
            .find("iteration count 4095 is below the minimum of 4096") != std::string::npos);
  CHECK(server_first_error("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-5000").find("positive decimal") !=
        std::string::npos);
  CHECK(server_first_error("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999").find("decimal") !=
        std::string::npos);
  CHECK(server_first_error("r=rOprNGfwEbeRWgbNEkqOx,s=not*base64,i=4096").find("salt (s=)") != std::string::npos);
  CHECK(server_first_error("r=rOprNGfwEbeRWgbNEkqOx,s=,i=4096").find("salt (s=)") != std::string::npos);
  CHECK(server_first_error("m=ext,r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            .find("mandatory extension") != std::string::npos);
  CHECK(server_first_error("").find("not of the form") != std::string::npos);
  CHECK(server_first_error("r=rOprNGfwEbeRWgbNEkqOx,,i=4096").find("attribute 2") != std::string::npos);
  CHECK(server_first_error("r=rOprNGfwEbeRWgbNEkq\x01x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").find("nonce") !=
        std::string::npos);
}

TEST_CASE("SCRAM-SHA-1 enforces the 4096 minimum iteration count too (auth.md)") {
  scram_client c(scram_mechanism::sha1, "user", "pencil", "abc", nullptr);
  std::string final_message, why;
  CHECK_FALSE(c.on_server_first("r=abcdef,s=QSXCR+Q6sek8bf92,i=1000", final_message, why));
  CHECK(why.find("1000 is below the minimum of 4096") != std::string::npos);
}

TEST_CASE("an iteration count above max_iteration_count is refused before PBKDF2 runs (RFC 5802 section 9)") {
  const std::string prefix = "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=";
  server_first_message parsed;
  std::string why;
  CHECK(parse_server_first(prefix + std::to_string(max_iteration_count), "rOprNGfwEbeRWgbNEkqO", parsed, why));
  CHECK(parsed.iterations == max_iteration_count);
  for (std::uint64_t hostile : {std::uint64_t{max_iteration_count} + 1, std::uint64_t{1} << 31,
                                std::uint64_t{std::numeric_limits<std::uint32_t>::max()}}) {
    CAPTURE(hostile);
    // A PBKDF2 of 2^31 iterations would take minutes: the refusal must come from the parser.
    const std::string reason = server_first_error(prefix + std::to_string(hostile));
    CHECK(reason.find("iteration count " + std::to_string(hostile) + " is above the maximum of 10000000") !=
          std::string::npos);
  }
}

TEST_CASE("a wrong, missing or malformed server signature fails the conversation") {
  const char* bad_finals[] = {
      "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "v=", "v=%%%%", "x=1", "", "e=invalid-proof"};
  const char* reasons[] = {"signature (v=) is wrong",
                           "expected v=",
                           "expected v=",
                           "expected v=",
                           "not of the form",
                           "reported SCRAM error 'invalid-proof'"};
  for (std::size_t i = 0; i < std::size(bad_finals); ++i) {
    CAPTURE(bad_finals[i]);
    auto c = sha256_client_after_first();
    std::string why;
    CHECK_FALSE(c.on_server_final(bad_finals[i], why));
    CHECK(why.find(reasons[i]) != std::string::npos);
    CHECK_FALSE(c.server_verified());
  }
  // The signature of another conversation (RFC 5802's) does not verify this one.
  auto c = sha256_client_after_first();
  std::string why;
  CHECK_FALSE(c.on_server_final(vectors[0].server_final, why));
}

TEST_CASE("messages out of turn are refused") {
  auto c = client_for(vectors[1]);
  std::string why, final_message;
  CHECK_FALSE(c.on_server_final(vectors[1].server_final, why));
  REQUIRE(c.on_server_first(vectors[1].server_first, final_message, why));
  CHECK_FALSE(c.on_server_first(vectors[1].server_first, final_message, why));
}

TEST_CASE("auth.md Caching credentials in SCRAM: a second conversation with the same salt skips PBKDF2") {
  auto cache = std::make_shared<scram_cache>();
  for (int i = 0; i < 3; ++i) {
    auto c = client_for(vectors[1], cache);
    std::string final_message, why;
    REQUIRE(c.on_server_first(vectors[1].server_first, final_message, why));
    CHECK(final_message == vectors[1].client_final);
    REQUIRE(c.on_server_final(vectors[1].server_final, why));
  }
  CHECK(cache->derivations() == 1);
  // Another salt, iteration count or mechanism is another entry.
  auto other = client_for(vectors[0], cache);
  std::string final_message, why;
  REQUIRE(other.on_server_first(vectors[0].server_first, final_message, why));
  CHECK(cache->derivations() == 2);
}

TEST_CASE("base64 is strict: padding required, foreign characters refused") {
  CHECK(base64_decode("cGVuY2ls") == bytes{'p', 'e', 'n', 'c', 'i', 'l'});
  CHECK(base64_decode("cGVu") == bytes{'p', 'e', 'n'});
  CHECK(base64_decode("cGU=") == bytes{'p', 'e'});
  CHECK(base64_decode("cA==") == bytes{'p'});
  CHECK(base64_decode("") == bytes{});
  CHECK_FALSE(base64_decode("cGU"));
  CHECK_FALSE(base64_decode("cG=U"));
  CHECK_FALSE(base64_decode("c==="));
  CHECK_FALSE(base64_decode("cG U"));
  CHECK(base64_encode(as_bytes("pe")) == "cGU=");
}
