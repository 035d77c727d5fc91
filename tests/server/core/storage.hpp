// Multi-version in-memory storage for the test server. Every record keeps its committed
// versions with their commit timestamps, plus at most one uncommitted version owned by a
// transaction (WiredTiger's behaviour: a second writer conflicts at once). Readers see the
// newest committed version at or before their snapshot timestamp, and their own pending
// writes. Collections are versioned the same way (creation inside a transaction becomes
// visible at commit).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mongowire/bson.hpp"

namespace mongowire::testd {

using txn_id = std::uint64_t;  // 0: not a multi-document transaction
using record_id = std::uint64_t;

struct doc_version {
  bson::timestamp ts;
  std::optional<bson::document> doc;  // nullopt: deleted at ts
};

struct record {
  std::vector<doc_version> history;  // committed versions, ascending ts
  txn_id pending_owner = 0;
  std::optional<bson::document> pending;  // meaningful only when pending_owner != 0
};

struct index_spec {
  std::string name;
  bson::document key;  // {field: 1, ...}
  bool unique = false;
  bson::document spec;  // as listIndexes returns it
};

// create's capped options as mongod keeps them: the size in bytes (at least 4096, else rounded
// up to a multiple of 256, as the create command's documentation says) and the document limit.
struct capped_limits {
  std::int64_t size = 0;
  std::optional<std::int64_t> max;
  static capped_limits from_create(std::int64_t size, std::optional<std::int64_t> max);
};

// Orders {"": value} keys by BSON comparison, as mongod's _id index does (1 == 1.0).
struct id_key_less {
  bool operator()(const bson::document& a, const bson::document& b) const;
};

struct collection {
  std::optional<bson::timestamp> created_ts;  // nullopt while its creating transaction runs
  txn_id creating_txn = 0;
  std::map<record_id, record> records;  // natural order = insertion order
  std::vector<index_spec> indexes;      // indexes[0] is always _id_
  // The _id index: {"": _id} -> records ever holding that _id (a record's _id never changes,
  // so entries are only removed with their record). Lookups and uniqueness checks use it
  // instead of scanning the collection.
  std::map<bson::document, std::vector<record_id>, id_key_less> id_index;
  record_id next_record_id = 1;
  std::array<std::uint8_t, 16> uuid{};
  // create {capped: true, size, max?}: a capped collection, the only kind a tailable cursor
  // may read. An insert past either limit removes the oldest documents (storage::insert).
  std::optional<capped_limits> capped;
};

// What a reader sees: committed versions up to `snapshot`, and the pending writes of `self`.
struct read_view {
  bson::timestamp snapshot;
  txn_id self = 0;
};

// Where a write goes: staged in transaction `txn`, or committed at `commit_ts` when txn == 0.
struct write_context {
  read_view view;
  txn_id txn = 0;
  bson::timestamp commit_ts;
};

// One committed change, as the oplog records it for the secondaries (mongod's oplog fetcher
// and applier reduced to their effect: a record's new version, a collection or an index
// created, a drop, a session's transaction record). The entries of one timestamp (a
// transaction's commit) apply together.
struct oplog_entry {
  // session: what mongod's oplog entries carry in lsid/txnNumber/stmtId, which their
  // application writes to config.transactions; after the writes of its timestamp: a
  // retryable write's statement (doc: its result), or a transaction's commit.
  enum class kind { write, create_collection, create_index, drop_indexes, drop_collection, drop_database, session };
  kind op = kind::write;
  bson::timestamp ts;
  std::int64_t wall_ms = 0;           // wall clock of the commit (hello's lastWrite.lastWriteDate)
  std::string ns;                     // drop_database: the database name
  record_id rid = 0;                  // write: the record, the same on every member
  std::optional<bson::document> doc;  // write: the new version; nullopt: deleted
  std::vector<index_spec> indexes;    // create_collection: all its indexes; create_index: the new one;
                                      // drop_indexes: the dropped ones
  std::array<std::uint8_t, 16> uuid{};
  std::string lsid;                     // session: the session's key
  std::int64_t txn_number = -1;         // session: its txnNumber
  std::optional<std::int32_t> stmt_id;  // session: the retryable write's statement; none: a commit
  std::optional<capped_limits> capped;  // create_collection: a capped collection's limits
};

class storage {
 public:
  // Cluster time: strictly increasing, seconds from the injected clock.
  bson::timestamp last_committed() const noexcept { return last_ts_; }
  bson::timestamp allocate_timestamp(std::uint32_t now_seconds);

