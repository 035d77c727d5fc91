// The authentication step of a connection handshake (auth.md, "Authentication Handshake"),
// sans-I/O: what the handshake hello carries (saslSupportedMechs for mechanism negotiation,
// speculativeAuthenticate), then each saslStart/saslContinue to send, from the replies.
// The network layer runs it on every general-use connection, never on monitoring ones.
//
//   authenticator a(cred, cache);
//   a.prepare_hello(hello);                   // before the hello is sent
//   auto step = a.on_hello_reply(reply);      // after it succeeded
//   while (step.action == auth_action::send)  // send step.command to step.database
//     step = a.on_reply(reply_of_that_command, diag);
//   // auth_action::done, or auth_action::failed with `diag` describing why
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"
#include "proto/auth/credential.hpp"
#include "proto/auth/scram.hpp"

namespace mongowire::detail::auth {

enum class auth_action { send, done, failed };

struct auth_step {
  auth_action action = auth_action::done;
  bson::document command;  // when send: the command body, $db included
  error_code ec;           // when failed (the diagnostics passed in say more)
};

// Mechanisms this client can run: SCRAM-SHA-256, SCRAM-SHA-1, MONGODB-X509 (auth.md lists
// more; the others are refused up front).
bool is_supported_mechanism(const credential& cred, std::string& why);

// The credential a client authenticates its pooled connections with (nullopt: none is
// configured), or client_errc::invalid_uri with `why` when the connection string's credential
// is invalid (auth.md "Errors"), its mechanism is one mongowire does not run, or MONGODB-X509
// comes without TLS and a client certificate.
error_code client_credential(const connection_string& cs, std::optional<credential>& out, std::string& why);

// A fresh client nonce: 24 random bytes in base64 (RFC 5802 asks for a secure random nonce).
std::string random_nonce();

class authenticator {
 public:
  // `cache` (shared by the client's connections) may be null; `make_nonce` is for tests.
  authenticator(const credential& cred, std::shared_ptr<scram_cache> cache,
                std::function<std::string()> make_nonce = random_nonce);
  ~authenticator();

  // Adds saslSupportedMechs "<source>.<user>" when the mechanism is negotiated, and the
  // first saslStart as speculativeAuthenticate (handshake.md, "Speculative Authentication":
  // SCRAM-SHA-256 when negotiating).
  void prepare_hello(bson::document& hello);
  // After a successful hello: continues the speculative conversation when the reply has
  // speculativeAuthenticate, otherwise starts one with the negotiated mechanism.
  auth_step on_hello_reply(bson::view reply, diagnostics& diag);
  // After each saslStart/saslContinue reply (ok:0 replies included).
  auth_step on_reply(bson::view reply, diagnostics& diag);

  // The mechanism in use (after on_hello_reply), for messages and tests.
  std::string_view mechanism() const noexcept;
  bool speculative_accepted() const noexcept { return speculative_accepted_; }

 private:
  auth_step start_conversation(scram_mechanism m, diagnostics& diag);
  auth_step on_payload(bson::view reply, diagnostics& diag);
  auth_step fail(error_code ec, diagnostics& diag, std::string why) const;
  bool begin(scram_mechanism m, std::string& why);
  bson::document sasl_start(bool speculative) const;
  bson::document sasl_continue(std::span<const std::uint8_t> payload) const;
  auth_step on_x509_hello_reply(bson::view reply);
  bson::document x509_authenticate(bool speculative) const;

  credential cred_;
  std::shared_ptr<scram_cache> cache_;
  std::function<std::string()> make_nonce_;
  std::optional<scram_client> scram_;
  std::optional<std::int32_t> conversation_id_;
  enum class stage {
    idle,
    awaiting_server_first,
    awaiting_server_final,
    awaiting_done,
    awaiting_authenticate,  // MONGODB-X509
    finished
  } stage_ = stage::idle;
  bool speculative_sent_ = false;
  bool speculative_accepted_ = false;
};

}  // namespace mongowire::detail::auth
