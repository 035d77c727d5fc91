#include "net/authenticate.hpp"

namespace mongowire::detail::net {

asio::awaitable<error_code> async_authenticate(connection& c, auth::authenticator& a, bson::view hello_reply,
                                               diagnostics& diag) {
  auth::auth_step step = a.on_hello_reply(hello_reply, diag);
  error_code ec;
  while (!ec && step.action == auth::auth_action::send) {
    bson::view reply;
    ec = co_await c.async_command(step.command, std::nullopt, reply, diag);
    // CMAP "Backpressure-enabled": no overload labels for errors of the authentication step.
    if (ec)
      diag.client_message = std::string(a.mechanism()) + " authentication failed" +
                            (diag.client_message.empty() ? "" : ": " + diag.client_message);
    else step = a.on_reply(reply, diag);
  }
  if (!ec && step.action == auth::auth_action::failed) ec = step.ec;
  co_return ec;
}

}  // namespace mongowire::detail::net
