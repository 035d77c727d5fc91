// The server session pool of driver-sessions.md ("Server Session Pool"), sans-I/O: the
// caller passes the current time and the deployment's logicalSessionTimeoutMinutes.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/sdam/server_description.hpp"
#include "proto/txn/transaction_state.hpp"

namespace mongowire::detail {

using session_time = std::chrono::steady_clock::time_point;

// driver-sessions.md "How to Tell Whether a Connection Supports Sessions": the server's hello
// has logicalSessionTimeoutMinutes. load-balancers.md: behind a load balancer it always does.
bool supports_sessions(const sdam::server_description& server) noexcept;

struct server_session {
  session_id id{};
  session_time last_use{};      // "lastUse": set when created and each time the id is sent
  std::int64_t txn_number = 0;  // kept across reuse ("MUST preserve the transaction number")
  bool dirty = false;           // saw a network error: discarded on return, never reused
  std::uint64_t pool_generation = 0;
};

// RFC 4122 section 4.4: a version 4 UUID from 16 random bytes (version and variant bits set).
session_id make_uuid_v4(std::array<std::uint8_t, 16> random_bytes) noexcept;
// make_uuid_v4 over std::random_device.
session_id random_lsid();

// {id: BinData(subtype 4, uuid)}: the session id as sent in lsid and endSessions.
bson::document lsid_document(const session_id& id);

// retryable-writes.md, "Generating Transaction IDs": each retryable write (and each
// startTransaction) takes the next number of the server session.
inline std::int64_t next_txn_number(server_session& s) noexcept { return ++s.txn_number; }

// driver-sessions.md: "If ... a network error is encountered when executing any command with
// a ClientSession, the driver MUST mark the associated ServerSession as dirty."
inline void mark_dirty(server_session& s) noexcept { s.dirty = true; }

// "If it has less than one minute left before becoming stale". No timeout (nullopt) means
// load-balancer mode, where sessions are never pruned (load-balancers.md, "Session Expiration").
bool about_to_expire(const server_session& s, session_time now,
                     std::optional<std::chrono::minutes> logical_session_timeout) noexcept;

// What the pool has done, for the client's gauges (mongowire/gauges.hpp session_gauges).
struct server_session_counts {
  std::size_t in_use = 0;  // acquired and not yet released
  std::uint64_t created = 0;
  std::uint64_t discarded_dirty = 0;
  std::uint64_t discarded_expired = 0;  // about to expire, at acquire or release
  std::uint64_t discarded_stale = 0;    // from before clear()
};

class server_session_pool {
 public:
  using id_source = std::function<session_id()>;
  explicit server_session_pool(id_source new_id = random_lsid);

  // "Algorithm to acquire a ServerSession": most recently returned first (LIFO); sessions
  // with less than a minute left are discarded; a new session when the pool runs dry.
  server_session acquire(session_time now, std::optional<std::chrono::minutes> logical_session_timeout);

  // "Algorithm to return a ServerSession": prune about-to-expire sessions from the back,
  // then discard `s` if dirty, about to expire or from before clear(); else keep it in front.
  void release(server_session s, session_time now, std::optional<std::chrono::minutes> logical_session_timeout);

  // After fork: forget every pooled session without endSessions; sessions checked out
  // before this call are not taken back ("MUST ensure that sessions already checked out are
  // not returned to the new pool").
  void clear() noexcept;

  // At client shutdown: the pooled ids in batches of at most `batch_limit`; empties the pool.
  std::vector<std::vector<session_id>> take_end_sessions_batches(
      std::size_t batch_limit = max_end_sessions_per_command);

  std::size_t size() const noexcept { return sessions_.size(); }
  // Front (most recently returned) first.
  const std::deque<server_session>& sessions() const noexcept { return sessions_; }
  const server_session_counts& counts() const noexcept { return counts_; }

 private:
  void prune_back(session_time now, std::optional<std::chrono::minutes> timeout);

  id_source new_id_;
  std::deque<server_session> sessions_;  // front: most recently returned
  std::uint64_t generation_ = 0;
  server_session_counts counts_;
};

}  // namespace mongowire::detail
