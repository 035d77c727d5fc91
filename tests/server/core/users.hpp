// Access control of the test server as mongod runs it with --auth: the users (admin.system.users:
// SCRAM-SHA-1 and SCRAM-SHA-256 credentials with mongod's salt sizes and iteration counts) and
// the server's side of a SCRAM conversation (RFC 5802 section 5; mongod's
// sasl_scram_server_conversation.cpp). Keys are derived with the project's SCRAM primitives
// (src/proto/auth), the server's own rules are written here.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/auth/scram.hpp"

namespace mongowire::testd {

namespace auth = mongowire::detail::auth;

// mongod's defaults: scramIterationCount 10000, scramSHA256IterationCount 15000; the salt is
// as long as the digest minus 4 bytes (scram::Secrets::kSaltLengthBytes).
inline constexpr std::uint32_t sha1_iteration_count = 10000;
inline constexpr std::uint32_t sha256_iteration_count = 15000;

// One mechanism's stored credential (RFC 5802 section 3: the server keeps StoredKey and
// ServerKey, never the password).
struct scram_credential {
  auth::bytes salt;
  std::uint32_t iterations = 0;
  auth::bytes stored_key;
  auth::bytes server_key;
};

struct user_record {
  std::string name;
  std::string db;
  std::vector<std::pair<std::string, std::string>> roles;  // {role, db}
  std::optional<scram_credential> sha1;
  std::optional<scram_credential> sha256;
  std::array<std::uint8_t, 16> user_id{};  // userId, a UUID

  const scram_credential* credential(auth::scram_mechanism m) const noexcept {
    return m == auth::scram_mechanism::sha1 ? (sha1 ? &*sha1 : nullptr) : (sha256 ? &*sha256 : nullptr);
  }
  std::vector<std::string_view> mechanisms() const;
};

// admin.system.users, keyed by "<db>.<name>" as mongod's _id.
class user_store {
 public:
  // Derives the credentials of `mechanisms` (both when empty); no password: no credential
  // (a $external user). Throws command_error as createUser does (exists, SASLprep failure).
  const user_record& create(std::string name, std::string db, std::optional<std::string_view> password,
                            std::vector<std::pair<std::string, std::string>> roles,
                            std::vector<auth::scram_mechanism> mechanisms);
  bool drop(std::string_view name, std::string_view db);
  const user_record* find(std::string_view name, std::string_view db) const;
  bool empty() const noexcept { return users_.empty(); }
  std::vector<const user_record*> in_database(std::string_view db) const;  // "" for all

 private:
  std::map<std::string, user_record> users_;
};

// The server's side of one SCRAM conversation.
class scram_server_conversation {
 public:
  explicit scram_server_conversation(auth::scram_mechanism m) : mechanism_(m) {}

  // client-first-message -> server-first-message. Fails (false, `why`) for a malformed
  // message, channel binding, or a user unknown in `db` or without this mechanism's credential.
  bool on_client_first(std::string_view message, const user_store& users, std::string_view db,
                       std::string& server_first, std::string& why);
  // client-final-message -> server-final-message once the proof is right.
  bool on_client_final(std::string_view message, std::string& server_final, std::string& why);

  const std::string& user() const noexcept { return user_; }
  bool authenticated() const noexcept { return authenticated_; }

 private:
  auth::scram_mechanism mechanism_;
  std::string user_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
  scram_credential credential_;
  bool authenticated_ = false;
};

// A connection's authentication state (mongod's AuthorizationSession for one client): at most
// one authenticated user, and the SASL conversation in progress.
struct auth_session {
  std::optional<std::pair<std::string, std::string>> user;  // {name, db}
  std::optional<scram_server_conversation> conversation;
  std::string conversation_db;
  std::int32_t conversation_id = 0;
  bool skip_empty_exchange = false;
  bool awaiting_empty_exchange = false;
};

}  // namespace mongowire::testd
