#include "mongowire/test_server.hpp"

#include "net/embedded_server.hpp"

namespace mongowire {

struct test_server::impl {
  std::string set_name;
  testd::embedded_server server;
  impl(const testd::server_options& core, const testd::listen_options& net)
      : set_name(core.set_name), server(core, net) {}
};

namespace {
testd::server_options core_options(const test_server_options& o) {
  testd::server_options core;
  core.set_name = o.set_name;
  core.max_wire_version = o.max_wire_version;
  core.transaction_lifetime_limit = o.transaction_lifetime;
  core.auth = o.auth;
  for (const auto& [name, password] : o.users) core.users.push_back({name, password});
  return core;
}
}  // namespace

test_server::test_server(test_server_options options) {
  testd::listen_options net;
  net.bind_address = options.bind_address;
  net.port = options.port;
  net.reply_latency = options.reply_latency;
  impl_ = std::make_unique<impl>(core_options(options), net);
}

test_server::~test_server() = default;

std::uint16_t test_server::port() const noexcept { return impl_->server.port(); }
std::string test_server::address() const { return impl_->server.address(); }
std::string test_server::uri() const { return "mongodb://" + address() + "/?replicaSet=" + impl_->set_name; }
void test_server::stop() { impl_->server.stop(); }

}  // namespace mongowire
