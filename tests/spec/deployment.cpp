#include "deployment.hpp"

#include <optional>

#include "net/embedded_server.hpp"

namespace mongowire::spec {

namespace {

constexpr int replica_set_members = 3;

std::optional<test_topology> first_supported(bson::view requirement) {
  auto topologies = requirement["topologies"].as_array();
  if (!topologies) return test_topology::replica_set;  // any topology will do
  for (const auto& t : *topologies) {
    const auto name = t.as_string().value_or("");
    if (name == "single") return test_topology::single;
    if (name == "replicaset") return test_topology::replica_set;
  }
  return std::nullopt;  // sharded or load-balanced only: the file is skipped
}

}  // namespace

test_topology topology_for(bson::view file_doc) {
  if (auto requirements = file_doc["runOnRequirements"].as_array())
    for (const auto& r : *requirements)
      if (auto doc = r.as_document())
        if (auto topology = first_supported(*doc)) return *topology;
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

struct in_process_deployment::servers {
  std::optional<testd::embedded_server> standalone;
  std::optional<testd::embedded_replica_set> replica_set;
};

in_process_deployment::in_process_deployment(test_topology topology, bool auth)
    : servers_(std::make_unique<servers>()) {
  // The user drivers' CI creates for authenticated test runs (drivers-evergreen-tools).
  const testd::initial_user user{"bob", "pwd123"};
  testd::server_options options;
  options.auth = auth;
  if (auth) options.users.push_back(user);
  const std::string credentials = auth ? user.name + ":" + user.password + "@" : "";
  if (topology == test_topology::single) {
    options.standalone = true;
    servers_->standalone.emplace(options);
    // Discovered as drivers' CI connects to a standalone: Unknown first, then Single.
    uri_ = "mongodb://" + credentials + servers_->standalone->address() + "/";
  } else {
    servers_->replica_set.emplace(replica_set_members, options);
    uri_ = servers_->replica_set->uri();
    uri_.insert(std::string_view("mongodb://").size(), credentials);
  }
}

in_process_deployment::~in_process_deployment() = default;

}  // namespace mongowire::spec
