#include "proto/auth/authenticator.hpp"

#include "proto/reply/command_reply.hpp"

namespace mongowire::detail::auth {
namespace {

std::string_view text_of(std::span<const std::uint8_t> payload) {
  return {reinterpret_cast<const char*>(payload.data()), payload.size()};
}

// auth.md, "Default Authentication Methods": SCRAM-SHA-256 when the server lists it for the
// user, SCRAM-SHA-1 otherwise (also when saslSupportedMechs is absent).
scram_mechanism negotiated_mechanism(bson::view hello_reply) {
  if (auto mechs = hello_reply["saslSupportedMechs"].as_array())
    for (const auto& m : *mechs)
      if (m.as_string() == std::optional<std::string_view>("SCRAM-SHA-256")) return scram_mechanism::sha256;
  return scram_mechanism::sha1;
}

constexpr std::string_view x509_mechanism = "MONGODB-X509";

}  // namespace

bool is_supported_mechanism(const credential& cred, std::string& why) {
  if (!cred.mechanism || scram_mechanism_from(*cred.mechanism) || *cred.mechanism == x509_mechanism) return true;
  why = "authMechanism " + *cred.mechanism +
        " is not supported by mongowire (supported: SCRAM-SHA-256, SCRAM-SHA-1, MONGODB-X509)";
  return false;
}

error_code client_credential(const connection_string& cs, std::optional<credential>& out, std::string& why) {
  if (auto ec = credential_from(cs, out, why)) return ec;
  if (out && !is_supported_mechanism(*out, why)) {
    out.reset();
    return client_errc::invalid_uri;
  }
  // auth.md MONGODB-X509: the client certificate is the credential.
  if (out && out->mechanism == x509_mechanism && (!cs.tls.value_or(false) || !cs.tls_certificate_key_file)) {
    why = "MONGODB-X509 needs tls=true and tlsCertificateKeyFile: the client certificate is the credential";
    out.reset();
    return client_errc::invalid_uri;
  }
  return {};
}

std::string random_nonce() { return base64_encode(random_bytes(24)); }

authenticator::authenticator(const credential& cred, std::shared_ptr<scram_cache> cache,
                             std::function<std::string()> make_nonce)
    : cred_(cred), cache_(std::move(cache)), make_nonce_(std::move(make_nonce)) {}

authenticator::~authenticator() {
  if (cred_.password) wipe(*cred_.password);
}

std::string_view authenticator::mechanism() const noexcept {
  if (scram_) return mechanism_name(scram_->mechanism());
  return cred_.mechanism ? std::string_view(*cred_.mechanism) : std::string_view("SCRAM");
}

bool authenticator::begin(scram_mechanism m, std::string& why) {
  const std::string username = cred_.username.value_or("");
  auto prepared = prepared_password(m, username, cred_.password.value_or(""), why);
  if (!prepared) return false;
  scram_.emplace(m, username, std::move(*prepared), make_nonce_(), cache_);
  conversation_id_.reset();
  stage_ = stage::awaiting_server_first;
  return true;
}

void authenticator::prepare_hello(bson::document& hello) {
  if (cred_.mechanism == x509_mechanism) {  // handshake.md "Speculative Authentication"
    hello.append("speculativeAuthenticate", x509_authenticate(true));
    speculative_sent_ = true;
    return;
  }
  // auth.md, "Mechanism Negotiation via Handshake": the user name as given, not SASLprep'd.
  if (!cred_.mechanism) hello.append("saslSupportedMechs", cred_.source + "." + cred_.username.value_or(""));
  const auto m = cred_.mechanism ? scram_mechanism_from(*cred_.mechanism) : scram_mechanism::sha256;
  std::string why;  // a password SASLprep refuses fails in on_hello_reply, with the reason
  if (!m || !begin(*m, why)) return;
  hello.append("speculativeAuthenticate", sasl_start(true));
  speculative_sent_ = true;
}

auth_step authenticator::on_hello_reply(bson::view reply, diagnostics& diag) {
  // auth.md, "Authentication Handshake" 2: "If the server is of type RSArbiter, no
  // authentication is possible".
  if (reply["arbiterOnly"].as_bool().value_or(false)) {
    stage_ = stage::finished;
    return {};
  }
  if (cred_.mechanism == x509_mechanism) return on_x509_hello_reply(reply);
  const auto configured = cred_.mechanism ? scram_mechanism_from(*cred_.mechanism) : std::nullopt;
  if (cred_.mechanism && !configured) {
    std::string why;
    is_supported_mechanism(cred_, why);
    return fail(client_errc::authentication_failed, diag, why);
  }
  const scram_mechanism chosen = configured ? *configured : negotiated_mechanism(reply);
  // handshake.md, "Speculative Authentication": continue from the server's first answer.
  auto speculative = reply["speculativeAuthenticate"].as_document();
  if (speculative_sent_ && speculative && scram_ && scram_->mechanism() == chosen) {
    speculative_accepted_ = true;
    return on_payload(*speculative, diag);
  }
  return start_conversation(chosen, diag);
}

auth_step authenticator::start_conversation(scram_mechanism m, diagnostics& diag) {
  std::string why;
  if (!begin(m, why)) {
    scram_.reset();  // the message names the mechanism that was tried
    return fail(client_errc::authentication_failed, diag, std::string(mechanism_name(m)) + ": " + why);
  }
  return {auth_action::send, sasl_start(false), {}};
}

auth_step authenticator::on_reply(bson::view reply, diagnostics& diag) {
  if (auto ec = check_command_reply(reply, diag)) {
    stage_ = stage::finished;
    // The server's errmsg stays in server_message, apart from our own words.
    diag.client_message = std::string(mechanism()) + " authentication failed";
    return {auth_action::failed, {}, ec};
  }
  if (stage_ == stage::awaiting_authenticate) {  // {dbname: "$external", user: <subject>, ok: 1}
    stage_ = stage::finished;
    return {};
  }
  return on_payload(reply, diag);
}

// auth.md MONGODB-X509: done when the server took the speculative authenticate, else one
// authenticate command.
auth_step authenticator::on_x509_hello_reply(bson::view reply) {
  if (speculative_sent_ && reply["speculativeAuthenticate"].as_document()) {
    speculative_accepted_ = true;
    stage_ = stage::finished;
    return {};
  }
  stage_ = stage::awaiting_authenticate;
  return {auth_action::send, x509_authenticate(false), {}};
}

// auth.md MONGODB-X509 "Conversation": the user name only when the application gave one.
bson::document authenticator::x509_authenticate(bool speculative) const {
  bson::document cmd;
  cmd.append("authenticate", 1);
  cmd.append("mechanism", x509_mechanism);
  if (cred_.username) cmd.append("user", *cred_.username);
  // handshake.md: the speculative form is the conversation's command as it is (no "db": it is
  // always $external).
  if (!speculative) cmd.append("$db", cred_.source);
  return cmd;
}

// One server answer of the SASL conversation (a saslStart/saslContinue reply, or the
// speculativeAuthenticate document of the hello reply): {conversationId, payload, done}.
auth_step authenticator::on_payload(bson::view reply, diagnostics& diag) {
  if (!scram_ || stage_ == stage::idle || stage_ == stage::finished)
    return fail(client_errc::authentication_failed, diag, "a SASL reply arrived out of turn");
  const auto id = reply["conversationId"].as_int32();
  const auto payload = reply["payload"].as_binary();
  const bool done = reply["done"].as_bool().value_or(false);
  if (!id || !payload)
    return fail(client_errc::authentication_failed, diag, "the server's SASL reply lacks conversationId or payload");
  conversation_id_ = *id;
  std::string why;
  switch (stage_) {
    case stage::awaiting_server_first: {
      std::string client_final;
      if (done || !scram_->on_server_first(text_of(payload->bytes), client_final, why))
        return fail(client_errc::authentication_failed, diag, done ? "the server ended the conversation early" : why);
      stage_ = stage::awaiting_server_final;
      return {auth_action::send, sasl_continue(as_bytes(client_final)), {}};
    }
    case stage::awaiting_server_final:
      if (!scram_->on_server_final(text_of(payload->bytes), why))
        return fail(client_errc::authentication_failed, diag, why);
      if (done) break;
      // auth.md, "Backwards Compatibility": servers without skipEmptyExchange want an empty turn.
      stage_ = stage::awaiting_done;
      return {auth_action::send, sasl_continue({}), {}};
    case stage::awaiting_done:
      if (!done) return fail(client_errc::authentication_failed, diag, "the server did not end the conversation");
      break;
    default: break;
  }
  stage_ = stage::finished;
  return {};
}

auth_step authenticator::fail(error_code ec, diagnostics& diag, std::string why) const {
  // Never retryable, never the server's reply: the payloads must not reach an error message.
  diag.server_code = 0;
  diag.code_name.clear();
  diag.labels.clear();
  diag.reply.clear();
  diag.server_message.clear();
  diag.client_message = std::string(mechanism()) + " authentication failed: " + why;
  return {auth_action::failed, {}, ec};
}

bson::document authenticator::sasl_start(bool speculative) const {
  const std::string first = scram_->client_first();
  bson::document cmd;
  cmd.append("saslStart", 1);
  cmd.append("mechanism", mechanism_name(scram_->mechanism()));
  cmd.append("payload", bson::binary_ref{BSON_SUBTYPE_BINARY, as_bytes(first)});
  cmd.append("autoAuthorize", 1);
  // auth.md: "Drivers MUST add a top-level options field ... skipEmptyExchange ... true".
  cmd.append_document("options", [](bson::document& o) { o.append("skipEmptyExchange", true); });
  // handshake.md: the speculative saslStart names its database in "db".
  cmd.append(speculative ? "db" : "$db", cred_.source);
  return cmd;
}

bson::document authenticator::sasl_continue(std::span<const std::uint8_t> payload) const {
  bson::document cmd;
  cmd.append("saslContinue", 1);
  cmd.append("conversationId", conversation_id_.value_or(0));
  cmd.append("payload", bson::binary_ref{BSON_SUBTYPE_BINARY, payload});
  cmd.append("$db", cred_.source);
  return cmd;
}

}  // namespace mongowire::detail::auth
