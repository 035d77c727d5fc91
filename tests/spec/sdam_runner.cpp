// Runner of the SDAM "topology phases" spec tests (server-discovery-and-monitoring/tests/README.md)
// over the sans-I/O topology of src/proto/sdam. The runner stands in for the I/O layer: it feeds
// hello replies and application errors to the topology, keeps each server's pool generation, and
// derives the SDAM events from the topology before and after every update
// (server-discovery-and-monitoring-logging-and-monitoring.md).
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "mongowire/uri.hpp"
#include "proto/sdam/server_description.hpp"
#include "proto/sdam/topology_description.hpp"
#include "report.hpp"
#include "value.hpp"
#include "spec_file.hpp"

namespace mongowire::spec {

namespace {

namespace sdam = detail::sdam;
using sdam::server_description;
using sdam::topology_description;

// ---------------------------------------------------------------- reading the file

struct hello_response {
  host_address address;
  bson::document reply;  // empty: a network error during the check (README "Format")
};

struct application_error_spec {
  host_address address;
  std::optional<std::uint64_t> generation;  // absent: the pool's current generation
  std::int32_t max_wire_version = 0;
  bool completed_handshake = true;
  sdam::error_kind kind = sdam::error_kind::command;
  bson::document response;  // command errors only
};

struct phase {
  std::vector<hello_response> responses;
  std::vector<application_error_spec> errors;
  bson::document outcome;
};

struct sdam_test_file {
  std::string description;
  connection_string uri;
  std::vector<phase> phases;
};

void check_keys(bson::view doc, std::initializer_list<std::string_view> allowed, std::string_view where) {
  for (const auto e : doc)
    if (std::find(allowed.begin(), allowed.end(), e.key()) == allowed.end())
      throw runner_error(fmt::format("{}: unknown field '{}'", where, e.key()));
}

bson::view document_of(const bson::element& e, std::string_view where) {
  const auto doc = e.as_document();
  if (!doc) throw runner_error(fmt::format("{}: expected a document", where));
  return *doc;
}

bson::view array_of(const bson::element& e, std::string_view where) {
  const auto array = e.as_array();
  if (!array) throw runner_error(fmt::format("{}: expected an array", where));
  return *array;
}

std::string string_of(const bson::element& e, std::string_view where) {
  const auto text = e.as_string();
  if (!text) throw runner_error(fmt::format("{}: expected a string", where));
  return std::string(*text);
}

host_address address_of(std::string_view text, std::string_view where) {
  std::string why;
  auto a = parse_host_address(text, &why);
  if (!a) throw runner_error(fmt::format("{}: '{}' is not a host:port address ({})", where, text, why));
  return *a;
}

hello_response parse_response(const bson::element& e, std::string_view where) {
  const auto pair = array_of(e, where);
  std::vector<bson::element> items(pair.begin(), pair.end());
  if (items.size() != 2) throw runner_error(fmt::format("{}: expected [address, hello reply]", where));
  return {address_of(string_of(items[0], where), where), bson::document(document_of(items[1], where))};
}

sdam::error_kind error_kind_of(const std::string& type, std::string_view where) {
  if (type == "command") return sdam::error_kind::command;
  if (type == "network") return sdam::error_kind::network;
  if (type == "timeout") return sdam::error_kind::network_timeout;
  throw runner_error(fmt::format("{}: unknown type '{}'", where, type));
}

application_error_spec parse_application_error(bson::view doc, const std::string& where) {
  check_keys(doc, {"address", "generation", "maxWireVersion", "when", "type", "response"}, where);
  application_error_spec s;
  s.address = address_of(string_of(doc["address"], where + ".address"), where);
  if (const auto g = doc["generation"]) {
    const auto n = g.as_integer();
    if (!n || *n < 0) throw runner_error(where + ".generation: expected a non-negative integer");
    s.generation = static_cast<std::uint64_t>(*n);
  }
  const auto wire = doc["maxWireVersion"].as_integer();
  if (!wire || *wire < 0 || *wire > INT32_MAX) throw runner_error(where + ".maxWireVersion: expected an integer");
  s.max_wire_version = static_cast<std::int32_t>(*wire);
  const auto when = string_of(doc["when"], where + ".when");
  if (when != "beforeHandshakeCompletes" && when != "afterHandshakeCompletes")
    throw runner_error(fmt::format("{}.when: unknown value '{}'", where, when));
  s.completed_handshake = when == "afterHandshakeCompletes";
  s.kind = error_kind_of(string_of(doc["type"], where + ".type"), where + ".type");
  // README: "response" is present if and only if the type is "command".
  if ((s.kind == sdam::error_kind::command) != doc.contains("response"))
    throw runner_error(where + ": a response is required for, and only for, type \"command\"");
  if (const auto r = doc["response"]) s.response = bson::document(document_of(r, where + ".response"));
  return s;
}

void validate_events(bson::view events, const std::string& where);

void validate_outcome(bson::view outcome, const std::string& where) {
  check_keys(outcome,
             {"servers", "topologyType", "setName", "logicalSessionTimeoutMinutes", "maxSetVersion", "maxElectionId",
              "compatible", "events"},
             where);
  if (const auto events = outcome["events"]) validate_events(array_of(events, where + ".events"), where + ".events");
  if (!outcome.contains("events") && !(outcome.contains("servers") && outcome.contains("topologyType")))
    throw runner_error(where + ": expected events, or servers and topologyType");
  if (!outcome.contains("servers")) return;
  for (const auto server : document_of(outcome["servers"], where + ".servers")) {
    const auto at = fmt::format("{}.servers[{}]", where, server.key());
    address_of(server.key(), at);
    const auto s = document_of(server, at);
    check_keys(s,
               {"type", "error", "setName", "setVersion", "electionId", "logicalSessionTimeoutMinutes",
                "minWireVersion", "maxWireVersion", "topologyVersion", "pool"},
               at);
    if (const auto pool = s["pool"]) check_keys(document_of(pool, at + ".pool"), {"generation"}, at + ".pool");
  }
}

bool is_server_description_key(std::string_view key) {
  static constexpr std::string_view keys[] = {
      "address", "type",           "hosts",         "passives",   "arbiters",        "primary",
      "me",      "setName",        "setVersion",    "electionId", "topologyVersion", "logicalSessionTimeoutMinutes",
      "error",   "minWireVersion", "maxWireVersion"};
  return std::find(std::begin(keys), std::end(keys), key) != std::end(keys);
}

void check_server_description_keys(bson::view d, std::string_view where) {
  for (const auto e : d)
    if (!is_server_description_key(e.key())) throw runner_error(fmt::format("{}: unknown field '{}'", where, e.key()));
}

void validate_topology_description(bson::view d, const std::string& where) {
  check_keys(d, {"topologyType", "setName", "servers", "maxSetVersion", "maxElectionId"}, where);
  if (!d.contains("servers")) return;
  for (const auto server : array_of(d["servers"], where + ".servers"))
    check_server_description_keys(document_of(server, where + ".servers"), where + ".servers[]");
}

void validate_events(bson::view events, const std::string& where) {
  for (const auto item : events) {
    const auto at = fmt::format("{}[{}]", where, item.key());
    const auto event = document_of(item, at);
    if (event.count() != 1) throw runner_error(at + ": expected one event kind as the only key");
    const auto kind = std::string((*event.begin()).key());
    const auto body = document_of(*event.begin(), at + "." + kind);
    if (kind == "topology_opening_event") {
      check_keys(body, {"topologyId"}, at);
    } else if (kind == "server_opening_event" || kind == "server_closed_event") {
      check_keys(body, {"topologyId", "address"}, at);
    } else if (kind == "server_description_changed_event" || kind == "topology_description_changed_event") {
      check_keys(body, {"topologyId", "address", "previousDescription", "newDescription"}, at);
      for (const auto* key : {"previousDescription", "newDescription"}) {
        const auto d = document_of(body[key], at + "." + key);
        if (kind == "server_description_changed_event") check_server_description_keys(d, at + "." + key);
        else validate_topology_description(d, at + "." + key);
      }
    } else {
      throw runner_error(fmt::format("{}: unsupported event '{}'", at, kind));
    }
  }
}

phase parse_phase(bson::view doc, const std::string& where) {
  check_keys(doc, {"description", "responses", "applicationErrors", "outcome"}, where);
  phase p;
  if (const auto responses = doc["responses"])
    for (const auto r : array_of(responses, where + ".responses"))
      p.responses.push_back(parse_response(r, fmt::format("{}.responses[{}]", where, r.key())));
  if (const auto errors = doc["applicationErrors"])
    for (const auto e : array_of(errors, where + ".applicationErrors")) {
      const auto at = fmt::format("{}.applicationErrors[{}]", where, e.key());
      p.errors.push_back(parse_application_error(document_of(e, at), at));
    }
  p.outcome = bson::document(document_of(doc["outcome"], where + ".outcome"));
  validate_outcome(p.outcome, where + ".outcome");
  return p;
}

sdam_test_file load_file(const std::filesystem::path& path) {
  std::string why;
  const auto doc = read_json_file(path, why);
  if (!doc) throw runner_error(why);
  check_keys(*doc, {"description", "uri", "phases"}, "file");
  sdam_test_file f;
  f.description = string_of((*doc)["description"], "description");
  const auto uri = string_of((*doc)["uri"], "uri");
  if (auto ec = parse_uri(uri, f.uri, why)) throw runner_error(fmt::format("uri '{}': {}", uri, why));
  for (const auto p : array_of((*doc)["phases"], "phases")) {
    const auto at = fmt::format("phases[{}]", p.key());
    f.phases.push_back(parse_phase(document_of(p, at), at));
  }
  if (f.phases.empty()) throw runner_error("phases: expected at least one phase");
  return f;
}

// ---------------------------------------------------------------- events

// What the events carry of a TopologyDescription.
struct topology_snapshot {
  sdam::topology_type type = sdam::topology_type::unknown;
  std::optional<std::string> set_name;
  std::optional<std::int64_t> max_set_version;
  std::optional<bson::object_id> max_election_id;
  std::vector<server_description> servers;

