#include "net/embedded_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string_view>

#include "core/election.hpp"

namespace mongowire::testd {

namespace asio = boost::asio;

embedded_server::embedded_server(server_options core_options, listen_options net_options)
    : core_(std::make_unique<server_core>(core_options)),
      server_(std::make_unique<tcp_server>(io_.get_executor(), *core_, std::move(net_options))) {
  server_->start();
  port_ = server_->port();
  address_ = server_->address();
  if (core_options.me.empty()) core_->set_members({address_}, address_);
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

namespace {
// RFC 3986 unreserved characters stay, everything else is %XX (connection-string-spec.md:
// user names and passwords must be percent-encoded).
std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}
}  // namespace

std::string embedded_server::uri(const initial_user& user) const {
  return "mongodb://" + percent_encode(user.name) + ":" + percent_encode(user.password) + "@" + address() + "/" +
         (user.db == "admin" ? "" : percent_encode(user.db)) + "?directConnection=true";
}

embedded_replica_set::embedded_replica_set(int members, server_options core_options, listen_options net_options) {
  if (members < 1) throw std::invalid_argument("embedded_replica_set needs at least one member");
  net_options.port = 0;  // N members cannot share one port
  core_options.me.clear();
  set_name_ = core_options.set_name;
  for (int i = 0; i < members; ++i) {
    core_options.role = i == 0 ? member_role::primary : member_role::secondary;
    members_.push_back(std::make_unique<embedded_server>(core_options, net_options));
  }
  auto list = hosts();
  for (auto& m : members_) {
    m->core().set_members(list, m->address());
    cores_.push_back(&m->core());
  }
  term_ = 0;
  hold_election(cores_, -1, 0, term_);  // member 0 wins the first election
  // replSetStepDown runs under its member's lock: the election runs next, on its thread.
  for (int i = 0; i < members; ++i) {
    auto ex = members_[i]->executor();
    members_[i]->core().set_election_handler(
        [this, i, ex] { asio::post(ex, [this, i] { elect_after_step_down(i); }); });
  }
}

void embedded_replica_set::elect_after_step_down(int stepped_down) {
  std::lock_guard lock(mutex_);
  if (primary_ != stepped_down) return;  // another election came first
  elect(next_electable(cores_, stepped_down));
}

embedded_replica_set::~embedded_replica_set() { stop(); }

std::vector<std::string> embedded_replica_set::hosts() const {
  std::vector<std::string> out;
  for (auto& m : members_) out.push_back(m->address());
  return out;
}

std::string embedded_replica_set::uri() const {
  std::string seeds;
  for (auto& h : hosts()) seeds += (seeds.empty() ? "" : ",") + h;
  return "mongodb://" + seeds + "/?replicaSet=" + set_name_;
}

void embedded_replica_set::step_down_and_elect(int new_primary) {
  if (new_primary < -1 || new_primary >= static_cast<int>(members_.size()))
    throw std::out_of_range("step_down_and_elect: no member " + std::to_string(new_primary));
  std::lock_guard lock(mutex_);
  elect(new_primary);
}

void embedded_replica_set::elect(int new_primary) {
  hold_election(cores_, primary_, new_primary, term_);
  primary_ = new_primary;
}

void embedded_replica_set::stop() {
  for (auto& m : members_) m->stop();
}

embedded_sharded_cluster::embedded_sharded_cluster(int routers, server_options core_options,
                                                   listen_options net_options) {
  if (routers < 1) throw std::invalid_argument("embedded_sharded_cluster needs at least one router");
  core_options.sharded = true;
  load_balanced_ = core_options.load_balanced;
  core_ = std::make_unique<server_core>(std::move(core_options));
  net_options.port = 0;  // N listeners cannot share one port
  // load-balancers.md: the driver sees one endpoint, the load balancer; drivers' CI has one in
  // front of a single mongos and one in front of several.
  const int listeners = load_balanced_ ? std::min(routers, 2) : routers;
  for (int i = 0; i < listeners; ++i) {
    net_options.router = load_balanced_ ? 0 : i;
    net_options.routers = load_balanced_ && i == 1 ? routers : 1;
    routers_.push_back(std::make_unique<tcp_server>(io_.get_executor(), *core_, net_options));
    routers_.back()->start();
  }
  thread_ = std::thread([this] { io_.run(); });
}

embedded_sharded_cluster::~embedded_sharded_cluster() { stop(); }

void embedded_sharded_cluster::stop() {
  if (!thread_.joinable()) return;
  for (auto& r : routers_) r->stop();
  io_.stop();
  thread_.join();
}

std::vector<std::string> embedded_sharded_cluster::hosts() const {
  std::vector<std::string> out;
  for (auto& r : routers_) out.push_back(r->address());
  return out;
}

std::string embedded_sharded_cluster::uri() const {
  if (load_balanced_) return "mongodb://" + routers_.front()->address() + "/?loadBalanced=true";
  std::string seeds;
  for (auto& h : hosts()) seeds += (seeds.empty() ? "" : ",") + h;
  return "mongodb://" + seeds + (load_balanced_ ? "/?loadBalanced=true" : "/");
}

std::string embedded_sharded_cluster::multi_mongos_uri() const {
  if (!load_balanced_) return uri();
  return "mongodb://" + routers_.back()->address() + "/?loadBalanced=true";
}

std::string embedded_sharded_cluster::router_uri(std::size_t router) const {
  return "mongodb://" + address(router) + "/?directConnection=true";
}

server_options options_for_address(server_options base, const std::string& address) {
  base.hosts = {address};
  base.me = address;
  return base;
}

}  // namespace mongowire::testd