  collection* find_visible(std::string_view ns, const read_view& view);
  // Any collection, even one still being created by another transaction.
  collection* find_any(std::string_view ns);
  // Visible collection, or creates it (throws WriteConflict if another txn is creating it).
  // `capped`: the limits of a collection it creates.
  collection& get_or_create(std::string_view ns, const write_context& wc, bool* created = nullptr,
                            std::optional<capped_limits> capped = std::nullopt);
  std::vector<std::string> visible_collection_names(std::string_view db, const read_view& view);
  // Every database holding a visible collection -> the BSON bytes of its visible documents.
  std::map<std::string, std::int64_t> visible_database_sizes(const read_view& view) const;

  const bson::document* visible(const record& r, const read_view& view) const;

  template <class F>  // f(record_id, const bson::document&)
  void for_each_visible(const collection& c, const read_view& view, F&& f) const {
    for (auto& [rid, r] : c.records)
      if (auto* d = visible(r, view)) f(rid, *d);
  }

  // Writes. Throw command_error: WriteConflict (112) or DuplicateKey (11000).
  // Like for_each_visible, but only over the records that can match `filter`: those with
  // the filter's _id when it tests _id for equality with a plain value (an index lookup).
  template <class F>  // f(record_id, const bson::document&)
  void for_each_candidate(const collection& c, const read_view& view, bson::view filter, F&& f) const {
    if (auto key = id_equality_key(filter)) {
      auto it = c.id_index.find(*key);
      if (it == c.id_index.end()) return;
      for (auto rid : it->second)
        if (auto r = c.records.find(rid); r != c.records.end())
          if (auto* d = visible(r->second, view)) f(rid, *d);
      return;
    }
    for_each_visible(c, view, std::forward<F>(f));
  }
  static std::optional<bson::document> id_equality_key(bson::view filter);

  record_id insert(collection& c, std::string_view ns, bson::document doc, const write_context& wc);
  void update(collection& c, std::string_view ns, record_id rid, bson::document doc, const write_context& wc);
  void remove(collection& c, std::string_view ns, record_id rid, const write_context& wc);

  // Checks that `doc` may be stored in record `rid` under every unique index.
  void check_unique(const collection& c, std::string_view ns, record_id rid, bson::view doc,
                    const write_context& wc) const;

  txn_id begin_transaction() { return next_txn_++; }
  // false: the transaction wrote nothing (no oplog entry, as mongod commits a read-only one).
  bool commit(txn_id txn, bson::timestamp ts);
  void abort(txn_id txn);

  // Replication. While recording (members with secondaries, and secondaries, which may become
  // primary), every committed change is appended to the oplog. `wall_clock_ms` stamps entries
  // and the last write.
  void record_oplog(bool on) noexcept { recording_ = on; }
  void set_wall_clock(std::function<std::int64_t()> wall_clock_ms) { wall_clock_ms_ = std::move(wall_clock_ms); }
  // A session entry at `ts`, the timestamp of the writes it belongs to (while recording).
  // `result`: a retryable write statement's reply record, with `stmt_id`.
  void log_session(bson::timestamp ts, const std::string& lsid, std::int64_t txn_number,
                   std::optional<std::int32_t> stmt_id, const bson::document* result);
  // Copies of the entries after `after`, in order (whole timestamps).
  std::vector<oplog_entry> oplog_after(bson::timestamp after) const;
  // A secondary applies an entry of its sync source (and records it in its own oplog).
  void apply(const oplog_entry& e);
  // Drops at `ts` (recorded in the oplog).
  bool drop_collection(std::string_view ns, bson::timestamp ts);
  void drop_database(std::string_view db, bson::timestamp ts);
  // createIndexes outside a transaction: records the collection's newest index.
  void index_created(const collection& c, std::string_view ns, const write_context& wc);
  // dropIndexes: removes the indexes named `names` from `c` at `ts` (recorded in the oplog).
  void drop_indexes(collection& c, std::string_view ns, const std::vector<std::string>& names, bson::timestamp ts);
  // hello's lastWrite: the newest committed timestamp and the wall clock (ms) of its commit.
  std::int64_t last_write_wall_ms() const noexcept { return last_write_wall_ms_; }

