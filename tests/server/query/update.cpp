// Update documents: replacements and update operators, as mongod's UpdateDriver applies
// them (src/mongo/db/update/*; manual "Update Operators"). Operators edit a node tree.
#include "query/detail.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace mongowire::testd::query {
namespace detail {

struct update_op {
  std::string op;                  // "$set", "$inc", ...
  std::vector<std::string> parts;  // target path
  std::vector<std::string> to;     // $rename destination
  bson::document arg;              // {"v": argument}
  bson::element value() const { return arg.find("v"); }
};

namespace {

using error_opt = std::optional<query_error>;

constexpr std::string_view known_ops[] = {"$set", "$unset",  "$inc",         "$mul",        "$min",
                                          "$max", "$push",   "$addToSet",    "$pull",       "$pullAll",
                                          "$pop", "$rename", "$setOnInsert", "$currentDate"};

std::string join(const std::vector<std::string>& parts, std::size_t n = std::string::npos) {
  std::string s;
  for (std::size_t i = 0; i < parts.size() && i < n; ++i) s += (i ? "." : "") + parts[i];
  return s;
}

error_opt check_path(std::string_view path, std::vector<std::string>& parts) {
  parts = split_path(path);
  for (auto& p : parts) {
    if (p.empty())
      return make_error(56,
                        fmt::format("The update path '{}' contains an empty field name, which is not allowed.", path));
    if (p.starts_with('$'))
      return bad_value(
          fmt::format("The update path '{}' uses a positional operator ('{}'), which the mongowire test "
                      "server does not support",
                      path, p));
  }
  return std::nullopt;
}

// Two updated paths conflict when one is a prefix of the other (mongod, error 40).
error_opt check_conflict(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return std::nullopt;
  return make_error(40, fmt::format("Updating the path '{}' would create a conflict at '{}'", join(a), join(a, n)));
}

std::string field_doc(std::string_view key, const bson::element& v) {
  bson::document d;
  d.append(key, v);
  return to_short_string(d);
}

error_opt check_each_modifiers(std::string_view op, std::string_view path, bson::view spec) {
  auto each = spec.find("$each");
  if (!each.is_array())
    return bad_value(fmt::format("The argument to $each in {} must be an array but it was of type: {}", op,
                                 bson::type_name(each.type())));
  for (auto m : spec) {
    auto key = m.key();
    if (key == "$each") continue;
    if (op == "$addToSet")
      return bad_value(fmt::format("Found unexpected fields after $each in $addToSet: {}", to_short_string(spec)));
    if (key == "$slice" || key == "$position") {
      auto n = m.as_number();
      if (!n || *n != std::floor(*n))
        return bad_value(fmt::format("The value for {} must be an integer value but was given type: {}", key,
                                     bson::type_name(m.type())));
    } else if (key == "$sort") {
      auto n = m.as_number();
      auto d = m.as_document();
      if (!(n && (*n == 1 || *n == -1)) && !(d && !d->empty()))
        return bad_value(
            "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields");
    } else {
      return bad_value(fmt::format("Unrecognized clause in $push: {}", key));
    }
  }
  (void)path;
  return std::nullopt;
}

error_opt check_argument(std::string_view op, const bson::element& v, update_op& u) {
  std::string_view path = v.key();
  if (op == "$inc" || op == "$mul") {
    if (!v.is_number() && v.type() != BSON_TYPE_DECIMAL128)
      return type_mismatch(fmt::format("Cannot {} with non-numeric argument: {}",
                                       op == "$inc" ? "increment" : "multiply", field_doc(path, v)));
  } else if ((op == "$push" || op == "$addToSet") && v.is_document() && v.as_document()->contains("$each")) {
    return check_each_modifiers(op, path, *v.as_document());
  } else if (op == "$pullAll") {
    if (!v.is_array())
      return bad_value(
          fmt::format("$pullAll requires an array argument but was given a {}", bson::type_name(v.type())));
  } else if (op == "$pop") {
    auto n = v.as_number();
    if (!n) return failed_to_parse(fmt::format("Expected a number in: {}", field_doc(path, v)));
    if (*n != 1 && *n != -1) return failed_to_parse(fmt::format("$pop expects 1 or -1, found: {}", to_short_string(v)));
  } else if (op == "$rename") {
    auto to = v.as_string();
    if (!to) return bad_value(fmt::format("The 'to' field for $rename must be a string: {}", field_doc(path, v)));
    if (*to == path)
      return bad_value(fmt::format("The source and target field for $rename must differ: {}", field_doc(path, v)));
    if (auto err = check_path(*to, u.to)) return err;
  } else if (op == "$currentDate") {
    auto d = v.as_document();
    auto t = d ? d->find("$type").as_string() : std::nullopt;
    bool ok = v.is_bool() || (d && d->count() == 1 && t && (*t == "date" || *t == "timestamp"));
    if (!ok)
      return bad_value(
          fmt::format("{} is not valid type for $currentDate. Please use a boolean ('true') or a $type "
                      "expression ({{$type: 'timestamp/date'}}).",
                      field_doc(path, v)));
  }
  return std::nullopt;
}

// --- applying ---
struct context {
  bson::view original;  // for messages
  bool inserting;
};

std::string id_for_message(const context& c) {
  auto id = c.original.find("_id");
  if (!id) return to_short_string(c.original);
  return field_doc("_id", id);
}

std::string element_for_message(std::string_view key, const node& n) {
  bson::document d;
  n.append_to(d, key);
  return to_short_string(d);
}

// Finds (creating when `create`) the parent container of parts.back().
std::variant<node*, query_error> parent_of(node& root, const std::vector<std::string>& parts, bool create) {
  node* at = &root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    node* next = at->child(parts[i]);
    if (!next) {
      if (!create) return static_cast<node*>(nullptr);
      if (at->is_array() && !all_digits(parts[i]))
        return make_error(28, fmt::format("Cannot create field '{}' in element {}", parts[i],
                                          element_for_message(i > 0 ? parts[i - 1] : "", *at)));
      next = &at->set(parts[i], node::object());
    } else if (!next->is_container()) {
      if (!create) return static_cast<node*>(nullptr);
      return make_error(28, fmt::format("Cannot create field '{}' in element {}", parts[i + 1],
                                        element_for_message(parts[i], *next)));
    }
    at = next;
  }
  if (at->is_array() && !all_digits(parts.back())) {
    if (!create) return static_cast<node*>(nullptr);
    return make_error(28, fmt::format("Cannot create field '{}' in element {}", parts.back(),
                                      element_for_message(parts.size() > 1 ? parts[parts.size() - 2] : "", *at)));
  }
  return at;
}

bool is_numeric(const node& n) {
  return n.type == BSON_TYPE_INT32 || n.type == BSON_TYPE_INT64 || n.type == BSON_TYPE_DOUBLE;
}

// SafeNum arithmetic: int32 widens to int64 on overflow, int64 to double.
node numeric_op(const node& a, const bson::element& b, bool multiply) {
  auto x = a.value();
  if (x.type() == BSON_TYPE_DOUBLE || b.type() == BSON_TYPE_DOUBLE) {
    double r = multiply ? *x.as_number() * *b.as_number() : *x.as_number() + *b.as_number();
    return node::of(r);
  }
  std::int64_t l = *x.as_int64(), r = *b.as_int64(), out = 0;
  bool overflow = multiply ? __builtin_mul_overflow(l, r, &out) : __builtin_add_overflow(l, r, &out);
  if (overflow)
    return node::of(multiply ? static_cast<double>(l) * static_cast<double>(r)
                             : static_cast<double>(l) + static_cast<double>(r));
  if (x.type() == BSON_TYPE_INT32 && b.type() == BSON_TYPE_INT32 && out >= std::numeric_limits<std::int32_t>::min() &&
      out <= std::numeric_limits<std::int32_t>::max())
    return node::of(static_cast<std::int32_t>(out));
  return node::of(out);
}

node zero_like(const bson::element& e) {
  if (e.type() == BSON_TYPE_DOUBLE) return node::of(0.0);
  if (e.type() == BSON_TYPE_INT64) return node::of(std::int64_t{0});
  return node::of(std::int32_t{0});
}

std::vector<node> each_values(const bson::element& v, bool allow_each) {
  std::vector<node> items;
  if (auto d = v.as_document(); allow_each && d && d->contains("$each")) {
    for (auto item : bson::view(*d->find("$each").as_array())) items.push_back(node::from(item));
  } else {
    items.push_back(node::from(v));
  }
  return items;
}

void sort_for_push(std::vector<std::pair<std::string, node>>& items, const bson::element& how) {
  if (auto n = how.as_number()) {
    bool asc = *n == 1;
    stable_sort_aligned(items, [&](auto& a, auto& b) {
      int c = compare_nodes(a.second, b.second);
      return asc ? c < 0 : c > 0;
    });
    return;
  }
  auto spec = std::get<sort_spec>(sort_spec::compile(*how.as_document()));
  stable_sort_aligned(items, [&](auto& a, auto& b) {
    auto da = a.second.is_object() ? a.second.to_document() : bson::document();
    auto db = b.second.is_object() ? b.second.to_document() : bson::document();
    return spec.less(da, db);
  });
}

error_opt apply_push(node& target, const update_op& u) {
  auto v = u.value();
  auto items = each_values(v, true);
  auto& arr = target.children;
  std::size_t pos = arr.size();
  auto spec = v.as_document();
  bool modifiers = spec && spec->contains("$each");
  if (modifiers) {
    if (auto p = spec->find("$position").as_integer()) {
      std::int64_t size = static_cast<std::int64_t>(arr.size());
      std::int64_t at = *p < 0 ? std::max<std::int64_t>(0, size + *p) : std::min<std::int64_t>(*p, size);
      pos = static_cast<std::size_t>(at);
    }
  }
  std::vector<std::pair<std::string, node>> inserted;
  for (auto& n : items) inserted.emplace_back(std::string(), std::move(n));
  arr.insert(arr.begin() + static_cast<std::ptrdiff_t>(pos), std::make_move_iterator(inserted.begin()),
             std::make_move_iterator(inserted.end()));
  if (modifiers) {
    if (auto how = spec->find("$sort")) sort_for_push(arr, how);
    if (auto s = spec->find("$slice").as_integer()) {
      std::size_t keep = static_cast<std::size_t>(std::min<std::int64_t>(std::llabs(*s), arr.size()));
      if (*s >= 0) arr.resize(keep);
      else arr.erase(arr.begin(), arr.end() - static_cast<std::ptrdiff_t>(keep));
    }
  }
  return std::nullopt;
}

bool pull_matches(const bson::element& cond, const std::optional<matcher>& m, const node& item) {
  if (!m) return compare_nodes(item, node::from(cond)) == 0;
  if (auto d = cond.as_document(); d && !d->first_key().starts_with('$')) {
    if (!item.is_object()) return false;
    return m->matches(item.to_document());
  }
  bson::document wrapped;
  item.append_to(wrapped, "");
  return m->matches(wrapped);
}

error_opt apply_pull(node& target, const update_op& u) {
  auto cond = u.value();
  std::optional<matcher> m;
  if (auto d = cond.as_document()) {
    bson::document filter;
    if (!d->empty() && d->first_key().starts_with('$')) filter.append("", *d);
    else filter.concat(*d);
    auto compiled = matcher::compile(filter);
    if (auto* err = std::get_if<query_error>(&compiled)) return *err;
    m = std::get<matcher>(std::move(compiled));
  }
  std::erase_if(target.children, [&](auto& item) { return pull_matches(cond, m, item.second); });
  return std::nullopt;
}

node current_date(const bson::element& v) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  node n;
  auto d = v.as_document();
  if (d && d->find("$type").as_string() == "timestamp") {
    n.scalar.append("v", bson::timestamp{static_cast<std::uint32_t>(ms / 1000), 1});
    n.type = BSON_TYPE_TIMESTAMP;
  } else {
    n.scalar.append_date("v", ms);
    n.type = BSON_TYPE_DATE_TIME;
  }
  return n;
}

