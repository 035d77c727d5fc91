#include "proto/txn/server_session_pool.hpp"

#include <algorithm>
#include <random>
#include <utility>

namespace mongowire::detail {

session_id make_uuid_v4(std::array<std::uint8_t, 16> b) noexcept {
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);  // version 4 (random)
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // variant 10xx (RFC 4122)
  return b;
}

session_id random_lsid() {
  std::random_device rd;
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < bytes.size(); i += 4) {
    const std::uint32_t r = rd();
    for (std::size_t k = 0; k < 4; ++k) bytes[i + k] = static_cast<std::uint8_t>(r >> (8 * k));
  }
  return make_uuid_v4(bytes);
}

bson::document lsid_document(const session_id& id) {
  bson::document d;
  d.append("id", bson::binary_ref{BSON_SUBTYPE_UUID, std::span<const std::uint8_t>(id)});
  return d;
}

bool supports_sessions(const sdam::server_description& server) noexcept {
  return server.logical_session_timeout_minutes.has_value() || server.type == sdam::server_type::load_balancer;
}

bool about_to_expire(const server_session& s, session_time now,
                     std::optional<std::chrono::minutes> logical_session_timeout) noexcept {
  if (!logical_session_timeout) return false;
  const auto stale_at = s.last_use + *logical_session_timeout;
  return stale_at - now < std::chrono::minutes(1);
}

server_session_pool::server_session_pool(id_source new_id) : new_id_(std::move(new_id)) {}

server_session server_session_pool::acquire(session_time now, std::optional<std::chrono::minutes> timeout) {
  ++counts_.in_use;
  while (!sessions_.empty()) {
    server_session s = std::move(sessions_.front());
    sessions_.pop_front();
    if (!about_to_expire(s, now, timeout)) return s;
    ++counts_.discarded_expired;
  }
  // "Creating a ServerSession": lastUse is set to the current time.
  server_session fresh;
  fresh.id = new_id_();
  fresh.last_use = now;
  fresh.pool_generation = generation_;
  ++counts_.created;
  return fresh;
}

void server_session_pool::release(server_session s, session_time now, std::optional<std::chrono::minutes> timeout) {
  if (counts_.in_use > 0) --counts_.in_use;
  prune_back(now, timeout);
  if (s.dirty) ++counts_.discarded_dirty;
  else if (s.pool_generation != generation_) ++counts_.discarded_stale;
  else if (about_to_expire(s, now, timeout)) ++counts_.discarded_expired;
  else sessions_.push_front(std::move(s));
}

void server_session_pool::prune_back(session_time now, std::optional<std::chrono::minutes> timeout) {
  // "MUST stop checking server sessions once it encounters a server session that is not about to expire."
  while (!sessions_.empty() && about_to_expire(sessions_.back(), now, timeout)) {
    sessions_.pop_back();
    ++counts_.discarded_expired;
  }
}

void server_session_pool::clear() noexcept {
  counts_.discarded_stale += sessions_.size();
  sessions_.clear();
  ++generation_;
}

std::vector<std::vector<session_id>> server_session_pool::take_end_sessions_batches(std::size_t batch_limit) {
  batch_limit = std::max<std::size_t>(batch_limit, 1);
  std::vector<std::vector<session_id>> batches;
  for (std::size_t i = 0; i < sessions_.size(); i += batch_limit) {
    const std::size_t n = std::min(batch_limit, sessions_.size() - i);
    std::vector<session_id>& batch = batches.emplace_back();
    batch.reserve(n);
    for (std::size_t k = 0; k < n; ++k) batch.push_back(sessions_[i + k].id);
  }
  sessions_.clear();
  return batches;
}

}  // namespace mongowire::detail
