#include "proto/sdam/topology_description.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mongowire/error.hpp"
#include "proto/sdam/error_classes.hpp"

namespace mongowire::detail::sdam {

std::string_view to_string(topology_type t) noexcept {
  switch (t) {
    case topology_type::unknown: return "Unknown";
    case topology_type::single: return "Single";
    case topology_type::replica_set_no_primary: return "ReplicaSetNoPrimary";
    case topology_type::replica_set_with_primary: return "ReplicaSetWithPrimary";
    case topology_type::sharded: return "Sharded";
    case topology_type::load_balanced: return "LoadBalanced";
  }
  return "Unknown";
}

topology_settings topology_settings::from(const connection_string& cs) {
  topology_settings s;
  s.seeds = cs.hosts;
  s.replica_set_name = cs.replica_set;
  s.direct_connection = cs.direct_connection.value_or(false);
  s.load_balanced = cs.load_balanced.value_or(false);
  return s;
}

namespace {

// Orders optionals with null below every value (SDAM updateRSFromPrimary, wire version >= 17).
template <class T>
int compare_null_lowest(const std::optional<T>& a, const std::optional<T>& b) noexcept {
  if (!a || !b) return a ? 1 : (b ? -1 : 0);
  return *a < *b ? -1 : (*b < *a ? 1 : 0);
}

// MongoDB release for a minimum wire version, for the compatibility message.
std::string_view mongodb_version_for_wire(std::int32_t wire) noexcept {
  switch (wire) {
    case 6: return "3.6";
    case 7: return "4.0";
    case 8: return "4.2";
    case 9: return "4.4";
    case 13: return "5.0";
    case 17: return "6.0";
    case 21: return "7.0";
    case 25: return "8.0";
    default: return "";
  }
}

// True if the reply (or its writeConcernError) carries the error label.
bool has_label(bson::view reply, std::string_view label) {
  const auto wce = reply["writeConcernError"].as_document();
  for (const auto doc : {std::optional<bson::view>(reply), wce}) {
    const auto labels = doc ? (*doc)["errorLabels"].as_array() : std::nullopt;
    if (!labels) continue;
    for (const auto l : *labels)
      if (l.as_string() == label) return true;
  }
  return false;
}

std::string describe(const application_error& err) {
  if (!err.code) return err.message;
  const auto name = server_code_name(*err.code);
  return fmt::format("{} ({}): {}", name.empty() ? "server error" : name, *err.code, err.message);
}

}  // namespace

topology_description::topology_description(topology_settings settings) : settings_(std::move(settings)) {
  // SDAM "Initial TopologyType" and "Initial setName".
  if (settings_.load_balanced) type_ = topology_type::load_balanced;
  else if (settings_.direct_connection) type_ = topology_type::single;
  else if (settings_.replica_set_name) type_ = topology_type::replica_set_no_primary;
  set_name_ = settings_.replica_set_name;
  for (const auto& seed : settings_.seeds) {
    if (find(seed)) continue;
    auto d = server_description::unknown(seed);
    // load-balancers.md: the one server is a LoadBalancer from the start and is never monitored.
    if (type_ == topology_type::load_balanced) d.type = server_type::load_balancer;
    servers_.push_back(std::move(d));
  }
}

const server_description* topology_description::find(const host_address& address) const noexcept {
  const auto it = std::find_if(servers_.begin(), servers_.end(), [&](const auto& s) { return s.address == address; });
  return it == servers_.end() ? nullptr : &*it;
}

server_description* topology_description::find_mutable(const host_address& address) noexcept {
  return const_cast<server_description*>(std::as_const(*this).find(address));
}

const server_description* topology_description::primary() const noexcept {
  const auto it =
      std::find_if(servers_.begin(), servers_.end(), [](const auto& s) { return s.type == server_type::rs_primary; });
  return it == servers_.end() ? nullptr : &*it;
}

std::optional<std::int64_t> topology_description::logical_session_timeout_minutes() const noexcept {
  std::optional<std::int64_t> minimum;
  for (const auto& s : servers_) {
    if (!s.is_data_bearing()) continue;
    if (!s.logical_session_timeout_minutes) return std::nullopt;
    minimum = std::min(minimum.value_or(*s.logical_session_timeout_minutes), *s.logical_session_timeout_minutes);
  }
  return minimum;
}

void topology_description::replace(server_description d) {
  if (auto* current = find_mutable(d.address)) *current = std::move(d);
}

void topology_description::remove(const host_address& address, topology_changes& ch) {
  const auto it = std::find_if(servers_.begin(), servers_.end(), [&](const auto& s) { return s.address == address; });
  if (it == servers_.end()) return;
  servers_.erase(it);
  ch.removed.push_back(address);
}

void topology_description::add_members(const server_description& sd, topology_changes& ch) {
  for (const auto* list : {&sd.hosts, &sd.passives, &sd.arbiters}) {
    for (const auto& member : *list) {
      if (find(member)) continue;
      servers_.push_back(server_description::unknown(member));
      ch.added.push_back(member);
    }
  }
}

// Single-threaded drivers scan a PossiblePrimary first; for us it is informational.
void topology_description::mark_possible_primary(const server_description& sd) {
  if (!sd.primary) return;
  auto* claimed = find_mutable(*sd.primary);
  if (claimed && claimed->type == server_type::unknown) claimed->type = server_type::possible_primary;
}

void topology_description::check_if_has_primary() noexcept {
  type_ = primary() ? topology_type::replica_set_with_primary : topology_type::replica_set_no_primary;
}

topology_changes topology_description::apply_hello(const host_address& address, bson::view reply,
                                                   double rtt_sample_ms) {
  const auto* current = find(address);
  std::optional<double> previous;
  if (current && current->type != server_type::unknown) previous = current->round_trip_time_ms;
  return apply(server_description::from_hello(address, reply, rtt_sample_ms, previous));
}

topology_changes topology_description::apply_check_failure(const host_address& address, std::string error) {
  return apply(server_description::unknown(address, std::move(error)));
}

topology_changes topology_description::apply(server_description incoming) {
  topology_changes ch;
  const auto* current = find(incoming.address);
  // SDAM: outcomes of servers no longer in the topology are ignored; a load balancer is not monitored.
  if (!current || type_ == topology_type::load_balanced) {
    ch.ignored = true;
    return ch;
  }
  // SDAM "Replacing the TopologyDescription": never go back to an older topologyVersion.
  if (compare_topology_versions(current->topology_version, incoming.topology_version) > 0) {
    ch.ignored = true;
    return ch;
  }
  const host_address address = incoming.address;
  if (type_ == topology_type::single) {
    update_single(std::move(incoming));
  } else {
    replace(incoming);
    update_multi(incoming, ch);
  }
  update_compatibility();
  // SDAM "Connection Pool Management": a successful check of a data-bearing server (or any
  // server of a direct connection) makes its pool ready.
  if (const auto* now = find(address))
    ch.pool_ready = now->is_data_bearing() || (now->type != server_type::unknown && type_ == topology_type::single);
  return ch;
}

void topology_description::update_single(server_description sd) {
  // SDAM "Verifying setName with TopologyType Single".
  if (settings_.replica_set_name && sd.type != server_type::unknown && sd.set_name != settings_.replica_set_name) {
    const std::string error = fmt::format("replica set name mismatch: expected '{}', server reports '{}'",
                                          *settings_.replica_set_name, sd.set_name.value_or("(none)"));
    sd = server_description::unknown(sd.address, error);
  }
  replace(std::move(sd));
}

// SDAM "TopologyType table".
void topology_description::update_multi(const server_description& sd, topology_changes& ch) {
  using st = server_type;
  switch (type_) {
    case topology_type::unknown:
      if (sd.type == st::standalone) {
        update_unknown_with_standalone(sd, ch);
      } else if (sd.type == st::mongos) {
        type_ = topology_type::sharded;
      } else if (sd.type == st::rs_primary) {
        type_ = topology_type::replica_set_with_primary;
        update_rs_from_primary(sd, ch);
      } else if (sd.type == st::rs_secondary || sd.type == st::rs_arbiter || sd.type == st::rs_other) {
        type_ = topology_type::replica_set_no_primary;
        update_rs_without_primary(sd, ch);
      }
      break;  // Unknown and RSGhost: no-op (TopologyType remains Unknown for a ghost).
    case topology_type::sharded:
      if (sd.type != st::unknown && sd.type != st::mongos && sd.type != st::possible_primary) remove(sd.address, ch);
      break;
    case topology_type::replica_set_no_primary:
      if (sd.type == st::standalone || sd.type == st::mongos) {
        remove(sd.address, ch);
      } else if (sd.type == st::rs_primary) {
        type_ = topology_type::replica_set_with_primary;
        update_rs_from_primary(sd, ch);
      } else if (sd.type == st::rs_secondary || sd.type == st::rs_arbiter || sd.type == st::rs_other) {
        update_rs_without_primary(sd, ch);
      }
      break;
    case topology_type::replica_set_with_primary:
      if (sd.type == st::standalone || sd.type == st::mongos) {
        remove(sd.address, ch);
        check_if_has_primary();
      } else if (sd.type == st::rs_primary) {
        update_rs_from_primary(sd, ch);
      } else if (sd.type == st::rs_secondary || sd.type == st::rs_arbiter || sd.type == st::rs_other) {
        update_rs_with_primary_from_member(sd, ch);
      } else {
        check_if_has_primary();
      }
      break;
    case topology_type::single:
    case topology_type::load_balanced: break;
  }
}

void topology_description::update_unknown_with_standalone(const server_description& sd, topology_changes& ch) {
  // SDAM: a standalone among several seeds is removed; the TopologyType remains Unknown.
  if (settings_.seeds.size() == 1) type_ = topology_type::single;
  else remove(sd.address, ch);
}

namespace {

// "{electionId: ..., setVersion: ...}" for the stale primary message.
std::string election_tuple(const std::optional<bson::object_id>& election_id,
                           const std::optional<std::int64_t>& set_version) {
  return fmt::format("{{electionId: {}, setVersion: {}}}", election_id ? election_id->to_hex() : "null",
                     set_version ? std::to_string(*set_version) : "null");
}

}  // namespace

// Returns true (and marks the server Unknown) if `sd` is a stale primary
// (SDAM "Using electionId and setVersion to detect stale primaries").
bool topology_description::primary_is_stale(const server_description& sd) {
  std::string_view stale_because;
  if (sd.max_wire_version >= 17) {  // MongoDB 6.0+: electionId first, null is lowest
    const int by_election = compare_null_lowest(sd.election_id, max_election_id_);
    if (by_election < 0) stale_because = "electionId";
    else if (by_election == 0 && compare_null_lowest(sd.set_version, max_set_version_) < 0)
      stale_because = "setVersion";
    if (stale_because.empty()) {
      max_election_id_ = sd.election_id;
      max_set_version_ = sd.set_version;
    }
  } else {  // older servers: setVersion first, only when both sides have both values
    if (sd.set_version && sd.election_id) {
      if (max_set_version_ && max_election_id_) {
        if (*max_set_version_ > *sd.set_version) stale_because = "setVersion";
        else if (*max_set_version_ == *sd.set_version && *max_election_id_ > *sd.election_id)
          stale_because = "electionId";
      }
      if (stale_because.empty()) max_election_id_ = sd.election_id;
    }
    if (stale_because.empty() && sd.set_version && (!max_set_version_ || *sd.set_version > *max_set_version_))
      max_set_version_ = sd.set_version;
  }
  if (stale_because.empty()) return false;
  // SDAM "error": the message names the stale and the max tuple (and MAY say which field decided).
  replace(server_description::unknown(
      sd.address, fmt::format("primary marked stale due to electionId/setVersion mismatch, {} is stale compared to {} "
                              "(older {})",
                              election_tuple(sd.election_id, sd.set_version),
                              election_tuple(max_election_id_, max_set_version_), stale_because)));
  return true;
}

// SDAM "updateRSFromPrimary".
void topology_description::update_rs_from_primary(const server_description& sd, topology_changes& ch) {
  if (!set_name_) {
    set_name_ = sd.set_name;
  } else if (set_name_ != sd.set_name) {
    remove(sd.address, ch);
    check_if_has_primary();
    return;
  }
  if (primary_is_stale(sd)) {
    check_if_has_primary();
    return;
  }
  // Invalidate any other primary: it is stale now. SDAM updateRSFromPrimary note: request a
  // check of it, but "The client MUST NOT clear its connection pool for the old primary".
  for (auto& server : servers_) {
    if (server.address == sd.address || server.type != server_type::rs_primary) continue;
    server = server_description::unknown(server.address, "primary marked stale due to discovery of newer primary");
    ch.request_check.push_back(server.address);
  }
  add_members(sd, ch);
  std::vector<host_address> not_members;
  for (const auto& server : servers_)
    if (!sd.lists_member(server.address)) not_members.push_back(server.address);
  for (const auto& address : not_members) remove(address, ch);
  check_if_has_primary();
}

// SDAM "updateRSWithoutPrimary".
void topology_description::update_rs_without_primary(const server_description& sd, topology_changes& ch) {
  if (!set_name_) {
    set_name_ = sd.set_name;
  } else if (set_name_ != sd.set_name) {
    remove(sd.address, ch);
    return;
  }
  add_members(sd, ch);
  mark_possible_primary(sd);
  if (sd.me && *sd.me != sd.address) remove(sd.address, ch);
}

// SDAM "updateRSWithPrimaryFromMember".
void topology_description::update_rs_with_primary_from_member(const server_description& sd, topology_changes& ch) {
  if (set_name_ != sd.set_name || (sd.me && *sd.me != sd.address)) {
    remove(sd.address, ch);
    check_if_has_primary();
    return;
  }
  if (!primary()) {  // this member had been the primary
    type_ = topology_type::replica_set_no_primary;
    mark_possible_primary(sd);
  }
}

// SDAM "Checking wire protocol compatibility".
void topology_description::update_compatibility() {
  compatibility_error_.clear();
  for (const auto& s : servers_) {
    if (s.type == server_type::unknown || s.type == server_type::possible_primary) continue;
    if (s.min_wire_version > settings_.max_wire_version) {
      compatibility_error_ =
          fmt::format("Server at {} requires wire version {}, but this version of mongowire only supports up to {}.",
                      s.address.to_string(), s.min_wire_version, settings_.max_wire_version);
      return;
    }
    if (s.max_wire_version < settings_.min_wire_version) {
      const auto release = mongodb_version_for_wire(settings_.min_wire_version);
      compatibility_error_ =
          fmt::format("Server at {} reports wire version {}, but this version of mongowire requires at least {}{}.",
                      s.address.to_string(), s.max_wire_version, settings_.min_wire_version,
                      release.empty() ? std::string() : fmt::format(" (MongoDB {})", release));
      return;
    }
  }
}

std::optional<application_error> command_error_from_reply(host_address address, bson::view reply) {
  auto read_error = [&](bson::view doc, bson::view tv_fallback) {
    application_error err;
    err.address = std::move(address);
    err.kind = error_kind::command;
    if (const auto code = doc["code"].as_integer(); code && *code >= INT32_MIN && *code <= INT32_MAX)
      err.code = static_cast<std::int32_t>(*code);
    err.message = std::string(doc["errmsg"].as_string().value_or(doc["$err"].as_string().value_or("")));
    auto tv = doc["topologyVersion"].as_document();
    if (!tv) tv = tv_fallback["topologyVersion"].as_document();
    if (tv) err.topology_version = parse_topology_version(*tv);
    return err;
  };
  const auto ok = reply["ok"].as_truthy();
  std::optional<application_error> err;
  if (!ok || !*ok) err = read_error(reply, reply);
  else if (const auto wce = reply["writeConcernError"].as_document()) err = read_error(*wce, reply);
  if (err) err->system_overloaded = has_label(reply, "SystemOverloadedError");
  return err;
}

// SDAM "Error handling pseudocode" (handleError).
error_response topology_description::handle_application_error(const application_error& err) {
  error_response r;
  const auto* current = find(err.address);
  // Stale errors: the server left the topology, the connection predates a pool clear, or the
  // error's topologyVersion is not newer than the one we have.
  if (!current || err.connection_generation < err.pool_generation ||
      compare_topology_versions(current->topology_version, err.topology_version) >= 0) {
    r.ignored = true;
    return r;
  }
  const bool load_balanced = type_ == topology_type::load_balanced;
  if (err.kind == error_kind::command && is_state_change(err.code, err.message)) {
    if (!load_balanced) {
      r.marked_unknown = true;
      r.changes = apply(server_description::unknown(err.address, describe(err), err.topology_version));
      r.request_immediate_check = true;
    }
    // SDAM "'not writable primary' and 'node is recovering'": clear the pool "if and only if the
    // error is 'node is shutting down'".
    r.clear_pool = err.code && is_shutdown_error(*err.code);
    return r;
  }
  // SDAM "Network error when reading or writing" and "MongoDB Handshake errors": a network error,
  // or any error before the handshake completes (command errors included). A timeout after the
  // handshake may be a slow operation: the server stays as it is. Errors with the backpressure
  // label SystemOverloadedError leave the server and its pool alone (handleError pseudocode).
  const bool marks_unknown = err.kind == error_kind::network || !err.completed_handshake;
  if (!marks_unknown || err.system_overloaded) return r;
  if (load_balanced) {
    r.clear_pool = err.service_id.has_value();
    return r;
  }
  r.marked_unknown = true;
  r.changes = apply(server_description::unknown(err.address, describe(err)));
  r.clear_pool = true;
  r.cancel_monitor_check = true;
  return r;
}

}  // namespace mongowire::detail::sdam
