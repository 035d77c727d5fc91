// Sort specifications: mongod's SortPattern and sort key generation (an array contributes
// its elements: the smallest for ascending, the largest for descending).
#include "query/detail.hpp"

#include <fmt/format.h>

namespace mongowire::testd::query {
namespace {

// Stand-ins for a missing field (null) and an empty array (sorts below null: manual,
// "Comparison/Sort Order", arrays).
const bson::document& special_keys() {
  static const bson::document keys = [] {
    bson::document d;
    d.append_null("null");
    bson_append_undefined(d.raw(), "undefined", -1);
    return d;
  }();
  return keys;
}

bson::element sort_key(bson::view doc, const std::vector<std::string>& parts, bool ascending) {
  bson::element best;
  auto consider = [&](const bson::element& e) {
    if (!best) {
      best = e;
      return;
    }
    int c = compare_values(e, best);
    if (ascending ? c < 0 : c > 0) best = e;
  };
  detail::visit_path(doc, parts, true, true, [&](const bson::element& e, bool whole_array) {
    if (!e) consider(special_keys().find("null"));
    else if (!whole_array) consider(e);
    else if (e.as_array()->empty()) consider(special_keys().find("undefined"));
    return false;
  });
  return best ? best : special_keys().find("null");
}

}  // namespace

std::variant<sort_spec, query_error> sort_spec::compile(bson::view spec) {
  sort_spec s;
  for (auto e : spec) {
    if (e.key().empty()) return detail::make_error(40352, "FieldPath cannot be constructed with empty string");
    if (auto d = e.as_document(); d && d->contains("$meta"))
      return detail::bad_value("$meta sort keys are not supported by the mongowire test server");
    auto n = e.as_number();
    if (!n || (*n != 1.0 && *n != -1.0))
      return detail::make_error(15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    s.keys_.push_back({std::string(e.key()), *n == 1.0});
  }
  return s;
}

bool sort_spec::less(bson::view a, bson::view b) const {
  for (auto& k : keys_) {
    auto parts = detail::split_path(k.path);
    int c = compare_values(sort_key(a, parts, k.ascending), sort_key(b, parts, k.ascending));
    if (c != 0) return k.ascending ? c < 0 : c > 0;
  }
  return false;
}

}  // namespace mongowire::testd::query
