#include "deployment.hpp"

#include <cstdlib>
#include <optional>
#include <string>

#include "net/embedded_server.hpp"

namespace mongowire::spec {

namespace {

constexpr int replica_set_members = 3;
constexpr int sharded_routers = 2;  // unified-test-format.md: useMultipleMongoses needs more than one

// Sharded only when no requirement allows a standalone or a replica set, load-balanced only when
// none allows those or a sharded cluster: the files that ran on those before keep running there.
enum class topology_pass { direct, sharded, load_balanced };

std::optional<test_topology> first_supported(bson::view requirement, topology_pass pass) {
  const bool sharded = pass != topology_pass::direct;
  auto topologies = requirement["topologies"].as_array();
  if (!topologies) return test_topology::replica_set;  // any topology will do
  for (const auto& t : *topologies) {
    const auto name = t.as_string().value_or("");
    if (name == "single") return test_topology::single;
    if (name == "replicaset") return test_topology::replica_set;
    if (sharded && (name == "sharded" || name == "sharded-replicaset")) return test_topology::sharded;
    if (pass == topology_pass::load_balanced && name == "load-balanced") return test_topology::load_balanced;
  }
  return std::nullopt;
}

}  // namespace

test_topology topology_for(bson::view file_doc) {
  auto requirements = file_doc["runOnRequirements"].as_array();
  if (!requirements) return test_topology::replica_set;
  for (const auto pass : {topology_pass::direct, topology_pass::sharded, topology_pass::load_balanced})
    for (const auto& r : *requirements)
      if (auto doc = r.as_document())
        if (auto topology = first_supported(*doc, pass)) return *topology;
  return test_topology::replica_set;
}

// The auth value that every requirement of `list` agrees on (nullopt: no list, or they differ).
std::optional<bool> agreed_auth(bson::element list) {
  auto requirements = list.as_array();
  if (!requirements || requirements->empty()) return std::nullopt;
  std::optional<bool> agreed;
  for (const auto& r : *requirements) {
    auto auth = r.as_document().value_or(bson::view())["auth"].as_bool();
    if (!auth || (agreed && *agreed != *auth)) return std::nullopt;
    agreed = auth;
  }
  return agreed;
}

bool requires_auth(bson::view file_doc) {
  if (auto file_level = agreed_auth(file_doc["runOnRequirements"])) return *file_level;
  // A file whose requirements allow either: with auth when one of its tests needs it (its
  // other tests do not mind credentials).
  if (auto tests = file_doc["tests"].as_array())
    for (const auto& t : *tests)
      if (agreed_auth(t.as_document().value_or(bson::view())["runOnRequirements"]) == true) return true;
  return false;
}

namespace {

// MongoDB 8.0's wire version, and the first release version that needs it.
constexpr std::int32_t wire_version_8_0 = 25;

bool needs_8_0(bson::element requirements) {
  for (const auto& r : requirements.as_array().value_or(bson::view())) {
    auto min = r.as_document().value_or(bson::view())["minServerVersion"].as_string();
    if (!min) continue;
    const auto major = std::atoi(std::string(min->substr(0, min->find('.'))).c_str());
    if (major >= 8) return true;
  }
  return false;
}

}  // namespace

std::int32_t max_wire_version_for(bson::view file_doc) {
  bool newer = needs_8_0(file_doc["runOnRequirements"]);
  for (const auto& t : file_doc["tests"].as_array().value_or(bson::view()))
    newer = newer || needs_8_0(t.as_document().value_or(bson::view())["runOnRequirements"]);
  return newer ? wire_version_8_0 : testd::server_options{}.max_wire_version;
}

struct in_process_deployment::servers {
  std::optional<testd::embedded_server> standalone;
  std::optional<testd::embedded_replica_set> replica_set;
  std::optional<testd::embedded_sharded_cluster> sharded;
};

in_process_deployment::in_process_deployment(test_topology topology, bool auth,
                                             std::optional<std::int32_t> max_wire_version)
    : servers_(std::make_unique<servers>()) {
  // The user drivers' CI creates for authenticated test runs (drivers-evergreen-tools).
  const testd::initial_user user{"bob", "pwd123"};
  testd::server_options options;
  if (max_wire_version) options.max_wire_version = *max_wire_version;
  options.auth = auth;
  if (auth) options.users.push_back(user);
  const std::string credentials = auth ? user.name + ":" + user.password + "@" : "";
  if (topology == test_topology::single) {
    options.standalone = true;
    servers_->standalone.emplace(options);
    // Discovered as drivers' CI connects to a standalone: Unknown first, then Single.
    uri_ = "mongodb://" + credentials + servers_->standalone->address() + "/";
  } else if (topology == test_topology::sharded || topology == test_topology::load_balanced) {
    // Load-balanced: the load balancers of drivers' CI, in front of one mongos and of both.
    options.load_balanced = topology == test_topology::load_balanced;
    servers_->sharded.emplace(sharded_routers, options);
    uri_ = servers_->sharded->uri();
    uri_.insert(std::string_view("mongodb://").size(), credentials);
    multi_mongos_uri_ = servers_->sharded->multi_mongos_uri();
    multi_mongos_uri_.insert(std::string_view("mongodb://").size(), credentials);
  } else {
    servers_->replica_set.emplace(replica_set_members, options);
    uri_ = servers_->replica_set->uri();
    uri_.insert(std::string_view("mongodb://").size(), credentials);
  }
  if (multi_mongos_uri_.empty()) multi_mongos_uri_ = uri_;
}

in_process_deployment::~in_process_deployment() = default;

}  // namespace mongowire::spec
