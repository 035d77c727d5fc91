#include "core/storage.hpp"

#include <algorithm>
#include <random>

#include "core/command_error.hpp"
#include "query/query.hpp"

namespace mongowire::testd {
namespace {

const std::string kWriteConflictMessage =
    "WriteConflict error: this operation conflicted with another operation. Please retry your "
    "operation or multi-document transaction.";

bool keys_equal(bson::view a, bson::view b) {
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end() && ib != b.end(); ++ia, ++ib)
    if (query::compare_values(*ia, *ib) != 0) return false;
  return ia == a.end() && ib == b.end();
}

// mongod prints the key in shell notation: { _id: 1 }, { a: "x" }.
std::string shell_notation(bson::view key) {
  std::string out = "{ ";
  bool first = true;
  for (auto e : key) {
    if (!first) out += ", ";
    first = false;
    out += std::string(e.key()) + ": ";
    bson::document one;
    one.append("v", e);
    auto json = one.get_view().to_relaxed_json();  // { "v" : <value> }
    auto colon = json.find(':');
    auto value = json.substr(colon + 2, json.size() - colon - 4);
    out += value;
  }
  return out + " }";
}

std::array<std::uint8_t, 16> random_uuid() {
  static std::mt19937_64 rng{std::random_device{}()};
  std::array<std::uint8_t, 16> u{};
  for (auto& b : u) b = static_cast<std::uint8_t>(rng());
  u[6] = static_cast<std::uint8_t>((u[6] & 0x0f) | 0x40);
  u[8] = static_cast<std::uint8_t>((u[8] & 0x3f) | 0x80);
  return u;
}

}  // namespace

std::string_view database_of(std::string_view ns) { return ns.substr(0, ns.find('.')); }

bson::document default_id_index(std::string_view) {
  bson::document spec;
  spec.append("v", std::int32_t{2});
  spec.append_document("key", [](bson::document& k) { k.append("_id", std::int32_t{1}); });
  spec.append("name", "_id_");
  return spec;
}

bool id_key_less::operator()(const bson::document& a, const bson::document& b) const {
  return query::compare_values(*a.get_view().begin(), *b.get_view().begin()) < 0;
}

namespace {
index_spec id_index_spec(std::string_view ns) {
  return {"_id_", bson::document::from_json(R"({"_id": 1})"), true, default_id_index(ns)};
}

bson::document id_key_of(bson::view doc) {
  bson::document key;
  if (auto id = doc["_id"]) key.append("", id);
  else key.append_null("");
  return key;
}
}  // namespace

std::optional<bson::document> storage::id_equality_key(bson::view filter) {
  auto id = filter["_id"];
  if (!id) return std::nullopt;
  switch (id.type()) {
    // Documents may be operator expressions, arrays match elements, regexes patterns:
    // those need the full scan.
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY:
    case BSON_TYPE_REGEX:
    case BSON_TYPE_NULL:
    case BSON_TYPE_UNDEFINED: return std::nullopt;
    default: break;
  }
  bson::document key;
  key.append("", id);
  return key;
}

bson::document index_key(const index_spec& ix, bson::view doc) {
  bson::document key;
  for (auto field : ix.key.get_view()) {
    auto v = doc.find_path(field.key());
    if (v) key.append(field.key(), v);
    else key.append_null(field.key());  // a missing field is indexed as null
  }
  return key;
}

bson::timestamp storage::allocate_timestamp(std::uint32_t now_seconds) {
  last_ts_ = now_seconds > last_ts_.t ? bson::timestamp{now_seconds, 1} : bson::timestamp{last_ts_.t, last_ts_.i + 1};
  last_write_wall_ms_ = wall_clock_ms_ ? wall_clock_ms_() : std::int64_t{now_seconds} * 1000;
  return last_ts_;
}

collection* storage::find_any(std::string_view ns) {
  auto it = collections_.find(ns);
  return it == collections_.end() ? nullptr : &it->second;
}

