#include "net/embedded_server.hpp"

#include <boost/asio/executor_work_guard.hpp>

namespace mongowire::testd {

embedded_server::embedded_server(server_options core_options, listen_options net_options)
    : core_(std::make_unique<server_core>(std::move(core_options))),
      server_(std::make_unique<tcp_server>(io_.get_executor(), *core_, std::move(net_options))) {
  server_->start();
  port_ = server_->port();
  thread_ = std::thread([this] { io_.run(); });
}

embedded_server::~embedded_server() { stop(); }

void embedded_server::stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  io_.stop();
  thread_.join();
}

std::string embedded_server::uri() const { return "mongodb://" + address() + "/?directConnection=true"; }

server_options options_for_address(server_options base, const std::string& address) {
  base.hosts = {address};
  base.me = address;
  return base;
}

}  // namespace mongowire::testd