  static topology_snapshot of(const topology_description& t) {
    return {t.type(), t.set_name(), t.max_set_version(), t.max_election_id(), t.servers()};
  }
  const server_description* find(const host_address& a) const {
    const auto it = std::find_if(servers.begin(), servers.end(), [&](const auto& s) { return s.address == a; });
    return it == servers.end() ? nullptr : &*it;
  }
  // Servers compare by SDAM "Server Description Equality".
  bool same_as(const topology_snapshot& o) const {
    if (type != o.type || set_name != o.set_name || max_set_version != o.max_set_version ||
        max_election_id != o.max_election_id || servers.size() != o.servers.size())
      return false;
    return std::all_of(servers.begin(), servers.end(), [&](const auto& s) {
      const auto* other = o.find(s.address);
      return other && s.equivalent_to(*other);
    });
  }
};

enum class event_kind {
  topology_opening,
  topology_description_changed,
  server_opening,
  server_closed,
  server_description_changed,
};

std::string_view to_string(event_kind k) {
  switch (k) {
    case event_kind::topology_opening: return "topology_opening_event";
    case event_kind::topology_description_changed: return "topology_description_changed_event";
    case event_kind::server_opening: return "server_opening_event";
    case event_kind::server_closed: return "server_closed_event";
    case event_kind::server_description_changed: return "server_description_changed_event";
  }
  return "?";
}

struct sdam_event {
  event_kind kind;
  host_address address;  // server events
  server_description previous_server, new_server;
  topology_snapshot previous_topology, new_topology;
};

std::string describe(const sdam_event& e) {
  const bool has_address = e.kind == event_kind::server_opening || e.kind == event_kind::server_closed ||
                           e.kind == event_kind::server_description_changed;
  return has_address ? fmt::format("{}({})", to_string(e.kind), e.address.to_string()) : std::string(to_string(e.kind));
}

// ---------------------------------------------------------------- one test's client

// The topology plus what the I/O layer would hold around it: pool generations and the events.
class sdam_client {
 public:
  explicit sdam_client(const connection_string& uri) : topology_(sdam::topology_settings::from(uri)) {
    record_construction();
  }

