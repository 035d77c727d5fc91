// Aggregation expressions: field paths ("$a.b"), system variables ($$ROOT, $$CURRENT,
// $$REMOVE), literals, object and array literals, and a small set of operators.
// Semantics from the manual's "Expression Operators" pages; codes as mongod raises them.
#include "query/detail.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace mongowire::testd::query::detail {
namespace {

struct arity {
  std::string_view name;
  int min, max;  // max < 0: unbounded
};

constexpr arity operators[] = {
    {"$literal", 1, 1}, {"$add", 0, -1},    {"$subtract", 2, 2}, {"$multiply", 0, -1}, {"$divide", 2, 2},
    {"$concat", 0, -1}, {"$ifNull", 2, -1}, {"$cond", 3, 3},     {"$eq", 2, 2},        {"$ne", 2, 2},
    {"$gt", 2, 2},      {"$gte", 2, 2},     {"$lt", 2, 2},       {"$lte", 2, 2},       {"$cmp", 2, 2},
    {"$and", 0, -1},    {"$or", 0, -1},     {"$not", 1, 1},      {"$size", 1, 1},      {"$toUpper", 1, 1},
    {"$toLower", 1, 1},
};

const arity* find_operator(std::string_view name) {
  for (auto& op : operators)
    if (op.name == name) return &op;
  return nullptr;
}

// Operator arguments: an array is the argument list, anything else one argument.
std::vector<bson::element> arguments(const bson::element& e) {
  if (auto arr = e.as_array()) return {arr->begin(), arr->end()};
  return {e};
}

std::optional<query_error> check_field_path(std::string_view s) {
  if (s.starts_with("$$")) {
    auto var = s.substr(2, s.find('.') == std::string_view::npos ? s.npos : s.find('.') - 2);
    if (var != "ROOT" && var != "CURRENT" && var != "REMOVE")
      return make_error(17276, fmt::format("Use of undefined variable: {}", var));
    return std::nullopt;
  }
  if (s == "$") return make_error(16872, "'$' by itself is not a valid FieldPath");
  for (auto& part : split_path(s.substr(1))) {
    if (part.empty()) return make_error(15998, "FieldPath field names may not be empty strings.");
    if (part.starts_with('$'))
      return make_error(
          16410, fmt::format("FieldPath field names may not start with '$'. Consider using $getField or $setField."));
  }
  return std::nullopt;
}

// --- values ---
bool coerce_to_bool(const std::optional<node>& v) {
  if (!v) return false;
  if (v->is_container()) return true;
  return true_value(v->value());
}

bool nullish(const std::optional<node>& v) { return !v || v->type == BSON_TYPE_NULL || v->type == BSON_TYPE_UNDEFINED; }

std::string_view type_of(const std::optional<node>& v) { return v ? bson::type_name(v->type) : "missing"; }

bool is_num(const std::optional<node>& v) {
  return v && (v->type == BSON_TYPE_INT32 || v->type == BSON_TYPE_INT64 || v->type == BSON_TYPE_DOUBLE);
}

// The narrowest of int/long/double that holds an integer result, as mongod widens.
node integer_result(long double r, bool any_long) {
  if (!any_long && r >= std::numeric_limits<std::int32_t>::min() && r <= std::numeric_limits<std::int32_t>::max())
    return node::of(static_cast<std::int32_t>(r));
  if (r >= -9.2233720368547758e18L && r < 9.2233720368547758e18L) return node::of(static_cast<std::int64_t>(r));
  return node::of(static_cast<double>(r));
}

using result = std::variant<std::optional<node>, query_error>;

result arithmetic(std::string_view op, const std::vector<std::optional<node>>& args) {
  for (auto& a : args)
    if (nullish(a)) return std::optional<node>(node::null());
  bool any_double = false, any_long = false;
  std::optional<std::int64_t> date;
  for (auto& a : args) {
    if (op == "$add" && a->type == BSON_TYPE_DATE_TIME && !date) {
      date = bson_iter_date_time(a->value().iter());
      continue;
    }
    if (!is_num(a)) {
      if (op == "$add")
        return make_error(16554, fmt::format("$add only supports numeric or date types, not {}", type_of(a)));
      return make_error(16555, fmt::format("{} only supports numeric types, not {}", op, type_of(a)));
    }
    any_double |= a->type == BSON_TYPE_DOUBLE;
    any_long |= a->type == BSON_TYPE_INT64;
  }
  long double acc = op == "$multiply" ? 1 : 0;
  bool first = true;
  for (auto& a : args) {
    if (a->type == BSON_TYPE_DATE_TIME) continue;
    long double x = any_double ? static_cast<long double>(*a->value().as_number())
                               : static_cast<long double>(*a->value().as_int64());
    if (op == "$add") acc += x;
    else if (op == "$multiply") acc *= x;
    else if (first) acc = x;  // $subtract
    else acc -= x;
    first = false;
  }
  if (date)
    return std::optional<node>(node{[&] {
      node n;
      n.scalar.append_date("v", *date + static_cast<std::int64_t>(std::llround(static_cast<double>(acc))));
      n.type = BSON_TYPE_DATE_TIME;
      return n;
    }()});
  if (any_double) return std::optional<node>(node::of(static_cast<double>(acc)));
  return std::optional<node>(integer_result(acc, any_long));
}

result evaluate_operator(std::string_view op, const bson::element& arg, bson::view root);

result evaluate_checked(const bson::element& expr, bson::view root) {
  if (auto s = expr.as_string(); s && s->starts_with('$')) return evaluate_field_path(root, *s);
  if (auto d = expr.as_document()) {
    if (!d->empty() && d->first_key().starts_with('$')) {
      auto first = *d->begin();
      return evaluate_operator(first.key(), first, root);
    }
    node obj = node::object();
    for (auto field : *d) {
      auto v = evaluate_checked(field, root);
      if (auto* err = std::get_if<query_error>(&v)) return *err;
      if (auto& val = std::get<std::optional<node>>(v))
        obj.children.emplace_back(std::string(field.key()), std::move(*val));
    }
    return std::optional<node>(std::move(obj));
  }
  if (auto arr = expr.as_array()) {
    node out = node::array();
    for (auto item : *arr) {
      auto v = evaluate_checked(item, root);
      if (auto* err = std::get_if<query_error>(&v)) return *err;
      auto& val = std::get<std::optional<node>>(v);
      out.children.emplace_back(std::string(), val ? std::move(*val) : node::null());
    }
    return std::optional<node>(std::move(out));
  }
  return std::optional<node>(node::from(expr));
}

result evaluate_operator(std::string_view op, const bson::element& arg, bson::view root) {
  if (op == "$literal") return std::optional<node>(node::from(arg));
  std::vector<std::optional<node>> args;
  if (op == "$cond" && arg.is_document()) {
    auto d = *arg.as_document();
    for (auto key : {"if", "then", "else"}) {
      auto v = evaluate_checked(d.find(key), root);
      if (auto* err = std::get_if<query_error>(&v)) return *err;
      args.push_back(std::get<std::optional<node>>(v));
    }
  } else {
    for (auto& a : arguments(arg)) {
      auto v = evaluate_checked(a, root);
      if (auto* err = std::get_if<query_error>(&v)) return *err;
      args.push_back(std::get<std::optional<node>>(v));
    }
  }
  if (op == "$add" || op == "$subtract" || op == "$multiply") return arithmetic(op, args);
  if (op == "$divide") {
    if (nullish(args[0]) || nullish(args[1])) return std::optional<node>(node::null());
    if (!is_num(args[0]) || !is_num(args[1]))
      return make_error(
          16609, fmt::format("$divide only supports numeric types, not {} and {}", type_of(args[0]), type_of(args[1])));
    double d = *args[1]->value().as_number();
    if (d == 0) return make_error(16608, "can't $divide by zero");
    return std::optional<node>(node::of(*args[0]->value().as_number() / d));
  }
  if (op == "$concat") {
    std::string s;
    for (auto& a : args) {
      if (nullish(a)) return std::optional<node>(node::null());
      if (a->type != BSON_TYPE_UTF8)
        return make_error(16702, fmt::format("$concat only supports strings, not {}", type_of(a)));
      s += *a->value().as_string();
    }
    return std::optional<node>(node::of(std::string_view(s)));
  }
  if (op == "$toUpper" || op == "$toLower") {
    if (nullish(args[0])) return std::optional<node>(node::of(std::string_view("")));
    std::string s = args[0]->type == BSON_TYPE_UTF8 ? std::string(*args[0]->value().as_string())
                                                    : to_short_string(args[0]->wrap().find("v"));
    for (auto& c : s)
      c = static_cast<char>(op == "$toUpper" ? std::toupper(static_cast<unsigned char>(c))
                                             : std::tolower(static_cast<unsigned char>(c)));
    return std::optional<node>(node::of(std::string_view(s)));
  }
  if (op == "$ifNull") {
    for (auto& a : args)
      if (!nullish(a)) return a;
    return args.back() ? args.back() : std::optional<node>(node::null());
  }
  if (op == "$cond") return coerce_to_bool(args[0]) ? args[1] : args[2];
  if (op == "$and" || op == "$or") {
    bool is_and = op == "$and";
    for (auto& a : args)
      if (coerce_to_bool(a) != is_and) return std::optional<node>(node::of(!is_and));
    return std::optional<node>(node::of(is_and));
  }
  if (op == "$not") return std::optional<node>(node::of(!coerce_to_bool(args[0])));
  if (op == "$size") {
    if (!args[0] || !args[0]->is_array())
      return make_error(17124,
                        fmt::format("The argument to $size must be an array. Type of argument: {}", type_of(args[0])));
    return std::optional<node>(node::of(static_cast<std::int32_t>(args[0]->children.size())));
  }
  // Comparisons: missing compares as itself, below null (aggregation's Value order).
  int c = 0;
  if (!args[0] || !args[1]) c = (args[0] ? 1 : 0) - (args[1] ? 1 : 0);
  else c = compare_nodes(*args[0], *args[1]);
  if (op == "$cmp") return std::optional<node>(node::of(static_cast<std::int32_t>(c < 0 ? -1 : c > 0)));
  bool r = op == "$eq"    ? c == 0
           : op == "$ne"  ? c != 0
           : op == "$gt"  ? c > 0
           : op == "$gte" ? c >= 0
           : op == "$lt"  ? c < 0
                          : c <= 0;
  return std::optional<node>(node::of(r));
}

std::optional<node> path_from(const bson::element& e, const std::vector<std::string>& parts, std::size_t i) {
  if (i == parts.size()) return node::from(e);
  if (auto d = e.as_document()) {
    auto child = d->find(parts[i]);
    if (!child) return std::nullopt;
    return path_from(child, parts, i + 1);
  }
  if (auto arr = e.as_array()) {
    // A path through an array maps over its elements, dropping those without the field.
    node out = node::array();
    for (auto item : *arr) {
      if (!item.is_document() && !item.is_array()) continue;
      if (auto v = path_from(item, parts, i)) out.children.emplace_back(std::string(), std::move(*v));
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::optional<node> evaluate_field_path(bson::view root, std::string_view path) {
  std::vector<std::string> parts;
  if (path.starts_with("$$")) {
    auto dot = path.find('.');
    auto var = path.substr(2, dot == path.npos ? path.npos : dot - 2);
    if (var == "REMOVE") return std::nullopt;
    if (dot == path.npos) return node::from_document(root);
    parts = split_path(path.substr(dot + 1));
  } else {
    parts = split_path(path.substr(1));
  }
  auto first = root.find(parts[0]);
  if (!first) return std::nullopt;
  return path_from(first, parts, 1);
}

std::optional<query_error> check_expression(const bson::element& expr) {
  if (auto s = expr.as_string(); s && s->starts_with('$')) return check_field_path(*s);
  if (auto d = expr.as_document()) {
    if (!d->empty() && d->first_key().starts_with('$')) {
      if (d->count() != 1)
        return make_error(15983,
                          fmt::format("an expression specification must contain exactly one field, the name of the "
                                      "expression. Found {} fields in {}",
                                      d->count(), to_short_string(*d)));
      auto first = *d->begin();
      const arity* op = find_operator(first.key());
      if (!op) return make_error(168, fmt::format("Unrecognized expression '{}'", first.key()));
      if (op->name == "$literal") return std::nullopt;
      if (op->name == "$cond" && first.is_document()) {
        auto cd = *first.as_document();
        for (auto key : {"if", "then", "else"})
          if (!cd.contains(key)) return make_error(17080, fmt::format("Missing '{}' parameter to $cond", key));
        for (auto f : cd) {
          if (f.key() != "if" && f.key() != "then" && f.key() != "else")
            return make_error(17083, fmt::format("Unrecognized parameter to $cond: {}", f.key()));
          if (auto err = check_expression(f)) return err;
        }
        return std::nullopt;
      }
      auto args = arguments(first);
      int n = static_cast<int>(args.size());
      if (n < op->min || (op->max >= 0 && n > op->max)) {
        if (op->min == op->max)
          return make_error(
              16020, fmt::format("Expression {} takes exactly {} arguments. {} were passed in.", op->name, op->min, n));
        return make_error(16020, fmt::format("Expression {} takes at least {} arguments, and at most {}", op->name,
                                             op->min, op->max));
      }
      for (auto& a : args)
        if (auto err = check_expression(a)) return err;
      return std::nullopt;
    }
    for (auto f : *d)
      if (auto err = check_expression(f)) return err;
    return std::nullopt;
  }
  if (auto arr = expr.as_array())
    for (auto item : *arr)
      if (auto err = check_expression(item)) return err;
  return std::nullopt;
}

eval_result evaluate(const bson::element& expr, bson::view root) { return evaluate_checked(expr, root); }

}  // namespace mongowire::testd::query::detail
