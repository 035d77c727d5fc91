// TEMPORARY minimal query engine; see query.hpp. Replaced by the real implementation.
#include "query/query.hpp"

#include <algorithm>
#include <cstring>

namespace mongowire::testd::query {
namespace {

int type_rank(bson_type_t t) {
  switch (t) {
    case BSON_TYPE_MINKEY: return 0;
    case BSON_TYPE_UNDEFINED:
    case BSON_TYPE_NULL: return 1;
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DECIMAL128: return 2;
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL: return 3;
    case BSON_TYPE_DOCUMENT: return 4;
    case BSON_TYPE_ARRAY: return 5;
    case BSON_TYPE_BINARY: return 6;
    case BSON_TYPE_OID: return 7;
    case BSON_TYPE_BOOL: return 8;
    case BSON_TYPE_DATE_TIME: return 9;
    case BSON_TYPE_TIMESTAMP: return 10;
    case BSON_TYPE_REGEX: return 11;
    default: return 12;
  }
}

template <class T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_documents(bson::view a, bson::view b) {
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
    if (int c = three_way(type_rank((*ia).type()), type_rank((*ib).type()))) return c;
    if (int c = three_way((*ia).key(), (*ib).key())) return c;
    if (int c = compare_values(*ia, *ib)) return c;
  }
  if (ia == a.end() && ib == b.end()) return 0;
  return ia == a.end() ? -1 : 1;
}

query_error bad_value(std::string msg) { return {2, "BadValue", std::move(msg)}; }

bool compare_op(std::string_view op, int c, bool& known) {
  known = true;
  if (op == "$eq") return c == 0;
  if (op == "$ne") return c != 0;
  if (op == "$gt") return c > 0;
  if (op == "$gte") return c >= 0;
  if (op == "$lt") return c < 0;
  if (op == "$lte") return c <= 0;
  known = false;
  return false;
}

bool value_equals(const bson::element& field, const bson::element& want) {
  if (!field) return want.is_null();
  if (compare_values(field, want) == 0) return true;
  if (field.is_array() && !want.is_array()) {
    for (auto e : bson::view(*field.as_array()))
      if (compare_values(e, want) == 0) return true;
  }
  return false;
}

bool operators_match(const bson::element& field, bson::view ops) {
  for (auto op : ops) {
    auto name = op.key();
    if (name == "$exists") {
      if (static_cast<bool>(field) != op.as_truthy().value_or(false)) return false;
      continue;
    }
    if (name == "$in" || name == "$nin") {
      bool any = false;
      for (auto v : bson::view(*op.as_array())) any = any || value_equals(field, v);
      if (any != (name == "$in")) return false;
      continue;
    }
    if (name == "$ne") {
      if (value_equals(field, op)) return false;
      continue;
    }
    if (name == "$eq") {
      if (!value_equals(field, op)) return false;
      continue;
    }
    if (!field || type_rank(field.type()) != type_rank(op.type())) return false;
    bool known = false;
    if (!compare_op(name, compare_values(field, op), known)) return false;
  }
  return true;
}

bool is_operator_document(const bson::element& e) {
  if (!e.is_document()) return false;
  auto d = *e.as_document();
  return !d.empty() && d.first_key().starts_with("$");
}

bool doc_matches(bson::view filter, bson::view doc) {
  for (auto cond : filter) {
    auto key = cond.key();
    if (key == "$and" || key == "$or") {
      bool is_and = key == "$and", any = false, all = true;
      for (auto sub : bson::view(*cond.as_array())) {
        bool m = doc_matches(*sub.as_document(), doc);
        any = any || m;
        all = all && m;
      }
      if (is_and ? !all : !any) return false;
      continue;
    }
    auto field = doc.find_path(key);
    if (is_operator_document(cond)) {
      if (!operators_match(field, *cond.as_document())) return false;
    } else if (!value_equals(field, cond)) {
      return false;
    }
  }
  return true;
}

std::optional<query_error> check_filter(bson::view filter) {
  for (auto cond : filter) {
    if (cond.key() == "$and" || cond.key() == "$or") {
      if (!cond.is_array()) return bad_value(std::string(cond.key()) + " must be an array");
      for (auto sub : bson::view(*cond.as_array())) {
        if (!sub.is_document()) return bad_value("$or/$and/$nor entries need to be full objects");
        if (auto e = check_filter(*sub.as_document())) return e;
      }
      continue;
    }
    if (cond.key().starts_with("$")) return bad_value("unknown top level operator: " + std::string(cond.key()));
    if (!is_operator_document(cond)) continue;
    for (auto op : bson::view(*cond.as_document())) {
      static constexpr std::string_view known[] = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"};
      if (std::find(std::begin(known), std::end(known), op.key()) == std::end(known))
        return bad_value("unknown operator: " + std::string(op.key()));
      if ((op.key() == "$in" || op.key() == "$nin") && !op.is_array()) return bad_value("$in needs an array");
    }
  }
  return std::nullopt;
}

// Copies `doc` into `out`, replacing/removing top-level fields per `changes`.
void rewrite(bson::view doc, bson::document& out, const std::vector<std::pair<std::string, std::optional<bson::document>>>& changes) {
  auto change_of = [&](std::string_view key) -> const std::optional<bson::document>* {
    for (auto& [k, v] : changes)
      if (k == key) return &v;
    return nullptr;
  };
  for (auto e : doc) {
    if (auto c = change_of(e.key())) {
      if (*c) out.append(e.key(), (**c)["v"]);
    } else {
      out.append(e.key(), e);
    }
  }
  for (auto& [k, v] : changes)
    if (v && !doc.contains(k)) out.append(k, (*v)["v"]);
}

bson::document boxed(const bson::element& e) {
  bson::document d;
  d.append("v", e);
  return d;
}

}  // namespace

