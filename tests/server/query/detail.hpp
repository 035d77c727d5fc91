// Internals shared by the query engine's files: error constructors, a mutable value tree
// for updates and aggregation, path traversal, and aggregation expression evaluation.
#pragma once

#include "query/query.hpp"

#include <algorithm>
#include <functional>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mongowire::testd::query::detail {

// --- errors (codes and names as in mongod's error_codes.yml) ---
query_error make_error(std::int32_t code, std::string message);
inline query_error bad_value(std::string m) { return make_error(2, std::move(m)); }
inline query_error failed_to_parse(std::string m) { return make_error(9, std::move(m)); }
inline query_error type_mismatch(std::string m) { return make_error(14, std::move(m)); }

// mongod's short rendering of a value/document in messages: {_id: 1, a: "x"}.
std::string to_short_string(const bson::element& e);
std::string to_short_string(bson::view doc);

// BSON type order used by comparisons (mongod's canonicalizeBSONType).
int canonical_type(bson_type_t t);
// MongoDB truthiness of a filter/projection value (BSONElement::trueValue).
bool true_value(const bson::element& e);
bool is_nan(const bson::element& e);
std::vector<std::string> split_path(std::string_view dotted);
bool all_digits(std::string_view s);

// A mutable BSON value. Scalars keep their bytes in a one-field document {"v": x};
// documents and arrays keep ordered children so updates can edit them in place.
struct node {
  bson_type_t type = BSON_TYPE_DOCUMENT;
  bson::document scalar;
  std::vector<std::pair<std::string, node>> children;  // keys unused for arrays

  static node object() { return node{}; }
  static node array() {
    node n;
    n.type = BSON_TYPE_ARRAY;
    return n;
  }
  static node null();
  static node from(const bson::element& e);
  static node from_document(bson::view v);
  static node from_array(bson::view v);
  template <class T>
  static node of(const T& v) {
    node n;
    n.scalar.append("v", v);
    n.type = n.scalar.find("v").type();
    return n;
  }

  bool is_object() const { return type == BSON_TYPE_DOCUMENT; }
  bool is_array() const { return type == BSON_TYPE_ARRAY; }
  bool is_container() const { return is_object() || is_array(); }
  // The scalar's element (valid while this node lives unchanged).
  bson::element value() const { return scalar.find("v"); }

  node* child(std::string_view key);
  const node* child(std::string_view key) const;
  node& set(std::string_view key, node value);  // replaces in place or appends
  bool erase(std::string_view key);

  void append_to(bson::document& out, std::string_view key) const;
  void write_fields(bson::document& out) const;  // children as fields (arrays: "0", "1"...)
  bson::document to_document() const {
    bson::document d;
    write_fields(d);
    return d;
  }
  bson::document wrap() const {  // {"v": this}, for element-based comparisons
    bson::document d;
    append_to(d, "v");
    return d;
  }
};

int compare_nodes(const node& a, const node& b);

// std::stable_sort for vectors of types holding a bson_t (128-byte aligned): libstdc++ 12's
// temporary buffer ignores over-alignment, so this sorts indices and then moves elements.
template <class T, class Less>
void stable_sort_aligned(std::vector<T>& v, Less less) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return less(v[a], v[b]); });
  std::vector<T> sorted;
  sorted.reserve(v.size());
  for (auto i : order) sorted.push_back(std::move(v[i]));
  v = std::move(sorted);
}

// --- path traversal (mongod's ElementIterator, src/mongo/db/matcher/path.cpp) ---
// Visits each value `dotted` designates in `doc`: a missing value is an invalid element;
// arrays met along the path are traversed into their documents (and into an element when
// the next path part is its index). At the end of the path an array is visited element by
// element and then, when `leaf_array_itself`, as a whole. Stops when `visit` returns true.
// `whole_array` is true when the visited value is the leaf array itself.
using path_visitor = std::function<bool(const bson::element&, bool whole_array)>;
bool visit_path(bson::view doc, const std::vector<std::string>& parts, bool expand_leaf_arrays, bool leaf_array_itself,
                const path_visitor& visit);

// --- aggregation expressions ($a.b field paths, literals, a few operators) ---
// Validates operator names and arity ahead of evaluation, as mongod parses a pipeline.
std::optional<query_error> check_expression(const bson::element& expr);
// Evaluates `expr` against `root`; an empty optional is "missing".
using eval_result = std::variant<std::optional<node>, query_error>;
eval_result evaluate(const bson::element& expr, bson::view root);
// Shape of a field path "$a.b" evaluated against root (arrays map over their elements).
std::optional<node> evaluate_field_path(bson::view root, std::string_view path);

}  // namespace mongowire::testd::query::detail
