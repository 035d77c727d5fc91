// Snapshot history retention, as mongod keeps it: committed versions stay readable for
// minSnapshotHistoryWindowInSeconds behind the newest commit (WiredTiger's oldest timestamp,
// set from the stable timestamp) and for as long as an open transaction reads at an older
// snapshot; anything older is dropped, and reads before the oldest timestamp fail with
// SnapshotTooOld. The oplog keeps what a member replicating from here has not fetched yet,
// and otherwise the window, or at most its cap (mongod caps it by size, and never truncates
// what the majority still needs). Pruning follows the versions added since the last pass:
// its work is proportional to the writes, never to the data.
#include <algorithm>
#include <cstdio>

#include "core/core_impl.hpp"

namespace mongowire::testd {

// ---------------------------------------------------------------- storage

bson::timestamp storage::oldest_timestamp() const noexcept {
  bson::timestamp behind_window{0, 0};
  const auto window = static_cast<std::uint64_t>(std::max<std::int64_t>(history_window_s_, 0));
  if (last_ts_.t > window) behind_window = {last_ts_.t - static_cast<std::uint32_t>(window), last_ts_.i};
  return std::max(oldest_ts_, behind_window);
}

void storage::note_new_version(std::string_view ns, record_id rid, const record& r, bson::timestamp ts) {
  ++changes_since_prune_;
  if (r.history.size() < 2 && r.history.back().doc) return;  // nothing older to drop, nothing deleted
  prune_candidates_.push_back({std::string(ns), rid, ts});
}

void storage::prune(std::optional<bson::timestamp> oldest_reader) {
  changes_since_prune_ = 0;
  oldest_ts_ = oldest_timestamp();
  const auto horizon = oldest_reader ? std::min(*oldest_reader, oldest_ts_) : oldest_ts_;
  // Candidates arrive in commit order: the first one the horizon has not passed ends the pass.
  while (!prune_candidates_.empty() && prune_candidates_.front().ts <= horizon) {
    const auto& c = prune_candidates_.front();
    prune_record(c.ns, c.rid, horizon);
    prune_candidates_.pop_front();
  }
  truncate_oplog(oldest_ts_);
}

void storage::prune_record(std::string_view ns, record_id rid, bson::timestamp horizon) {
  auto* c = find_any(ns);
  if (!c) return;  // dropped since
  auto it = c->records.find(rid);
  if (it == c->records.end()) return;
  auto& h = it->second.history;
  // The newest version at or before the horizon is what the oldest reader sees; nobody sees
  // the ones before it.
  auto keep = std::upper_bound(h.begin(), h.end(), horizon,
                               [](const bson::timestamp& ts, const doc_version& v) { return ts < v.ts; });
  if (keep == h.begin()) return;
  --keep;
  if (keep->doc || keep + 1 != h.end() || it->second.pending_owner != 0) {
    h.erase(h.begin(), keep);
    return;
  }
  // Deleted before every reader's snapshot and not written since: the record goes, and its
  // _id index entry with it (a later insert of that _id is a new record).
  for (const auto& v : h)
    if (v.doc) {
      forget_id(*c, *v.doc, rid);
      break;
    }
  c->records.erase(it);
}

void storage::note_oplog_reader(const std::string& member, bson::timestamp fetched) {
  oplog_readers_[member] = fetched;
}

void storage::truncate_oplog(bson::timestamp window_horizon) {
  std::optional<bson::timestamp> fetched_by_all;
  for (const auto& [member, fetched] : oplog_readers_)
    fetched_by_all = fetched_by_all ? std::min(*fetched_by_all, fetched) : fetched;
  auto droppable = [&](const oplog_entry& e) {
    if (fetched_by_all && *fetched_by_all < e.ts) return false;  // a member still has to fetch it
    return e.ts < window_horizon || oplog_.size() > oplog_cap_;
  };
  while (!oplog_.empty() && droppable(oplog_.front())) oplog_.pop_front();
}

storage::statistics storage::stats() const {
  statistics s;
  for (const auto& [ns, c] : collections_)
    for (const auto& [rid, r] : c.records) {
      ++s.records;
      for (const auto& v : r.history) {
        ++s.versions;
        if (v.doc) s.bytes += static_cast<std::int64_t>(v.doc->size());
      }
      if (r.pending) s.bytes += static_cast<std::int64_t>(r.pending->size());
    }
  for (const auto& e : oplog_) {
    ++s.oplog_entries;
    if (e.doc) s.bytes += static_cast<std::int64_t>(e.doc->size());
  }
  return s;
}

// ---------------------------------------------------------------- server core

namespace {

std::string timestamp_text(bson::timestamp ts) {
  return "Timestamp(" + std::to_string(ts.t) + ", " + std::to_string(ts.i) + ")";
}

// /proc/self/status VmRSS and VmSize in kB (0 where unavailable).
std::pair<std::int64_t, std::int64_t> process_memory_kb() {
  std::pair<std::int64_t, std::int64_t> kb{0, 0};
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return kb;
  char line[256];
  while (std::fgets(line, sizeof line, f)) {
    long long v = 0;
    if (std::sscanf(line, "VmRSS: %lld kB", &v) == 1) kb.first = v;
    else if (std::sscanf(line, "VmSize: %lld kB", &v) == 1) kb.second = v;
  }
  std::fclose(f);
  return kb;
}

constexpr std::string_view kHistoryWindow = "minSnapshotHistoryWindowInSeconds";

}  // namespace

void server_core::impl::prune_history() {
  if (!store.prune_due()) return;
  std::optional<bson::timestamp> oldest_reader;  // open transactions keep their snapshot readable
  for (const auto& [key, s] : sessions)
    if (s.phase == txn_phase::in_progress && s.snapshot)
      oldest_reader = oldest_reader ? std::min(*oldest_reader, *s.snapshot) : *s.snapshot;
  store.prune(oldest_reader);
}

// wiredtiger_recovery_unit.cpp: a read timestamp before the oldest timestamp is refused.
void server_core::impl::check_snapshot_available(const op_context& op) {
  if (!op.at_cluster_time || !(*op.at_cluster_time < store.oldest_timestamp())) return;
  ++snapshot_too_old_errors;
  throw command_error(code::snapshot_too_old, "Read timestamp " + timestamp_text(*op.at_cluster_time) +
                                                  " is older than the oldest available timestamp.");
}

// serverStatus mem (MiB, as mongod reports it) and the storage engine's figures.
void server_core::impl::append_memory_status(bson::document& reply) const {
  const auto [rss_kb, virtual_kb] = process_memory_kb();
  reply.append_document("mem", [&](bson::document& mem) {
    mem.append("bits", std::int32_t{64});
    mem.append("resident", rss_kb / 1024);
    mem.append("virtual", virtual_kb / 1024);
    mem.append("supported", rss_kb > 0);
  });
  const auto s = store.stats();
  reply.append_document("wiredTiger", [&](bson::document& wt) {
    wt.append_document("cache", [&](bson::document& cache) { cache.append("bytes currently in the cache", s.bytes); });
    wt.append_document("snapshot-window-settings", [&](bson::document& w) {
      w.append("total number of SnapshotTooOld errors", snapshot_too_old_errors);
      w.append("minimum target snapshot window size in seconds", store.history_window());
    });
  });
}

namespace {

void require_admin(const op_context& op) {
  if (op.db != "admin")
    throw command_error(code::unauthorized, op.name + " may only be run against the admin database.");
}

}  // namespace

// set_parameter.cpp CmdSet: every field but the command's own names a runtime parameter;
// the reply carries the old value as `was`.
void server_core::impl::cmd_set_parameter(op_context& op, bson::document& reply) {
  require_admin(op);
  int set = 0;
  for (auto e : op.cmd) {
    auto key = e.key();
    if (key == "setParameter" || key.starts_with('$') || key == "lsid" || key == "comment") continue;
    if (key != kHistoryWindow)
      throw command_error(code::invalid_options, "attempted to set unrecognized parameter [" + std::string(key) +
                                                     "], use help:true to see options ");
    auto n = e.as_number();
    if (!n || *n != static_cast<double>(static_cast<std::int64_t>(*n)) || *n > 2147483647.0)
      throw command_error(code::bad_value, "Invalid value for parameter " + std::string(key) + ": expected an int");
    if (*n < 0)
      throw command_error(code::bad_value, "Invalid value for parameter " + std::string(key) + ": " +
                                               std::to_string(static_cast<std::int64_t>(*n)) +
                                               " is not greater than or equal to 0");
    reply.append("was", static_cast<std::int32_t>(store.history_window()));
    store.set_history_window(static_cast<std::int64_t>(*n));
    ++set;
  }
  if (set == 0) throw command_error(code::invalid_options, "no option found to set, use help:true to see options ");
}

// getParameter: the named parameters ('*' for all) this server has.
void server_core::impl::cmd_get_parameter(op_context& op, bson::document& reply) {
  require_admin(op);
  const bool all = op.cmd["getParameter"].as_string().value_or("") == "*";
  if (all || op.cmd.contains(kHistoryWindow))
    reply.append(kHistoryWindow, static_cast<std::int32_t>(store.history_window()));
  else throw command_error(code::invalid_options, "no option found to get");
}

}  // namespace mongowire::testd