int compare_values(const bson::element& a, const bson::element& b) {
  if (int c = three_way(type_rank(a.type()), type_rank(b.type()))) return c;
  switch (type_rank(a.type())) {
    case 2: {
      if (auto ia = a.as_int64(), ib = b.as_int64(); ia && ib) return three_way(*ia, *ib);
      return three_way(a.as_number().value_or(0), b.as_number().value_or(0));
    }
    case 3: return three_way(*a.as_string(), *b.as_string());
    case 4: return compare_documents(*a.as_document(), *b.as_document());
    case 5: return compare_documents(*a.as_array(), *b.as_array());
    case 6: {
      auto x = *a.as_binary(), y = *b.as_binary();
      if (int c = three_way(x.bytes.size(), y.bytes.size())) return c;
      if (int c = three_way(static_cast<int>(x.subtype), static_cast<int>(y.subtype))) return c;
      int m = std::memcmp(x.bytes.data(), y.bytes.data(), x.bytes.size());
      return three_way(m, 0);
    }
    case 7: return three_way(a.as_oid()->bytes, b.as_oid()->bytes);
    case 8: return three_way(*a.as_bool(), *b.as_bool());
    case 9: return three_way(bson_iter_date_time(&a.iter()), bson_iter_date_time(&b.iter()));
    case 10: return three_way(*a.as_timestamp(), *b.as_timestamp());
    default: return 0;
  }
}

std::variant<matcher, query_error> matcher::compile(bson::view filter) {
  if (auto e = check_filter(filter)) return *e;
  matcher m;
  m.filter_ = bson::document(filter);
  return m;
}

bool matcher::matches(bson::view doc) const { return doc_matches(filter_, doc); }

std::variant<update_spec, query_error> update_spec::compile(bson::view update) {
  update_spec u;
  u.update_ = bson::document(update);
  u.replacement_ = update.empty() || !update.first_key().starts_with("$");
  for (auto e : update) {
    bool op = e.key().starts_with("$");
    if (op == u.replacement_) return bad_value("cannot mix update operators and fields");
    if (op && e.key() != "$set" && e.key() != "$inc" && e.key() != "$unset")
      return query_error{9, "FailedToParse", "Unknown modifier: " + std::string(e.key()) + ". Expected a valid update modifier or pipeline-style update specified as an array"};
    if (op && !e.is_document()) return query_error{9, "FailedToParse", "Modifiers operate on fields but we found type " + std::string(bson::type_name(e.type())) + " instead."};
  }
  return u;
}

bool update_spec::is_replacement() const { return replacement_; }

