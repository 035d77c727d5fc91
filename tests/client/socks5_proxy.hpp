// A small SOCKS5 proxy (RFC 1928, RFC 1929) for tests, on its own thread: it records the
// destinations clients asked for (as sent: a name stays a name) and splices the bytes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace client_test {

class socks5_proxy {
 public:
  // `username`/`password` set: RFC 1929 authentication is required.
  explicit socks5_proxy(std::optional<std::pair<std::string, std::string>> credentials = std::nullopt);
  ~socks5_proxy();

  std::uint16_t port() const noexcept { return port_; }
  // "name:port" (address type 3) or "[ip]:port" (types 1 and 4), in the order asked.
  std::vector<std::string> destinations() const;
  int refused_logins() const;

 private:
  struct session;
  void accept_next();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::optional<std::pair<std::string, std::string>> credentials_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<std::string> destinations_;
  int refused_logins_ = 0;
  std::thread thread_;
};

}  // namespace client_test
