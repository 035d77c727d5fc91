#include "proto/auth/scram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <mutex>

#include "proto/auth/saslprep.hpp"

namespace mongowire::detail::auth {

std::string_view mechanism_name(scram_mechanism m) noexcept {
  return m == scram_mechanism::sha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
}

std::optional<scram_mechanism> scram_mechanism_from(std::string_view name) noexcept {
  if (name == "SCRAM-SHA-1") return scram_mechanism::sha1;
  if (name == "SCRAM-SHA-256") return scram_mechanism::sha256;
  return std::nullopt;
}

hash_algorithm algorithm_of(scram_mechanism m) noexcept {
  return m == scram_mechanism::sha1 ? hash_algorithm::sha1 : hash_algorithm::sha256;
}

std::optional<std::string> prepared_password(scram_mechanism m, std::string_view username, std::string_view password,
                                             std::string& why) {
  if (m == scram_mechanism::sha1) return mongo_password_digest(username, password);
  auto prepared = saslprep(password, why);
  if (!prepared) why = "the password cannot be prepared for SCRAM-SHA-256 (" + why + ")";
  return prepared;
}

scram_keys derive_keys(scram_mechanism m, std::string_view prepared, std::span<const std::uint8_t> salt,
                       std::uint32_t iterations) {
  const auto alg = algorithm_of(m);
  bytes salted = pbkdf2(alg, prepared, salt, iterations);
  scram_keys k;
  k.client_key = hmac(alg, salted, as_bytes("Client Key"));
  k.stored_key = hash(alg, k.client_key);
  k.server_key = hmac(alg, salted, as_bytes("Server Key"));
  wipe(salted);
  return k;
}

bytes scram_signature(scram_mechanism m, std::span<const std::uint8_t> key, std::string_view auth_message) {
  return hmac(algorithm_of(m), key, as_bytes(auth_message));
}

bytes xor_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  bytes out(std::min(a.size(), b.size()));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = a[i] ^ b[i];
  return out;
}

std::string escape_username(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '=') out += "=3D";
    else if (c == ',') out += "=2C";
    else out += c;
  }
  return out;
}

std::optional<std::string> unescape_username(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '=') {
      out += name[i];
      continue;
    }
    const auto code = name.substr(i + 1, 2);
    if (code == "3D") out += '=';
    else if (code == "2C") out += ',';
    else return std::nullopt;
    i += 2;
  }
  return out;
}

bool parse_attributes(std::string_view message, std::vector<scram_attribute>& out, std::string& why) {
  out.clear();
  std::size_t start = 0;
  for (;;) {
    const auto end = std::min(message.find(',', start), message.size());
    const auto item = message.substr(start, end - start);
    const bool letter = !item.empty() && ((item[0] >= 'a' && item[0] <= 'z') || (item[0] >= 'A' && item[0] <= 'Z'));
    if (!letter || item.size() < 2 || item[1] != '=') {
      why = fmt::format("attribute {} is not of the form 'a=value'", out.size() + 1);
      return false;
    }
    out.push_back({item[0], item.substr(2)});
    if (end == message.size()) return true;
    start = end + 1;
  }
}

namespace {

bool parse_iterations(std::string_view text, std::uint32_t& out, std::string& why) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || text[0] < '0' || text[0] > '9' || ec != std::errc() || ptr != text.data() + text.size()) {
    why = "the iteration count (i=) is not a positive decimal number";
    return false;
  }
  if (out < min_iteration_count) {
    why = fmt::format("the iteration count {} is below the minimum of {} (auth.md)", out, min_iteration_count);
    return false;
  }
  if (out > max_iteration_count) {
    why = fmt::format("the iteration count {} is above the maximum of {} (RFC 5802 section 9: refused to bound PBKDF2)",
                      out, max_iteration_count);
    return false;
  }
  return true;
}

bool parse_nonce(std::string_view nonce, std::string_view client_nonce, std::string& out, std::string& why) {
  if (!nonce.starts_with(client_nonce)) {
    why = "the server's nonce (r=) does not start with the client's nonce";
    return false;
  }
  if (nonce.size() == client_nonce.size()) {
    why = "the server's nonce (r=) adds nothing to the client's nonce";
    return false;
  }
  // RFC 5802 "printable": %x21-2B / %x2D-7E.
  if (std::any_of(nonce.begin(), nonce.end(), [](char c) { return c < 0x21 || c > 0x7e; })) {
    why = "the server's nonce (r=) contains a character that is not printable ASCII";
    return false;
  }
  out = std::string(nonce);
  return true;
}

}  // namespace

bool parse_server_first(std::string_view message, std::string_view client_nonce, server_first_message& out,
                        std::string& why) {
  std::vector<scram_attribute> attrs;
  if (!parse_attributes(message, attrs, why)) {
    why = "malformed server-first-message: " + why;
    return false;
  }
  if (attrs[0].name == 'm') {
    why = "malformed server-first-message: mandatory extension 'm=' is not supported";
    return false;
  }
  if (attrs.size() < 3 || attrs[0].name != 'r' || attrs[1].name != 's' || attrs[2].name != 'i') {
    why = "malformed server-first-message: expected r=<nonce>,s=<salt>,i=<iterations>";
    return false;
  }
  auto salt = base64_decode(attrs[1].value);
  if (!salt || salt->empty()) {
    why = "malformed server-first-message: the salt (s=) is not non-empty base64";
    return false;
  }
  if (!parse_nonce(attrs[0].value, client_nonce, out.nonce, why) ||
      !parse_iterations(attrs[2].value, out.iterations, why)) {
    why = "invalid server-first-message: " + why;
    return false;
  }
  out.salt = std::move(*salt);
  return true;
}

