// A test server running on its own thread and io_context: what tests, examples and
// txnbench start in-process when no --uri is given.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/server_core.hpp"
#include "net/tcp_server.hpp"

namespace mongowire::testd {

class embedded_server {
 public:
  // Listens on net_options.port (0: a free port). Unless core_options.me names another
  // address, hello advertises the address actually bound (hosts: [it], me: it), so that
  // clients discovering the replica set come back to this server.
  explicit embedded_server(server_options core_options = {}, listen_options net_options = {});
  ~embedded_server();
  embedded_server(const embedded_server&) = delete;
  embedded_server& operator=(const embedded_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::string address() const { return address_; }  // "127.0.0.1:<port>"
  // A connection string for this member, e.g. "mongodb://127.0.0.1:4242/?directConnection=true".
  std::string uri() const;
  // The same with `user`'s credentials (percent-encoded), for a server started with --auth.
  std::string uri(const initial_user& user) const;
  server_core& core() noexcept { return *core_; }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }
  // Client connections open now (mongod's serverStatus connections.current): txnbench's bank
  // soak checks that none is left once every client has closed.
  std::size_t open_connections() const noexcept { return server_->open_connections(); }
  void stop();

 private:
  boost::asio::io_context io_;
  std::unique_ptr<server_core> core_;
  std::unique_ptr<tcp_server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::string address_;
};

// N members of one replica set in this process, each an embedded_server with its own core,
// storage and thread. The secondaries replicate the primary's oplog, each entry
// core_options.replication_lag after its commit (0: before their next command); they refuse
// writes (NotWritablePrimary) and reads without a secondary read preference
// (NotPrimaryNoSecondaryOk) as mongod does. Failover does not roll back a secondary that is
// ahead of the new primary.
class embedded_replica_set {
 public:
  // Member 0 starts as primary (election term 1), the others as its secondaries.
  explicit embedded_replica_set(int members, server_options core_options = {}, listen_options net_options = {});
  ~embedded_replica_set();
  embedded_replica_set(const embedded_replica_set&) = delete;
  embedded_replica_set& operator=(const embedded_replica_set&) = delete;

  std::size_t size() const noexcept { return members_.size(); }
  embedded_server& member(std::size_t i) { return *members_.at(i); }
  std::vector<std::string> hosts() const;
  // "mongodb://h1,h2,h3/?replicaSet=<name>"
  std::string uri() const;
  // Index of the current primary, or -1 while there is none.
  int primary() const noexcept { return primary_; }

  // Failover as an election leaves it: the old primary steps down (its open transactions
  // are aborted), `new_primary` wins an election with a higher term, and every member
  // advertises it as primary; every member's topologyVersion moves. -1: no primary.
  // replSetStepDown on the primary does the same with the next member not frozen by
  // replSetFreeze (none: no primary). Thread-safe.
  void step_down_and_elect(int new_primary);
  void stop();

 private:
  void elect_after_step_down(int stepped_down);
  void elect(int new_primary);  // with mutex_ held

  std::mutex mutex_;

  std::vector<std::unique_ptr<embedded_server>> members_;
  std::vector<server_core*> cores_;  // members_' cores, for core/election.hpp
  std::string set_name_;
  std::int64_t term_ = 1;
  std::atomic<int> primary_{0};  // read by tests while an election runs on a member's thread
};

// A sharded cluster in this process (mongowire-testd --sharded): N mongos routers, each on
// its own port, over one shared core (server_options::sharded) and one thread. Each router
// keeps its own transactions and failCommand fail point; the data, transaction decisions
// and retryable-write records are shared. With core_options.load_balanced
// (mongowire-testd --load-balanced [--mongos N]), as drivers' CI deploys it (unified-test-
// format.md "Initializing the Test Runner"): a load balancer in front of router 0 alone
// (SINGLE_MONGOS_LB_URI) and, with N > 1 routers, one in front of all N that hands each new
// connection to the next router round robin (MULTI_MONGOS_LB_URI); each router answers hello
// with its own serviceId.
class embedded_sharded_cluster {
 public:
  explicit embedded_sharded_cluster(int routers, server_options core_options = {}, listen_options net_options = {});
  ~embedded_sharded_cluster();
  embedded_sharded_cluster(const embedded_sharded_cluster&) = delete;
  embedded_sharded_cluster& operator=(const embedded_sharded_cluster&) = delete;

  std::size_t size() const noexcept { return routers_.size(); }  // listeners (load-balanced: endpoints)
  std::vector<std::string> hosts() const;                        // "127.0.0.1:<port>" of each router (load balancer)
  std::string address(std::size_t router) const { return routers_.at(router)->address(); }
  // "mongodb://h1,h2/": every router, discovered as a sharded topology; load-balanced:
  // "mongodb://h/?loadBalanced=true", the load balancer in front of router 0 alone.
  std::string uri() const;
  // Load-balanced: "mongodb://h/?loadBalanced=true", the load balancer in front of every router
  // (uri() when there is one router). Not load-balanced: uri().
  std::string multi_mongos_uri() const;
  // "mongodb://h/?directConnection=true": one router alone (e.g. to set its fail points).
  std::string router_uri(std::size_t router) const;
  server_core& core() noexcept { return *core_; }
  void stop();

 private:
  boost::asio::io_context io_;
  std::unique_ptr<server_core> core_;
  std::vector<std::unique_ptr<tcp_server>> routers_;
  std::thread thread_;
  bool load_balanced_ = false;
};

// Server options whose advertised hosts/me are `address` (replica-set discovery then
// finds this member under the address the client used).
server_options options_for_address(server_options base, const std::string& address);

}  // namespace mongowire::testd
