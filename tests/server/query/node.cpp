// The mutable value tree used by updates and aggregation, and mongod's path traversal.
#include "query/detail.hpp"

#include <algorithm>
#include <charconv>

namespace mongowire::testd::query::detail {

node node::null() {
  node n;
  n.scalar.append_null("v");
  n.type = BSON_TYPE_NULL;
  return n;
}

node node::from(const bson::element& e) {
  if (auto d = e.as_document()) return from_document(*d);
  if (auto a = e.as_array()) return from_array(*a);
  node n;
  n.scalar.append("v", e);
  n.type = e.type();
  return n;
}

node node::from_document(bson::view v) {
  node n = object();
  for (auto e : v) n.children.emplace_back(std::string(e.key()), from(e));
  return n;
}

node node::from_array(bson::view v) {
  node n = array();
  for (auto e : v) n.children.emplace_back(std::string(), from(e));
  return n;
}

namespace {
std::optional<std::size_t> array_index(std::string_view key) {
  if (!all_digits(key)) return std::nullopt;
  std::size_t i = 0;
  auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), i);
  if (ec != std::errc() || p != key.data() + key.size()) return std::nullopt;
  return i;
}
}  // namespace

node* node::child(std::string_view key) { return const_cast<node*>(static_cast<const node&>(*this).child(key)); }

const node* node::child(std::string_view key) const {
  if (is_array()) {
    auto i = array_index(key);
    return i && *i < children.size() ? &children[*i].second : nullptr;
  }
  for (auto& [k, v] : children)
    if (k == key) return &v;
  return nullptr;
}

node& node::set(std::string_view key, node value) {
  if (node* existing = child(key)) {
    *existing = std::move(value);
    return *existing;
  }
  if (is_array()) {
    // Setting past the end pads with nulls, as mongod does for {$set: {"a.5": x}}.
    auto i = array_index(key).value_or(children.size());
    while (children.size() < i) children.emplace_back(std::string(), null());
    children.emplace_back(std::string(), std::move(value));
    return children.back().second;
  }
  children.emplace_back(std::string(key), std::move(value));
  return children.back().second;
}

bool node::erase(std::string_view key) {
  if (is_array()) return false;  // callers null out array slots instead
  for (auto it = children.begin(); it != children.end(); ++it) {
    if (it->first == key) {
      children.erase(it);
      return true;
    }
  }
  return false;
}

void node::write_fields(bson::document& out) const {
  std::size_t i = 0;
  for (auto& [k, v] : children) {
    if (is_array()) v.append_to(out, std::to_string(i++));
    else v.append_to(out, k);
  }
}

void node::append_to(bson::document& out, std::string_view key) const {
  if (is_object()) {
    out.append(key, to_document().get_view());
  } else if (is_array()) {
    out.append_array(key, to_document().get_view());
  } else {
    out.append(key, value());
  }
}

// --- path traversal ---
namespace {

using parts_t = std::vector<std::string>;

struct walker {
  bool expand_leaf;
  bool leaf_itself;
  const path_visitor& visit;

  // getFieldDottedOrArray: descend through documents until an array or the end.
  bool walk_object(bson::view obj, const parts_t& parts, std::size_t i) {
    bson::element e;
    for (;;) {
      e = obj.find(parts[i]);
      if (!e) return visit(bson::element{}, false);
      if (e.is_array()) break;
      if (i + 1 == parts.size()) return visit(e, false);
      if (!e.is_document()) return visit(bson::element{}, false);  // scalar mid-path: missing
      obj = *e.as_document();
      ++i;
    }
    return walk_array(e, parts, i + 1);
  }

  // An array reached with parts[i..] left to resolve.
  bool walk_array(const bson::element& arr, const parts_t& parts, std::size_t i) {
    bool leaf = i == parts.size();
    if (leaf && !expand_leaf) return visit(arr, true);
    for (auto item : bson::view(*arr.as_array())) {
      if (leaf) {
        if (visit(item, false)) return true;
        continue;
      }
      bool offset_match = all_digits(parts[i]) && item.key() == parts[i];
      if (item.is_document()) {
        if (walk_object(*item.as_document(), parts, i)) return true;
        if (offset_match) {
          if (i + 1 == parts.size()) {
            if (visit(item, false)) return true;
          } else if (walk_object(*item.as_document(), parts, i + 1)) {
            return true;
          }
        }
      } else if (offset_match) {
        if (i + 1 == parts.size()) {
          if (visit(item, false)) return true;
        } else if (item.is_array()) {
          if (walk_array(item, parts, i + 1)) return true;
        }
      }
    }
    return leaf && leaf_itself ? visit(arr, true) : false;
  }
};

}  // namespace

bool visit_path(bson::view doc, const std::vector<std::string>& parts, bool expand_leaf_arrays, bool leaf_array_itself,
                const path_visitor& visit) {
  walker w{expand_leaf_arrays, leaf_array_itself, visit};
  return w.walk_object(doc, parts, 0);
}

}  // namespace mongowire::testd::query::detail

namespace mongowire::testd::query {

void collect_path_values(bson::view doc, std::string_view dotted_path, std::vector<bson::element>& out) {
  detail::visit_path(doc, detail::split_path(dotted_path), true, false, [&](const bson::element& e, bool) {
    if (e) out.push_back(e);
    return false;
  });
}

bson::document distinct_values(const std::vector<bson::document>& docs, std::string_view dotted_path) {
  std::vector<bson::element> values;
  for (auto& d : docs) collect_path_values(d, dotted_path, values);
  std::stable_sort(values.begin(), values.end(),
                   [](const bson::element& a, const bson::element& b) { return compare_values(a, b) < 0; });
  bson::array_builder arr;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (i == 0 || compare_values(values[i - 1], values[i]) != 0) arr.push(values[i]);
  return bson::document(arr.get_view());
}

}  // namespace mongowire::testd::query
