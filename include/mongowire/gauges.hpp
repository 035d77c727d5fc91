// Live gauges of a client (issue 16): a snapshot of its server sessions, its connection pools
// and the write conflicts it has seen, read with client::gauges(). Reading takes no lock: like
// everything of a client it runs on the client's strand, which also serializes the updates.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mongowire {

// Why a connection pool was cleared (connection-monitoring-and-pooling.md "Clearing a
// connection pool"): each clear starts a new generation.
enum class pool_clear_cause {
  requested,             // cleared directly by the engine's own code (tests, tools)
  heartbeat_failed,      // the server's monitor check failed (server-monitoring.md)
  network_error,         // a network error on an application connection (SDAM "Error handling")
  network_timeout,       // a network timeout before the connection's handshake completed
  state_change_error,    // the server answered NotWritablePrimary, NodeIsRecovering or a shutdown code
  authentication_error,  // the handshake's authentication failed
  topology_update,       // the topology description asked for it
};
std::string_view to_string(pool_clear_cause c) noexcept;  // e.g. "network_error"

struct pool_clear {
  std::uint64_t generation = 0;  // the pool's generation after this clear
  pool_clear_cause cause = pool_clear_cause::requested;
  std::string error;  // the error that caused it, as the client describes it
  std::chrono::steady_clock::time_point at{};
  bool interrupted_in_use = false;  // connections in use were interrupted (network timeout of a check)
};

// One server's connection pool.
struct pool_gauges {
  std::string address;         // "host:port"
  std::size_t total = 0;       // pending + idle + in use (CMAP totalConnectionCount)
  std::size_t in_use = 0;      // checked out by operations
  std::size_t idle = 0;        // available in the pool
  std::size_t pending = 0;     // being established
  std::size_t wait_queue = 0;  // checkouts waiting for a connection
  // Connections pinned to a transaction or a cursor (load-balancers.md "Connection Tracking");
  // only in load-balanced mode. (A sharded transaction pins its session to a mongos, not a
  // connection.)
  std::size_t pinned_transaction = 0;
  std::size_t pinned_cursor = 0;
  std::uint64_t generation = 0;    // the number of clears so far
  std::vector<pool_clear> clears;  // the last clears (at most 8), oldest first
};

// driver-sessions.md "Server Session Pool".
struct session_gauges {
  std::size_t in_use = 0;  // server sessions held by explicit sessions and running operations
  std::size_t pooled = 0;  // idle in the pool, ready for reuse
  std::uint64_t created = 0;
  std::uint64_t discarded_dirty = 0;    // saw a network error (or an unknown commit): never reused
  std::uint64_t discarded_expired = 0;  // less than a minute before the server would expire them
  std::uint64_t discarded_stale = 0;    // forgotten by a clear of the pool (after fork), or returned after one
};

// Write conflicts (WriteConflict, code 112, a top-level error or a write error) counted per
// namespace ("db.collection"; "db" for a command without one): where the hot documents are.
struct namespace_count {
  std::string ns;
  std::uint64_t count = 0;
  // Space-Saving (Metwally et al.): once more namespaces than tracked have conflicted, a new
  // one takes the place of the least counted and starts from its count; `count` then
  // overstates by at most `overcount` (0 while every namespace fits).
  std::uint64_t overcount = 0;
};

struct client_gauges {
  session_gauges sessions;
  std::vector<pool_gauges> pools;                             // one per known server, by address
  std::size_t wait_queue = 0;                                 // over all pools
  std::uint64_t write_conflicts = 0;                          // all of them
  std::vector<namespace_count> write_conflicts_by_namespace;  // at most 16, most conflicted first
};

}  // namespace mongowire
