// mongowire's wire-faithful test server, in-process, for your own tests: an in-memory
// MongoDB 7.0 replica-set primary (OP_MSG, sessions, transactions, retryable writes,
// failCommand failpoints) on its own thread and a port of its own. Installed with the
// library as libmongowire_test_server (pkg-config mongowire-test-server, CMake target
// mongowire::test_server).
//
//   mongowire::test_server server;                 // listens on 127.0.0.1, a free port
//   mongowire::client c(ex, server.uri());         // "mongodb://127.0.0.1:<port>/?replicaSet=rs0"
//
// Differences from mongod are listed in mongowire's README ("The test server").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mongowire {

struct test_server_options {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;                                  // 0: a free port (see test_server::port())
  std::string set_name = "rs0";                            // hello's setName
  std::int32_t max_wire_version = 21;                      // 21: MongoDB 7.0; 17: 6.0
  std::chrono::microseconds reply_latency{0};              // waited before every reply
  std::chrono::seconds transaction_lifetime{60};           // transactionLifetimeLimitSeconds
  bool auth = false;                                       // access control, as mongod --auth
  std::vector<std::pair<std::string, std::string>> users;  // name, password: role root on admin
};

class test_server {
 public:
  // Binds and starts serving; throws std::system_error (or boost::system::system_error)
  // when the address cannot be bound.
  explicit test_server(test_server_options options = {});
  ~test_server();  // stops
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  std::uint16_t port() const noexcept;
  std::string address() const;  // "127.0.0.1:<port>", as hello advertises it
  // "mongodb://<address>/?replicaSet=<set name>"
  std::string uri() const;
  // Stops accepting and closes every connection (idempotent).
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mongowire
