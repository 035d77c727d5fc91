#include "proto/auth/credential.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <span>
#include <string_view>

namespace mongowire::detail::auth {
namespace {

enum class presence { required, optional, forbidden };

// Where the source database comes from when authSource is not given (auth.md, "Connection
// String Options": "For GSSAPI, MONGODB-X509 and MONGODB-AWS authMechanisms the authSource
// defaults to $external ...").
enum class source_rule {
  database_or_admin,     // SCRAM-SHA-1, SCRAM-SHA-256 and the negotiated default
  database_or_external,  // PLAIN
  external_only,         // GSSAPI, MONGODB-X509, MONGODB-AWS, MONGODB-OIDC: MUST be "$external"
};

constexpr std::string_view external_source = "$external";

constexpr std::array<std::string_view, 4> gssapi_properties{"SERVICE_NAME", "CANONICALIZE_HOST_NAME", "SERVICE_REALM",
                                                            "SERVICE_HOST"};
// OIDC_CALLBACK, OIDC_HUMAN_CALLBACK and AWS_CREDENTIAL_PROVIDER are code, not text; ALLOWED_HOSTS
// "MUST NOT be allowed in the URI connection string" (auth.md, MONGODB-OIDC).
constexpr std::array<std::string_view, 2> oidc_properties{"ENVIRONMENT", "TOKEN_RESOURCE"};

struct mechanism_rules {
  std::string_view name;                      // as shown in messages
  std::optional<std::string_view> mechanism;  // nullopt: negotiated
  presence username;
  presence password;
  source_rule source;
  std::span<const std::string_view> properties;  // the ones a connection string may give
};

// auth.md, the "MongoCredential Properties" of each mechanism. MONGODB-AWS: "If credentials are
// provided in the URI or client options, the driver MUST raise an error" ("Obtaining
// Credentials", 2025-09-30), so user name and password are forbidden there.
const mechanism_rules rules_table[] = {
    {"the default mechanism (SCRAM)",
     std::nullopt,
     presence::required,
     presence::required,
     source_rule::database_or_admin,
     {}},
    {"SCRAM-SHA-1", "SCRAM-SHA-1", presence::required, presence::required, source_rule::database_or_admin, {}},
    {"SCRAM-SHA-256", "SCRAM-SHA-256", presence::required, presence::required, source_rule::database_or_admin, {}},
    {"PLAIN", "PLAIN", presence::required, presence::required, source_rule::database_or_external, {}},
    {"GSSAPI", "GSSAPI", presence::required, presence::optional, source_rule::external_only, gssapi_properties},
    {"MONGODB-X509", "MONGODB-X509", presence::optional, presence::forbidden, source_rule::external_only, {}},
    {"MONGODB-AWS", "MONGODB-AWS", presence::forbidden, presence::forbidden, source_rule::external_only, {}},
    {"MONGODB-OIDC", "MONGODB-OIDC", presence::optional, presence::forbidden, source_rule::external_only,
     oidc_properties},
};

bool iequals(std::string_view a, std::string_view b) noexcept {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

const mechanism_rules* find_rules(const std::optional<std::string>& mechanism, std::string& why) {
  for (const auto& rules : rules_table)
    if (rules.mechanism == mechanism) return &rules;
  if (mechanism == "MONGODB-CR") {
    why = "authMechanism MONGODB-CR was removed in MongoDB 4.0; use SCRAM-SHA-256 or SCRAM-SHA-1";
  } else {
    why = fmt::format("unsupported authMechanism '{}'", mechanism.value_or(""));
  }
  return nullptr;
}

// auth.md, "Errors": "Drivers MUST raise an error if any required information for a mechanism
// is missing", and each mechanism's "MUST NOT be specified".
bool check_user_and_password(const mechanism_rules& rules, const connection_string& cs, std::string& why) {
  if (rules.username == presence::required && (!cs.username || cs.username->empty())) {
    why = fmt::format("{} needs a user name in the connection string", rules.name);
  } else if (rules.password == presence::required && !cs.password) {
    why = fmt::format("{} needs a password in the connection string", rules.name);
  } else if (rules.username == presence::forbidden && (cs.username || cs.password)) {
    why = fmt::format(
        "{} takes no user name or password in the connection string: the credentials come from "
        "the environment (auth.md, \"Obtaining Credentials\")",
        rules.name);
  } else if (rules.password == presence::forbidden && cs.password) {
    why = fmt::format("{} takes no password", rules.name);
  }
  return why.empty();
}

std::optional<std::string> resolve_source(const mechanism_rules& rules, const connection_string& cs, std::string& why) {
  if (cs.auth_source) {
    if (cs.auth_source->empty()) {
      why = "authSource cannot be empty";  // auth.md, "Errors"
      return std::nullopt;
    }
    if (rules.source == source_rule::external_only && *cs.auth_source != external_source) {
      why = fmt::format("{} needs authSource $external, not '{}'", rules.name, *cs.auth_source);
      return std::nullopt;
    }
    return *cs.auth_source;
  }
  // auth.md, "Implementation" 4: authSource, else the database of the connection string.
  switch (rules.source) {
    case source_rule::database_or_admin: return cs.auth_database.value_or("admin");
    case source_rule::database_or_external: return cs.auth_database.value_or(std::string(external_source));
    case source_rule::external_only: break;
  }
  return std::string(external_source);
}

// Property names are case-insensitive (auth.md, "Naming"); a property the mechanism does not
// use is an error ("Errors": "if a mechanism_property is specified for a mechanism that does
// not support it, the driver should raise an error").
bool collect_properties(const mechanism_rules& rules, const connection_string& cs, credential& out, std::string& why) {
  for (const auto& property : cs.auth_mechanism_properties) {
    const auto& [key, value] = property;
    const auto known = std::find_if(rules.properties.begin(), rules.properties.end(),
                                    [&](std::string_view name) { return iequals(name, property.first); });
    if (known == rules.properties.end()) {
      why = rules.properties.empty() ? fmt::format("{} takes no authMechanismProperties (got '{}')", rules.name, key)
                                     : fmt::format("'{}' is not an authMechanismProperties key of {}", key, rules.name);
      return false;
    }
    auto& props = out.mechanism_properties;
    std::erase_if(props, [&](const auto& p) { return p.first == *known; });  // the last one wins
    props.emplace_back(std::string(*known), value);
  }
  return true;
}

// auth.md, GSSAPI: SERVICE_NAME defaults to "mongodb"; "Hostname Canonicalization": any
// CANONICALIZE_HOST_NAME other than the five values MUST be an error.
bool apply_gssapi_rules(credential& c, std::string& why) {
  if (!c.property("SERVICE_NAME")) c.mechanism_properties.emplace_back("SERVICE_NAME", "mongodb");
  if (const auto* canonicalize = c.property("CANONICALIZE_HOST_NAME")) {
    constexpr std::array<std::string_view, 5> valid{"none", "forward", "forwardAndReverse", "true", "false"};
    if (std::none_of(valid.begin(), valid.end(), [&](std::string_view v) { return iequals(v, *canonicalize); })) {
      why = fmt::format("CANONICALIZE_HOST_NAME '{}' is not one of none, forward, forwardAndReverse, true, false",
                        *canonicalize);
      return false;
    }
  }
  return true;
}

// auth.md, MONGODB-OIDC "ENVIRONMENT" and "TOKEN_RESOURCE". Without OIDC callbacks (mongowire
// has none) the built-in environment is the only source of tokens, so it is required. The user
// name only means something for azure (the managed identity's client_id).
bool apply_oidc_rules(const credential& c, std::string& why) {
  const auto* environment = c.property("ENVIRONMENT");
  if (!environment) {
    why =
        "MONGODB-OIDC needs authMechanismProperties ENVIRONMENT (test, azure, gcp or k8s); OIDC callbacks are "
        "not supported";
    return false;
  }
  constexpr std::array<std::string_view, 4> environments{"test", "azure", "gcp", "k8s"};
  if (std::find(environments.begin(), environments.end(), *environment) == environments.end()) {
    why = fmt::format("MONGODB-OIDC ENVIRONMENT '{}' is not one of test, azure, gcp, k8s", *environment);
    return false;
  }
  const bool cloud = *environment == "azure" || *environment == "gcp";
  if (cloud != (c.property("TOKEN_RESOURCE") != nullptr)) {
    why = cloud ? fmt::format("MONGODB-OIDC ENVIRONMENT:{} needs TOKEN_RESOURCE", *environment)
                : fmt::format("MONGODB-OIDC ENVIRONMENT:{} takes no TOKEN_RESOURCE", *environment);
    return false;
  }
  if (c.username && *environment != "azure") {
    why = fmt::format("MONGODB-OIDC ENVIRONMENT:{} takes no user name", *environment);
    return false;
  }
  return true;
}

bool build_credential(const connection_string& cs, credential& out, std::string& why) {
  const mechanism_rules* rules = find_rules(cs.auth_mechanism, why);
  if (!rules || !check_user_and_password(*rules, cs, why)) return false;
  auto source = resolve_source(*rules, cs, why);
  if (!source) return false;
  out.username = cs.username;
  out.password = cs.password;
  out.source = std::move(*source);
  out.mechanism = cs.auth_mechanism;
  if (!collect_properties(*rules, cs, out, why)) return false;
  if (out.mechanism == "GSSAPI") return apply_gssapi_rules(out, why);
  if (out.mechanism == "MONGODB-OIDC") return apply_oidc_rules(out, why);
  return true;
}

}  // namespace

const std::string* credential::property(std::string_view name) const noexcept {
  for (const auto& [key, value] : mechanism_properties)
    if (key == name) return &value;
  return nullptr;
}

error_code credential_from(const connection_string& cs, std::optional<credential>& out, std::string& error_message) {
  out.reset();
  error_message.clear();
  // auth.md, "Authentication source and URI database do not imply authentication".
  if (!cs.username && !cs.auth_mechanism) return {};
  credential c;
  if (!build_credential(cs, c, error_message)) return make_error_code(client_errc::invalid_uri);
  out = std::move(c);
  return {};
}

}  // namespace mongowire::detail::auth
