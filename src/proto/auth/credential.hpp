// The credential a connection string configures (auth.md, "MongoCredential"): which mechanism,
// user, password, source database and mechanism properties, with the spec's defaults applied and
// its invalid combinations rejected. Sans-I/O: no DNS, no environment variables, no files.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mongowire/error.hpp"
#include "mongowire/uri.hpp"

namespace mongowire::detail::auth {

struct credential {
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::string source;  // the database the authentication commands go to
  // Canonical upper-case name; nullopt: negotiate SCRAM-SHA-256 or SCRAM-SHA-1 from the
  // handshake's saslSupportedMechs (auth.md, "Default Authentication Methods").
  std::optional<std::string> mechanism;
  // Canonical property names (auth.md, "Naming": names are case-insensitive), defaults applied
  // (GSSAPI SERVICE_NAME "mongodb").
  std::vector<std::pair<std::string, std::string>> mechanism_properties;

  const std::string* property(std::string_view name) const noexcept;
};

// auth.md, "Credential delimiter in URI implies authentication": a credential is configured when
// the connection string has user info or authMechanism (a database or authSource alone does not
// configure one). Sets `out` (nullopt when none is configured) and returns success, or returns
// client_errc::invalid_uri with `error_message` saying which rule the string breaks. Error
// messages never contain the password or the AWS session token.
error_code credential_from(const connection_string& cs, std::optional<credential>& out, std::string& error_message);

}  // namespace mongowire::detail::auth
