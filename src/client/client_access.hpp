// Internal access to a client's implementation, for the engine's own tests (jitter source,
// withTransaction limit, session pool, topology). Not a public header: the public client
// exposes no implementation (issue 9, "sealed public headers").
#pragma once

#include "client/client_impl.hpp"
#include "mongowire/client.hpp"

namespace mongowire::detail {

struct client_access {
  static client_impl& impl(client& c) noexcept { return *c.impl_; }
};

}  // namespace mongowire::detail
