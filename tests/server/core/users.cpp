#include "core/users.hpp"

#include <algorithm>

#include "core/command_error.hpp"
#include "proto/auth/saslprep.hpp"

namespace mongowire::testd {
namespace {

std::string key_of(std::string_view name, std::string_view db) { return std::string(db) + "." + std::string(name); }

scram_credential make_credential(auth::scram_mechanism m, std::string_view name, std::string_view password) {
  std::string why;
  // mongod SASLprep's SCRAM-SHA-256 passwords and digests SCRAM-SHA-1 ones (auth.md): the
  // same preparation as the client's.
  auto prepared = auth::prepared_password(m, name, password, why);
  if (!prepared) throw command_error(code::bad_value, "Error preparing password: " + why);
  scram_credential c;
  const bool sha1 = m == auth::scram_mechanism::sha1;
  c.salt = auth::random_bytes(auth::digest_size(auth::algorithm_of(m)) - 4);
  c.iterations = sha1 ? sha1_iteration_count : sha256_iteration_count;
  auto keys = auth::derive_keys(m, *prepared, c.salt, c.iterations);
  auth::wipe(*prepared);
  c.stored_key = std::move(keys.stored_key);
  c.server_key = std::move(keys.server_key);
  auth::wipe(keys.client_key);
  return c;
}

// RFC 5802 section 7: gs2-header = gs2-cbind-flag "," [authzid] ","; mongod refuses channel
// binding ("p=") and an authzid other than the user.
bool split_client_first(std::string_view message, std::string& header, std::string_view& bare, std::string& why) {
  if (!message.starts_with("n,") && !message.starts_with("y,")) {
    why = message.starts_with("p=") ? "channel binding is not supported" : "the GS2 header must start with n, or y,";
    return false;
  }
  const auto authzid_end = message.find(',', 2);
  if (authzid_end == std::string_view::npos) {
    why = "the GS2 header is incomplete";
    return false;
  }
  header = std::string(message.substr(0, authzid_end + 1));
  bare = message.substr(authzid_end + 1);
  return true;
}

}  // namespace

std::vector<std::string_view> user_record::mechanisms() const {
  std::vector<std::string_view> out;
  if (sha1) out.push_back("SCRAM-SHA-1");
  if (sha256) out.push_back("SCRAM-SHA-256");
  return out;
}

const user_record& user_store::create(std::string name, std::string db, std::optional<std::string_view> password,
                                      std::vector<std::pair<std::string, std::string>> roles,
                                      std::vector<auth::scram_mechanism> mechanisms) {
  auto key = key_of(name, db);
  if (users_.count(key))
    throw command_error(code::user_already_exists, "User \"" + name + "@" + db + "\" already exists");
  if (mechanisms.empty()) mechanisms = {auth::scram_mechanism::sha1, auth::scram_mechanism::sha256};
  user_record u;
  for (auto m : mechanisms)
    if (password) (m == auth::scram_mechanism::sha1 ? u.sha1 : u.sha256) = make_credential(m, name, *password);
  const auto id = auth::random_bytes(16);
  std::copy(id.begin(), id.end(), u.user_id.begin());
  u.user_id[6] = static_cast<std::uint8_t>((u.user_id[6] & 0x0f) | 0x40);  // UUID version 4
  u.user_id[8] = static_cast<std::uint8_t>((u.user_id[8] & 0x3f) | 0x80);
  u.name = std::move(name);
  u.db = std::move(db);
  u.roles = std::move(roles);
  return users_.emplace(std::move(key), std::move(u)).first->second;
}

bool user_store::drop(std::string_view name, std::string_view db) { return users_.erase(key_of(name, db)) > 0; }

const user_record* user_store::find(std::string_view name, std::string_view db) const {
  auto it = users_.find(key_of(name, db));
  return it == users_.end() ? nullptr : &it->second;
}

std::vector<const user_record*> user_store::in_database(std::string_view db) const {
  std::vector<const user_record*> out;
  for (const auto& [key, u] : users_)
    if (db.empty() || u.db == db) out.push_back(&u);
  return out;
}

bool scram_server_conversation::on_client_first(std::string_view message, const user_store& users, std::string_view db,
                                                std::string& server_first, std::string& why) {
  std::string_view bare;
  std::vector<auth::scram_attribute> attrs;
  if (!split_client_first(message, gs2_header_, bare, why) || !auth::parse_attributes(bare, attrs, why)) return false;
  if (attrs.size() < 2 || attrs[0].name != 'n' || attrs[1].name != 'r' || attrs[1].value.empty()) {
    why = "expected n=<user>,r=<nonce> in the client-first-message";
    return false;
  }
  auto name = auth::unescape_username(attrs[0].value);
  const user_record* u = name ? users.find(*name, db) : nullptr;
  const scram_credential* c = u ? u->credential(mechanism_) : nullptr;
  if (!c) {
    why = name ? "no " + std::string(auth::mechanism_name(mechanism_)) + " credential for user " + *name : "bad user";
    return false;
  }
  user_ = *name;
  credential_ = *c;
  client_first_bare_ = std::string(bare);
  nonce_ = std::string(attrs[1].value) + auth::base64_encode(auth::random_bytes(24));
  server_first_ =
      "r=" + nonce_ + ",s=" + auth::base64_encode(credential_.salt) + ",i=" + std::to_string(credential_.iterations);
  server_first = server_first_;
  return true;
}

bool scram_server_conversation::on_client_final(std::string_view message, std::string& server_final, std::string& why) {
  std::vector<auth::scram_attribute> attrs;
  if (nonce_.empty() || authenticated_ || !auth::parse_attributes(message, attrs, why)) {
    if (why.empty()) why = "client-final-message out of turn";
    return false;
  }
  if (attrs.size() < 3 || attrs[0].name != 'c' || attrs[1].name != 'r' || attrs.back().name != 'p' ||
      attrs[0].value != auth::base64_encode(auth::as_bytes(gs2_header_)) || attrs[1].value != nonce_) {
    why = "the client-final-message's channel binding or nonce does not match";
    return false;
  }
  const auto proof = auth::base64_decode(attrs.back().value);
  const auto without_proof = message.substr(0, message.rfind(",p="));
  const std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const auto client_key = auth::xor_bytes(proof.value_or(auth::bytes{}),
                                          auth::scram_signature(mechanism_, credential_.stored_key, auth_message));
  const auto stored_key = auth::hash(auth::algorithm_of(mechanism_), client_key);
  if (!proof || proof->size() != stored_key.size() || !auth::constant_time_equal(stored_key, credential_.stored_key)) {
    why = "the client's proof is wrong";
    return false;
  }
  authenticated_ = true;
  server_final = "v=" + auth::base64_encode(auth::scram_signature(mechanism_, credential_.server_key, auth_message));
  return true;
}

}  // namespace mongowire::testd
