// Find and $project projections (manual: "Project Fields to Return from Query";
// mongod's projection_ast parser for the mixing and path-collision rules).
#include "query/detail.hpp"

#include <fmt/format.h>

namespace mongowire::testd::query {
namespace detail {

struct projection_node {
  enum class kind { include, exclude, computed, subtree } k = kind::subtree;
  bson::document expr;  // computed: {"v": expression}
  std::vector<std::pair<std::string, projection_node>> children;

  projection_node* child(std::string_view key) {
    for (auto& [name, n] : children)
      if (name == key) return &n;
    return nullptr;
  }
  const projection_node* child(std::string_view key) const { return const_cast<projection_node*>(this)->child(key); }
  bool has_computed() const {
    if (k == kind::computed) return true;
    for (auto& [name, n] : children)
      if (n.has_computed()) return true;
    return false;
  }
};

namespace {

using error_opt = std::optional<query_error>;

struct projection_builder {
  projection_node root;
  bool saw_inclusion = false, saw_exclusion = false;

  error_opt insert(const std::string& path, projection_node leaf) {
    auto parts = split_path(path);
    projection_node* at = &root;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].empty()) return make_error(15998, "FieldPath field names may not be empty strings.");
      projection_node* next = at->child(parts[i]);
      bool last = i + 1 == parts.size();
      if (next && (last || next->k != projection_node::kind::subtree)) {
        std::string prefix;
        for (std::size_t j = 0; j <= i; ++j) prefix += (j ? "." : "") + parts[j];
        if (last) return make_error(31250, fmt::format("Path collision at {}", path));
        std::string rest;
        for (std::size_t j = i + 1; j < parts.size(); ++j) rest += (j > i + 1 ? "." : "") + parts[j];
        return make_error(31250, fmt::format("Path collision at {} remaining portion {}", path, rest));
      }
      if (!next) {
        at->children.emplace_back(parts[i], last ? std::move(leaf) : projection_node{});
        next = &at->children.back().second;
      }
      at = next;
    }
    return std::nullopt;
  }

  error_opt note_mode(const std::string& path, bool inclusion, bool computed) {
    if (path == "_id" && !computed) return std::nullopt;  // _id may be toggled in either mode
    if (inclusion && saw_exclusion) {
      if (computed) return make_error(31252, "Cannot use expression other than $meta in exclusion projection");
      return make_error(31253, fmt::format("Cannot do inclusion on field {} in exclusion projection", path));
    }
    if (!inclusion && saw_inclusion)
      return make_error(31254, fmt::format("Cannot do exclusion on field {} in inclusion projection", path));
    (inclusion ? saw_inclusion : saw_exclusion) = true;
    return std::nullopt;
  }

