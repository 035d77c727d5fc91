// Helpers for SDAM tests: topologies from URIs and hello replies from extended JSON.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "mongowire/bson.hpp"
#include "mongowire/uri.hpp"
#include "proto/sdam/server_selection.hpp"
#include "proto/sdam/topology_description.hpp"

namespace sdam_test {

using namespace mongowire;
using namespace mongowire::detail::sdam;

inline read_preference pref(read_preference_mode mode, std::vector<tag_set> tags = {},
                            std::optional<double> max_staleness = std::nullopt) {
  read_preference rp;
  rp.mode = mode;
  rp.tag_sets = std::move(tags);
  rp.max_staleness_seconds = max_staleness;
  return rp;
}

inline host_address addr(const char* text) {
  auto a = parse_host_address(text);
  REQUIRE(a);
  return *a;
}

// The spec scenarios use servers of any wire version; accept them all unless a test asks.
inline topology_description topology(const char* uri, std::int32_t min_wire = 0) {
  auto settings = topology_settings::from(parse_uri(uri));
  settings.min_wire_version = min_wire;
  return topology_description(std::move(settings));
}

inline topology_changes reply(topology_description& t, const char* address, const std::string& json,
                              double rtt_ms = 1.0) {
  const auto doc = bson::document::from_json(json);
  return t.apply_hello(addr(address), doc, rtt_ms);
}

inline server_type type_of(const topology_description& t, const char* address) {
  const auto* s = t.find(addr(address));
  REQUIRE_MESSAGE(s, address);
  return s->type;
}

inline bool has(const topology_description& t, const char* address) { return t.find(addr(address)) != nullptr; }

inline std::string oid(int n) {
  char hex[25];
  std::snprintf(hex, sizeof hex, "%024d", n);
  return std::string(R"({"$oid": ")") + hex + "\"}";
}

// hello of a member of set "rs" with members a, b, c. Fields in `extra` (", \"k\": v") come
// first, so they win over the defaults (lookups return the first of repeated keys).
inline std::string primary_hello(const std::string& extra = "",
                                 const char* hosts = R"(["a:27017","b:27017","c:27017"])") {
  return std::string(R"({"ok": 1)") + extra +
         R"(, "isWritablePrimary": true, "setName": "rs", "minWireVersion": 0, "maxWireVersion": 21, "hosts": )" +
         hosts + "}";
}
inline std::string secondary_hello(const std::string& extra = "",
                                   const char* hosts = R"(["a:27017","b:27017","c:27017"])") {
  return std::string(R"({"ok": 1)") + extra +
         R"(, "isWritablePrimary": false, "secondary": true, "setName": "rs", "minWireVersion": 0, "maxWireVersion": 21, "hosts": )" +
         hosts + "}";
}

}  // namespace sdam_test
