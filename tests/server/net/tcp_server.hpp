// The Asio shell of the test server: accepts connections, cuts frames with the
// project's frame_decoder, hands each command to server_core, writes the reply.
// Everything runs on one executor (the core is single-threaded by design, like a
// mongod storage engine behind a global lock: replies are serialised, not raced).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/server_core.hpp"

namespace mongowire::testd {

struct listen_options {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: the OS picks one (tests)
  // Added before every reply, to emulate a network round trip on loopback.
  std::chrono::microseconds reply_latency{0};
  // Called with a line for every protocol problem (malformed frame, closed connection).
  std::function<void(const std::string&)> log;
  // TLS as mongod --tlsMode requireTLS: every connection must complete a TLS handshake first.
  std::string tls_certificate_key_file;  // PEM with the certificate chain and the key; empty: plain TCP
  std::string tls_ca_file;               // PEM: a client certificate, when presented, must be signed by it
  // A sharded core (server_options::sharded): the mongos this listener plays, 0..N-1.
  std::int32_t router = 0;
  // A load balancer (server_options::load_balanced) in front of `routers` mongos: accepted
  // connections go round robin to router, router + 1, ..., router + routers - 1, as HAProxy's
  // roundrobin balance does with the routers of drivers' CI (MULTI_MONGOS_LB_URI).
  std::int32_t routers = 1;
};

class tcp_server {
 public:
  tcp_server(boost::asio::any_io_executor ex, server_core& core, listen_options opts);
  ~tcp_server();
  tcp_server(const tcp_server&) = delete;
  tcp_server& operator=(const tcp_server&) = delete;

  // Binds and starts accepting. Throws boost::system::system_error if the bind fails or a TLS
  // file cannot be used.
  void start();
  // Stops accepting and closes every open connection.
  void stop();
  std::uint16_t port() const noexcept;
  std::string address() const;  // "127.0.0.1:<port>"
  std::size_t open_connections() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace mongowire::testd
