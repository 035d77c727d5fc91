// The authentication step of a general-use connection (auth.md, "Authentication Handshake"):
// runs the sans-I/O authenticator's saslStart/saslContinue commands on the connection after
// its handshake hello. Monitoring connections never come here (auth.md: "Authentication ...
// MUST NOT happen on monitoring-only sockets").
#pragma once

#include <boost/asio/awaitable.hpp>

#include "net/connection.hpp"
#include "proto/auth/authenticator.hpp"

namespace mongowire::detail::net {

// `hello_reply` is the successful handshake reply (with speculativeAuthenticate when the
// server took the speculative saslStart). On failure `diag` names the mechanism; a server's
// refusal keeps its code (18 AuthenticationFailed) and reply, a client's refusal is
// client_errc::authentication_failed.
asio::awaitable<error_code> async_authenticate(connection& c, auth::authenticator& a, bson::view hello_reply,
                                               diagnostics& diag);

}  // namespace mongowire::detail::net
