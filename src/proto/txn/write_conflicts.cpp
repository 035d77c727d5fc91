#include "proto/txn/write_conflicts.hpp"

#include <algorithm>

namespace mongowire::detail {
namespace {

// The collection a command acts on: its first value when that is a string ({insert: "c"}),
// else none ({commitTransaction: 1}, {aggregate: 1}).
std::string_view collection_of(bson::view body) {
  for (const auto& e : body) return e.as_string().value_or(std::string_view());
  return {};
}

bool names(std::string_view ns, std::string_view db, std::string_view coll) noexcept {
  if (coll.empty()) return ns == db;
  return ns.size() == db.size() + 1 + coll.size() && ns.starts_with(db) && ns[db.size()] == '.' && ns.ends_with(coll);
}

}  // namespace

bool reports_write_conflict(const diagnostics& diag) noexcept {
  if (diag.server_code == server_code::write_conflict) return true;
  return std::any_of(diag.write_errors.begin(), diag.write_errors.end(),
                     [](const write_error& w) { return w.code == server_code::write_conflict; });
}

namespace_count* write_conflict_counter::find(std::string_view db, std::string_view coll) noexcept {
  for (auto& e : entries_)
    if (names(e.ns, db, coll)) return &e;
  return nullptr;
}

void write_conflict_counter::add(std::string_view db, bson::view body) {
  ++total_;
  const std::string_view coll = collection_of(body);
  if (auto* e = find(db, coll)) {
    ++e->count;
    return;
  }
  namespace_count* slot = nullptr;
  std::uint64_t inherited = 0;
  if (entries_.size() < capacity_) {
    slot = &entries_.emplace_back();
  } else {  // Space-Saving: the least counted makes room and lends its count
    slot = &*std::min_element(entries_.begin(), entries_.end(),
                              [](const namespace_count& a, const namespace_count& b) { return a.count < b.count; });
    inherited = slot->count;
  }
  slot->ns.assign(db);
  if (!coll.empty()) slot->ns.append(".").append(coll);
  slot->count = inherited + 1;
  slot->overcount = inherited;
}

void write_conflict_counter::top(std::vector<namespace_count>& out) const {
  out.assign(entries_.begin(), entries_.end());  // copy-assigns into `out`'s strings: no allocation once warm
  std::sort(out.begin(), out.end(), [](const namespace_count& a, const namespace_count& b) {
    return a.count != b.count ? a.count > b.count : a.ns < b.ns;
  });
}

}  // namespace mongowire::detail