error_opt apply_one(node& root, const update_op& u, const context& c) {
  const std::string& op = u.op;
  if (op == "$setOnInsert" && !c.inserting) return std::nullopt;
  bool creates = op != "$unset" && op != "$pull" && op != "$pullAll" && op != "$pop" && op != "$rename";
  auto parent = parent_of(root, u.parts, creates);
  if (auto* err = std::get_if<query_error>(&parent)) return *err;
  node* p = std::get<node*>(parent);
  if (!p) return std::nullopt;
  const std::string& key = u.parts.back();
  node* target = p->child(key);
  auto v = u.value();

  if (op == "$set" || op == "$setOnInsert") {
    p->set(key, node::from(v));
  } else if (op == "$unset") {
    if (!target) return std::nullopt;
    if (p->is_array()) *target = node::null();  // array slots are nulled, not removed
    else p->erase(key);
  } else if (op == "$inc" || op == "$mul") {
    if (!target) {
      p->set(key, op == "$inc" ? node::from(v) : zero_like(v));
    } else if (!is_numeric(*target)) {
      return type_mismatch(
          fmt::format("Cannot apply {} to a value of non-numeric type. {} has the field '{}' of non-numeric type {}",
                      op, id_for_message(c), key, bson::type_name(target->type)));
    } else {
      *target = numeric_op(*target, v, op == "$mul");
    }
  } else if (op == "$min" || op == "$max") {
    node candidate = node::from(v);
    if (!target) {
      p->set(key, std::move(candidate));
    } else {
      int cmp = compare_nodes(candidate, *target);
      if (op == "$min" ? cmp < 0 : cmp > 0) *target = std::move(candidate);
    }
  } else if (op == "$push" || op == "$addToSet") {
    if (!target) target = &p->set(key, node::array());
    if (!target->is_array()) {
      if (op == "$push")
        return bad_value(fmt::format("The field '{}' must be an array but is of type {} in document {}", key,
                                     bson::type_name(target->type), id_for_message(c)));
      return bad_value(fmt::format("Cannot apply $addToSet to non-array field. Field named '{}' has non-array type {}",
                                   key, bson::type_name(target->type)));
    }
    if (op == "$push") return apply_push(*target, u);
    for (auto& item : each_values(v, true)) {
      bool present = std::any_of(target->children.begin(), target->children.end(),
                                 [&](auto& existing) { return compare_nodes(existing.second, item) == 0; });
      if (!present) target->children.emplace_back(std::string(), std::move(item));
    }
  } else if (op == "$pull" || op == "$pullAll" || op == "$pop") {
    if (!target) return std::nullopt;
    if (!target->is_array()) {
      if (op == "$pop")
        return type_mismatch(fmt::format("Path '{}' contains an element of non-array type '{}'", join(u.parts),
                                         bson::type_name(target->type)));
      return bad_value(op == "$pull" ? "Cannot apply $pull to a non-array value"
                                     : "$pullAll requires an array argument but was given a " +
                                           std::string(bson::type_name(target->type)));
    }
    if (op == "$pull") return apply_pull(*target, u);
    if (op == "$pop") {
      if (!target->children.empty()) {
        if (*v.as_number() > 0) target->children.pop_back();
        else target->children.erase(target->children.begin());
      }
      return std::nullopt;
    }
    std::vector<node> remove;
    for (auto item : bson::view(*v.as_array())) remove.push_back(node::from(item));
    std::erase_if(target->children, [&](auto& item) {
      return std::any_of(remove.begin(), remove.end(), [&](auto& r) { return compare_nodes(item.second, r) == 0; });
    });
  } else if (op == "$rename") {
    if (!target) return std::nullopt;
    if (p->is_array())
      return bad_value(fmt::format("The source field cannot be an array element, '{}' in doc with {}", join(u.parts),
                                   id_for_message(c)));
    node moved = std::move(*target);
    p->erase(key);
    auto dest_parent = parent_of(root, u.to, true);
    if (auto* err = std::get_if<query_error>(&dest_parent)) return *err;
    node* dp = std::get<node*>(dest_parent);
    if (dp->is_array())
      return bad_value(fmt::format("The destination field cannot be an array element, '{}' in doc with {}", join(u.to),
                                   id_for_message(c)));
    dp->set(u.to.back(), std::move(moved));
  } else if (op == "$currentDate") {
    p->set(key, current_date(v));
  }
  return std::nullopt;
}

