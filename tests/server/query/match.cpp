// Query filters: parsing as mongod's MatchExpressionParser and matching as its
// MatchExpression tree (src/mongo/db/matcher/expression_leaf.cpp, expression_array.cpp).
#include "query/detail.hpp"
#include "query/javascript.hpp"

#include <fmt/format.h>

#include <cmath>
#include <regex>

namespace mongowire::testd::query {
namespace detail {

enum class match_kind {
  and_,
  or_,
  nor,
  not_,
  always_true,
  always_false,
  eq,
  lt,
  lte,
  gt,
  gte,
  in,
  exists,
  type,
  size,
  regex,
  mod,
  elem_match_object,
  elem_match_value,
  where
};

struct compiled_regex {
  std::string pattern, flags;
  std::regex re;
};

struct match_expr {
  match_kind kind = match_kind::and_;
  std::vector<std::string> path;  // empty: applies to the element given (inside $elemMatch)
  bson::document rhs;             // the operand as {"v": x}
  std::vector<match_expr> children;
  std::vector<compiled_regex> regexes;  // $regex, and the regexes listed in $in
  std::vector<int> type_codes;          // $type; 0 stands for "number"
  std::int64_t a = 0, b = 0;            // $size; $mod divisor and remainder
  bool in_has_null = false;
  std::shared_ptr<const js_function> js;  // $where
  javascript_effects* js_effects = nullptr;

