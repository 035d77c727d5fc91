// The in-process deployment a unified test file runs against when no --uri is given: the
// test server as the topology its runOnRequirements ask for (unified-test-format.md
// "runOnRequirements"), in the order they list them: a standalone for "single", a replica
// set of three members (replicated, discovered through its replicaSet URI) for
// "replicaset" and for files that name no topology this server can be.
#pragma once

#include <memory>
#include <string>

#include "mongowire/bson.hpp"

namespace mongowire::spec {

enum class test_topology { single, replica_set };

// The first topology of the file's runOnRequirements that the test server can be.
test_topology topology_for(bson::view file_doc);

// True when the file's runOnRequirements all say "auth: true", or say nothing of auth and one
// of its tests needs "auth: true" (unified-test-format.md "runOnRequirements"): the deployment
// then runs with access control (mongod --auth) and the connection string carries the
// credentials of a root user.
bool requires_auth(bson::view file_doc);

class in_process_deployment {
 public:
  explicit in_process_deployment(test_topology topology, bool auth = false);
  ~in_process_deployment();
  in_process_deployment(const in_process_deployment&) = delete;
  in_process_deployment& operator=(const in_process_deployment&) = delete;

  // The connection string of the deployment: the standalone's address alone, the seed list
  // and replicaSet for the replica set.
  const std::string& uri() const noexcept { return uri_; }

 private:
  struct servers;
  std::unique_ptr<servers> servers_;
  std::string uri_;
};

}  // namespace mongowire::spec
