#include "core/query_plan.hpp"

#include "core/command_error.hpp"
#include "query/query.hpp"

namespace mongowire::testd {
namespace {

// Same field names in the same order with equal values (1 == 1.0, as mongod compares them).
bool same_pattern(bson::view a, bson::view b) {
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end() && ib != b.end(); ++ia, ++ib)
    if ((*ia).key() != (*ib).key() || query::compare_values(*ia, *ib) != 0) return false;
  return ia == a.end() && ib == b.end();
}

bool same_fields(bson::view a, bson::view b) {
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end() && ib != b.end(); ++ia, ++ib)
    if ((*ia).key() != (*ib).key()) return false;
  return ia == a.end() && ib == b.end();
}

const index_spec* index_led_by(const collection& c, std::string_view field) {
  for (const auto& ix : c.indexes)
    if (ix.key.get_view().first_key() == field) return &ix;
  return nullptr;
}

// The first top-level field of the filter that is not an operator ($and, $or, ...).
std::string_view first_filter_field(bson::view filter) {
  for (auto e : filter)
    if (!e.key().starts_with('$')) return e.key();
  return {};
}

// -1, 0, 1: `key` against `bound`, field by field, each field in its index direction.
int compare_key(const index_spec& ix, bson::view key, bson::view bound) {
  auto k = key.begin(), b = bound.begin();
  for (auto dir : ix.key.get_view()) {
    if (k == key.end() || b == bound.end()) break;
    int c = query::compare_values(*k, *b);
    if (dir.as_number().value_or(1) < 0) c = -c;
    if (c != 0) return c < 0 ? -1 : 1;
    ++k;
    ++b;
  }
  return 0;
}

}  // namespace

const index_spec* plan_index(const collection& c, bson::element hint, bson::view filter, bson::view sort) {
  if (hint) {
    auto pattern = hint.as_document();
    if (pattern && pattern->first_key() == "$natural") return nullptr;  // a forced collection scan
    for (const auto& ix : c.indexes) {
      if (auto name = hint.as_string(); name && ix.name == *name) return &ix;
      if (pattern && same_pattern(ix.key.get_view(), *pattern)) return &ix;
    }
    throw command_error(code::bad_value,
                        "error processing query: planner returned error :: caused by :: hint provided does not "
                        "correspond to an existing index");
  }
  if (!sort.empty())
    if (auto* ix = index_led_by(c, sort.first_key())) return ix;
  if (auto field = first_filter_field(filter); !field.empty()) return index_led_by(c, field);
  return nullptr;
}

void check_min_max(const index_spec* hinted, bson::view min, bson::view max) {
  if (min.empty() && max.empty()) return;
  if (!hinted)
    throw command_error(51173,
                        "error processing query: planner returned error :: caused by :: When using min()/max() "
                        "a hint of which index to use must be provided");
  for (auto bound : {min, max})
    if (!bound.empty() && !same_fields(hinted->key.get_view(), bound))
      throw command_error(51174,
                          "error processing query: planner returned error :: caused by :: The index chosen is "
                          "not compatible with min/max");
}

bool in_min_max_range(const index_spec& ix, bson::view doc, bson::view min, bson::view max) {
  const bson::document key = index_key(ix, doc);
  if (!min.empty() && compare_key(ix, key.get_view(), min) < 0) return false;
  if (!max.empty() && compare_key(ix, key.get_view(), max) >= 0) return false;
  return true;
}

}  // namespace mongowire::testd
