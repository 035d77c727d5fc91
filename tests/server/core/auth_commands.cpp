// Access control as mongod 7.0 runs it with --auth: the authorization gate (commands.cpp
// "Command X requires authentication"), SASL (sasl_commands.cpp: saslStart, saslContinue,
// and speculativeAuthenticate in hello, handshake.md), MONGODB-X509 (authenticate), mechanism negotiation
// (saslSupportedMechs), and the user management commands (user_management_commands.cpp).
#include <algorithm>

#include "core/core_impl.hpp"

namespace mongowire::testd {
namespace {

using impl = server_core::impl;

// Commands whose requiresAuth() is false in mongod 7.0.
constexpr std::string_view allowed_before_authentication[] = {
    "hello", "isMaster", "ismaster", "ping", "buildInfo", "buildinfo", "saslStart", "saslContinue", "authenticate"};

const std::string authentication_failed = "Authentication failed.";

auth_session& session_of(connection_context& ctx) {
  if (!ctx.auth) ctx.auth = std::make_shared<auth_session>();
  return *ctx.auth;
}

std::string_view payload_of(bson::view cmd, std::string_view command) {
  auto payload = cmd["payload"].as_binary();
  if (!payload)
    throw command_error(code::type_mismatch,
                        "BSON field '" + std::string(command) + ".payload' is missing or not binary data");
  return {reinterpret_cast<const char*>(payload->bytes.data()), payload->bytes.size()};
}

void append_sasl_reply(bson::document& reply, std::int32_t conversation_id, bool done, std::string_view payload) {
  reply.append("conversationId", conversation_id);
  reply.append("done", done);
  reply.append("payload", bson::binary_ref{BSON_SUBTYPE_BINARY, auth::as_bytes(payload)});
}

// sasl_commands.cpp doSaslStart: a new conversation replaces the one in progress; every
// failure reads "Authentication failed." so that nothing about the user leaks.
void sasl_start(const user_store& users, connection_context& ctx, std::string_view db, bson::view cmd,
                bson::document& reply) {
  const auto name = cmd["mechanism"].as_string().value_or("");
  const auto mechanism = auth::scram_mechanism_from(name);
  if (!mechanism)
    throw command_error(code::mechanism_unavailable,
                        "Received authentication for mechanism " + std::string(name) + " which is not enabled");
  const auto client_first = payload_of(cmd, "saslStart");
  auto& session = session_of(ctx);
  session.conversation.emplace(*mechanism);
  session.conversation_db = std::string(db);
  session.awaiting_empty_exchange = false;
  session.skip_empty_exchange =
      cmd["options"].as_document().value_or(bson::view())["skipEmptyExchange"].as_bool().value_or(false);
  std::string server_first, why;
  if (!session.conversation->on_client_first(client_first, users, db, server_first, why)) {
    session.conversation.reset();
    throw command_error(code::authentication_failed, authentication_failed);
  }
  session.conversation_id = 1;
  append_sasl_reply(reply, session.conversation_id, false, server_first);
}

// authentication_commands.cpp, MONGODB-X509: the user is the subject of the client's verified
// certificate, defined in $external; a user name, when given, must be that subject.
void x509_authenticate(const user_store& users, connection_context& ctx, std::string_view db, bson::view cmd,
                       bson::document& reply) {
  const auto mechanism = cmd["mechanism"].as_string().value_or("");
  if (mechanism != "MONGODB-X509")
    throw command_error(code::mechanism_unavailable,
                        "Received authentication for mechanism " + std::string(mechanism) + " which is not enabled");
  if (db != "$external")
    throw command_error(code::protocol_error, "X.509 authentication must always use the $external database.");
  const auto user = cmd["user"].as_string();
  if (ctx.tls_subject.empty() || (user && *user != ctx.tls_subject) || !users.find(ctx.tls_subject, db))
    throw command_error(code::authentication_failed, authentication_failed);
  session_of(ctx).user.emplace(ctx.tls_subject, std::string(db));
  reply.append("dbname", db);
  reply.append("user", ctx.tls_subject);
}

void authenticated_as(auth_session& session) {
  session.user.emplace(session.conversation->user(), session.conversation_db);
  session.conversation.reset();
}

bool is_role_document(const bson::element& e) {
  auto d = e.as_document();
  return d && (*d)["role"].is_string() && (*d)["db"].is_string();
}

std::vector<std::pair<std::string, std::string>> parse_roles(const op_context& op) {
  auto roles = op.cmd["roles"];
  if (!roles) throw command_error(code::missing_field, "BSON field 'createUser.roles' is missing but a required field");
  if (!roles.is_array())
    throw command_error(code::type_mismatch, "BSON field 'createUser.roles' is the wrong type '" +
                                                 std::string(bson::type_name(roles.type())) +
                                                 "', expected type 'array'");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto r : bson::view(*roles.as_array())) {
    if (auto name = r.as_string()) out.emplace_back(std::string(*name), op.db);
    else if (is_role_document(r))
      out.emplace_back(std::string(*(*r.as_document())["role"].as_string()),
                       std::string(*(*r.as_document())["db"].as_string()));
    else throw command_error(code::bad_value, "Role names must be either strings or objects");
  }
  return out;
}

std::vector<auth::scram_mechanism> parse_mechanisms(const op_context& op) {
  std::vector<auth::scram_mechanism> out;
  auto list = op.cmd["mechanisms"];
  if (!list) return out;
  if (!list.is_array()) throw command_error(code::type_mismatch, "mechanisms field must be an array");
  for (auto m : bson::view(*list.as_array())) {
    const auto name = m.as_string().value_or("");
    auto mechanism = auth::scram_mechanism_from(name);
    if (!mechanism) throw command_error(code::bad_value, "Unknown auth mechanism '" + std::string(name) + "'");
    out.push_back(*mechanism);
  }
  if (out.empty()) throw command_error(code::bad_value, "mechanisms field must not be empty");
  return out;
}

void append_user(bson::document& entry, const user_record& u) {
  entry.append("_id", u.db + "." + u.name);
  entry.append("userId", bson::binary_ref{BSON_SUBTYPE_UUID, u.user_id});
  entry.append("user", u.name);
  entry.append("db", u.db);
  entry.append_array_of("roles", [&](bson::array_builder& arr) {
    for (const auto& [role, db] : u.roles) {
      bson::document r;
      r.append("role", role);
      r.append("db", db);
      arr.push(r.get_view());
    }
  });
  entry.append_array_of("mechanisms", [&](bson::array_builder& arr) {
    for (auto m : u.mechanisms()) arr.push(m);
  });
}

}  // namespace

