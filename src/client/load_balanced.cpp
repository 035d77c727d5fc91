// load-balancers.md "Connection Pinning": in load-balanced mode the commands of a transaction,
// and those of a cursor, share one connection, so that they reach the same service behind the
// load balancer. The executor asks pin_for() (client_impl.cpp) which pinned connection an
// attempt uses and gives the connection back through check_in(), which keeps it pinned or
// returns it to the pool.
#include "client/client_impl.hpp"

namespace mongowire::detail {

namespace {

// The cursor id of a cursor-opening or getMore reply; 0 when it has none (exhausted).
std::int64_t cursor_id_of(const bson::document& reply) {
  return reply.get_view().find_path("cursor.id").as_integer().value_or(0);
}

}  // namespace

void client_impl::check_in(pinned_connection* pin, const net::selected_server& server,
                           std::unique_ptr<net::connection> conn, error_code ec, const bson::document& reply) {
  if (!pin) return server.server_pool->checkin(std::move(conn));
  const bool was_pinned = pin->pool != nullptr;
  bool keep = true;  // a transaction's: until the session unpins (session_impl::unpin)
  if (pin->for_cursor)
    // "Behaviour With Cursors": not checked in unless the command fails or the cursor is
    // exhausted; a failed getMore leaves the connection pinned until the cursor is closed.
    keep = ec ? was_pinned : cursor_id_of(reply) != 0;
  if (!keep) {
    pin->release();  // a cursor's pin, now exhausted or failed at its opening
    return server.server_pool->checkin(std::move(conn));
  }
  if (!was_pinned) server.server_pool->count_pinned(pin->for_cursor, +1);
  pin->pool = server.server_pool;
  pin->conn = std::move(conn);
}

}  // namespace mongowire::detail
