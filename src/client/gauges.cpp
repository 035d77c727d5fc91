// client::gauges (issue 16 "live gauges"): a copy of counters the session pool, the connection
// pools and the executor keep anyway. No lock: the client runs on one strand.
#include "client/client_impl.hpp"
#include "mongowire/client.hpp"

namespace mongowire {

std::string_view to_string(pool_clear_cause c) noexcept {
  switch (c) {
    case pool_clear_cause::requested: return "requested";
    case pool_clear_cause::heartbeat_failed: return "heartbeat_failed";
    case pool_clear_cause::network_error: return "network_error";
    case pool_clear_cause::network_timeout: return "network_timeout";
    case pool_clear_cause::state_change_error: return "state_change_error";
    case pool_clear_cause::authentication_error: return "authentication_error";
    case pool_clear_cause::topology_update: return "topology_update";
  }
  return "unknown";
}

client_gauges client::gauges() const {
  client_gauges g;
  gauges(g);
  return g;
}

void client::gauges(client_gauges& g) const {
  const auto& sessions = impl_->session_pool();
  const auto& counts = sessions.counts();
  g.sessions.in_use = counts.in_use;
  g.sessions.pooled = sessions.size();
  g.sessions.created = counts.created;
  g.sessions.discarded_dirty = counts.discarded_dirty;
  g.sessions.discarded_expired = counts.discarded_expired;
  g.sessions.discarded_stale = counts.discarded_stale;
  impl_->topology().read_pool_gauges(g.pools);
  g.wait_queue = 0;
  for (const auto& p : g.pools) g.wait_queue += p.wait_queue;
  g.write_conflicts = impl_->write_conflicts.total();
  impl_->write_conflicts.top(g.write_conflicts_by_namespace);
}

}  // namespace mongowire