void write_id_first(const node& doc, bson::document& out) {
  if (const node* id = doc.child("_id")) id->append_to(out, "_id");
  for (auto& [k, v] : doc.children)
    if (k != "_id") v.append_to(out, k);
}

}  // namespace
}  // namespace detail

std::variant<update_spec, query_error> update_spec::compile(bson::view update) {
  using namespace detail;
  update_spec spec;
  if (update.empty() || !update.first_key().starts_with('$')) {
    for (auto e : update)
      if (e.key().starts_with('$'))
        return make_error(
            52, fmt::format("The dollar ($) prefixed field '{}' in '{}' is not valid for storage.", e.key(), e.key()));
    spec.replacement_.emplace(update);
    return spec;
  }
  auto ops = std::make_shared<std::vector<update_op>>();
  for (auto group : update) {
    std::string_view op = group.key();
    if (std::find(std::begin(known_ops), std::end(known_ops), op) == std::end(known_ops))
      return failed_to_parse(fmt::format(
          "Unknown modifier: {}. Expected a valid update modifier or pipeline-style update specified as an array", op));
    auto fields = group.as_document();
    if (!fields)
      return failed_to_parse(
          fmt::format("Modifiers operate on fields but we found type {} instead. For example: {{$mod: "
                      "{{<field>: ...}}}} not {{{}: {}}}",
                      bson::type_name(group.type()), op, to_short_string(group)));
    for (auto f : *fields) {
      update_op u;
      u.op = std::string(op);
      if (auto err = check_path(f.key(), u.parts)) return *err;
      if (auto err = check_argument(op, f, u)) return *err;
      for (auto& prior : *ops) {
        if (auto err = check_conflict(u.parts, prior.parts)) return *err;
        if (!prior.to.empty())
          if (auto err = check_conflict(u.parts, prior.to)) return *err;
        if (!u.to.empty())
          if (auto err = check_conflict(u.to, prior.parts)) return *err;
      }
      if (!u.to.empty())
        if (auto err = check_conflict(u.to, u.parts)) return *err;
      u.arg.append("v", f);
      ops->push_back(std::move(u));
    }
  }
  // mongod applies modifications in field-name order, so new fields appear sorted.
  stable_sort_aligned(*ops, [](const update_op& a, const update_op& b) { return a.parts < b.parts; });
  spec.ops_ = std::move(ops);
  return spec;
}