void impl::create_initial_users() {
  for (const auto& u : options.users) {
    std::vector<auth::scram_mechanism> mechanisms;
    for (const auto& m : u.mechanisms)
      if (auto known = auth::scram_mechanism_from(m)) mechanisms.push_back(*known);
    // A $external user (MONGODB-X509) has no password: its certificate is its credential.
    std::optional<std::string_view> password;
    if (u.db != "$external") password = u.password;
    users.create(u.name, u.db, password, {{"root", "admin"}}, std::move(mechanisms));
  }
}

void impl::check_authorization(const op_context& op) const {
  if (!options.auth || (op.conn->auth && op.conn->auth->user)) return;
  const auto* end = std::end(allowed_before_authentication);
  if (std::find(std::begin(allowed_before_authentication), end, op.name) != end) return;
  // The localhost exception: while no user exists, the first one may be created.
  if (op.name == "createUser" && users.empty()) return;
  throw command_error(code::unauthorized, "Command " + op.name + " requires authentication");
}

// hello's saslSupportedMechs ("<db>.<user>": the user's mechanisms, nothing for an unknown
// user) and speculativeAuthenticate (a failed speculative saslStart is not an error: the
// reply just lacks the field and the client authenticates normally).
void impl::add_auth_to_hello(op_context& op, bson::document& reply) {
  if (auto target = op.cmd["saslSupportedMechs"].as_string()) {
    const auto dot = target->find('.');
    const user_record* u =
        dot == std::string_view::npos ? nullptr : users.find(target->substr(dot + 1), target->substr(0, dot));
    if (u)
      reply.append_array_of("saslSupportedMechs", [&](bson::array_builder& arr) {
        for (auto m : u->mechanisms()) arr.push(m);
      });
  }
  auto speculative = op.cmd["speculativeAuthenticate"].as_document();
  if (!speculative || !options.speculative_auth) return;
  const auto command = speculative->first_key();
  // A speculative saslStart names its database in "db"; authenticate is always on $external.
  const auto db = (*speculative)["db"].as_string().value_or(command == "authenticate" ? "$external" : "");
  try {
    bson::document first;
    if (command == "saslStart") sasl_start(users, *op.conn, db, *speculative, first);
    else if (command == "authenticate") x509_authenticate(users, *op.conn, db, *speculative, first);
    else return;
    reply.append("speculativeAuthenticate", first);
  } catch (const command_error&) {
  }
}