  const topology_description& topology() const { return topology_; }
  std::uint64_t pool_generation(const host_address& a) const {
    const auto it = pool_generations_.find(a);
    return it == pool_generations_.end() ? 0 : it->second;
  }
  std::vector<sdam_event> take_events() { return std::exchange(events_, {}); }

  void apply(const hello_response& r);
  void apply(const application_error_spec& spec);

 private:
  void record_construction();
  void record_update(const topology_snapshot& before, const host_address& address,
                     const std::optional<server_description>& incoming);
  void apply_pool_changes(const sdam::topology_changes& ch);
  std::optional<sdam::application_error> to_error(const application_error_spec& spec) const;

  topology_description topology_;
  std::map<host_address, std::uint64_t> pool_generations_;
  std::vector<sdam_event> events_;
};

// SDAM monitoring: TopologyOpeningEvent first, then a TopologyDescriptionChangedEvent from the empty
// Unknown topology to the one with the seeds, each instantiated with its default (Unknown)
// description and announced by a ServerOpeningEvent. A seed the topology describes otherwise from
// the start (load-balancers.md: the LoadBalancer) then changes like any other description.
void sdam_client::record_construction() {
  const auto actual = topology_snapshot::of(topology_);
  auto defaults = actual;
  for (auto& s : defaults.servers) s = server_description::unknown(s.address);
  events_.push_back({event_kind::topology_opening, {}, {}, {}, {}, {}});
  events_.push_back({event_kind::topology_description_changed, {}, {}, {}, topology_snapshot{}, defaults});
  for (const auto& s : defaults.servers) events_.push_back({event_kind::server_opening, s.address, {}, {}, {}, {}});
  for (const auto& s : defaults.servers) {
    const auto* now = actual.find(s.address);
    if (!s.equivalent_to(*now)) events_.push_back({event_kind::server_description_changed, s.address, s, *now, {}, {}});
  }
  if (!defaults.same_as(actual))
    events_.push_back({event_kind::topology_description_changed, {}, {}, {}, defaults, actual});
}

// The events of one processed ServerDescription, in the order a driver publishes them: the
// server's change (SDAM "Server Description Equality" decides), the servers it added and removed,
// then the topology's change. `incoming` describes the server when the update removed it.
void sdam_client::record_update(const topology_snapshot& before, const host_address& address,
                                const std::optional<server_description>& incoming) {
  const auto after = topology_snapshot::of(topology_);
  const auto* old_sd = before.find(address);
  const auto* new_sd = after.find(address);
  if (!new_sd && incoming) new_sd = &*incoming;
  if (old_sd && new_sd && !old_sd->equivalent_to(*new_sd))
    events_.push_back({event_kind::server_description_changed, address, *old_sd, *new_sd, {}, {}});
  for (const auto& s : after.servers)
    if (!before.find(s.address)) events_.push_back({event_kind::server_opening, s.address, {}, {}, {}, {}});
  for (const auto& s : before.servers)
    if (!after.find(s.address)) events_.push_back({event_kind::server_closed, s.address, {}, {}, {}, {}});
  if (!before.same_as(after)) events_.push_back({event_kind::topology_description_changed, {}, {}, {}, before, after});
}

// A removed server's pool is closed; a server added later gets a new pool (generation 0).
void sdam_client::apply_pool_changes(const sdam::topology_changes& ch) {
  for (const auto& a : ch.removed) pool_generations_.erase(a);
  for (const auto& a : ch.clear_pool) ++pool_generations_[a];
}

void sdam_client::apply(const hello_response& r) {
  constexpr double rtt_ms = 1.0;  // no rule under test depends on it
  const auto before = topology_snapshot::of(topology_);
  const bool monitored = before.find(r.address) != nullptr;
  const bool network_error = r.reply.get_view().empty();
  // server-monitoring.md, "Network or command error during server check": the check failed and
  // the server's pool is cleared, as the I/O layer does (src/net/topology.cpp).
  const bool check_failed = network_error || !r.reply["ok"].as_truthy().value_or(false);
  std::optional<server_description> incoming;
  sdam::topology_changes ch;
  if (network_error) {
    incoming = server_description::unknown(r.address, "network error during the check (spec test)");
    ch = topology_.apply_check_failure(r.address, incoming->error);
  } else {
    incoming = server_description::from_hello(r.address, r.reply, rtt_ms);
    ch = topology_.apply_hello(r.address, r.reply, rtt_ms);
  }
  if (ch.ignored) return;
  if (check_failed && monitored) ++pool_generations_[r.address];
  apply_pool_changes(ch);
  record_update(before, r.address, incoming);
}

std::optional<sdam::application_error> sdam_client::to_error(const application_error_spec& spec) const {
  sdam::application_error err;
  if (spec.kind == sdam::error_kind::command) {
    auto from_reply = sdam::command_error_from_reply(spec.address, spec.response);
    if (!from_reply) return std::nullopt;  // e.g. only writeErrors, which SDAM never checks
    err = std::move(*from_reply);
  } else {
    err.address = spec.address;
    err.kind = spec.kind;
    err.message = spec.kind == sdam::error_kind::network ? "network error (spec test)" : "network timeout (spec test)";
    // CMAP "Backpressure-enabled": the pool labels network errors and timeouts of connection
    // establishment and the hello handshake SystemOverloadedError.
    err.system_overloaded = !spec.completed_handshake;
  }
  err.completed_handshake = spec.completed_handshake;
  err.pool_generation = pool_generation(spec.address);
  err.connection_generation = spec.generation.value_or(err.pool_generation);
  err.max_wire_version = spec.max_wire_version;
  return err;
}

void sdam_client::apply(const application_error_spec& spec) {
  const auto err = to_error(spec);
  if (!err) return;
  const auto before = topology_snapshot::of(topology_);
  const auto response = topology_.handle_application_error(*err);
  if (response.ignored) return;
  if (response.clear_pool) ++pool_generations_[spec.address];
  apply_pool_changes(response.changes);
  record_update(before, spec.address, std::nullopt);
}

// ---------------------------------------------------------------- comparing outcomes

std::string show(const std::string& v) { return v; }
std::string show(const std::optional<std::string>& v) { return v ? *v : "null"; }
std::string show(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "null"; }
std::string show(const std::optional<bool>& v) { return v ? (*v ? "true" : "false") : "null"; }
std::string show(const std::optional<bson::object_id>& v) { return v ? v->to_hex() : "null"; }
std::string show(const std::optional<host_address>& v) { return v ? v->to_string() : "null"; }
std::string show(const std::optional<sdam::topology_version>& v) {
  return v ? fmt::format("{{processId: {}, counter: {}}}", v->process_id.to_hex(), v->counter) : "null";
}
std::string show(const std::vector<host_address>& v) {
  std::string out = "[";
  for (const auto& a : v) out += (out.size() > 1 ? ", " : "") + a.to_string();
  return out + "]";
}

template <class T>
void expect(const std::string& path, const T& expected, const T& actual) {
  if (!(expected == actual))
    throw test_failure(fmt::format("{}: expected {}, got {}", path, show(expected), show(actual)));
}

// Expected values: an absent element reads as null.
std::optional<std::string> expected_string(const bson::element& e, const std::string& path) {
  if (!e || e.is_null()) return std::nullopt;
  return string_of(e, path);
}

std::optional<std::int64_t> expected_integer(const bson::element& e, const std::string& path) {
  if (!e || e.is_null()) return std::nullopt;
  const auto n = e.as_integer();
  if (!n) throw runner_error(path + ": expected an integer or null");
  return n;
}

std::optional<bson::object_id> expected_oid(const bson::element& e, const std::string& path) {
  if (!e || e.is_null()) return std::nullopt;
  const auto oid = e.as_oid();
  if (!oid) throw runner_error(path + ": expected an ObjectId or null");
  return oid;
}

std::optional<sdam::topology_version> expected_topology_version(const bson::element& e, const std::string& path) {
  if (!e || e.is_null()) return std::nullopt;
  std::string why;
  auto tv = sdam::parse_topology_version(document_of(e, path), &why);
  if (!tv) throw runner_error(path + ": " + why);
  return tv;
}

std::optional<host_address> expected_address(const bson::element& e, const std::string& path) {
  if (!e || e.is_null()) return std::nullopt;
  return address_of(string_of(e, path), path);
}

std::vector<host_address> sorted(std::vector<host_address> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<host_address> expected_addresses(const bson::element& e, const std::string& path) {
  std::vector<host_address> out;
  for (const auto item : array_of(e, path)) out.push_back(address_of(string_of(item, path), path));
  return sorted(std::move(out));
}

// minWireVersion and maxWireVersion are unset (null) while no hello reply describes the server:
// Unknown and PossiblePrimary servers, and the never-monitored LoadBalancer (load-balancers.md,
// "All other fields in the ServerDescription MUST remain unset").
void expect_wire_version(const std::string& path, const bson::element& e, const server_description& sd,
                         std::int32_t actual) {
  using st = sdam::server_type;
  const bool from_hello = sd.type != st::unknown && sd.type != st::possible_primary && sd.type != st::load_balancer;
  const auto expected = expected_integer(e, path);
  if (expected || from_hello) expect<std::optional<std::int64_t>>(path, expected, actual);
}

// One field of a ServerDescription as the tests name it; false if `e` names none.
bool match_server_field(const std::string& path, const bson::element& e, const server_description& sd) {
  const std::string key(e.key());
  const auto at = path + "." + key;
  if (key == "type") expect(at, string_of(e, at), std::string(sdam::to_string(sd.type)));
  else if (key == "address") expect(at, expected_address(e, at), std::optional(sd.address));
  else if (key == "setName") expect(at, expected_string(e, at), sd.set_name);
  else if (key == "setVersion") expect(at, expected_integer(e, at), sd.set_version);
  else if (key == "electionId") expect(at, expected_oid(e, at), sd.election_id);
  else if (key == "topologyVersion") expect(at, expected_topology_version(e, at), sd.topology_version);
  else if (key == "logicalSessionTimeoutMinutes")
    expect(at, expected_integer(e, at), sd.logical_session_timeout_minutes);
  else if (key == "minWireVersion") expect_wire_version(at, e, sd, sd.min_wire_version);
  else if (key == "maxWireVersion") expect_wire_version(at, e, sd, sd.max_wire_version);
  else if (key == "primary") expect(at, expected_address(e, at), sd.primary);
  else if (key == "me") expect(at, expected_address(e, at), sd.me);
  else if (key == "hosts") expect(at, expected_addresses(e, at), sorted(sd.hosts));
  else if (key == "passives") expect(at, expected_addresses(e, at), sorted(sd.passives));
  else if (key == "arbiters") expect(at, expected_addresses(e, at), sorted(sd.arbiters));
  else if (key == "error") {
    // README: the expected error is a substring of the description's error.
    const auto expected = string_of(e, at);
    if (sd.error.find(expected) == std::string::npos)
      throw test_failure(fmt::format("{}: expected a message containing \"{}\", got \"{}\"", at, expected, sd.error));
  } else {
    return false;
  }
  return true;
}

void match_outcome_server(const std::string& path, bson::view expected, const server_description& sd,
                          std::uint64_t pool_generation) {
  for (const auto e : expected) {
    if (e.key() == "pool") {
      const auto at = path + ".pool.generation";
      expect<std::optional<std::int64_t>>(at, expected_integer(document_of(e, at)["generation"], at),
                                          static_cast<std::int64_t>(pool_generation));
    } else if (!match_server_field(path, e, sd)) {
      throw runner_error(fmt::format("{}: unknown field '{}'", path, e.key()));
    }
  }
  // As the reference runner reads a "server" object: these fields describe the server fully,
  // an absent one means null.
  bson::document nulls;
  for (const auto* key : {"setName", "setVersion", "electionId"})
    if (!expected.contains(key)) nulls.append_null(key);
  for (const auto e : nulls.get_view()) match_server_field(path, e, sd);
}

void match_outcome_servers(bson::view expected, const sdam_client& client) {
  const auto& servers = client.topology().servers();
  std::vector<host_address> expected_addresses_list, actual;
  for (const auto e : expected) expected_addresses_list.push_back(address_of(e.key(), "servers"));
  for (const auto& s : servers) actual.push_back(s.address);
  expect("servers", sorted(expected_addresses_list), sorted(actual));
  for (const auto e : expected) {
    const auto address = address_of(e.key(), "servers");
    const auto path = fmt::format("servers[{}]", address.to_string());
    match_outcome_server(path, document_of(e, path), *client.topology().find(address), client.pool_generation(address));
  }
}

void match_topology_outcome(bson::view outcome, const sdam_client& client) {
  const auto& t = client.topology();
  match_outcome_servers(document_of(outcome["servers"], "servers"), client);
  expect("topologyType", string_of(outcome["topologyType"], "topologyType"), std::string(sdam::to_string(t.type())));
  // README: setName is "a string ... or null"; maxSetVersion and maxElectionId are absent when null.
  expect("setName", expected_string(outcome["setName"], "setName"), t.set_name());
  expect("maxSetVersion", expected_integer(outcome["maxSetVersion"], "maxSetVersion"), t.max_set_version());
  expect("maxElectionId", expected_oid(outcome["maxElectionId"], "maxElectionId"), t.max_election_id());
  // Added to the format later: checked only when present (README "Test Phases").
  if (const auto e = outcome["logicalSessionTimeoutMinutes"])
    expect("logicalSessionTimeoutMinutes", expected_integer(e, "logicalSessionTimeoutMinutes"),
           t.logical_session_timeout_minutes());
  if (const auto e = outcome["compatible"]) {
    const auto expected = e.as_bool();
    if (!expected) throw runner_error("compatible: expected a boolean");
    expect<std::optional<bool>>("compatible", expected, t.compatible());
  }
}

void match_topology_description(const std::string& path, bson::view expected, const topology_snapshot& t) {
  for (const auto e : expected) {
    const std::string key(e.key());
    const auto at = path + "." + key;
    if (key == "topologyType") expect(at, string_of(e, at), std::string(sdam::to_string(t.type)));
    else if (key == "setName") expect(at, expected_string(e, at), t.set_name);
    else if (key == "maxSetVersion") expect(at, expected_integer(e, at), t.max_set_version);
    else if (key == "maxElectionId") expect(at, expected_oid(e, at), t.max_election_id);
  }
  if (!expected.contains("servers")) return;
  std::vector<host_address> addresses, actual;
  const auto servers = array_of(expected["servers"], path + ".servers");
  for (const auto s : servers) addresses.push_back(*expected_address(document_of(s, path)["address"], path));
  for (const auto& s : t.servers) actual.push_back(s.address);
  expect(path + ".servers", sorted(addresses), sorted(actual));
  for (const auto s : servers) {
    const auto d = document_of(s, path);
    const auto address = *expected_address(d["address"], path);
    const auto at = fmt::format("{}.servers[{}]", path, address.to_string());
    for (const auto field : d) match_server_field(at, field, *t.find(address));
  }
}

void match_event(const std::string& path, bson::view expected, const sdam_event& actual) {
  const auto kind = *expected.begin();
  if (kind.key() != to_string(actual.kind))
    throw test_failure(fmt::format("{}: expected {}, got {}", path, kind.key(), describe(actual)));
  const auto at = path + "." + std::string(kind.key());
  for (const auto e : document_of(kind, at)) {
    const std::string key(e.key());
    if (key == "address") {
      expect(at + ".address", expected_address(e, at), std::optional(actual.address));
    } else if (key == "previousDescription" || key == "newDescription") {
      const bool previous = key == "previousDescription";
      if (actual.kind == event_kind::server_description_changed)
        for (const auto field : document_of(e, at))
          match_server_field(at + "." + key, field, previous ? actual.previous_server : actual.new_server);
      else
        match_topology_description(at + "." + key, document_of(e, at),
                                   previous ? actual.previous_topology : actual.new_topology);
    }
    // topologyId: every event here comes from the one topology of the test.
  }
}

void match_events(bson::view expected, const std::vector<sdam_event>& actual) {
  std::vector<bson::view> events;
  for (const auto e : expected) events.push_back(document_of(e, "events"));
  if (events.size() != actual.size()) {
    std::string got;
    for (const auto& a : actual) got += (got.empty() ? "" : ", ") + describe(a);
    throw test_failure(fmt::format("events: expected {} events, got {}: [{}]", events.size(), actual.size(), got));
  }
  for (std::size_t i = 0; i < events.size(); ++i) match_event(fmt::format("events[{}]", i), events[i], actual[i]);
}

void run_phases(const sdam_test_file& f) {
  sdam_client client(f.uri);
  for (std::size_t i = 0; i < f.phases.size(); ++i) {
    const auto& p = f.phases[i];
    try {
      for (const auto& r : p.responses) client.apply(r);
      for (const auto& e : p.errors) client.apply(e);
      // README "Test Phases": monitoring outcomes hold the events published since the last phase.
      const auto events = client.take_events();
      if (const auto expected = p.outcome["events"]) match_events(array_of(expected, "events"), events);
      if (p.outcome.get_view().contains("topologyType")) match_topology_outcome(p.outcome, client);
    } catch (const test_failure& failure) {
      throw test_failure(fmt::format("phase {}: {}", i + 1, failure.what()));
    } catch (const runner_error& error) {
      throw runner_error(fmt::format("phase {}: {}", i + 1, error.what()));
    }
  }
}

}  // namespace

void run_sdam_file(const std::filesystem::path& file, const std::string& display, const report_sink& report) {
  sdam_test_file f;
  try {
    f = load_file(file);
  } catch (const std::exception& e) {
    return report({test_status::fail, display, "(file)", e.what()});
  }
  try {
    run_phases(f);
    report({test_status::pass, display, f.description, {}});
  } catch (const test_failure& e) {
    report({test_status::fail, display, f.description, e.what()});
  } catch (const runner_error& e) {
    report({test_status::fail, display, "(file)", e.what()});
  } catch (const std::exception& e) {
    report({test_status::fail, display, f.description, std::string("unexpected exception: ") + e.what()});
  } catch (...) {
    report({test_status::fail, display, f.description, "unexpected exception"});
  }
}

}  // namespace mongowire::spec
