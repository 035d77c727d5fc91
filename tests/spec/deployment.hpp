// The in-process deployment a unified test file runs against when no --uri is given: the
// test server as the topology its runOnRequirements ask for (unified-test-format.md
// "runOnRequirements"), in the order they list them: a standalone for "single", a replica
// set of three members (replicated, discovered through its replicaSet URI) for
// "replicaset" and for files that name no topology this server can be, a sharded cluster of
// two mongos routers over one store for "sharded" and "sharded-replicaset", and for files that
// allow nothing but "load-balanced", two mongos behind load balancers (loadBalanced=true): one in
// front of the first alone, one in front of both, as drivers' CI deploys them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "mongowire/bson.hpp"

namespace mongowire::spec {

enum class test_topology { single, replica_set, sharded, load_balanced };

// The first topology of the file's runOnRequirements that the test server can be.
test_topology topology_for(bson::view file_doc);

// True when the file's runOnRequirements all say "auth: true", or say nothing of auth and one
// of its tests needs "auth: true" (unified-test-format.md "runOnRequirements"): the deployment
// then runs with access control (mongod --auth) and the connection string carries the
// credentials of a root user.
bool requires_auth(bson::view file_doc);

// The maxWireVersion the test server plays for the file: 25 (MongoDB 8.0, with its bulkWrite
// command) when a runOnRequirements of the file or of one of its tests asks for 8.0 or later,
// else its default, 21 (7.0).
std::int32_t max_wire_version_for(bson::view file_doc);

class in_process_deployment {
 public:
  explicit in_process_deployment(test_topology topology, bool auth = false,
                                 std::optional<std::int32_t> max_wire_version = std::nullopt);
  ~in_process_deployment();
  in_process_deployment(const in_process_deployment&) = delete;
  in_process_deployment& operator=(const in_process_deployment&) = delete;

  // The connection string of the deployment: the standalone's address alone, the seed list
  // and replicaSet for the replica set, every mongos for the sharded cluster.
  // Load-balanced: the load balancer in front of one mongos (SINGLE_MONGOS_LB_URI).
  const std::string& uri() const noexcept { return uri_; }
  // Load-balanced: the one in front of every mongos (MULTI_MONGOS_LB_URI); else uri().
  const std::string& multi_mongos_uri() const noexcept { return multi_mongos_uri_; }

 private:
  struct servers;
  std::unique_ptr<servers> servers_;
  std::string uri_;
  std::string multi_mongos_uri_;
};

}  // namespace mongowire::spec