  bson::element operand() const { return rhs.find("v"); }
};

namespace {

using error_opt = std::optional<query_error>;

bool is_logical(std::string_view op) { return op == "$and" || op == "$or" || op == "$nor"; }

match_expr leaf(match_kind kind, const std::vector<std::string>& path, const bson::element& operand) {
  match_expr m;
  m.kind = kind;
  m.path = path;
  if (operand) m.rhs.append("v", operand);
  return m;
}

match_expr negate(match_expr inner) {
  match_expr m;
  m.kind = match_kind::not_;
  m.children.push_back(std::move(inner));
  return m;
}

// --- regex ---
std::variant<compiled_regex, query_error> make_regex(std::string pattern, std::string flags) {
  auto syntax = std::regex::ECMAScript;
  for (char f : flags) {
    switch (f) {
      case 'i': syntax |= std::regex::icase; break;
      case 'm': syntax |= std::regex::multiline; break;
      case 's':
      case 'x': break;  // dotall/extended: not offered by std::regex; accepted as mongod does
      default: return make_error(51108, fmt::format("invalid flag in regex options: {}", f));
    }
  }
  if (pattern.find('\0') != std::string::npos)
    return bad_value("Regular expression cannot contain an embedded null byte");
  try {
    std::regex re(pattern, syntax);
    return compiled_regex{std::move(pattern), std::move(flags), std::move(re)};
  } catch (const std::regex_error& e) {
    return make_error(51091, fmt::format("Regular expression is invalid: {}", e.what()));
  }
}

std::pair<std::string, std::string> regex_parts(const bson::element& e) {
  const char* flags = nullptr;
  const char* pattern = bson_iter_regex(e.iter(), &flags);
  return {pattern, flags};
}

// --- $type ---
std::optional<int> type_code_for_alias(std::string_view alias) {
  if (alias == "number") return 0;
  static constexpr bson_type_t all[] = {
      BSON_TYPE_DOUBLE,    BSON_TYPE_UTF8,      BSON_TYPE_DOCUMENT, BSON_TYPE_ARRAY,      BSON_TYPE_BINARY,
      BSON_TYPE_UNDEFINED, BSON_TYPE_OID,       BSON_TYPE_BOOL,     BSON_TYPE_DATE_TIME,  BSON_TYPE_NULL,
      BSON_TYPE_REGEX,     BSON_TYPE_DBPOINTER, BSON_TYPE_CODE,     BSON_TYPE_SYMBOL,     BSON_TYPE_CODEWSCOPE,
      BSON_TYPE_INT32,     BSON_TYPE_TIMESTAMP, BSON_TYPE_INT64,    BSON_TYPE_DECIMAL128, BSON_TYPE_MAXKEY,
      BSON_TYPE_MINKEY};
  for (auto t : all)
    if (bson::type_name(t) == alias) return t == BSON_TYPE_MINKEY ? -1 : static_cast<int>(t);
  return std::nullopt;
}

error_opt parse_one_type(const bson::element& e, std::vector<int>& codes) {
  if (auto s = e.as_string()) {
    auto code = type_code_for_alias(*s);
    if (!code) return bad_value(fmt::format("Unknown type name alias: {}", *s));
    codes.push_back(*code);
    return std::nullopt;
  }
  if (auto n = e.as_number()) {
    double d = *n;
    bool valid = d == std::floor(d) && ((d >= 1 && d <= 19) || d == -1 || d == 127);
    if (!valid) return bad_value(fmt::format("Invalid numerical type code: {}", to_short_string(e)));
    codes.push_back(static_cast<int>(d));
    return std::nullopt;
  }
  return type_mismatch("type must be represented as a number or a string");
}

bool type_matches(const match_expr& m, const bson::element& e) {
  int code = e.type() == BSON_TYPE_MINKEY ? -1 : static_cast<int>(e.type());
  for (int c : m.type_codes) {
    if (c == code) return true;
    if (c == 0 && canonical_type(e.type()) == 10) return true;
  }
  return false;
}

// --- parsing ---
error_opt parse_filter(bson::view filter, match_expr& out);
error_opt parse_field_operator(const std::vector<std::string>& path, const bson::element& op, bson::view whole,
                               match_expr& out);

error_opt parse_logical(const bson::element& e, match_expr& out) {
  std::string_view name = e.key();
  auto arr = e.as_array();
  if (!arr) return bad_value(fmt::format("{} must be an array", name));
  match_expr m;
  m.kind = name == "$and" ? match_kind::and_ : name == "$or" ? match_kind::or_ : match_kind::nor;
  for (auto item : *arr) {
    auto sub = item.as_document();
    if (!sub) return bad_value("$or/$and/$nor entries need to be full objects");
    match_expr child;
    if (auto err = parse_filter(*sub, child)) return err;
    m.children.push_back(std::move(child));
  }
  if (m.children.empty()) return bad_value("$and/$or/$nor must be a nonempty array");
  out = std::move(m);
  return std::nullopt;
}

// $where (expression_parser.cpp parseWhere): a string or Code; whether the context allows
// JavaScript is checked once the whole filter is parsed (allow_javascript).
error_opt parse_where(const bson::element& e, match_expr& out) {
  std::string code;
  if (e.type() == BSON_TYPE_UTF8) {
    code = std::string(*e.as_string());
  } else if (e.type() == BSON_TYPE_CODE) {
    std::uint32_t len = 0;
    const char* js = bson_iter_code(e.iter(), &len);
    code.assign(js, len);
  } else if (e.type() == BSON_TYPE_CODEWSCOPE) {
    return make_error(4649201, "$where no longer supports deprecated BSON type CodeWScope");
  } else {
    return bad_value("$where got bad type");
  }
  auto f = compile_where(code);
  if (auto* err = std::get_if<query_error>(&f)) return *err;
  out.kind = match_kind::where;
  out.js = std::get<std::shared_ptr<const js_function>>(std::move(f));
  return std::nullopt;
}

bool contains_where(const match_expr& m) {
  if (m.kind == match_kind::where) return true;
  return std::any_of(m.children.begin(), m.children.end(), contains_where);
}

// Gives each $where its effects sink, or refuses JavaScript where mongod does.
error_opt allow_javascript(match_expr& m, javascript_effects* fx) {
  if (m.kind == match_kind::where) {
    if (!fx) return bad_value("$where is not allowed in this context");
    m.js_effects = fx;
  }
  for (auto& c : m.children)
    if (auto err = allow_javascript(c, fx)) return err;
  return std::nullopt;
}

error_opt parse_top_level_operator(const bson::element& e, match_expr& out) {
  std::string_view name = e.key();
  if (is_logical(name)) return parse_logical(e, out);
  if (name == "$comment") {
    out.kind = match_kind::always_true;
    return std::nullopt;
  }
  if (name == "$alwaysTrue" || name == "$alwaysFalse") {
    if (e.as_number() != 1.0) return failed_to_parse(fmt::format("{} must be an integer value of 1", name));
    out.kind = name == "$alwaysTrue" ? match_kind::always_true : match_kind::always_false;
    return std::nullopt;
  }
  if (name == "$where") return parse_where(e, out);
  if (name == "$expr" || name == "$text" || name == "$jsonSchema")
    return bad_value(fmt::format("{} is not supported by the mongowire test server", name));
  return bad_value(
      fmt::format("unknown top level operator: {}. If you have a field name that starts with a '$' symbol, consider "
                  "using $getField or $setField.",
                  name));
}

// A document whose first field starts with '$' holds operators ({$gt: 1}), not a value.
bool is_operator_document(const bson::element& e) {
  auto d = e.as_document();
  return d && !d->empty() && d->first_key().starts_with('$');
}

error_opt parse_in_list(const std::vector<std::string>& path, const bson::element& e, match_expr& out) {
  auto arr = e.as_array();
  if (!arr) return bad_value(fmt::format("{} needs an array", e.key()));
  match_expr m = leaf(match_kind::in, path, e);
  for (auto item : *arr) {
    if (is_operator_document(item)) return bad_value(fmt::format("cannot nest $ under {}", e.key()));
    if (item.type() == BSON_TYPE_REGEX) {
      auto [p, f] = regex_parts(item);
      auto re = make_regex(p, f);
      if (auto* err = std::get_if<query_error>(&re)) return *err;
      m.regexes.push_back(std::move(std::get<compiled_regex>(re)));
    }
    if (item.is_null()) m.in_has_null = true;
  }
  out = std::move(m);
  return std::nullopt;
}

error_opt parse_regex_operator(const std::vector<std::string>& path, bson::view whole, match_expr& out) {
  auto re = whole.find("$regex");
  auto opts = whole.find("$options");
  if (!re) return bad_value("$options needs a $regex");
  std::string pattern, flags;
  if (auto s = re.as_string()) {
    pattern = std::string(*s);
  } else if (re.type() == BSON_TYPE_REGEX) {
    std::tie(pattern, flags) = regex_parts(re);
    if (opts && !flags.empty()) return make_error(51075, "options set in both $regex and $options");
  } else {
    return bad_value("$regex has to be a string");
  }
  if (opts) {
    auto s = opts.as_string();
    if (!s) return bad_value("$options has to be a string");
    flags = std::string(*s);
  }
  auto compiled = make_regex(std::move(pattern), std::move(flags));
  if (auto* err = std::get_if<query_error>(&compiled)) return *err;
  out = leaf(match_kind::regex, path, {});
  out.regexes.push_back(std::move(std::get<compiled_regex>(compiled)));
  return std::nullopt;
}

error_opt parse_size(const std::vector<std::string>& path, const bson::element& e, match_expr& out) {
  auto n = e.as_number();
  if (!n) return bad_value("$size needs a number");
  if (*n != std::floor(*n)) return bad_value("$size must be a whole number");
  if (*n < 0) return bad_value("$size may not be negative");
  out = leaf(match_kind::size, path, {});
  out.a = static_cast<std::int64_t>(*n);
  return std::nullopt;
}

error_opt parse_mod(const std::vector<std::string>& path, const bson::element& e, match_expr& out) {
  auto arr = e.as_array();
  if (!arr) return bad_value("malformed mod, needs to be an array");
  std::vector<bson::element> items(arr->begin(), arr->end());
  if (items.size() < 2) return bad_value("malformed mod, not enough elements");
  if (items.size() > 2) return bad_value("malformed mod, too many elements");
  auto divisor = items[0].as_integer(), remainder = items[1].as_integer();
  if (!divisor) return bad_value("malformed mod, divisor not a number");
  if (!remainder) return bad_value("malformed mod, remainder not a number");
  if (*divisor == 0) return bad_value("divisor cannot be 0");
  out = leaf(match_kind::mod, path, {});
  out.a = *divisor;
  out.b = *remainder;
  return std::nullopt;
}

error_opt parse_elem_match(const std::vector<std::string>& path, const bson::element& e, match_expr& out) {
  auto sub = e.as_document();
  if (!sub) return bad_value("$elemMatch needs an Object");
  match_expr m = leaf(match_kind::elem_match_object, path, {});
  auto first = sub->first_key();
  // Operators on the element itself ({$gte: 80}) versus a filter over sub-documents.
  if (!sub->empty() && first.starts_with('$') && !is_logical(first) && first != "$expr" && first != "$where" &&
      first != "$comment") {
    m.kind = match_kind::elem_match_value;
    for (auto op : *sub) {
      match_expr child;
      if (auto err = parse_field_operator({}, op, *sub, child)) return err;
      m.children.push_back(std::move(child));
    }
  } else {
    match_expr child;
    if (auto err = parse_filter(*sub, child)) return err;
    // $where sees the top-level document only (expression_parser.cpp parseElemMatch).
    if (contains_where(child)) return bad_value("$elemMatch cannot contain $where expression");
    m.children.push_back(std::move(child));
  }
  out = std::move(m);
  return std::nullopt;
}

error_opt parse_all(const std::vector<std::string>& path, const bson::element& e, match_expr& out) {
  auto arr = e.as_array();
  if (!arr) return bad_value("$all needs an array");
  match_expr m;
  m.kind = match_kind::and_;
  bool first = true, elem_match_form = false;
  for (auto item : *arr) {
    auto d = item.as_document();
    bool is_elem_match = d && d->first_key() == "$elemMatch";
    if (first) elem_match_form = is_elem_match;
    first = false;
    if (is_elem_match != elem_match_form) return bad_value("$all/$elemMatch has to be consistent");
    match_expr child;
    if (elem_match_form) {
      if (auto err = parse_elem_match(path, d->find("$elemMatch"), child)) return err;
    } else if (item.type() == BSON_TYPE_REGEX) {
      bson::document w;
      w.append("$regex", item);
      if (auto err = parse_regex_operator(path, w, child)) return err;
    } else {
      if (is_operator_document(item)) return bad_value("no $ expressions in $all");
      child = leaf(match_kind::eq, path, item);
    }
    m.children.push_back(std::move(child));
  }
  if (m.children.empty()) m.kind = match_kind::always_false;  // {$all: []} matches nothing
  out = std::move(m);
  return std::nullopt;
}

error_opt parse_not(const std::vector<std::string>& path, const bson::element& e, match_expr& out) {
  if (e.type() == BSON_TYPE_REGEX) {
    bson::document w;
    w.append("$regex", e);
    match_expr inner;
    if (auto err = parse_regex_operator(path, w, inner)) return err;
    out = negate(std::move(inner));
    return std::nullopt;
  }
  auto sub = e.as_document();
  if (!sub) return bad_value("$not needs a regex or a document");
  if (sub->empty()) return bad_value("$not cannot be empty");
  match_expr inner;
  inner.kind = match_kind::and_;
  bool regex_done = false;
  for (auto op : *sub) {
    if (op.key() == "$regex" || op.key() == "$options") {
      if (regex_done) continue;
      regex_done = true;
    }
    match_expr child;
    if (auto err = parse_field_operator(path, op, *sub, child)) return err;
    inner.children.push_back(std::move(child));
  }
  out = negate(std::move(inner));
  return std::nullopt;
}

error_opt parse_field_operator(const std::vector<std::string>& path, const bson::element& op, bson::view whole,
                               match_expr& out) {
  std::string_view name = op.key();
  auto comparison = [&](match_kind k) -> error_opt {
    if (op.type() == BSON_TYPE_UNDEFINED) return bad_value("cannot compare to undefined");
    out = leaf(k, path, op);
    return std::nullopt;
  };
  if (name == "$eq") return comparison(match_kind::eq);
  if (name == "$lt") return comparison(match_kind::lt);
  if (name == "$lte") return comparison(match_kind::lte);
  if (name == "$gt") return comparison(match_kind::gt);
  if (name == "$gte") return comparison(match_kind::gte);
  if (name == "$ne") {
    if (op.type() == BSON_TYPE_REGEX) return bad_value("Can't have regex as arg to $ne.");
    if (auto err = comparison(match_kind::eq)) return err;
    out = negate(std::move(out));
    return std::nullopt;
  }
  if (name == "$in") return parse_in_list(path, op, out);
  if (name == "$nin") {
    if (auto err = parse_in_list(path, op, out)) return err;
    out = negate(std::move(out));
    return std::nullopt;
  }
  if (name == "$exists") {
    out = leaf(match_kind::exists, path, {});
    if (!true_value(op)) out = negate(std::move(out));
    return std::nullopt;
  }
  if (name == "$type") {
    out = leaf(match_kind::type, path, {});
    if (auto arr = op.as_array()) {
      for (auto t : *arr)
        if (auto err = parse_one_type(t, out.type_codes)) return err;
      return std::nullopt;
    }
    return parse_one_type(op, out.type_codes);
  }
  if (name == "$size") return parse_size(path, op, out);
  if (name == "$all") return parse_all(path, op, out);
  if (name == "$elemMatch") return parse_elem_match(path, op, out);
  if (name == "$not") return parse_not(path, op, out);
  if (name == "$mod") return parse_mod(path, op, out);
  if (name == "$regex" || name == "$options") return parse_regex_operator(path, whole, out);
  if (name == "$comment") {
    out.kind = match_kind::always_true;
    return std::nullopt;
  }
  if (name == "$where") return bad_value("$where cannot be applied to a field");
  return bad_value(fmt::format("unknown operator: {}", name));
}

error_opt parse_field(const bson::element& e, match_expr& out) {
  auto path = split_path(e.key());
  if (is_operator_document(e)) {
    match_expr m;
    m.kind = match_kind::and_;
    bson::view ops = *e.as_document();
    bool regex_done = false;
    for (auto op : ops) {
      // $regex and $options form one predicate.
      if (op.key() == "$regex" || op.key() == "$options") {
        if (regex_done) continue;
        regex_done = true;
      }
      match_expr child;
      if (auto err = parse_field_operator(path, op, ops, child)) return err;
      m.children.push_back(std::move(child));
    }
    out = m.children.size() == 1 ? std::move(m.children.front()) : std::move(m);
    return std::nullopt;
  }
  if (e.type() == BSON_TYPE_REGEX) {
    bson::document w;
    w.append("$regex", e);
    return parse_regex_operator(path, w, out);
  }
  if (e.type() == BSON_TYPE_UNDEFINED) return bad_value("cannot compare to undefined");
  out = leaf(match_kind::eq, path, e);
  return std::nullopt;
}

error_opt parse_filter(bson::view filter, match_expr& out) {
  match_expr m;
  m.kind = match_kind::and_;
  for (auto e : filter) {
    match_expr child;
    auto err = e.key().starts_with('$') ? parse_top_level_operator(e, child) : parse_field(e, child);
    if (err) return err;
    m.children.push_back(std::move(child));
  }
  out = std::move(m);
  return std::nullopt;
}

// --- matching ---
bool matches_doc(const match_expr& m, bson::view doc);

// ComparisonMatchExpression::matchesSingleElement.
bool compare_matches(match_kind kind, const bson::element& e, const bson::element& rhs) {
  int ce = canonical_type(e.type()), cr = canonical_type(rhs.type());
  if (ce != cr) {
    if (ce + cr == 5)  // null against missing (or undefined, which no longer matches)
      return !e && (kind == match_kind::eq || kind == match_kind::lte || kind == match_kind::gte);
    if (rhs.type() == BSON_TYPE_MAXKEY) return kind == match_kind::lt || kind == match_kind::lte;
    if (rhs.type() == BSON_TYPE_MINKEY) return kind == match_kind::gt || kind == match_kind::gte;
    return false;
  }
  if (kind != match_kind::eq && (is_nan(e) || is_nan(rhs))) {
    bool both = is_nan(e) && is_nan(rhs);
    return (kind == match_kind::lte || kind == match_kind::gte) && both;
  }
  int c = compare_values(e, rhs);
  switch (kind) {
    case match_kind::eq: return c == 0;
    case match_kind::lt: return c < 0;
    case match_kind::lte: return c <= 0;
    case match_kind::gt: return c > 0;
    default: return c >= 0;
  }
}

bool regex_matches(const compiled_regex& r, const bson::element& e) {
  if (e.type() == BSON_TYPE_UTF8 || e.type() == BSON_TYPE_SYMBOL) {
    std::uint32_t len = 0;
    const char* s = e.type() == BSON_TYPE_UTF8 ? bson_iter_utf8(e.iter(), &len) : bson_iter_symbol(e.iter(), &len);
    return std::regex_search(s, s + len, r.re);
  }
  if (e.type() == BSON_TYPE_REGEX) {
    auto [p, f] = regex_parts(e);
    return p == r.pattern && f == r.flags;
  }
  return false;
}

bool mod_matches(const match_expr& m, const bson::element& e) {
  if (!e.is_number()) return false;
  if (auto d = e.as_double(); d && (!std::isfinite(*d) || std::fabs(*d) >= 9.2233720368547758e18)) return false;
  auto dividend = e.as_integer();
  if (!dividend) return false;
  if (m.a == -1) return m.b == 0;  // avoids INT64_MIN % -1 overflow
  return *dividend % m.a == m.b;
}

bool matches_single(const match_expr& m, const bson::element& e) {
  switch (m.kind) {
    case match_kind::eq:
    case match_kind::lt:
    case match_kind::lte:
    case match_kind::gt:
    case match_kind::gte: return compare_matches(m.kind, e, m.operand());
    case match_kind::in: {
      if (m.in_has_null && !e) return true;
      for (auto item : bson::view(*m.operand().as_array()))
        if (item.type() != BSON_TYPE_REGEX && compare_matches(match_kind::eq, e, item)) return true;
      for (auto& r : m.regexes)
        if (regex_matches(r, e)) return true;
      return false;
    }
    case match_kind::exists: return static_cast<bool>(e);
    case match_kind::type: return e && type_matches(m, e);
    case match_kind::size: {
      auto arr = e.as_array();
      return arr && static_cast<std::int64_t>(arr->count()) == m.a;
    }
    case match_kind::regex: return regex_matches(m.regexes.front(), e);
    case match_kind::mod: return mod_matches(m, e);
    case match_kind::elem_match_object: {
      auto arr = e.as_array();
      if (!arr) return false;
      for (auto item : *arr) {
        auto sub = item.is_document() ? item.as_document() : item.as_array();
        if (sub && matches_doc(m.children.front(), *sub)) return true;
      }
      return false;
    }
    case match_kind::elem_match_value: {
      auto arr = e.as_array();
      if (!arr) return false;
      for (auto item : *arr) {
        bool all = true;
        for (auto& c : m.children) all = all && matches_single(c, item);
        if (all) return true;
      }
      return false;
    }
    case match_kind::not_: return !matches_single(m.children.front(), e);
    case match_kind::and_:
      for (auto& c : m.children)
        if (!matches_single(c, e)) return false;
      return true;
    case match_kind::always_true: return true;
    default: return false;
  }
}

bool matches_doc(const match_expr& m, bson::view doc) {
  switch (m.kind) {
    case match_kind::and_:
      for (auto& c : m.children)
        if (!matches_doc(c, doc)) return false;
      return true;
    case match_kind::or_:
      for (auto& c : m.children)
        if (matches_doc(c, doc)) return true;
      return false;
    case match_kind::nor:
      for (auto& c : m.children)
        if (matches_doc(c, doc)) return false;
      return true;
    case match_kind::not_: return !matches_doc(m.children.front(), doc);
    case match_kind::always_true: return true;
    case match_kind::always_false: return false;
    case match_kind::where: return evaluate_where(*m.js, doc, *m.js_effects);
    default: break;
  }
  // Array operators see a leaf array whole; the others see each of its elements too.
  bool expand =
      m.kind != match_kind::size && m.kind != match_kind::elem_match_object && m.kind != match_kind::elem_match_value;
  return visit_path(doc, m.path, expand, true, [&](const bson::element& e, bool) { return matches_single(m, e); });
}

std::string join_path(const std::vector<std::string>& parts) {
  std::string s;
  for (auto& p : parts) s += (s.empty() ? "" : ".") + p;
  return s;
}

// Equalities an upsert copies into its new document (mongod's query-based field
// extraction: equality, $eq, single-element $in, and the same under $and).
void collect_equalities(const match_expr& m, std::vector<std::pair<std::string, bson::document>>& out) {
  if (m.kind == match_kind::and_) {
    for (auto& c : m.children) collect_equalities(c, out);
    return;
  }
  if (m.path.empty()) return;
  bson::document v;
  if (m.kind == match_kind::eq) {
    v.append("v", m.operand());
  } else if (m.kind == match_kind::in && m.operand().as_array()->count() == 1) {
    v.append("v", *m.operand().as_array()->begin());
  } else {
    return;
  }
  out.emplace_back(join_path(m.path), std::move(v));
}

}  // namespace
}  // namespace detail

std::variant<matcher, query_error> matcher::compile(bson::view filter, match_options options) {
  auto root = std::make_shared<detail::match_expr>();
  if (auto err = detail::parse_filter(filter, *root)) return *err;
  if (auto err = detail::allow_javascript(*root, options.javascript)) return *err;
  matcher m;
  detail::collect_equalities(*root, m.equalities_);
  m.root_ = std::move(root);
  return m;
}

bool matcher::matches(bson::view doc) const { return !root_ || detail::matches_doc(*root_, doc); }

const std::vector<std::pair<std::string, bson::document>>& matcher::upsert_equalities() const { return equalities_; }

}  // namespace mongowire::testd::query