std::optional<query_error> update_spec::apply_operators(bson::view doc, bson::document& out, bool inserting) const {
  using namespace detail;
  node root = node::from_document(doc);
  context c{doc, inserting};
  for (auto& u : *ops_)
    if (auto err = apply_one(root, u, c)) return err;
  if (!inserting) {
    auto before = doc.find("_id");
    const node* after = root.child("_id");
    if (before && (!after || compare_nodes(node::from(before), *after) != 0 || after->type != before.type()))
      return make_error(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  out.clear();
  if (inserting) write_id_first(root, out);
  else root.write_fields(out);
  return std::nullopt;
}

std::optional<query_error> update_spec::apply(bson::view doc, bson::document& out) const {
  if (!replacement_) return apply_operators(doc, out, false);
  auto old_id = doc.find("_id");
  auto new_id = replacement_->find("_id");
  if (old_id && new_id && (compare_values(old_id, new_id) != 0 || old_id.type() != new_id.type()))
    return detail::make_error(66,
                              fmt::format("After applying the update, the (immutable) field '_id' was found to have "
                                          "been altered to _id: {}",
                                          detail::to_short_string(new_id)));
  out.clear();
  if (old_id && !new_id) out.append("_id", old_id);  // a replacement keeps the document's _id, first
  if (new_id) out.append("_id", new_id);
  for (auto e : replacement_->get_view())
    if (e.key() != "_id") out.append(e.key(), e);
  return std::nullopt;
}

std::optional<query_error> update_spec::apply_for_upsert(bson::view query, bson::document& out) const {
  using namespace detail;
  auto compiled = matcher::compile(query);
  if (auto* err = std::get_if<query_error>(&compiled)) return *err;
  const auto& equalities = std::get<matcher>(compiled).upsert_equalities();
  node seed = node::object();
  std::vector<std::vector<std::string>> seen;
  for (auto& [path, value] : equalities) {
    auto parts = split_path(path);
    if (replacement_ && path != "_id") continue;  // a replacement takes only the query's _id
    for (auto& prior : seen) {
      if (prior == parts)
        return make_error(54, fmt::format("cannot infer query fields to set, path '{}' is matched twice", path));
      std::size_t n = std::min(prior.size(), parts.size());
      if (std::equal(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(n), prior.begin()))
        return make_error(54, fmt::format("cannot infer query fields to set, both paths '{}' and '{}' are matched",
                                          path, join(prior)));
    }
    seen.push_back(parts);
    auto parent = parent_of(seed, parts, true);
    if (auto* err = std::get_if<query_error>(&parent)) return *err;
    std::get<node*>(parent)->set(parts.back(), node::from(value.find("v")));
  }
  bson::document base;
  write_id_first(seed, base);
  bson::document built;
  if (replacement_) {
    if (auto id = base.find("_id"); id && !replacement_->find("_id")) built.append("_id", id);
    built.concat(*replacement_);
  } else if (auto err = apply_operators(base, built, true)) {
    return err;
  }
  out.clear();
  if (!built.find("_id")) out.append("_id", bson::object_id::generate());
  write_id_first(node::from_document(built), out);
  return std::nullopt;
}

}  // namespace mongowire::testd::query
