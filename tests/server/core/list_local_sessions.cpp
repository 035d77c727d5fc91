// $listLocalSessions (document_source_list_local_sessions.cpp): the first stage of an
// {aggregate: 1} pipeline, listing this server's session cache as LogicalSessionRecords
// {_id: {id, uid}, lastUse, user?: {name}}. {} lists the current user's sessions (all of them
// without access control), {allUsers: true} everyone's, {users: [{user, db}]} those users'.
#include <algorithm>

#include "core/core_impl.hpp"
#include "proto/auth/crypto.hpp"

namespace mongowire::testd {
namespace {

using user_name = std::pair<std::string, std::string>;  // {user, db}; both empty: no user

std::vector<user_name> users_of(bson::view list) {
  std::vector<user_name> out;
  for (auto e : list) {
    auto d = e.as_document();
    auto user = d ? (*d)["user"].as_string() : std::nullopt;
    auto db = d ? (*d)["db"].as_string() : std::nullopt;
    if (!user || !db)
      throw command_error(code::type_mismatch, "$listLocalSessions.users entries must be {user: string, db: string}");
    out.emplace_back(std::string(*user), std::string(*db));
  }
  return out;
}

// Whose sessions the stage lists; nullopt: everyone's.
std::optional<std::vector<user_name>> wanted_users(const op_context& op, bson::view spec) {
  for (auto f : spec)
    if (f.key() != "allUsers" && f.key() != "users")
      throw command_error(40415, "BSON field '$listLocalSessions." + std::string(f.key()) + "' is an unknown field.");
  const bool all = spec["allUsers"].as_truthy().value_or(false);
  auto users = spec["users"];
  if (all && users)
    throw command_error(code::bad_value, "$listLocalSessions: cannot specify both 'allUsers' and 'users'");
  if (all) return std::nullopt;
  if (users) {
    if (!users.is_array()) throw command_error(code::type_mismatch, "$listLocalSessions.users must be an array");
    return users_of(*users.as_array());
  }
  const auto* auth = op.conn->auth.get();
  return std::vector<user_name>{auth && auth->user ? *auth->user : user_name{}};
}

// logical_session_id_helpers.cpp getLogicalSessionUserDigestFor: SHA-256 of "user@db", of
// "" without a user.
bson::document session_record(const std::string& key, const session_state& s) {
  std::vector<std::uint8_t> id;
  for (std::size_t i = 0; i + 1 < key.size(); i += 2)
    id.push_back(static_cast<std::uint8_t>(std::stoi(key.substr(i, 2), nullptr, 16)));
  const std::string name = s.user ? s.user->first + "@" + s.user->second : std::string();
  const auto uid = detail::auth::hash(detail::auth::hash_algorithm::sha256, detail::auth::as_bytes(name));
  bson::document record;
  record.append_document("_id", [&](bson::document& d) {
    d.append("id", bson::binary_ref{BSON_SUBTYPE_UUID, id});
    d.append("uid", bson::binary_ref{BSON_SUBTYPE_BINARY, uid});
  });
  record.append_date("lastUse",
                     std::chrono::duration_cast<std::chrono::milliseconds>(s.last_use.time_since_epoch()).count());
  if (s.user) record.append_document("user", [&](bson::document& u) { u.append("name", name); });
  return record;
}

}  // namespace

std::vector<bson::document> server_core::impl::list_local_sessions(const op_context& op, bson::view spec) {
  const auto wanted = wanted_users(op, spec);
  std::vector<bson::document> records;
  for (const auto& [key, s] : sessions) {
    if (s.ended) continue;            // endSessions took effect: gone from the cache
    if (s.replicated_only) continue;  // a transaction record only (config.transactions)
    const user_name owner = s.user.value_or(user_name{});
    if (wanted && std::find(wanted->begin(), wanted->end(), owner) == wanted->end()) continue;
    records.push_back(session_record(key, s));
  }
  return records;
}

}  // namespace mongowire::testd
