#include "match.hpp"

#include <algorithm>
#include <cctype>

#include "entities.hpp"

namespace mongowire::spec {
namespace {

std::string child_path(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return path + "." + std::string(key);
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw test_failure((path.empty() ? std::string("value") : path) + ": " + what);
}

bool is_numeric(bson_type_t t) { return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 || t == BSON_TYPE_DOUBLE; }

// A document whose first and only key starts with "$$".
std::optional<std::string_view> special_operator(const bson::element& e) {
  auto d = e.as_document();
  if (!d || d->count() != 1) return std::nullopt;
  auto key = d->first_key();
  if (key.size() > 2 && key.substr(0, 2) == "$$") return key;
  return std::nullopt;
}

bool type_matches(bson_type_t actual, std::string_view name) {
  if (name == "number") return is_numeric(actual) || actual == BSON_TYPE_DECIMAL128;
  return bson::type_name(actual) == name;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

struct matcher {
  const entity_map& entities;

  void value(const bson::element& exp, const bson::element& act, bool root, const std::string& path) const {
    if (auto op = special_operator(exp)) return special(*op, *exp.as_document(), act, root, path);
    if (auto exp_doc = exp.as_document()) return document(*exp_doc, act, root, path);
    if (auto exp_array = exp.as_array()) return array(*exp_array, act, path, false);
    if (!act) fail(path, "expected " + describe(exp) + ", got nothing");
    if (!values_equal(exp, act)) fail(path, "expected " + describe(exp) + ", got " + describe(act));
  }

  void document(bson::view exp, const bson::element& act, bool root, const std::string& path) const {
    if (!act) fail(path, "expected document " + describe_view(exp) + ", got nothing");
    auto act_doc = act.as_document();
    if (!act_doc) fail(path, "expected document " + describe_view(exp) + ", got " + describe(act));
    for (const auto& field : exp) {
      const auto p = child_path(path, field.key());
      auto actual_field = act_doc->find(field.key());
      if (auto op = special_operator(field)) {
        auto operand = (*field.as_document())[*op];
        if (*op == "$$exists") {
          const bool want = operand.as_truthy().value_or(false);
          if (want && !actual_field) fail(p, "expected the field to exist");
          if (!want && actual_field) fail(p, "expected no such field, got " + describe(actual_field));
          continue;
        }
        if (*op == "$$unsetOrMatches" && !actual_field) continue;
      }
      if (!actual_field && !special_operator(field)) fail(p, "expected " + describe(field) + ", got nothing");
      value(field, actual_field, false, p);
    }
    if (root) return;
    for (const auto& field : *act_doc)
      if (!exp.contains(field.key()))
        fail(child_path(path, field.key()), "unexpected field with value " + describe(field));
  }

  void array(bson::view exp, const bson::element& act, const std::string& path, bool elements_are_roots) const {
    if (!act) fail(path, "expected array, got nothing");
    auto act_array = act.as_array();
    if (!act_array) fail(path, "expected array " + describe_array(exp) + ", got " + describe(act));
    const auto exp_count = exp.count();
    const auto act_count = act_array->count();
    if (exp_count != act_count)
      fail(path, "expected " + std::to_string(exp_count) + " elements, got " + std::to_string(act_count) + ": " +
                     describe(act));
    auto a = act_array->begin();
    std::size_t i = 0;
    for (const auto& e : exp) {
      value(e, *a, elements_are_roots, path + "[" + std::to_string(i) + "]");
      ++a;
      ++i;
    }
  }

  void special(std::string_view op, bson::view exp_doc, const bson::element& act, bool root,
               const std::string& path) const {
    auto operand = exp_doc[op];
    if (op == "$$exists") {
      const bool want = operand.as_truthy().value_or(false);
      if (want != static_cast<bool>(act)) fail(path, want ? "expected a value" : "expected no value");
      return;
    }
    if (op == "$$unsetOrMatches") {
      if (!act) return;
      return value(operand, act, root, path);
    }
    if (op == "$$type") return type(operand, act, path);
    if (op == "$$sessionLsid") {
      auto name = operand.as_string();
      if (!name) throw runner_error("$$sessionLsid needs a session entity name");
      bson::document lsid = entities.session_lsid(*name);
      if (!act) fail(path, "expected the lsid of " + std::string(*name) + ", got nothing");
      auto act_doc = act.as_document();
      if (!act_doc || !(*act_doc == lsid.get_view()))
        fail(path, "expected the lsid of " + std::string(*name) + " " + lsid.get_view().to_relaxed_json() + ", got " +
                       describe(act));
      return;
    }
    if (op == "$$matchesEntity") {
      auto name = operand.as_string();
      if (!name) throw runner_error("$$matchesEntity needs an entity name");
      const spec::value& v = entities.bson_entity(*name);
      return value(v.get(), act, root, path);
    }
    if (op == "$$matchesHexBytes") {
      auto hex = operand.as_string();
      if (!hex) throw runner_error("$$matchesHexBytes needs a string");
      std::string want(*hex);
      std::transform(want.begin(), want.end(), want.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string got;
      if (auto bin = act.as_binary()) got = to_hex(bin->bytes);
      else if (auto s = act.as_string()) got = to_hex({reinterpret_cast<const std::uint8_t*>(s->data()), s->size()});
      else fail(path, "expected bytes " + want + ", got " + describe(act));
      if (got != want) fail(path, "expected bytes " + want + ", got " + got);
      return;
    }
    if (op == "$$lte") {
      auto limit = operand.as_number();
      auto got = act.as_number();
      if (!limit) throw runner_error("$$lte needs a number");
      if (!got) fail(path, "expected a number <= " + describe(operand) + ", got " + describe(act));
      if (*got > *limit) fail(path, "expected a number <= " + describe(operand) + ", got " + describe(act));
      return;
    }
    if (op == "$$matchAsDocument") {
      auto json = act.as_string();
      if (!json) fail(path, "expected an extended JSON string, got " + describe(act));
      std::string why;
      auto parsed = bson::document::try_from_json(*json, &why);
      if (!parsed) fail(path, "expected an extended JSON document, got " + describe(act) + " (" + why + ")");
      bson::document holder;
      holder.append("v", *parsed);
      return value(operand, holder["v"], false, path);
    }
    if (op == "$$matchAsRoot") return value(operand, act, true, path);
    throw runner_error("unknown special operator " + std::string(op));
  }

  void type(const bson::element& operand, const bson::element& act, const std::string& path) const {
    if (!act) fail(path, "expected a value of type " + describe(operand) + ", got nothing");
    bool ok = false;
    if (auto name = operand.as_string()) {
      ok = type_matches(act.type(), *name);
    } else if (auto names = operand.as_array()) {
      for (const auto& n : *names)
        if (auto s = n.as_string()) ok = ok || type_matches(act.type(), *s);
    } else {
      throw runner_error("$$type needs a string or an array of strings");
    }
    if (!ok)
      fail(path, "expected type " + describe(operand) + ", got " + std::string(bson::type_name(act.type())) + " " +
                     describe(act));
  }

  static std::string describe_view(bson::view d) { return d.to_relaxed_json(); }
  static std::string describe_array(bson::view a) {
    bson::document holder;
    holder.append_array("v", a);
    return describe(holder["v"]);
  }
};

void equal_documents(const bson::element& exp, const bson::element& act, const std::string& path) {
  if (auto exp_doc = exp.as_document()) {
    auto act_doc = act.as_document();
    if (!act_doc) fail(path, "expected " + describe(exp) + ", got " + describe(act));
    for (const auto& f : *exp_doc) {
      auto a = act_doc->find(f.key());
      if (!a) fail(child_path(path, f.key()), "expected " + describe(f) + ", got nothing");
      equal_documents(f, a, child_path(path, f.key()));
    }
    for (const auto& f : *act_doc)
      if (!exp_doc->contains(f.key())) fail(child_path(path, f.key()), "unexpected field with value " + describe(f));
    return;
  }
  if (auto exp_array = exp.as_array()) {
    auto act_array = act.as_array();
    if (!act_array || act_array->count() != exp_array->count())
      fail(path, "expected " + describe(exp) + ", got " + describe(act));
    auto a = act_array->begin();
    std::size_t i = 0;
    for (const auto& e : *exp_array) {
      equal_documents(e, *a, path + "[" + std::to_string(i++) + "]");
      ++a;
    }
    return;
  }
  if (!values_equal(exp, act)) fail(path, "expected " + describe(exp) + ", got " + describe(act));
}

}  // namespace

bool values_equal(const bson::element& a, const bson::element& b) {
  if (!a || !b) return static_cast<bool>(a) == static_cast<bool>(b);
  if (is_numeric(a.type()) && is_numeric(b.type())) {
    if (a.type() != BSON_TYPE_DOUBLE && b.type() != BSON_TYPE_DOUBLE) return *a.as_integer() == *b.as_integer();
    return *a.as_number() == *b.as_number();
  }
  if (a.type() != b.type()) return false;
  bson::document da, db;
  da.append("v", a);
  db.append("v", b);
  return da.get_view() == db.get_view();
}

void assert_matches(const bson::element& expected, const bson::element& actual, match_root root,
                    const entity_map& entities, const std::string& path) {
  matcher m{entities};
  if (root == match_root::array_of_roots) {
    if (auto exp_array = expected.as_array()) return m.array(*exp_array, actual, path, true);
  }
  m.value(expected, actual, root != match_root::value, path);
}

void assert_equal_documents(const bson::element& expected, const bson::element& actual, const std::string& path) {
  equal_documents(expected, actual, path);
}

}  // namespace mongowire::spec
