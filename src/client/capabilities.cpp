// client::capabilities (issue 16 "capability preflight"): the rule of proto/txn/capabilities.hpp
// applied to the server an operation needing writes would select.
#include "client/client_impl.hpp"
#include "mongowire/client.hpp"
#include "proto/txn/capabilities.hpp"

namespace mongowire {

boost::asio::awaitable<error_code> client::capabilities(deployment_capabilities& out, diagnostics& diag) {
  const std::shared_ptr<detail::client_impl> impl = impl_;
  if (impl->closed()) {
    diag.client_message = "the client is closed";
    co_return client_errc::client_closed;
  }
  detail::net::selected_server server;
  const detail::net::selection_origin origin{"capabilities"};
  const error_code ec = co_await impl->topology().async_select_writable(server, diag, origin);
  // An incompatible deployment is an answer, not a failure: the report says why nothing works.
  if (ec && ec != client_errc::wire_version_unsupported) co_return ec;
  const auto& topology = impl->topology().description();
  out = detail::assess_capabilities(topology, ec ? detail::server_to_assess(topology) : server.description.get());
  if (ec) diag.clear();
  co_return error_code{};
}

}  // namespace mongowire
