// TEMPORARY: declarations of the query-engine interface (namespace mongowire::testd::query)
// that another helper implements in this folder. Only the API is relied upon by the
// server core; the implementation in query_temporary.cpp is a minimal stand-in (equality,
// comparison operators, $set/$inc/$unset, top-level projection and sort, and the pipeline
// stages $match/$sort/$skip/$limit/$project/$out) so the core can be built and tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mongowire/bson.hpp"

namespace mongowire::testd::query {

struct query_error {
  std::int32_t code;
  std::string code_name;
  std::string message;
};

// BSON comparison order (MongoDB's canonical type order, then value).
int compare_values(const bson::element& a, const bson::element& b);

class matcher {
 public:
  static std::variant<matcher, query_error> compile(bson::view filter);
  bool matches(bson::view doc) const;

 private:
  bson::document filter_;
};

class update_spec {
 public:
  static std::variant<update_spec, query_error> compile(bson::view update);
  bool is_replacement() const;
  std::optional<query_error> apply(bson::view doc, bson::document& out) const;
  std::optional<query_error> apply_for_upsert(bson::view query, bson::document& out) const;

 private:
  bson::document update_;
  bool replacement_ = false;
};

class projection {
 public:
  static std::variant<projection, query_error> compile(bson::view);
  void apply(bson::view doc, bson::document& out) const;

 private:
  bson::document spec_;
  bool inclusion_ = true;
};

class sort_spec {
 public:
  static std::variant<sort_spec, query_error> compile(bson::view);
  bool less(bson::view a, bson::view b) const;

 private:
  bson::document spec_;
};

struct pipeline_result {
  std::vector<bson::document> docs;
  std::optional<std::string> out_collection;
};

std::variant<pipeline_result, query_error> run_pipeline(std::vector<bson::document> input,
                                                        bson::view pipeline_array);

}  // namespace mongowire::testd::query
