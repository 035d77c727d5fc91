// The in-memory test server's query engine: mongod 7.0 semantics for filters, updates,
// projections, sorts and a subset of aggregation, over BSON documents. Pure functions of
// their inputs (no I/O, no clocks except $currentDate and generated upsert _id).
#pragma once

#include <mongowire/bson.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mongowire::testd::query {

// A server error as mongod reports it: code, codeName, errmsg.
struct query_error {
  std::int32_t code = 0;
  std::string code_name;
  std::string message;
};

// MongoDB's BSON order of two values (field names of `a` and `b` are ignored): canonical
// type first (MinKey < null < numbers < string < object < array < binData < ObjectId <
// bool < date < timestamp < regex < MaxKey), then the value. <0, 0, >0.
int compare_values(const bson::element& a, const bson::element& b);

namespace detail {
struct match_expr;
struct update_op;
struct projection_node;
}  // namespace detail

// What evaluating a filter's $where JavaScript did besides answering: its sleep(ms) calls
// (mongod sleeps while it evaluates; the caller delays the reply by their sum) and the first
// error, which fails the command (JSInterpreterFailure).
struct javascript_effects {
  std::int64_t sleep_ms = 0;
  std::optional<query_error> error;
};

struct match_options {
  // $where (MatchExpressionParser::AllowedFeatures::kJavascript): mongod allows it in the
  // filters of find, count, distinct, update, delete and findAndModify only. Its effects go
  // to `javascript`, which must then be set and outlive the matcher.
  javascript_effects* javascript = nullptr;
};

// A compiled query filter ({a: 1, b: {$gt: 2}, $or: [...]}).
class matcher {
 public:
  static std::variant<matcher, query_error> compile(bson::view filter, match_options options = {});
  bool matches(bson::view doc) const;

  // Equality fields an upsert seeds its new document with ({a: 1}, {a: {$eq: 1}}, and the
  // same inside $and), as dotted path and value, in filter order.
  const std::vector<std::pair<std::string, bson::document>>& upsert_equalities() const;

 private:
  std::shared_ptr<const detail::match_expr> root_;
  std::vector<std::pair<std::string, bson::document>> equalities_;  // values as {"v": x}
};

// A compiled update: a replacement document or a document of update operators.
class update_spec {
 public:
  static std::variant<update_spec, query_error> compile(bson::view update);
  bool is_replacement() const { return replacement_.has_value(); }

  // Applies the update to `doc` (an existing document) and writes the result to `out`.
  std::optional<query_error> apply(bson::view doc, bson::document& out) const;
  // Builds the document an upsert inserts: the query's equality fields (then _id first),
  // then the update with $setOnInsert; a replacement keeps the query's _id. Generates an
  // ObjectId _id when neither supplies one, as mongod does before inserting.
  std::optional<query_error> apply_for_upsert(bson::view query, bson::document& out) const;

 private:
  std::optional<query_error> apply_operators(bson::view doc, bson::document& out, bool inserting) const;
  std::optional<bson::document> replacement_;
  std::shared_ptr<const std::vector<detail::update_op>> ops_;
};

// A compiled find/$project projection: inclusion or exclusion, dotted paths, _id rules,
// computed fields (field paths and literals).
class projection {
 public:
  static std::variant<projection, query_error> compile(bson::view spec);
  void apply(bson::view doc, bson::document& out) const;
  bool is_inclusion() const { return inclusion_; }

 private:
  std::shared_ptr<const detail::projection_node> root_;
  bool inclusion_ = false;
  bool empty_ = true;
};

// A compiled sort ({a: 1, b: -1}). Arrays sort by their smallest element ascending and
// largest descending; a missing field sorts as null.
class sort_spec {
 public:
  static std::variant<sort_spec, query_error> compile(bson::view spec);
  bool less(bson::view a, bson::view b) const;
  bool empty() const { return keys_.empty(); }

 private:
  struct key {
    std::string path;
    bool ascending = true;
  };
  std::vector<key> keys_;
};

struct pipeline_result {
  std::vector<bson::document> docs;
  std::optional<std::string> out_collection;  // set by a final $out; the caller writes it
};

// Runs an aggregation pipeline (a BSON array of stage documents) over `input`.
std::variant<pipeline_result, query_error> run_pipeline(std::vector<bson::document> input, bson::view pipeline_array);

// Every value at `dotted_path` in `doc`, arrays at the end of the path (and arrays of
// documents along it) flattened one level, as the `distinct` command collects them.
void collect_path_values(bson::view doc, std::string_view dotted_path, std::vector<bson::element>& out);

// The distinct values at `dotted_path` across `docs`, in BSON order, as an array
// document ({"0": v0, "1": v1, ...}) ready for bson::document::append_array.
bson::document distinct_values(const std::vector<bson::document>& docs, std::string_view dotted_path);

}  // namespace mongowire::testd::query
