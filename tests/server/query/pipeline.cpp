// Aggregation pipelines: a subset of mongod's stages, parsed whole before any runs (as
// mongod parses a pipeline), then executed over in-memory documents.
#include "query/detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace mongowire::testd::query {
namespace {

using detail::make_error;
using detail::node;
using error_opt = std::optional<query_error>;

struct accumulator_spec {
  std::string field, op;
  bson::document arg;  // {"v": expression}
};

struct stage {
  std::string name;
  std::optional<matcher> match;
  std::optional<projection> project;
  std::optional<sort_spec> sort;
  std::int64_t number = 0;  // $skip, $limit
  std::string text;         // $count field, $out collection
  bson::document spec;      // {"v": stage argument}
  std::vector<accumulator_spec> accumulators;
  bool preserve_empty = false;  // $unwind
  std::string index_field;      // $unwind includeArrayIndex
};

constexpr std::string_view accumulator_names[] = {"$sum",  "$avg",  "$min",      "$max",  "$first",
                                                  "$last", "$push", "$addToSet", "$count"};

error_opt parse_integer_argument(const bson::element& v, std::string_view name, stage& s) {
  bool is_skip = name == "$skip";
  auto n = v.as_number();
  if (!n) {
    if (is_skip) return make_error(15972, "Argument to $skip must be a number");
    return make_error(15957, "the limit must be specified as a number");
  }
  if (*n != std::floor(*n) || std::fabs(*n) >= 9.2233720368547758e18)
    return make_error(is_skip ? 5107200 : 5107201,
                      fmt::format("invalid argument to {} stage: Cannot represent as a 64-bit integer: {}: {}", name,
                                  name, detail::to_short_string(v)));
  s.number = static_cast<std::int64_t>(*n);
  if (is_skip && s.number < 0) return make_error(15956, "Argument to $skip cannot be negative");
  if (!is_skip && s.number <= 0) return make_error(15958, "the limit must be positive");
  return std::nullopt;
}

error_opt parse_group(bson::view spec, stage& s) {
  bool has_id = false;
  for (auto f : spec) {
    std::string_view field = f.key();
    if (field == "_id") {
      has_id = true;
      if (auto err = detail::check_expression(f)) return err;
      continue;
    }
    if (field.find('.') != std::string_view::npos)
      return make_error(40235, fmt::format("The field name '{}' cannot contain '.'", field));
    if (field.starts_with('$'))
      return make_error(40236, fmt::format("The field name '{}' cannot be an operator name", field));
    auto acc = f.as_document();
    if (!acc) return make_error(40234, fmt::format("The field '{}' must be an accumulator object", field));
    if (acc->count() != 1) return make_error(40238, fmt::format("The field '{}' must specify one accumulator", field));
    auto op = *acc->begin();
    if (std::find(std::begin(accumulator_names), std::end(accumulator_names), op.key()) == std::end(accumulator_names))
      return make_error(15952, fmt::format("unknown group operator '{}'", op.key()));
    if (op.is_array()) return make_error(40237, fmt::format("The {} accumulator is a unary operator", op.key()));
    if (op.key() == "$count" && !(op.as_document() && op.as_document()->empty()))
      return make_error(6188400, "$count takes no arguments, i.e. $count:{}");
    if (auto err = detail::check_expression(op)) return err;
    accumulator_spec a{std::string(field), std::string(op.key()), {}};
    a.arg.append("v", op);
    s.accumulators.push_back(std::move(a));
  }
  if (!has_id) return make_error(15955, "a group specification must include an _id");
  return std::nullopt;
}

error_opt parse_unwind(const bson::element& v, stage& s) {
  bson::element path;
  if (v.is_string()) {
    path = v;
  } else if (auto d = v.as_document()) {
    for (auto f : *d) {
      if (f.key() == "path") {
        path = f;
      } else if (f.key() == "preserveNullAndEmptyArrays") {
        if (!f.is_bool())
          return make_error(28809,
                            fmt::format("expected a boolean for the preserveNullAndEmptyArrays option to $unwind "
                                        "stage, got {}",
                                        bson::type_name(f.type())));
        s.preserve_empty = *f.as_bool();
      } else if (f.key() == "includeArrayIndex") {
        auto name = f.as_string();
        if (!name)
          return make_error(
              28810,
              fmt::format("expected a non-empty string for the includeArrayIndex option to $unwind stage, got {}",
                          bson::type_name(f.type())));
        if (name->starts_with('$'))
          return make_error(
              28822,
              fmt::format("includeArrayIndex option to $unwind stage should not be prefixed with a '$': {}", *name));
        s.index_field = std::string(*name);
      } else {
        return make_error(28811, fmt::format("unrecognized option to $unwind stage: {}", f.key()));
      }
    }
    if (!path) return make_error(28812, "no path specified to $unwind stage");
    if (!path.is_string())
      return make_error(
          28808, fmt::format("expected a string as the path for $unwind stage, got {}", bson::type_name(path.type())));
  } else {
    return make_error(15981,
                      fmt::format("expected either a string or an object as specification for $unwind stage, got {}",
                                  bson::type_name(v.type())));
  }
  auto p = *path.as_string();
  if (!p.starts_with('$'))
    return make_error(28818, fmt::format("path option to $unwind stage should be prefixed with a '$': {}", p));
  s.text = std::string(p.substr(1));
  return std::nullopt;
}

error_opt parse_add_fields(std::string_view name, const bson::element& v) {
  auto d = v.as_document();
  if (!d)
    return make_error(40272,
                      fmt::format("{} specification stage must be an object, got {}", name, bson::type_name(v.type())));
  for (auto f : *d) {
    if (f.key().starts_with('$'))
      return make_error(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
    if (auto err = detail::check_expression(f)) return err;
  }
  return std::nullopt;
}

error_opt parse_stage(const bson::element& e, bool last, stage& s) {
  auto doc = e.as_document();
  if (!doc) return make_error(14, "Each element of the 'pipeline' array must be an object");
  if (doc->count() != 1)
    return make_error(40323, "A pipeline stage specification object must contain exactly one field.");
  auto v = *doc->begin();
  s.name = std::string(v.key());
  s.spec.append("v", v);
  const std::string& n = s.name;
  if (n == "$match") {
    auto filter = v.as_document();
    if (!filter) return make_error(15959, "the match filter must be an expression in an object");
    auto m = matcher::compile(*filter);
    if (auto* err = std::get_if<query_error>(&m)) return *err;
    s.match = std::get<matcher>(std::move(m));
  } else if (n == "$project") {
    auto spec = v.as_document();
    if (!spec) return make_error(15969, "$project specification must be an object");
    if (spec->empty())
      return make_error(51272,
                        "Invalid $project :: caused by :: projection specification must have at least one field");
    auto p = projection::compile(*spec);
    if (auto* err = std::get_if<query_error>(&p)) return *err;
    s.project = std::get<projection>(std::move(p));
  } else if (n == "$unset") {
    bson::document spec;
    if (auto str = v.as_string()) {
      spec.append(*str, 0);
    } else if (auto arr = v.as_array()) {
      if (arr->empty())
        return make_error(31119, "$unset specification must be a string or an array with at least one field");
      for (auto item : *arr) {
        auto str = item.as_string();
        if (!str)
          return make_error(31120, "$unset specification must be a string or an array containing only string values");
        spec.append(*str, 0);
      }
    } else {
      return make_error(31002, "$unset specification must be a string or an array");
    }
    auto p = projection::compile(spec);
    if (auto* err = std::get_if<query_error>(&p)) return *err;
    s.project = std::get<projection>(std::move(p));
  } else if (n == "$addFields" || n == "$set") {
    return parse_add_fields(n, v);
  } else if (n == "$sort") {
    auto spec = v.as_document();
    if (!spec) return make_error(15973, "the $sort key specification must be an object");
    if (spec->empty()) return make_error(15976, "$sort stage must have at least one sort key");
    auto sort = sort_spec::compile(*spec);
    if (auto* err = std::get_if<query_error>(&sort)) return *err;
    s.sort = std::get<sort_spec>(std::move(sort));
  } else if (n == "$skip" || n == "$limit") {
    return parse_integer_argument(v, n, s);
  } else if (n == "$count") {
    auto field = v.as_string();
    if (!field || field->empty()) return make_error(40156, "the count field must be a non-empty string");
    if (field->starts_with('$')) return make_error(40158, "the count field cannot be a $-prefixed path");
    if (field->find('.') != std::string_view::npos) return make_error(40160, "the count field cannot contain '.'");
    s.text = std::string(*field);
  } else if (n == "$group") {
    auto spec = v.as_document();
    if (!spec) return make_error(15947, "a group's fields must be specified in an object");
    return parse_group(*spec, s);
  } else if (n == "$replaceRoot" || n == "$replaceWith") {
    if (n == "$replaceRoot") {
      auto spec = v.as_document();
      if (!spec)
        return make_error(40229, fmt::format("expected an object as specification for $replaceRoot stage, got {}",
                                             bson::type_name(v.type())));
      for (auto f : *spec)
        if (f.key() != "newRoot")
          return make_error(40415, fmt::format("BSON field '$replaceRoot.{}' is an unknown field.", f.key()));
      if (!spec->contains("newRoot"))
        return make_error(40414, "BSON field '$replaceRoot.newRoot' is missing but a required field");
      return detail::check_expression(spec->find("newRoot"));
    }
    return detail::check_expression(v);
  } else if (n == "$unwind") {
    return parse_unwind(v, s);
  } else if (n == "$out") {
    if (!last) return make_error(40601, "$out can only be the final stage in the pipeline");
    if (auto coll = v.as_string()) {
      s.text = std::string(*coll);
    } else if (auto d = v.as_document(); d && d->find("coll").is_string()) {
      s.text = std::string(*d->find("coll").as_string());
    } else {
      return make_error(16990, fmt::format("$out only supports a string or object argument, but found {}",
                                           bson::type_name(v.type())));
    }
    if (s.text.empty()) return make_error(73, "Invalid collection name: ");  // InvalidNamespace
  } else {
    return make_error(40324, fmt::format("Unrecognized pipeline stage name: '{}'", n));
  }
  return std::nullopt;
}

// --- execution ---
using docs_t = std::vector<bson::document>;
using run_result = std::variant<docs_t, query_error>;

void set_in_node(node& at, const std::vector<std::string>& parts, std::size_t i, const node& value) {
  if (i + 1 == parts.size()) {
    at.set(parts[i], value);
    return;
  }
  node* child = at.child(parts[i]);
  if (!child || !child->is_container()) child = &at.set(parts[i], node::object());
  if (child->is_object()) {
    set_in_node(*child, parts, i + 1, value);
    return;
  }
  // Through an array: each element gets the field (non-documents become documents).
  for (auto& [k, item] : child->children) {
    if (!item.is_object()) item = node::object();
    set_in_node(item, parts, i + 1, value);
  }
}

void collect_add_fields(bson::view spec, const std::string& prefix,
                        std::vector<std::pair<std::string, bson::element>>& out) {
  for (auto f : spec) {
    std::string path = prefix.empty() ? std::string(f.key()) : prefix + "." + std::string(f.key());
    auto d = f.as_document();
    if (d && !d->empty() && !d->first_key().starts_with('$'))
      collect_add_fields(*d, path, out);  // nested fields merge into the embedded document
    else out.emplace_back(path, f);
  }
}

run_result run_add_fields(docs_t docs, const stage& s) {
  std::vector<std::pair<std::string, bson::element>> fields;
  collect_add_fields(*s.spec.find("v").as_document(), "", fields);
  for (auto& d : docs) {
    node root = node::from_document(d);
    for (auto& [path, expr] : fields) {
      auto v = detail::evaluate(expr, d);
      if (auto* err = std::get_if<query_error>(&v)) return *err;
      auto& value = std::get<std::optional<node>>(v);
      auto parts = detail::split_path(path);
      if (value) set_in_node(root, parts, 0, *value);
      else if (parts.size() == 1) root.erase(parts[0]);  // $$REMOVE or a missing value removes the field
    }
    d = root.to_document();
  }
  return docs;
}

run_result run_replace_root(docs_t docs, const stage& s) {
  auto v = s.spec.find("v");
  bson::element expr = s.name == "$replaceRoot" ? v.as_document()->find("newRoot") : v;
  docs_t out;
  for (auto& d : docs) {
    auto r = detail::evaluate(expr, d);
    if (auto* err = std::get_if<query_error>(&r)) return *err;
    auto& value = std::get<std::optional<node>>(r);
    if (!value || !value->is_object()) {
      std::string shown = value ? detail::to_short_string(value->wrap().find("v")) : "MISSING";
      std::string type = value ? std::string(bson::type_name(value->type)) : "missing";
      return make_error(40228,
                        fmt::format("'newRoot' expression must evaluate to an object, but resulting value was: {}. "
                                    "Type of resulting value: '{}'. Input document: {}",
                                    shown, type, detail::to_short_string(d)));
    }
    out.push_back(value->to_document());
  }
  return out;
}

run_result run_unwind(docs_t docs, const stage& s) {
  docs_t out;
  auto parts = detail::split_path(s.text);
  for (auto& d : docs) {
    auto value = d.get_view().find_path(s.text);
    if (auto arr = value.as_array(); arr && !arr->empty()) {
      std::int64_t i = 0;
      for (auto item : *arr) {
        node root = node::from_document(d);
        set_in_node(root, parts, 0, node::from(item));
        if (!s.index_field.empty()) root.set(s.index_field, node::of(i));
        out.push_back(root.to_document());
        ++i;
      }
      continue;
    }
    bool empty = !value || value.is_null() || value.type() == BSON_TYPE_UNDEFINED || value.is_array();
    if (empty && !s.preserve_empty) continue;
    node root = node::from_document(d);
    if (value.is_array()) {  // a preserved empty array leaves the field out (manual, $unwind)
      node* parent = &root;
      for (std::size_t k = 0; parent && k + 1 < parts.size(); ++k) parent = parent->child(parts[k]);
      if (parent && parent->is_object()) parent->erase(parts.back());
    }
    if (!s.index_field.empty()) root.set(s.index_field, node::null());
    out.push_back(root.to_document());
  }
  return out;
}

struct group_state {
  node id;
  std::vector<std::optional<node>> values;  // per accumulator
  std::vector<double> avg_sum;
  std::vector<std::int64_t> counts;
  std::vector<bool> sum_double, sum_long;
  std::vector<std::int64_t> int_sum;
  std::vector<double> double_sum;
};

struct node_less {
  bool operator()(const bson::document& a, const bson::document& b) const {
    return compare_values(a.find("v"), b.find("v")) < 0;
  }
};

bool is_number_node(const std::optional<node>& v) {
  return v && (v->type == BSON_TYPE_INT32 || v->type == BSON_TYPE_INT64 || v->type == BSON_TYPE_DOUBLE);
}

void accumulate(group_state& g, std::size_t i, const std::string& op, std::optional<node> v) {
  if (op == "$sum" || op == "$count" || op == "$avg") {
    if (op == "$count") v = node::of(std::int32_t{1});
    if (!is_number_node(v)) return;
    auto e = v->value();
    ++g.counts[i];
    g.double_sum[i] += *e.as_number();
    if (e.type() == BSON_TYPE_DOUBLE) {
      g.sum_double[i] = true;
    } else {
      if (e.type() == BSON_TYPE_INT64) g.sum_long[i] = true;
      if (__builtin_add_overflow(g.int_sum[i], *e.as_int64(), &g.int_sum[i])) g.sum_double[i] = true;
    }
    return;
  }
  bool nullish = !v || v->type == BSON_TYPE_NULL || v->type == BSON_TYPE_UNDEFINED;
  auto& slot = g.values[i];
  if (op == "$first") {
    if (g.counts[i]++ == 0) slot = v ? std::move(v) : node::null();
  } else if (op == "$last") {
    slot = v ? std::move(v) : node::null();
  } else if (op == "$min" || op == "$max") {
    if (nullish) return;  // $min/$max ignore null and missing values
    if (!slot || (op == "$min" ? detail::compare_nodes(*v, *slot) < 0 : detail::compare_nodes(*v, *slot) > 0))
      slot = std::move(v);
  } else if (op == "$push" || op == "$addToSet") {
    if (!slot) slot = node::array();
    if (!v) return;
    if (op == "$addToSet" && std::any_of(slot->children.begin(), slot->children.end(),
                                         [&](auto& c) { return detail::compare_nodes(c.second, *v) == 0; }))
      return;
    slot->children.emplace_back(std::string(), std::move(*v));
  }
}

node finish(const group_state& g, std::size_t i, const std::string& op) {
  if (op == "$sum" || op == "$count") {
    if (g.sum_double[i]) return node::of(g.double_sum[i]);
    if (!g.sum_long[i] && g.int_sum[i] >= std::numeric_limits<std::int32_t>::min() &&
        g.int_sum[i] <= std::numeric_limits<std::int32_t>::max())
      return node::of(static_cast<std::int32_t>(g.int_sum[i]));
    return node::of(g.int_sum[i]);
  }
  if (op == "$avg") return g.counts[i] ? node::of(g.double_sum[i] / static_cast<double>(g.counts[i])) : node::null();
  if (op == "$push" || op == "$addToSet") return g.values[i] ? *g.values[i] : node::array();
  return g.values[i] ? *g.values[i] : node::null();
}

run_result run_group(const docs_t& docs, const stage& s) {
  auto id_expr = s.spec.find("v").as_document()->find("_id");
  std::map<bson::document, std::size_t, node_less> index;
  std::vector<group_state> groups;
  std::size_t n = s.accumulators.size();
  for (auto& d : docs) {
    auto id = detail::evaluate(id_expr, d);
    if (auto* err = std::get_if<query_error>(&id)) return *err;
    auto& id_value = std::get<std::optional<node>>(id);
    node key = id_value ? std::move(*id_value) : node::null();
    auto wrapped = key.wrap();
    auto [it, inserted] = index.try_emplace(std::move(wrapped), groups.size());
    if (inserted) {
      group_state g{std::move(key),
                    std::vector<std::optional<node>>(n),
                    std::vector<double>(n),
                    std::vector<std::int64_t>(n),
                    std::vector<bool>(n),
                    std::vector<bool>(n),
                    std::vector<std::int64_t>(n),
                    std::vector<double>(n)};
      groups.push_back(std::move(g));
    }
    auto& g = groups[it->second];
    for (std::size_t i = 0; i < n; ++i) {
      auto& a = s.accumulators[i];
      std::optional<node> value;
      if (a.op != "$count") {
        auto r = detail::evaluate(a.arg.find("v"), d);
        if (auto* err = std::get_if<query_error>(&r)) return *err;
        value = std::move(std::get<std::optional<node>>(r));
      }
      accumulate(g, i, a.op, std::move(value));
    }
  }
  docs_t out;
  for (auto& g : groups) {
    bson::document d;
    g.id.append_to(d, "_id");
    for (std::size_t i = 0; i < n; ++i) finish(g, i, s.accumulators[i].op).append_to(d, s.accumulators[i].field);
    out.push_back(std::move(d));
  }
  return out;
}

run_result run_stage(docs_t docs, const stage& s) {
  if (s.match) {
    std::erase_if(docs, [&](const bson::document& d) { return !s.match->matches(d); });
    return docs;
  }
  if (s.project) {
    for (auto& d : docs) {
      bson::document out;
      s.project->apply(d, out);
      d = std::move(out);
    }
    return docs;
  }
  if (s.sort) {
    detail::stable_sort_aligned(docs,
                                [&](const bson::document& a, const bson::document& b) { return s.sort->less(a, b); });
    return docs;
  }
  if (s.name == "$skip") {
    auto k = static_cast<std::size_t>(std::min<std::int64_t>(s.number, static_cast<std::int64_t>(docs.size())));
    docs.erase(docs.begin(), docs.begin() + static_cast<std::ptrdiff_t>(k));
    return docs;
  }
  if (s.name == "$limit") {
    if (static_cast<std::int64_t>(docs.size()) > s.number) docs.resize(static_cast<std::size_t>(s.number));
    return docs;
  }
  if (s.name == "$count") {
    docs_t out;
    if (!docs.empty()) {
      bson::document d;
      auto count = static_cast<std::int64_t>(docs.size());
      if (count <= std::numeric_limits<std::int32_t>::max()) d.append(s.text, static_cast<std::int32_t>(count));
      else d.append(s.text, count);
      out.push_back(std::move(d));
    }
    return out;
  }
  if (s.name == "$group") return run_group(docs, s);
  if (s.name == "$addFields" || s.name == "$set") return run_add_fields(std::move(docs), s);
  if (s.name == "$replaceRoot" || s.name == "$replaceWith") return run_replace_root(std::move(docs), s);
  if (s.name == "$unwind") return run_unwind(std::move(docs), s);
  return docs;  // $out: the caller writes the documents
}

}  // namespace

std::variant<pipeline_result, query_error> run_pipeline(std::vector<bson::document> input, bson::view pipeline_array) {
  std::vector<stage> stages;
  std::size_t total = pipeline_array.count(), i = 0;
  for (auto e : pipeline_array) {
    stage s;
    if (auto err = parse_stage(e, ++i == total, s)) return *err;
    stages.push_back(std::move(s));
  }
  pipeline_result result;
  for (auto& s : stages) {
    auto r = run_stage(std::move(input), s);
    if (auto* err = std::get_if<query_error>(&r)) return *err;
    input = std::move(std::get<docs_t>(r));
    if (s.name == "$out") result.out_collection = s.text;
  }
  result.docs = std::move(input);
  return result;
}

}  // namespace mongowire::testd::query
