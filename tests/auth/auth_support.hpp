// Helpers of the authentication tests: an embedded test server with access control that
// records what each connection sent, a coroutine runner, and a sink for every output channel
// of a client (events, traces, logs) to search for secrets.
#pragma once

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../client/client_support.hpp"
#include "mongowire/client.hpp"
#include "net/embedded_server.hpp"
#include "net/topology.hpp"

namespace auth_test {

namespace asio = boost::asio;
namespace net = mongowire::detail::net;
using namespace mongowire;

// Characters that need percent-encoding in a URI, and one that SASLprep maps (U+00AD).
inline const std::string secret_password =
    "s3cr3t:P@ss/w\xC2\xAD"
    "rd?";

using client_test::run;  // runs a coroutine on an io_context until it completes

inline asio::awaitable<error_code> ping_and_close(client& c) {
  bson::document reply;
  diagnostics diag;
  auto ping = bson::document::from_json(R"({"ping": 1})");
  auto ec = co_await c.run_command("admin", std::move(ping), reply, diag);
  co_await c.close();
  co_return ec;
}

// What one connection sent to authenticate.
struct sasl_counts {
  std::string user;       // from the SCRAM client-first-message
  std::string mechanism;  // of the conversation that ran
  int sasl_start = 0;
  int sasl_continue = 0;
  int round_trips() const { return 1 + sasl_start + sasl_continue; }  // the hello, then SASL
};

class auth_server {
 public:
  // speculative_auth false: a server before 4.4, whose hello ignores speculativeAuthenticate.
  explicit auth_server(std::vector<testd::initial_user> users = {{"alice", secret_password}},
                       bool speculative_auth = true)
      : users_(users) {
    testd::server_options o;
    o.auth = true;
    o.speculative_auth = speculative_auth;
    o.users = std::move(users);
    o.command_log = [this](const testd::command_log_entry& e) {
      std::lock_guard lock(mutex_);
      log_.push_back({e.connection_id, std::string(e.command_name), bson::document(e.command)});
    };
    server_ = std::make_unique<testd::embedded_server>(std::move(o));
  }

  // The first user's URI; `password` replaces its password (a wrong one).
  std::string uri(std::optional<std::string> password = std::nullopt) const {
    auto u = users_.front();
    if (password) u.password = *password;
    return server_->uri(u);
  }
  std::string uri_for(std::string_view name) const {
    for (const auto& u : users_)
      if (u.name == name) return server_->uri(u);
    FAIL("no user " << name);
    return {};
  }
  testd::embedded_server& embedded() { return *server_; }

  // The connections that authenticated (speculatively or not), with their SASL commands.
  std::map<std::int64_t, sasl_counts> sasl_by_connection() const;
  int sasl_continue_count() const;
  std::set<std::int64_t> hello_connections() const;
  bool sent_speculative(std::int64_t connection_id) const;

 private:
  struct entry {
    std::int64_t connection_id;
    std::string name;
    bson::document command;
  };
  std::vector<testd::initial_user> users_;
  mutable std::mutex mutex_;
  std::vector<entry> log_;
  std::unique_ptr<testd::embedded_server> server_;
};

// Every output channel of a client as text (frames as their raw bytes).
struct outputs {
  std::mutex mutex;
  std::string text;
  bool saw_pool_cleared = false;
  bool saw_server_unknown = false;
  client_options options();
  void add(std::string_view s) {
    std::lock_guard lock(mutex);
    text.append(s).append("\n");
  }
};

// A topology (direct connection) authenticating its pooled connections with the first user.
net::topology_options topology_options_for(auth_server& server, std::string mechanism);

}  // namespace auth_test