collection* storage::find_visible(std::string_view ns, const read_view& view) {
  auto* c = find_any(ns);
  if (!c) return nullptr;
  if (c->created_ts) return c;
  return view.self != 0 && c->creating_txn == view.self ? c : nullptr;
}

capped_limits capped_limits::from_create(std::int64_t size, std::optional<std::int64_t> max) {
  constexpr std::int64_t smallest = 4096, granule = 256;
  capped_limits l;
  l.size = size <= smallest ? smallest : (size + granule - 1) / granule * granule;
  if (max && *max > 0) l.max = max;  // 0 or negative: no document limit
  return l;
}

collection& storage::get_or_create(std::string_view ns, const write_context& wc, bool* created,
                                   std::optional<capped_limits> capped) {
  if (created) *created = false;
  if (auto* c = find_any(ns)) {
    if (c->created_ts || c->creating_txn == wc.txn) return *c;
    throw command_error(code::write_conflict, kWriteConflictMessage);
  }
  collection c;
  c.uuid = random_uuid();
  c.indexes.push_back(id_index_spec(ns));
  c.capped = capped;
  if (wc.txn != 0) {
    c.creating_txn = wc.txn;
    txns_[wc.txn].created_collections.insert(std::string(ns));
  } else {
    c.created_ts = wc.commit_ts;
  }
  if (created) *created = true;
  auto& stored = collections_.emplace(std::string(ns), std::move(c)).first->second;
  if (wc.txn == 0) log_created(ns, stored, wc.commit_ts);
  return stored;
}

bool storage::drop_collection(std::string_view ns, bson::timestamp ts) {
  auto it = collections_.find(ns);
  if (it == collections_.end()) return false;
  collections_.erase(it);
  if (recording_) log_entry(oplog_entry::kind::drop_collection, ts, ns);
  return true;
}

void storage::drop_database(std::string_view db, bson::timestamp ts) {
  std::erase_if(collections_, [&](auto& entry) { return database_of(entry.first) == db; });
  if (recording_) log_entry(oplog_entry::kind::drop_database, ts, db);
}

std::vector<std::string> storage::visible_collection_names(std::string_view db, const read_view& view) {
  std::vector<std::string> names;
  for (auto& [ns, c] : collections_) {
    if (database_of(ns) != db) continue;
    if (c.created_ts || (view.self != 0 && c.creating_txn == view.self)) names.push_back(ns.substr(db.size() + 1));
  }
  return names;
}

std::map<std::string, std::int64_t> storage::visible_database_sizes(const read_view& view) const {
  std::map<std::string, std::int64_t> sizes;
  for (auto& [ns, c] : collections_) {
    if (!c.created_ts && (view.self == 0 || c.creating_txn != view.self)) continue;
    auto& bytes = sizes[std::string(database_of(ns))];
    for_each_visible(c, view,
                     [&](record_id, const bson::document& d) { bytes += static_cast<std::int64_t>(d.size()); });
  }
  return sizes;
}

const bson::document* storage::visible(const record& r, const read_view& view) const {
  if (view.self != 0 && r.pending_owner == view.self) return r.pending ? &*r.pending : nullptr;
  for (auto it = r.history.rbegin(); it != r.history.rend(); ++it)
    if (it->ts <= view.snapshot) return it->doc ? &*it->doc : nullptr;
  return nullptr;
}

void storage::check_write_conflict(const record& r, const write_context& wc) const {
  // Another transaction holds an uncommitted version, or the document changed after our
  // snapshot was taken: WiredTiger reports WT_ROLLBACK, mongod a WriteConflict.
  if (r.pending_owner != 0 && r.pending_owner != wc.txn)
    throw command_error(code::write_conflict, kWriteConflictMessage);
  if (!r.history.empty() && r.history.back().ts > wc.view.snapshot)
    throw command_error(code::write_conflict, kWriteConflictMessage);
}

