#include "proto/sdam/read_preference_argument.hpp"

#include <cmath>
#include <limits>

namespace mongowire::detail::sdam {

namespace {

bool is_primary_mode(const read_preference& rp) noexcept { return rp.mode == read_preference_mode::primary; }

// "Passing read preference to mongos and load balancers", for OP_MSG: "For mode 'primary',
// drivers MUST NOT set $readPreference"; for every other mode they MUST.
read_preference_argument mongos_rule(const read_preference& rp) noexcept {
  return is_primary_mode(rp) ? read_preference_argument::none : read_preference_argument::as_given;
}

std::optional<read_preference_mode> parse_mode(std::string_view name) noexcept {
  using m = read_preference_mode;
  for (auto mode : {m::primary, m::primary_preferred, m::secondary, m::secondary_preferred, m::nearest})
    if (to_string(mode) == name) return mode;
  return std::nullopt;
}

std::string parse_tag_sets(bson::element tags, read_preference& out) {
  auto array = tags.as_array();
  if (!array) return "read preference 'tags' must be an array of documents";
  for (const auto& e : *array) {
    auto set = e.as_document();
    if (!set) return "read preference 'tags' must be an array of documents";
    tag_set parsed;
    for (const auto& tag : *set) {
      auto value = tag.as_string();
      if (!value) return "read preference tag '" + std::string(tag.key()) + "' must be a string";
      parsed.emplace_back(std::string(tag.key()), std::string(*value));
    }
    out.tag_sets.push_back(std::move(parsed));
  }
  return {};
}

}  // namespace

read_preference_argument read_preference_to_send(topology_type topology, server_type server, operation_kind operation,
                                                 const read_preference& rp) noexcept {
  if (operation == operation_kind::write) return read_preference_argument::none;
  switch (topology) {
    case topology_type::single:
      // "Topology type: Single": Mongos as a mongos; "Type Standalone: clients MUST NOT send the
      // read preference"; other types: "$readPreference MUST be set to { "mode":
      // "primaryPreferred" }" for primary, else the read preference.
      if (server == server_type::mongos) return mongos_rule(rp);
      if (server == server_type::standalone) return read_preference_argument::none;
      return is_primary_mode(rp) ? read_preference_argument::primary_preferred : read_preference_argument::as_given;
    case topology_type::replica_set_with_primary:
    case topology_type::replica_set_no_primary:
      // "For all read preferences modes except 'primary', clients MUST set ... $readPreference".
      return is_primary_mode(rp) ? read_preference_argument::none : read_preference_argument::as_given;
    case topology_type::sharded:
    case topology_type::load_balanced: return mongos_rule(rp);
    case topology_type::unknown: break;
  }
  return read_preference_argument::none;
}

void build_read_preference_document(const read_preference& rp, bson::document& out) {
  out.clear();
  out.append("mode", to_string(rp.mode));
  if (!rp.tag_sets.empty()) {
    out.append_array_of("tags", [&](bson::array_builder& sets) {
      for (const auto& set : rp.tag_sets) {
        bson::document d;
        for (const auto& [key, value] : set) d.append(key, value);
        sets.push(d.get_view());
      }
    });
  }
  // "Document structure": maxStalenessSeconds is an integer (validated as >= 90 before).
  if (rp.has_max_staleness()) {
    const double seconds = *rp.max_staleness_seconds;
    if (std::fabs(seconds) < static_cast<double>(std::numeric_limits<std::int32_t>::max()))
      out.append("maxStalenessSeconds", static_cast<std::int32_t>(seconds));
    else out.append("maxStalenessSeconds", static_cast<std::int64_t>(seconds));
  }
}

void build_read_preference_argument(read_preference_argument kind, const read_preference& rp, bson::document& out) {
  out.clear();
  if (kind == read_preference_argument::as_given) build_read_preference_document(rp, out);
  else if (kind == read_preference_argument::primary_preferred) out.append("mode", "primaryPreferred");
}

std::string parse_read_preference_document(bson::view doc, read_preference& out) {
  out = read_preference{};
  bool has_mode = false;
  for (const auto& e : doc) {
    const auto key = e.key();
    if (key == "mode") {
      auto mode = e.as_string() ? parse_mode(*e.as_string()) : std::nullopt;
      if (!mode)
        return "read preference 'mode' must be one of primary, primaryPreferred, secondary, secondaryPreferred, "
               "nearest";
      out.mode = *mode;
      has_mode = true;
    } else if (key == "tags") {
      if (auto why = parse_tag_sets(e, out); !why.empty()) return why;
    } else if (key == "maxStalenessSeconds") {
      auto seconds = e.as_number();
      if (!seconds) return "read preference 'maxStalenessSeconds' must be a number";
      out.max_staleness_seconds = *seconds;
    } else if (key != "hedge") {
      return "unknown read preference field '" + std::string(key) + "'";
    }
  }
  if (!has_mode) return "a read preference needs a 'mode'";
  return read_preference_error(out);
}

}  // namespace mongowire::detail::sdam