std::optional<query_error> update_spec::apply(bson::view doc, bson::document& out) const {
  out.clear();
  if (replacement_) {
    if (auto id = doc["_id"]) out.append("_id", id);
    for (auto e : update_.get_view())
      if (e.key() != "_id") out.append(e.key(), e);
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::optional<bson::document>>> changes;
  for (auto op : update_.get_view()) {
    for (auto f : bson::view(*op.as_document())) {
      std::string key(f.key());
      if (key == "_id" && op.key() != "$unset") {
        auto cur = doc["_id"];
        if (cur && compare_values(cur, f) == 0) continue;
        return query_error{66, "ImmutableField", "Performing an update on the path '_id' would modify the immutable field '_id'"};
      }
      if (op.key() == "$set") changes.emplace_back(key, boxed(f));
      if (op.key() == "$unset") changes.emplace_back(key, std::nullopt);
      if (op.key() == "$inc") {
        if (!f.is_number()) return query_error{14, "TypeMismatch", "Cannot increment with non-numeric argument"};
        auto cur = doc[key];
        if (cur && !cur.is_number()) return query_error{14, "TypeMismatch", "Cannot apply $inc to a value of non-numeric type"};
        bson::document v;
        if ((!cur || cur.as_int64()) && f.as_int64()) {
          std::int64_t sum = cur ? *cur.as_int64() + *f.as_int64() : *f.as_int64();
          bool both32 = (!cur || cur.type() == BSON_TYPE_INT32) && f.type() == BSON_TYPE_INT32;
          if (both32 && sum >= INT32_MIN && sum <= INT32_MAX) v.append("v", static_cast<std::int32_t>(sum));
          else v.append("v", sum);
        } else {
          v.append("v", (cur ? *cur.as_number() : 0.0) + *f.as_number());
        }
        changes.emplace_back(key, std::move(v));
      }
    }
  }
  rewrite(doc, out, changes);
  return std::nullopt;
}

std::optional<query_error> update_spec::apply_for_upsert(bson::view query, bson::document& out) const {
  bson::document seed;
  for (auto e : query)
    if (!e.key().starts_with("$") && !is_operator_document(e) && e.key().find('.') == std::string_view::npos) seed.append(e.key(), e);
  if (replacement_) {
    out.clear();
    if (auto id = update_["_id"]) out.append("_id", id);
    else if (auto qid = seed["_id"]) out.append("_id", qid);
    for (auto e : update_.get_view())
      if (e.key() != "_id") out.append(e.key(), e);
    return std::nullopt;
  }
  return apply(seed, out);
}

std::variant<projection, query_error> projection::compile(bson::view spec) {
  projection p;
  p.spec_ = bson::document(spec);
  std::optional<bool> mode;
  for (auto e : spec) {
    bool include = e.as_truthy().value_or(true);
    if (e.key() == "_id") continue;
    if (mode && *mode != include)
      return query_error{31254, "Location31254", "Cannot do exclusion on field " + std::string(e.key()) + " in inclusion projection"};
    mode = include;
  }
  p.inclusion_ = mode.value_or(false);
  if (!mode) p.inclusion_ = !(spec["_id"] && !spec["_id"].as_truthy().value_or(true));
  if (!mode && spec.empty()) p.inclusion_ = false;
  return p;
}

void projection::apply(bson::view doc, bson::document& out) const {
  out.clear();
  auto id_rule = spec_["_id"];
  bool keep_id = !id_rule || id_rule.as_truthy().value_or(true);
  for (auto e : doc) {
    auto rule = spec_[e.key()];
    bool keep = e.key() == "_id" ? keep_id : (inclusion_ ? static_cast<bool>(rule) && rule.as_truthy().value_or(true) : !rule);
    if (keep) out.append(e.key(), e);
  }
}

std::variant<sort_spec, query_error> sort_spec::compile(bson::view spec) {
  for (auto e : spec) {
    auto dir = e.as_integer();
    if (!dir || (*dir != 1 && *dir != -1)) return bad_value("$sort key ordering must be 1 (for ascending) or -1 (for descending)");
  }
  sort_spec s;
  s.spec_ = bson::document(spec);
  return s;
}

bool sort_spec::less(bson::view a, bson::view b) const {
  static const bson::document null_doc = [] {
    bson::document d;
    d.append_null("v");
    return d;
  }();
  for (auto key : spec_.get_view()) {
    auto x = a.find_path(key.key()), y = b.find_path(key.key());
    if (!x) x = null_doc["v"];
    if (!y) y = null_doc["v"];
    int c = compare_values(x, y) * static_cast<int>(*key.as_integer());
    if (c != 0) return c < 0;
  }
  return false;
}

std::variant<pipeline_result, query_error> run_pipeline(std::vector<bson::document> input, bson::view pipeline) {
  pipeline_result result;
  for (auto stage_el : pipeline) {
    if (!stage_el.is_document()) return query_error{14, "TypeMismatch", "Each element of the 'pipeline' array must be an object"};
    auto stage = *stage_el.as_document();
    auto name = stage.first_key();
    auto arg = stage.find(name);
    if (name == "$match") {
      auto m = matcher::compile(*arg.as_document());
      if (auto* e = std::get_if<query_error>(&m)) return *e;
      std::erase_if(input, [&](const bson::document& d) { return !std::get<matcher>(m).matches(d); });
    } else if (name == "$sort") {
      auto s = sort_spec::compile(*arg.as_document());
      if (auto* e = std::get_if<query_error>(&s)) return *e;
      std::stable_sort(input.begin(), input.end(), [&](auto& x, auto& y) { return std::get<sort_spec>(s).less(x, y); });
    } else if (name == "$skip") {
      auto n = static_cast<std::size_t>(std::max<std::int64_t>(0, arg.as_integer().value_or(0)));
      input.erase(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(std::min(n, input.size())));
    } else if (name == "$limit") {
      auto n = static_cast<std::size_t>(std::max<std::int64_t>(0, arg.as_integer().value_or(0)));
      if (input.size() > n) input.resize(n);
    } else if (name == "$project") {
      auto p = projection::compile(*arg.as_document());
      if (auto* e = std::get_if<query_error>(&p)) return *e;
      for (auto& d : input) {
        bson::document out;
        std::get<projection>(p).apply(d, out);
        d = std::move(out);
      }
    } else if (name == "$out") {
      result.out_collection = std::string(arg.as_string().value_or(""));
    } else {
      return query_error{40324, "Location40324", "Unrecognized pipeline stage name: '" + std::string(name) + "'"};
    }
  }
  result.docs = std::move(input);
  return result;
}

}  // namespace mongowire::testd::query