  // History pruning (history.cpp). minSnapshotHistoryWindowInSeconds: how far behind the
  // newest commit a snapshot may still read.
  void set_history_window(std::int64_t seconds) noexcept { history_window_s_ = seconds; }
  std::int64_t history_window() const noexcept { return history_window_s_; }
  // Reads before it fail with SnapshotTooOld: the newest commit minus the window (mongod sets
  // WiredTiger's oldest timestamp from the stable one), never moving back.
  bson::timestamp oldest_timestamp() const noexcept;
  // Enough versions or oplog entries were added since the last pass to make one worthwhile.
  bool prune_due() const noexcept { return changes_since_prune_ >= prune_every; }
  // Drops the versions no reader at or after min(oldest_timestamp(), oldest_reader) can see,
  // and the oplog entries every member replicating from here has fetched that are older than
  // oldest_timestamp() or beyond the cap. Work is proportional to the versions added since.
  void prune(std::optional<bson::timestamp> oldest_reader);
  // A member replicating from this one and the newest entry it has fetched: the oplog keeps
  // what it has not fetched yet.
  void note_oplog_reader(const std::string& member, bson::timestamp fetched);
  void forget_oplog_reader(const std::string& member) { oplog_readers_.erase(member); }
  void set_oplog_cap(std::size_t entries) noexcept { oplog_cap_ = entries; }
  std::size_t oplog_size() const noexcept { return oplog_.size(); }
  struct statistics {
    std::int64_t records = 0, versions = 0, bytes = 0, oplog_entries = 0;
  };
  statistics stats() const;  // walks everything: for serverStatus, not per operation
  static constexpr std::size_t prune_every = 256;

 private:
  struct txn_writes {
    std::vector<std::pair<std::string, record_id>> records;
    std::set<std::string> created_collections;
  };
  void stage(collection& c, std::string_view ns, record_id rid, std::optional<bson::document> doc,
             const write_context& wc);
  void check_write_conflict(const record& r, const write_context& wc) const;
  void forget_id(collection& c, bson::view doc, record_id rid);
  void enforce_cap(collection& c, std::string_view ns, const write_context& wc);
  oplog_entry& log_entry(oplog_entry::kind op, bson::timestamp ts, std::string_view ns);
  void log_write(std::string_view ns, record_id rid, const std::optional<bson::document>& doc, bson::timestamp ts);
  void log_created(std::string_view ns, const collection& c, bson::timestamp ts);
  void apply_write(const oplog_entry& e);
  void apply_create(const oplog_entry& e);
  // A record that got a new version at `ts`: once the horizon passes ts, the older ones go.
  void note_new_version(std::string_view ns, record_id rid, const record& r, bson::timestamp ts);
  void prune_record(std::string_view ns, record_id rid, bson::timestamp horizon);
  void truncate_oplog(bson::timestamp window_horizon);
  struct prune_candidate {
    std::string ns;
    record_id rid = 0;
    bson::timestamp ts;
  };

  std::map<std::string, collection, std::less<>> collections_;
  std::map<txn_id, txn_writes> txns_;
  bson::timestamp last_ts_{0, 0};
  txn_id next_txn_ = 1;
  bool recording_ = false;
  std::deque<oplog_entry> oplog_;  // truncated from the front (history.cpp)
  std::function<std::int64_t()> wall_clock_ms_;
  std::int64_t last_write_wall_ms_ = 0;
  std::deque<prune_candidate> prune_candidates_;  // in commit order
  std::size_t changes_since_prune_ = 0;
  std::int64_t history_window_s_ = 300;  // mongod's default
  bson::timestamp oldest_ts_{0, 0};
  std::map<std::string, bson::timestamp, std::less<>> oplog_readers_;
  std::size_t oplog_cap_ = 100'000;
};

// "E11000 duplicate key error collection: ..." key document for index `ix` of `doc`.
bson::document index_key(const index_spec& ix, bson::view doc);
bson::document default_id_index(std::string_view ns);
std::string_view database_of(std::string_view ns);

}  // namespace mongowire::testd