void storage::check_unique(const collection& c, std::string_view ns, record_id rid, bson::view doc,
                           const write_context& wc) const {
  for (auto& ix : c.indexes) {
    if (!ix.unique) continue;
    auto key = index_key(ix, doc);
    auto check_against = [&](const record& other) {
      if (auto* seen = visible(other, wc.view); seen && keys_equal(index_key(ix, *seen), key)) {
        bson::document extra;
        extra.append("keyPattern", ix.key);
        extra.append("keyValue", key);
        throw command_error(code::duplicate_key,
                            "E11000 duplicate key error collection: " + std::string(ns) + " index: " + ix.name +
                                " dup key: " + shell_notation(key),
                            std::move(extra));
      }
      bool others_pending = other.pending_owner != 0 && other.pending_owner != wc.txn && other.pending &&
                            keys_equal(index_key(ix, *other.pending), key);
      bool newer_commit = !other.history.empty() && other.history.back().ts > wc.view.snapshot &&
                          other.history.back().doc && keys_equal(index_key(ix, *other.history.back().doc), key);
      if (others_pending || newer_commit) throw command_error(code::write_conflict, kWriteConflictMessage);
    };
    if (&ix == &c.indexes.front()) {  // _id_: only records with the same _id can clash
      if (auto it = c.id_index.find(id_key_of(doc)); it != c.id_index.end())
        for (auto other_id : it->second)
          if (other_id != rid) check_against(c.records.at(other_id));
      continue;
    }
    for (auto& [other_id, other] : c.records)
      if (other_id != rid) check_against(other);
  }
}

void storage::stage(collection& c, std::string_view ns, record_id rid, std::optional<bson::document> doc,
                    const write_context& wc) {
  auto [it, is_new] = c.records.try_emplace(rid);
  if (is_new && doc) c.id_index[id_key_of(*doc)].push_back(rid);
  auto& r = it->second;
  if (wc.txn != 0) {
    if (r.pending_owner != wc.txn) txns_[wc.txn].records.emplace_back(std::string(ns), rid);
    // A record born and deleted in this transaction: nobody else ever sees its _id, and
    // neither commit nor abort still knows it.
    if (r.history.empty() && !doc && r.pending_owner == wc.txn && r.pending) forget_id(c, *r.pending, rid);
    r.pending_owner = wc.txn;
    r.pending = std::move(doc);
  } else {
    if (recording_) log_write(ns, rid, doc, wc.commit_ts);
    r.history.push_back({wc.commit_ts, std::move(doc)});
    note_new_version(ns, rid, r, wc.commit_ts);
  }
}

record_id storage::insert(collection& c, std::string_view ns, bson::document doc, const write_context& wc) {
  // mongod's collection_impl.cpp: a document larger than the capped size is refused.
  if (c.capped && std::int64_t(doc.size()) > c.capped->size)
    throw command_error(code::bad_value, "object to insert exceeds cappedMaxSize");
  record_id rid = c.next_record_id;
  check_unique(c, ns, rid, doc, wc);
  ++c.next_record_id;
  stage(c, ns, rid, std::move(doc), wc);
  if (c.capped) enforce_cap(c, ns, wc);
  return rid;
}

// A capped collection past its size or document limit loses its oldest documents (insertion
// order), as mongod's capped deletes do on insert; the removals go where the insert went (its
// transaction, or committed with it) and replicate like any delete.
void storage::enforce_cap(collection& c, std::string_view ns, const write_context& wc) {
  auto newest = [&](const record& r) -> const bson::document* {
    if (wc.txn != 0 && r.pending_owner == wc.txn) return r.pending ? &*r.pending : nullptr;
    return r.history.empty() || !r.history.back().doc ? nullptr : &*r.history.back().doc;
  };
  std::int64_t count = 0, bytes = 0;
  for (auto& [rid, r] : c.records)
    if (auto* d = newest(r)) ++count, bytes += std::int64_t(d->size());
  for (auto it = c.records.begin(); it != c.records.end() && count > 1; ++it) {
    if (bytes <= c.capped->size && (!c.capped->max || count <= *c.capped->max)) break;
    auto* d = newest(it->second);
    if (!d) continue;
    bytes -= std::int64_t(d->size());
    --count;
    remove(c, ns, it->first, wc);
  }
}

