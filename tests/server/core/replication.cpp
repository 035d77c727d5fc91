// Replication between the members of a test replica set: a secondary fetches its sync
// source's oplog before each command it handles and applies every entry replication_lag
// after its commit (mongod's oplog fetcher and applier; fetching on demand is the same to
// clients, which only see a member when they send it a command). Reads with
// afterClusterTime/atClusterTime wait until the member has applied that time (mongod's
// waitUntilOpTimeForRead); a primary's write concern that needs a secondary waits for the lag.
// replSetStepDown and replSetFreeze hand elections to whoever holds the member list.
#include <algorithm>

#include "core/core_impl.hpp"

namespace mongowire::testd {

std::int64_t server_core::impl::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count();
}

// The source's oplog keeps what this member has not fetched (history.cpp); never both locks
// at once: members fetch from each other.
void server_core::set_sync_source(server_core* source) {
  server_core* old = nullptr;
  std::string member;
  bson::timestamp position;
  {
    std::lock_guard lock(impl_->mutex);
    old = impl_->sync_source;
    impl_->sync_source = source == this ? nullptr : source;
    source = impl_->sync_source;
    member = impl_->me();
    position = impl_->last_fetched;
  }
  if (old && old != source) {
    std::lock_guard lock(old->impl_->mutex);
    old->impl_->store.forget_oplog_reader(member);
  }
  if (source) {
    std::lock_guard lock(source->impl_->mutex);
    source->impl_->store.note_oplog_reader(member, position);
  }
}

void server_core::impl::fetch_oplog() {
  impl* source = nullptr;
  bson::timestamp after;
  std::string member;
  {
    std::lock_guard lock(mutex);
    if (options.role != member_role::secondary || !sync_source) return;
    source = sync_source->impl_.get();
    after = last_fetched;
    member = me();
  }
  std::vector<oplog_entry> entries;
  {
    std::lock_guard lock(source->mutex);  // never while holding our own: members fetch from each other
    // What this member holds for sure (a concurrent fetch may still discard these entries).
    source->store.note_oplog_reader(member, after);
    entries = source->store.oplog_after(after);
  }
  if (entries.empty()) return;
  std::lock_guard lock(mutex);
  // The sync source changed, or another connection fetched meanwhile: the next command fetches.
  if (!sync_source || sync_source->impl_.get() != source || !(last_fetched == after)) return;
  for (auto& e : entries) fetched.push_back(std::move(e));
  last_fetched = fetched.back().ts;
}

// Entries of one commit share their wall clock, so a transaction is applied whole.
void server_core::impl::apply_due_oplog() {
  if (fetched.empty()) return;
  const std::int64_t due = now_ms() - options.replication_lag.count();
  while (!fetched.empty() && fetched.front().wall_ms <= due) {
    apply_oplog_entry(fetched.front());
    fetched.pop_front();
  }
}

void server_core::impl::apply_fetched_oplog() {
  for (const auto& e : fetched) apply_oplog_entry(e);
  fetched.clear();
}

void server_core::impl::apply_oplog_entry(const oplog_entry& e) {
  store.apply(e);
  if (e.op == oplog_entry::kind::session) apply_session_entry(e);
}

// The applier writes config.transactions for each entry carrying lsid/txnNumber (mongod's
// SessionUpdateTracker), so that a member elected later answers a retried statement from the
// record (retryable-writes.md: at-most-once across failover) and a retried commitTransaction
// of a committed transaction with ok (transactions.md "Retrying commitTransaction"); an older
// txnNumber then gets TransactionTooOld. A secondary holds no open transaction to abort.
void server_core::impl::apply_session_entry(const oplog_entry& e) {
  auto [it, fresh] = sessions.try_emplace(e.lsid);
  auto& s = it->second;
  if (fresh) s.replicated_only = true;
  if (e.txn_number < s.txn_number) return;
  const txn_phase phase = e.stmt_id ? txn_phase::none : txn_phase::committed;
  if (e.txn_number > s.txn_number || (phase == txn_phase::none) != (s.phase == txn_phase::none)) {
    if (s.phase == txn_phase::in_progress) abort_transaction_of(s);
    const auto user = s.user;
    const bool replicated_only = s.replicated_only;
    s = session_state{};
    s.txn_number = e.txn_number;
    s.user = user;
    s.replicated_only = replicated_only;
  }
  s.phase = phase;
  if (e.stmt_id && e.doc) s.statements[*e.stmt_id] = *e.doc;
  if (s.replicated_only) s.last_use = now();
}

namespace {

// The newest fetched entry at or before `t`, if this member has not applied it yet.
const oplog_entry* unapplied_at_or_before(const std::deque<oplog_entry>& fetched, bson::timestamp t) {
  const oplog_entry* last = nullptr;
  for (const auto& e : fetched) {
    if (t < e.ts) break;
    last = &e;
  }
  return last;
}

}  // namespace

