// Which index a find runs on, reduced from mongod's query planner (query_planner.cpp) to what
// the find options that depend on it need: hint, min/max and returnKey.
#pragma once

#include "core/storage.hpp"
#include "mongowire/bson.hpp"

namespace mongowire::testd {

// The hinted index (a key pattern or an index name; BadValue when no index matches), else
// the first index whose leading field the sort, then the filter, starts with; nullptr means
// a collection scan.
const index_spec* plan_index(const collection& c, bson::element hint, bson::view filter, bson::view sort);

// min/max need a hint (51173), and each must name exactly the index's fields in order (51174).
void check_min_max(const index_spec* hinted, bson::view min, bson::view max);

// The document's index key lies in [min, max) (an empty bound is unbounded); a descending
// key field reverses the order of that field, as the index does.
bool in_min_max_range(const index_spec& ix, bson::view doc, bson::view min, bson::view max);

}  // namespace mongowire::testd