void impl::cmd_sasl_start(op_context& op, bson::document& reply) { sasl_start(users, *op.conn, op.db, op.cmd, reply); }

void impl::cmd_authenticate(op_context& op, bson::document& reply) {
  x509_authenticate(users, *op.conn, op.db, op.cmd, reply);
}

void impl::cmd_sasl_continue(op_context& op, bson::document& reply) {
  auto& session = session_of(*op.conn);
  if (!session.conversation) throw command_error(code::protocol_error, "No SASL session state found");
  if (op.cmd["conversationId"].as_integer() != session.conversation_id)
    throw command_error(code::protocol_error, "sasl: Mismatched conversation id");
  const auto payload = payload_of(op.cmd, "saslContinue");
  if (session.awaiting_empty_exchange) {  // auth.md "Backwards Compatibility": the empty turn
    authenticated_as(session);
    append_sasl_reply(reply, session.conversation_id, true, "");
    return;
  }
  std::string server_final, why;
  if (!session.conversation->on_client_final(payload, server_final, why)) {
    session.conversation.reset();
    throw command_error(code::authentication_failed, authentication_failed);
  }
  const bool done = session.skip_empty_exchange;
  if (done) authenticated_as(session);
  else session.awaiting_empty_exchange = true;
  append_sasl_reply(reply, session.conversation_id, done, server_final);
}

void impl::cmd_create_user(op_context& op, bson::document&) {
  check_known_fields(op, {"pwd", "roles", "mechanisms", "digestPassword", "customData", "authenticationRestrictions"});
  const auto name = op.cmd["createUser"].as_string().value_or("");
  if (name.empty()) throw command_error(code::bad_value, "User document needs 'user' field to be non-empty");
  const auto pwd = op.cmd["pwd"];
  const bool external = op.db == "$external";
  if (external && pwd)
    throw command_error(code::bad_value, "Cannot set the password for users defined on the '$external' database");
  if (!external && !pwd)
    throw command_error(code::bad_value,
                        "Must provide a 'pwd' field for all user documents, except those with '$external' as the "
                        "user's source db");
  if (!external && pwd.as_string().value_or("").empty())
    throw command_error(code::bad_value, "Password cannot be empty");
  auto roles = parse_roles(op);
  auto mechanisms = parse_mechanisms(op);
  std::optional<std::string_view> password;
  if (!external) password = *pwd.as_string();
  users.create(std::string(name), op.db, password, std::move(roles), std::move(mechanisms));
}

void impl::cmd_drop_user(op_context& op, bson::document&) {
  const auto name = op.cmd["dropUser"].as_string().value_or("");
  if (!users.drop(name, op.db))
    throw command_error(code::user_not_found, "User '" + std::string(name) + "@" + op.db + "' not found");
}

// usersInfo: 1 (the database's users), "name", {user, db}, or an array of the last two.
void impl::cmd_users_info(op_context& op, bson::document& reply) {
  std::vector<const user_record*> found;
  auto add = [&](const bson::element& e) {
    if (auto name = e.as_string()) {
      if (auto* u = users.find(*name, op.db)) found.push_back(u);
    } else if (auto d = e.as_document()) {
      if (auto* u = users.find((*d)["user"].as_string().value_or(""), (*d)["db"].as_string().value_or(op.db)))
        found.push_back(u);
    } else {
      throw command_error(code::bad_value, "User name must be either a string or an object");
    }
  };
  auto arg = op.cmd["usersInfo"];
  if (arg.is_number()) found = users.in_database(op.db);
  else if (auto list = arg.as_array())
    for (auto e : *list) add(e);
  else add(arg);
  reply.append_array_of("users", [&](bson::array_builder& arr) {
    for (const auto* u : found) {
      bson::document entry;
      append_user(entry, *u);
      arr.push(entry.get_view());
    }
  });
}

}  // namespace mongowire::testd
