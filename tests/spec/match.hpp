// "Evaluating Matches" of unified-test-format.md: expected values from the test file
// against actual values, with the special $$ operators. A mismatch throws test_failure
// naming the path of the first difference ("result.insertedIds.0: expected 1, got 2").
#pragma once

#include <string>

#include "mongowire/bson.hpp"
#include "value.hpp"

namespace mongowire::spec {

class entity_map;

// How the top of the actual value is treated.
enum class match_root {
  document,        // a root-level document: extra fields allowed (not in nested documents)
  array_of_roots,  // an iterated result (find, aggregate): each element is a root-level document
  value,           // e.g. distinct results: every document in it is nested
};

// `actual` may be an invalid element, meaning "absent" (e.g. a void result).
void assert_matches(const bson::element& expected, const bson::element& actual, match_root root,
                    const entity_map& entities, const std::string& path);

// Collection contents in test.outcome: the documents must be equal, field order aside;
// no special operators, no extra fields ("Executing a Test").
void assert_equal_documents(const bson::element& expected, const bson::element& actual, const std::string& path);

// Flexible numeric comparison: int32, int64 and double are equal when numerically equal.
bool values_equal(const bson::element& a, const bson::element& b);

}  // namespace mongowire::spec