bool parse_server_final(std::string_view message, server_final_message& out, std::string& why) {
  std::vector<scram_attribute> attrs;
  if (!parse_attributes(message, attrs, why)) {
    why = "malformed server-final-message: " + why;
    return false;
  }
  if (attrs[0].name == 'e') {
    out.error = std::string(attrs[0].value);
    return true;
  }
  auto verifier = attrs[0].name == 'v' ? base64_decode(attrs[0].value) : std::nullopt;
  if (!verifier || verifier->empty()) {
    why = "malformed server-final-message: expected v=<base64 server signature> or e=<error>";
    return false;
  }
  out.verifier = std::move(*verifier);
  return true;
}

// ---------------------------------------------------------------- cache

struct scram_cache::state {
  struct entry {
    scram_mechanism mechanism;
    std::string prepared;
    bytes salt;
    std::uint32_t iterations;
    keys k;
  };
  mutable std::mutex mutex;
  std::vector<entry> entries;
  std::size_t derivations = 0;
};

// A client has one credential; a few entries cover a salt change (the user re-created).
constexpr std::size_t max_cache_entries = 8;

scram_cache::scram_cache() : state_(std::make_unique<state>()) {}

scram_cache::~scram_cache() {
  for (auto& e : state_->entries) {
    wipe(e.prepared);
    wipe(e.k.client_key);
    wipe(e.k.server_key);
  }
}

std::optional<scram_cache::keys> scram_cache::find(scram_mechanism m, std::string_view prepared,
                                                   std::span<const std::uint8_t> salt, std::uint32_t iterations) const {
  std::lock_guard lock(state_->mutex);
  for (const auto& e : state_->entries)
    if (e.mechanism == m && e.iterations == iterations && e.prepared == prepared &&
        std::equal(e.salt.begin(), e.salt.end(), salt.begin(), salt.end()))
      return e.k;
  return std::nullopt;
}

void scram_cache::store(scram_mechanism m, std::string_view prepared, std::span<const std::uint8_t> salt,
                        std::uint32_t iterations, keys k) {
  std::lock_guard lock(state_->mutex);
  auto& entries = state_->entries;
  if (entries.size() >= max_cache_entries) entries.erase(entries.begin());
  entries.push_back({m, std::string(prepared), bytes(salt.begin(), salt.end()), iterations, std::move(k)});
}

std::size_t scram_cache::derivations() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->derivations;
}

void scram_cache::count_derivation() noexcept {
  std::lock_guard lock(state_->mutex);
  ++state_->derivations;
}

// ---------------------------------------------------------------- client

scram_client::scram_client(scram_mechanism m, std::string username, std::string prepared, std::string client_nonce,
                           std::shared_ptr<scram_cache> cache)
    : mechanism_(m),
      username_(std::move(username)),
      prepared_(std::move(prepared)),
      client_nonce_(std::move(client_nonce)),
      cache_(std::move(cache)) {}

scram_client::~scram_client() {
  wipe(prepared_);
  wipe(server_key_);
}

std::string scram_client::client_first_bare() const {
  return "n=" + escape_username(username_) + ",r=" + client_nonce_;
}

std::string scram_client::client_first() const { return "n,," + client_first_bare(); }

bool scram_client::on_server_first(std::string_view message, std::string& client_final, std::string& why) {
  if (answered_first_) {
    why = "a second server-first-message in one conversation";
    return false;
  }
  server_first_message first;
  if (!parse_server_first(message, client_nonce_, first, why)) return false;
  answered_first_ = true;
  std::optional<scram_cache::keys> keys =
      cache_ ? cache_->find(mechanism_, prepared_, first.salt, first.iterations) : std::nullopt;
  if (!keys) {
    auto derived = derive_keys(mechanism_, prepared_, first.salt, first.iterations);
    keys = scram_cache::keys{std::move(derived.client_key), std::move(derived.server_key)};
    if (cache_) {
      cache_->count_derivation();
      cache_->store(mechanism_, prepared_, first.salt, first.iterations, *keys);
    }
  }
  // RFC 5802 section 3: "c=biws" is base64("n,,"), the GS2 header without channel binding.
  const std::string without_proof = "c=biws,r=" + first.nonce;
  auth_message_ = client_first_bare() + "," + std::string(message) + "," + without_proof;
  const bytes stored_key = hash(algorithm_of(mechanism_), keys->client_key);
  bytes proof = xor_bytes(keys->client_key, scram_signature(mechanism_, stored_key, auth_message_));
  client_final = without_proof + ",p=" + base64_encode(proof);
  server_key_ = std::move(keys->server_key);
  wipe(keys->client_key);
  wipe(proof);
  return true;
}

bool scram_client::on_server_final(std::string_view message, std::string& why) {
  if (!answered_first_ || verified_) {
    why = "a server-final-message out of turn";
    return false;
  }
  server_final_message final_message;
  if (!parse_server_final(message, final_message, why)) return false;
  if (!final_message.error.empty()) {
    why = "the server reported SCRAM error '" + final_message.error + "'";
    return false;
  }
  const bytes expected = scram_signature(mechanism_, server_key_, auth_message_);
  if (!constant_time_equal(expected, final_message.verifier)) {
    why = "the server's signature (v=) is wrong: the server does not know the password";
    return false;
  }
  verified_ = true;
  return true;
}

}  // namespace mongowire::detail::auth