void storage::update(collection& c, std::string_view ns, record_id rid, bson::document doc, const write_context& wc) {
  check_write_conflict(c.records.at(rid), wc);
  check_unique(c, ns, rid, doc, wc);
  stage(c, ns, rid, std::move(doc), wc);
}

void storage::remove(collection& c, std::string_view ns, record_id rid, const write_context& wc) {
  check_write_conflict(c.records.at(rid), wc);
  stage(c, ns, rid, std::nullopt, wc);
}

bool storage::commit(txn_id txn, bson::timestamp ts) {
  auto it = txns_.find(txn);
  if (it == txns_.end()) return false;
  for (auto& ns : it->second.created_collections) {
    if (auto* c = find_any(ns); c && c->creating_txn == txn) {
      c->created_ts = ts;
      c->creating_txn = 0;
      log_created(ns, *c, ts);
    }
  }
  for (auto& [ns, rid] : it->second.records) {
    auto* c = find_any(ns);
    if (!c) continue;  // dropped meanwhile
    auto r = c->records.find(rid);
    if (r == c->records.end() || r->second.pending_owner != txn) continue;
    if (recording_) log_write(ns, rid, r->second.pending, ts);
    r->second.history.push_back({ts, std::move(r->second.pending)});
    r->second.pending_owner = 0;
    r->second.pending.reset();
    note_new_version(ns, rid, r->second, ts);
  }
  txns_.erase(it);
  return true;
}

void storage::forget_id(collection& c, bson::view doc, record_id rid) {
  auto it = c.id_index.find(id_key_of(doc));
  if (it == c.id_index.end()) return;
  std::erase(it->second, rid);
  if (it->second.empty()) c.id_index.erase(it);
}

void storage::abort(txn_id txn) {
  auto it = txns_.find(txn);
  if (it == txns_.end()) return;
  for (auto& [ns, rid] : it->second.records) {
    auto* c = find_any(ns);
    if (!c) continue;
    auto r = c->records.find(rid);
    if (r == c->records.end() || r->second.pending_owner != txn) continue;
    if (r->second.history.empty()) {
      if (r->second.pending) forget_id(*c, *r->second.pending, rid);
      c->records.erase(r);
    } else {
      r->second.pending_owner = 0;
      r->second.pending.reset();
    }
  }
  for (auto& ns : it->second.created_collections)
    if (auto* c = find_any(ns); c && c->creating_txn == txn) collections_.erase(collections_.find(ns));
  txns_.erase(it);
}

// ---------------------------------------------------------------- replication

// Entries are logged right after their commit's timestamp was allocated: they share its wall clock.
oplog_entry& storage::log_entry(oplog_entry::kind op, bson::timestamp ts, std::string_view ns) {
  auto& e = oplog_.emplace_back();
  ++changes_since_prune_;
  e.op = op;
  e.ts = ts;
  e.wall_ms = last_write_wall_ms_;
  e.ns = std::string(ns);
  return e;
}

void storage::log_write(std::string_view ns, record_id rid, const std::optional<bson::document>& doc,
                        bson::timestamp ts) {
  auto& e = log_entry(oplog_entry::kind::write, ts, ns);
  e.rid = rid;
  e.doc = doc;
}

void storage::log_created(std::string_view ns, const collection& c, bson::timestamp ts) {
  if (!recording_) return;
  auto& e = log_entry(oplog_entry::kind::create_collection, ts, ns);
  e.indexes = c.indexes;
  e.uuid = c.uuid;
  e.capped = c.capped;
}

