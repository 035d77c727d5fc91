// Helpers for the query engine's tests: documents from extended JSON, results as JSON.
#pragma once

#include "query/query.hpp"

#include <doctest/doctest.h>

#include <string>
#include <variant>

namespace mongowire::testd::query::test {

inline bson::document doc(std::string_view json) { return bson::document::from_json(json); }

// Canonical extended JSON, so type differences (int vs long vs double) show.
inline std::string canon(std::string_view json) { return doc(json).to_json(); }

template <class T>
const T& ok(const std::variant<T, query_error>& v) {
  if (auto* e = std::get_if<query_error>(&v)) FAIL("unexpected error " << e->code << " " << e->message);
  return std::get<T>(v);
}

template <class T>
query_error err(const std::variant<T, query_error>& v) {
  REQUIRE(std::holds_alternative<query_error>(v));
  return std::get<query_error>(v);
}

}  // namespace mongowire::testd::query::test
