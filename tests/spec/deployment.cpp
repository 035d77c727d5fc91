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

struct in_process_deployment::servers {
  std::optional<testd::embedded_server> standalone;
  std::optional<testd::embedded_replica_set> replica_set;
};

in_process_deployment::in_process_deployment(test_topology topology) : servers_(std::make_unique<servers>()) {
  if (topology == test_topology::single) {
    testd::server_options options;
    options.standalone = true;
    servers_->standalone.emplace(options);
    uri_ = servers_->standalone->uri();
  } else {
    servers_->replica_set.emplace(replica_set_members);
    uri_ = servers_->replica_set->uri();
  }
}

in_process_deployment::~in_process_deployment() = default;

}  // namespace mongowire::spec
