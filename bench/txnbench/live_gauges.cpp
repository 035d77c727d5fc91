#include "live_gauges.hpp"

#include <algorithm>
#include <cstdio>

namespace txnbench {

void live_gauges::publish(values& last, const mongowire::client_gauges& now) noexcept {
  const values v{static_cast<std::int64_t>(now.sessions.in_use), static_cast<std::int64_t>(now.wait_queue),
                 static_cast<std::int64_t>(now.write_conflicts)};
  sessions_in_use_.fetch_add(v.sessions_in_use - last.sessions_in_use, std::memory_order_relaxed);
  wait_queue_.fetch_add(v.wait_queue - last.wait_queue, std::memory_order_relaxed);
  write_conflicts_.fetch_add(v.write_conflicts - last.write_conflicts, std::memory_order_relaxed);
  published_.store(true, std::memory_order_release);
  last = v;
}

std::optional<live_gauges::values> live_gauges::read() const noexcept {
  if (!published_.load(std::memory_order_acquire)) return std::nullopt;
  return values{sessions_in_use_.load(std::memory_order_relaxed), wait_queue_.load(std::memory_order_relaxed),
                write_conflicts_.load(std::memory_order_relaxed)};
}

std::string progress_gauges(const live_gauges& g) {
  const auto v = g.read();
  if (!v) return {};
  char buf[128];
  std::snprintf(buf, sizeof buf, " sessions %4lld  waitq %4lld  conflicts %6lld ",
                static_cast<long long>(v->sessions_in_use), static_cast<long long>(v->wait_queue),
                static_cast<long long>(v->write_conflicts));
  return buf;
}

namespace {

void merge_pool(mongowire::pool_gauges& into, const mongowire::pool_gauges& from) {
  into.total += from.total;
  into.in_use += from.in_use;
  into.idle += from.idle;
  into.pending += from.pending;
  into.wait_queue += from.wait_queue;
  into.pinned_transaction += from.pinned_transaction;
  into.pinned_cursor += from.pinned_cursor;
  into.generation = std::max(into.generation, from.generation);
  into.clears.insert(into.clears.end(), from.clears.begin(), from.clears.end());
  std::sort(into.clears.begin(), into.clears.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
}

void merge_conflicts(std::vector<mongowire::namespace_count>& into,
                     const std::vector<mongowire::namespace_count>& from) {
  for (const auto& f : from) {
    auto it = std::find_if(into.begin(), into.end(), [&](const auto& e) { return e.ns == f.ns; });
    if (it == into.end()) {
      into.push_back(f);
    } else {
      it->count += f.count;
      it->overcount += f.overcount;
    }
  }
  std::sort(into.begin(), into.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
}

}  // namespace

void merge_gauges(mongowire::client_gauges& into, const mongowire::client_gauges& from) {
  auto& s = into.sessions;
  s.in_use += from.sessions.in_use;
  s.pooled += from.sessions.pooled;
  s.created += from.sessions.created;
  s.discarded_dirty += from.sessions.discarded_dirty;
  s.discarded_expired += from.sessions.discarded_expired;
  s.discarded_stale += from.sessions.discarded_stale;
  for (const auto& p : from.pools) {
    auto it = std::find_if(into.pools.begin(), into.pools.end(), [&](const auto& e) { return e.address == p.address; });
    if (it == into.pools.end()) into.pools.push_back(p);
    else merge_pool(*it, p);
  }
  into.wait_queue += from.wait_queue;
  into.write_conflicts += from.write_conflicts;
  merge_conflicts(into.write_conflicts_by_namespace, from.write_conflicts_by_namespace);
}

}  // namespace txnbench
