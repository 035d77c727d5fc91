// A test server running on its own thread and io_context: what tests, examples and
// txnbench start in-process when no --uri is given.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <thread>

#include "core/server_core.hpp"
#include "net/tcp_server.hpp"

namespace mongowire::testd {

class embedded_server {
 public:
  explicit embedded_server(server_options core_options = {}, listen_options net_options = {});
  ~embedded_server();
  embedded_server(const embedded_server&) = delete;
  embedded_server& operator=(const embedded_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // A connection string for this member, e.g. "mongodb://127.0.0.1:4242/?directConnection=true".
  std::string uri() const;
  server_core& core() noexcept { return *core_; }
  void stop();

 private:
  boost::asio::io_context io_;
  std::unique_ptr<server_core> core_;
  std::unique_ptr<tcp_server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

// Server options whose advertised hosts/me are `address` (replica-set discovery then
// finds this member under the address the client used).
server_options options_for_address(server_options base, const std::string& address);

}  // namespace mongowire::testd