// read_concern.cpp waitForReadConcern: on a secondary, a read at or after a cluster time this
// member has fetched but not applied waits (up to maxTimeMS) and runs again. A time beyond
// everything the sync source has is not waited for (mongod would wait for the cluster).
bool server_core::impl::wait_for_cluster_time(op_context& op) {
  auto& ctx = *op.conn;
  const oplog_entry* needed = nullptr;
  if (options.role == member_role::secondary && !fetched.empty())
    if (auto rc = op.cmd["readConcern"].as_document()) {
      auto t = (*rc)["afterClusterTime"].as_timestamp();
      if (!t) t = (*rc)["atClusterTime"].as_timestamp();
      if (t) needed = unapplied_at_or_before(fetched, *t);
    }
  if (!needed) {
    ctx.wait_deadline_ms = 0;
    return false;
  }
  const std::int64_t now = now_ms();
  std::int64_t wait = std::max<std::int64_t>(1, needed->wall_ms + options.replication_lag.count() - now);
  if (ctx.wait_deadline_ms == 0)
    if (auto max = op.cmd["maxTimeMS"].as_integer(); max && *max > 0) ctx.wait_deadline_ms = now + *max;
  if (ctx.wait_deadline_ms != 0) {
    if (now >= ctx.wait_deadline_ms) {
      ctx.wait_deadline_ms = 0;
      throw command_error(code::max_time_ms_expired, "operation exceeded time limit");
    }
    wait = std::min(wait, ctx.wait_deadline_ms - now);
  }
  ctx.block_ms = wait;
  ctx.run_again = true;
  return true;
}

// write_concern.cpp waitForWriteConcern: w: "majority" (mongod's default) or w > 1 is
// satisfied once a secondary has applied the write, replication_lag after it.
void server_core::impl::wait_for_secondaries(const op_context& op) {
  if (options.role != member_role::primary || options.hosts.size() < 2 || options.replication_lag.count() <= 0) return;
  if (op.in_txn() && !is_commit_or_abort(op.name)) return;  // statements of a transaction take no write concern
  auto wc = op.cmd["writeConcern"].as_document();
  auto w = wc ? (*wc)["w"] : bson::element{};
  const bool needs_secondary = !w || w.as_string() || w.as_integer().value_or(1) > 1;
  if (needs_secondary) op.conn->block_ms += options.replication_lag.count();
}

void server_core::set_election_handler(std::function<void()> handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->election_handler = std::move(handler);
}

bool server_core::electable() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->options.role == member_role::secondary && impl_->now() >= impl_->frozen_until;
}

namespace {

void require_admin(const op_context& op) {
  if (op.db != "admin")
    throw command_error(code::unauthorized, op.name + " may only be run against the admin database.");
}

double seconds_field(const op_context& op, std::string_view field, double fallback) {
  auto e = op.cmd[field];
  if (!e) return fallback;
  auto n = e.as_number();
  if (!n || *n < 0) throw command_error(code::bad_value, "'" + std::string(field) + "' must be a non-negative number");
  return *n;
}

}  // namespace

// repl_set_commands.cpp CmdReplSetStepDown (4.2+: no connection is closed): the primary steps
// down at once (its transactions are aborted) and an election follows.
void server_core::impl::cmd_repl_set_step_down(op_context& op, bson::document&) {
  require_admin(op);
  const double step_down = seconds_field(op, "replSetStepDown", 60);
  if (seconds_field(op, "secondaryCatchUpPeriodSecs", std::min(10.0, step_down)) > step_down)
    throw command_error(code::bad_value, "stepdown period must be longer than secondaryCatchUpPeriodSecs");
  if (options.role != member_role::primary)
    throw command_error(code::not_writable_primary, "not primary so can't step down");
  // Without force mongod waits for a secondary to catch up; a set of one has none.
  if (options.hosts.size() < 2 && !op.cmd["force"].as_truthy().value_or(false))
    throw command_error(code::exceeded_time_limit,
                        "No electable secondaries caught up. Please use the replSetStepDown command with the argument "
                        "{force: true} to force node to step down.");
  change_role(member_role::secondary);
  options.primary.clear();
  ++topology_counter;
  if (topology_listener) topology_listener();  // posts to the network layer: safe under the lock
  if (election_handler) election_handler();
}

// CmdReplSetFreeze: a secondary that may not be elected for the given seconds (0: unfreeze).
void server_core::impl::cmd_repl_set_freeze(op_context& op, bson::document& reply) {
  require_admin(op);
  const double seconds = seconds_field(op, "replSetFreeze", 0);
  if (options.role == member_role::primary)
    throw command_error(code::not_secondary, "cannot freeze node when primary or running for election. state: Primary");
  frozen_until = now() + std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
  if (seconds == 0) reply.append("info", "unfreezing");
}

}  // namespace mongowire::testd