  error_opt add(const std::string& path, const bson::element& value) {
    if (path.starts_with('$'))
      return make_error(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
    if (auto d = value.as_document()) {
      if (d->empty())
        return make_error(51270,
                          fmt::format("An empty sub-projection is not a valid value. Found empty object at path"));
      if (!d->first_key().starts_with('$')) {
        for (auto sub : *d)
          if (auto err = add(path + "." + std::string(sub.key()), sub)) return err;
        return std::nullopt;
      }
      auto op = d->first_key();
      if (op == "$slice" || op == "$elemMatch" || op == "$meta")
        return bad_value(fmt::format("{} projections are not supported by the mongowire test server", op));
    }
    projection_node leaf;
    if (value.is_bool() || value.is_number()) {
      bool include = true_value(value);
      leaf.k = include ? projection_node::kind::include : projection_node::kind::exclude;
      if (auto err = note_mode(path, include, false)) return err;
    } else {
      if (auto err = check_expression(value)) return err;
      leaf.k = projection_node::kind::computed;
      leaf.expr.append("v", value);
      if (auto err = note_mode(path, true, true)) return err;
    }
    return insert(path, std::move(leaf));
  }
};

void include_value(const bson::element& e, const projection_node& spec, bson::view root, bson::document& out,
                   std::string_view key);

// Inclusion: listed fields in document order, then computed fields in spec order.
void apply_inclusion(bson::view doc, const projection_node& spec, bson::view root, bson::document& out, bool top,
                     bool id_included) {
  for (auto f : doc) {
    const projection_node* s = spec.child(f.key());
    if (top && f.key() == "_id" && !s) {
      if (id_included) out.append(f.key(), f);
      continue;
    }
    if (!s || s->k == projection_node::kind::computed || s->k == projection_node::kind::exclude) continue;
    if (s->k == projection_node::kind::include) {
      out.append(f.key(), f);
    } else if (f.is_document() || f.is_array() || s->has_computed()) {
      include_value(f, *s, root, out, f.key());
    }
  }
  for (auto& [name, s] : spec.children) {
    bool present = static_cast<bool>(doc.find(name));
    if (s.k == projection_node::kind::computed) {
      auto v = evaluate(s.expr.find("v"), root);
      if (auto* n = std::get_if<std::optional<node>>(&v); n && *n) (*n)->append_to(out, name);
    } else if (s.k == projection_node::kind::subtree && s.has_computed() && !present) {
      bson::document sub;
      apply_inclusion(bson::view(), s, root, sub, false, false);
      out.append(name, sub);
    }
  }
}

void include_value(const bson::element& e, const projection_node& spec, bson::view root, bson::document& out,
                   std::string_view key) {
  if (auto d = e.as_document()) {
    bson::document sub;
    apply_inclusion(*d, spec, root, sub, false, false);
    out.append(key, sub);
  } else if (auto arr = e.as_array()) {
    // Arrays apply the sub-projection to each element; scalars in them are dropped.
    bson::array_builder items;
    for (auto item : *arr) {
      if (!item.is_document() && !item.is_array() && !spec.has_computed()) continue;
      bson::document one;
      include_value(item, spec, root, one, "v");
      items.push(one.find("v"));
    }
    out.append_array(key, items.get_view());
  } else {
    bson::document sub;  // a scalar replaced by the computed sub-fields
    apply_inclusion(bson::view(), spec, root, sub, false, false);
    out.append(key, sub);
  }
}

void exclude_value(const bson::element& e, const projection_node& spec, bson::document& out, std::string_view key);

void apply_exclusion(bson::view doc, const projection_node& spec, bson::document& out) {
  for (auto f : doc) {
    const projection_node* s = spec.child(f.key());
    if (!s) {
      out.append(f.key(), f);
    } else if (s->k == projection_node::kind::subtree) {
      exclude_value(f, *s, out, f.key());
    } else if (s->k == projection_node::kind::include) {
      out.append(f.key(), f);  // only _id: 1 gets here
    }
  }
}

void exclude_value(const bson::element& e, const projection_node& spec, bson::document& out, std::string_view key) {
  if (auto d = e.as_document()) {
    bson::document sub;
    apply_exclusion(*d, spec, sub);
    out.append(key, sub);
  } else if (auto arr = e.as_array()) {
    bson::array_builder items;
    for (auto item : *arr) {
      bson::document one;
      exclude_value(item, spec, one, "v");
      items.push(one.find("v"));
    }
    out.append_array(key, items.get_view());
  } else {
    out.append(key, e);
  }
}

}  // namespace
}  // namespace detail

std::variant<projection, query_error> projection::compile(bson::view spec) {
  detail::projection_builder b;
  for (auto e : spec)
    if (auto err = b.add(std::string(e.key()), e)) return *err;
  projection p;
  p.empty_ = spec.empty();
  // Only _id listed: {_id: 0} excludes it, {_id: 1} keeps just it.
  const auto* id = b.root.child("_id");
  p.inclusion_ = b.saw_inclusion || (!b.saw_exclusion && id && id->k != detail::projection_node::kind::exclude);
  p.root_ = std::make_shared<detail::projection_node>(std::move(b.root));
  return p;
}

void projection::apply(bson::view doc, bson::document& out) const {
  if (empty_ || !root_) {
    out.concat(doc);
    return;
  }
  if (inclusion_) {
    const auto* id = root_->child("_id");
    bool id_included = !id || id->k != detail::projection_node::kind::exclude;
    detail::apply_inclusion(doc, *root_, doc, out, true, id_included);
  } else {
    detail::apply_exclusion(doc, *root_, out);
  }
}

}  // namespace mongowire::testd::query
