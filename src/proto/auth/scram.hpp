// SCRAM (RFC 5802; SCRAM-SHA-256: RFC 7677) as MongoDB uses it (auth.md, "SCRAM-SHA-1" and
// "SCRAM-SHA-256"): the message grammar, the key derivation, and the client's side of one
// conversation as a pure state machine (messages in, messages out, no I/O). The key derivation
// and the message grammar are shared with the test server's side of the conversation.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/auth/crypto.hpp"

namespace mongowire::detail::auth {

enum class scram_mechanism { sha1, sha256 };

std::string_view mechanism_name(scram_mechanism m) noexcept;  // "SCRAM-SHA-1", "SCRAM-SHA-256"
std::optional<scram_mechanism> scram_mechanism_from(std::string_view name) noexcept;
hash_algorithm algorithm_of(scram_mechanism m) noexcept;

// auth.md: "drivers MUST enforce a minimum iteration count of 4096" (both mechanisms).
inline constexpr std::uint32_t min_iteration_count = 4096;
// RFC 5802 section 9: a hostile server can burn the client's CPU with a huge count (2^31 - 1
// is 9 to 14 minutes of PBKDF2 at the 0.25-0.4 us per iteration measured on the CI machine).
// mongod takes any int >= 5000 (scramIterationCount, scramSHA256IterationCount; defaults
// 10000 and 15000), so there is no server maximum to mirror: 10 million is 16x OWASP's 600,000
// for PBKDF2-HMAC-SHA256 and 7x its 1,300,000 for SHA-1, and bounds a derivation to under 4 s.
inline constexpr std::uint32_t max_iteration_count = 10'000'000;

// The password as the mechanism feeds it to Hi(): SCRAM-SHA-1 the MongoDB digest
// HEX(MD5(user:mongo:password)) without SASLprep, SCRAM-SHA-256 the SASLprep'd password.
// nullopt (and `why`) when SASLprep refuses the password.
std::optional<std::string> prepared_password(scram_mechanism m, std::string_view username, std::string_view password,
                                             std::string& why);

// RFC 5802 section 3: SaltedPassword = Hi(password, salt, i), ClientKey = HMAC(SaltedPassword,
// "Client Key"), StoredKey = H(ClientKey), ServerKey = HMAC(SaltedPassword, "Server Key").
struct scram_keys {
  bytes client_key;
  bytes stored_key;
  bytes server_key;
};
scram_keys derive_keys(scram_mechanism m, std::string_view prepared, std::span<const std::uint8_t> salt,
                       std::uint32_t iterations);

// ClientSignature/ServerSignature: HMAC(key, AuthMessage).
bytes scram_signature(scram_mechanism m, std::span<const std::uint8_t> key, std::string_view auth_message);
bytes xor_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// RFC 5802 section 5.1 "saslname": "=" and "," are sent as "=3D" and "=2C".
std::string escape_username(std::string_view name);
// nullopt for an "=" not followed by "3D" or "2C".
std::optional<std::string> unescape_username(std::string_view name);

// One "a=value" of an attribute-value list (RFC 5802 section 7).
struct scram_attribute {
  char name = 0;
  std::string_view value;
};
// Splits "a=x,b=y" into attributes; false (and `why`) when an item is not a letter, "=",
// then a value.
bool parse_attributes(std::string_view message, std::vector<scram_attribute>& out, std::string& why);

// server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
struct server_first_message {
  std::string nonce;  // the combined nonce: the client's, then the server's part
  bytes salt;
  std::uint32_t iterations = 0;
};
// Checks the grammar and RFC 5802's rules: the nonce starts with `client_nonce` and adds to
// it, the salt is non-empty base64, the count is a decimal from min_iteration_count to
// max_iteration_count, and no mandatory extension ("m=") is present.
bool parse_server_first(std::string_view message, std::string_view client_nonce, server_first_message& out,
                        std::string& why);

// server-final-message = (server-error / verifier) ["," extensions]
struct server_final_message {
  bytes verifier;     // v=, decoded
  std::string error;  // e=, when the server reports a failure
};
bool parse_server_final(std::string_view message, server_final_message& out, std::string& why);

// Computed SCRAM keys that a new conversation may reuse instead of running PBKDF2 again
// (auth.md, "Caching credentials in SCRAM"): identified by the mechanism, the prepared
// password, the salt and the iteration count. One per client; safe to share between threads.
class scram_cache {
 public:
  struct keys {
    bytes client_key;
    bytes server_key;
  };
  scram_cache();
  ~scram_cache();
  scram_cache(const scram_cache&) = delete;
  scram_cache& operator=(const scram_cache&) = delete;

  std::optional<keys> find(scram_mechanism m, std::string_view prepared, std::span<const std::uint8_t> salt,
                           std::uint32_t iterations) const;
  void store(scram_mechanism m, std::string_view prepared, std::span<const std::uint8_t> salt, std::uint32_t iterations,
             keys k);
  // How many times a conversation ran PBKDF2 (a cache miss), for tests and benchmarks.
  std::size_t derivations() const noexcept;
  void count_derivation() noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

// The client's side of one SCRAM conversation.
//   client_first() -> send; on_server_first(reply) -> send the client-final; on_server_final.
class scram_client {
 public:
  // `prepared` is prepared_password(...); `client_nonce` printable ASCII without ",".
  // `cache` may be null (every conversation then runs PBKDF2).
  scram_client(scram_mechanism m, std::string username, std::string prepared, std::string client_nonce,
               std::shared_ptr<scram_cache> cache);
  ~scram_client();
  scram_client(scram_client&&) noexcept = default;
  scram_client& operator=(scram_client&&) noexcept = default;

  scram_mechanism mechanism() const noexcept { return mechanism_; }
  // "n,,n=<user>,r=<nonce>": no channel binding (auth.md: "MUST start with n,").
  std::string client_first() const;
  // Validates the server-first-message and answers the client-final-message with the proof.
  bool on_server_first(std::string_view message, std::string& client_final, std::string& why);
  // Checks the server's signature: true once the server proved it knows the password.
  bool on_server_final(std::string_view message, std::string& why);
  bool server_verified() const noexcept { return verified_; }

 private:
  std::string client_first_bare() const;

  scram_mechanism mechanism_;
  std::string username_;
  std::string prepared_;
  std::string client_nonce_;
  std::shared_ptr<scram_cache> cache_;
  std::string auth_message_;
  bytes server_key_;
  bool answered_first_ = false;
  bool verified_ = false;
};

}  // namespace mongowire::detail::auth