void storage::index_created(const collection& c, std::string_view ns, const write_context& wc) {
  if (!recording_ || wc.txn != 0 || c.indexes.empty()) return;  // a transaction's: with its collection
  log_entry(oplog_entry::kind::create_index, wc.commit_ts, ns).indexes = {c.indexes.back()};
}

void storage::drop_indexes(collection& c, std::string_view ns, const std::vector<std::string>& names,
                           bson::timestamp ts) {
  std::vector<index_spec> dropped;
  std::erase_if(c.indexes, [&](const index_spec& ix) {
    if (std::find(names.begin(), names.end(), ix.name) == names.end()) return false;
    dropped.push_back(ix);
    return true;
  });
  if (recording_) log_entry(oplog_entry::kind::drop_indexes, ts, ns).indexes = std::move(dropped);
}

void storage::log_session(bson::timestamp ts, const std::string& lsid, std::int64_t txn_number,
                          std::optional<std::int32_t> stmt_id, const bson::document* result) {
  if (!recording_) return;
  auto& e = log_entry(oplog_entry::kind::session, ts, {});
  e.lsid = lsid;
  e.txn_number = txn_number;
  e.stmt_id = stmt_id;
  if (result) e.doc = *result;
}

std::vector<oplog_entry> storage::oplog_after(bson::timestamp after) const {
  auto first = std::upper_bound(oplog_.begin(), oplog_.end(), after,
                                [](const bson::timestamp& ts, const oplog_entry& e) { return ts < e.ts; });
  return {first, oplog_.end()};
}

void storage::apply(const oplog_entry& e) {
  switch (e.op) {
    case oplog_entry::kind::write: apply_write(e); break;
    case oplog_entry::kind::create_collection: apply_create(e); break;
    case oplog_entry::kind::create_index:
      if (auto* c = find_any(e.ns))
        for (const auto& ix : e.indexes)
          if (std::none_of(c->indexes.begin(), c->indexes.end(), [&](auto& x) { return x.name == ix.name; }))
            c->indexes.push_back(ix);
      break;
    case oplog_entry::kind::drop_indexes:
      if (auto* c = find_any(e.ns))
        for (const auto& ix : e.indexes) std::erase_if(c->indexes, [&](auto& x) { return x.name == ix.name; });
      break;
    case oplog_entry::kind::drop_collection: collections_.erase(std::string(e.ns)); break;
    case oplog_entry::kind::drop_database:
      std::erase_if(collections_, [&](auto& entry) { return database_of(entry.first) == e.ns; });
      break;
    case oplog_entry::kind::session: break;  // no data: the member's session table applies it
  }
  if (last_ts_ < e.ts) {
    last_ts_ = e.ts;
    last_write_wall_ms_ = e.wall_ms;
  }
  if (recording_) {
    oplog_.push_back(e);
    ++changes_since_prune_;
  }
}

void storage::apply_create(const oplog_entry& e) {
  if (auto* c = find_any(e.ns)) {
    if (!c->created_ts) c->created_ts = e.ts;
    return;
  }
  collection c;
  c.created_ts = e.ts;
  c.uuid = e.uuid;
  c.indexes = e.indexes;
  c.capped = e.capped;
  collections_.emplace(e.ns, std::move(c));
}

void storage::apply_write(const oplog_entry& e) {
  auto* c = find_any(e.ns);
  if (!c) {  // an entry of a collection this member never saw created: create it as the primary did
    oplog_entry created;
    created.ts = e.ts;
    created.ns = e.ns;
    created.indexes = {id_index_spec(e.ns)};
    apply_create(created);
    c = find_any(e.ns);
  }
  auto [it, is_new] = c->records.try_emplace(e.rid);
  if (is_new && e.doc) c->id_index[id_key_of(*e.doc)].push_back(e.rid);
  it->second.history.push_back({e.ts, e.doc});
  note_new_version(e.ns, e.rid, it->second, e.ts);
  c->next_record_id = std::max(c->next_record_id, e.rid + 1);
}

}  // namespace mongowire::testd
