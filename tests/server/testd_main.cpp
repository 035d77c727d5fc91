// mongowire-testd: the wire-faithful in-memory test server as a standalone program.
//   mongowire-testd [--port N (0: any free port)] [--bind ADDR] [--max-wire-version N] [--latency-us N]
//                   [--transaction-lifetime-s N] [--set-name NAME] [--log-commands]
//                   [--auth] [--user NAME:PASSWORD]... [--no-speculative-auth]
//                   [--members N] [--replication-lag-ms N] [--standalone] [--sharded [--mongos N]]
//                   [--load-balanced]
//                   [--tls-certificate-key-file PEM [--tls-ca-file PEM]] [--x509-user SUBJECT]...
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/election.hpp"
#include "core/server_core.hpp"
#include "net/tcp_server.hpp"
#include "proto/command/redaction.hpp"

namespace {

using namespace mongowire::testd;

int usage(const char* why) {
  if (why) std::fprintf(stderr, "mongowire-testd: %s\n", why);
  std::fputs(
      "usage: mongowire-testd [--port N] [--bind ADDR] [--max-wire-version N] [--latency-us N]\n"
      "                       [--transaction-lifetime-s N] [--set-name NAME] [--log-commands]\n"
      "                       [--auth] [--user NAME:PASSWORD]... [--no-speculative-auth]\n"
      "                       [--members N] [--replication-lag-ms N] [--standalone] [--sharded [--mongos N]]\n"
      "                       [--load-balanced [--mongos N]]\n"
      "                       [--tls-certificate-key-file PEM [--tls-ca-file PEM]] [--x509-user SUBJECT]...\n"
      "An in-memory MongoDB 7.0 replica-set primary for tests and benchmarks.\n"
      "--members: a replica set of N members on ports P, P+1, ... (member 0 primary); the secondaries\n"
      "replicate its writes --replication-lag-ms after their commit. --standalone: a standalone mongod.\n"
      "--sharded: a sharded cluster of --mongos N routers (default 1) on ports P, P+1, ... over one store;\n"
      "each router keeps its own transactions (recoveryToken commits elsewhere) and fail points.\n"
      "--load-balanced: mongos behind a load balancer (connect with loadBalanced=true): a connection's\n"
      "first hello must say loadBalanced: true, and the reply carries its mongos's serviceId. Port P is a\n"
      "load balancer in front of router 0 alone (SINGLE_MONGOS_LB_URI); with --mongos N > 1, port P+1 one\n"
      "in front of all N routers, each new connection to the next round robin (MULTI_MONGOS_LB_URI).\n"
      "--auth: access control as mongod --auth (Unauthorized until a connection authenticates);\n"
      "--user: a user with role root on admin and SCRAM-SHA-1 and SCRAM-SHA-256 credentials;\n"
      "--no-speculative-auth: hello ignores speculativeAuthenticate (as mongod before 4.4).\n"
      "--tls-certificate-key-file: TLS required (certificate chain and key in one PEM file);\n"
      "--tls-ca-file: a client certificate, when presented, must be signed by this CA.\n"
      "--x509-user SUBJECT: a MONGODB-X509 user (root) for the client certificate with this RFC 2253 subject.\n",
      stderr);
  return 2;
}

bool parse_int(std::string_view text, long long& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// A wildcard bind address is no address a client can connect to.
std::string advertised_host(const std::string& bind_address) {
  if (bind_address == "0.0.0.0" || bind_address == "::") return "localhost";
  if (bind_address.find(':') != std::string::npos) return "[" + bind_address + "]";
  return bind_address;
}

// NAME:PASSWORD (the password may itself contain ':'). Never echoed: it is a secret.
bool add_user(std::string_view spec, server_options& opts) {
  const auto colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == spec.size()) return false;
  opts.users.push_back({std::string(spec.substr(0, colon)), std::string(spec.substr(colon + 1))});
  return true;
}

// command-logging-and-monitoring.md "Security": no password, nonce or proof in the log.
void print_command(const command_log_entry& e) {
  const bool secret = mongowire::detail::is_sensitive_command(e.command_name, e.command);
  std::cout << "conn" << e.connection_id << " "
            << (secret ? "{\"" + std::string(e.command_name) + "\": <redacted>}" : e.command.to_relaxed_json())
            << "\n  -> "
            << (e.reply.empty() ? std::string("<connection closed>")
                : secret        ? std::string("<redacted>")
                                : e.reply.to_relaxed_json())
            << std::endl;
}

// What the first line says about the deployment.
std::string describe(const server_options& o, const std::vector<std::string>& hosts) {
  std::string what = o.standalone ? "standalone" : o.sharded ? "sharded cluster" : "replica set " + o.set_name;
  if (o.load_balanced) {
    what = "mongos behind a load balancer (connect with loadBalanced=true)";
    if (hosts.size() > 1) what += "; a load balancer in front of every mongos: " + hosts.back();
  } else if (o.sharded) {
    what += " of " + std::to_string(hosts.size()) + " mongos:";
    for (const auto& h : hosts) what += " " + h;
  } else if (hosts.size() > 1) {
    what += " of " + std::to_string(hosts.size()) + " members:";
    for (const auto& h : hosts) what += " " + h;
    what += ", replication lag " + std::to_string(o.replication_lag.count()) + " ms";
  }
  return what + ", maxWireVersion " + std::to_string(o.max_wire_version) + (o.auth ? ", auth" : "");
}

bool start_listening(tcp_server& server, const listen_options& listen) {
  try {
    server.start();
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mongowire-testd: cannot listen on %s:%u: %s\n", listen.bind_address.c_str(),
                 unsigned{listen.port}, e.what());
    return false;
  }
}

// Announces the deployment, then serves until SIGINT or SIGTERM.
void run_until_signal(boost::asio::io_context& io, std::vector<std::unique_ptr<tcp_server>>& servers,
                      const server_options& core_opts, const listen_options& net_opts,
                      const std::vector<std::string>& hosts) {
  // First line of stdout: scripts that start us with --port 0 read the port from it.
  std::printf("mongowire-testd listening on %s (%s%s)\n", hosts.front().c_str(), describe(core_opts, hosts).c_str(),
              net_opts.tls_certificate_key_file.empty() ? "" : ", TLS required");
  std::fflush(stdout);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    for (auto& s : servers) s->stop();
    io.stop();
  });
  io.run();
}

// `members` members of one replica set (member 0 primary, the others replicating from it) or
// one standalone, on ports P, P+1, ... (--port 0: free ports), all on one io_context.
int serve(server_options core_opts, const listen_options& net_opts, int members) {
  boost::asio::io_context io;
  std::vector<std::unique_ptr<server_core>> cores;
  std::vector<std::unique_ptr<tcp_server>> servers;
  std::vector<std::string> hosts;
  for (int i = 0; i < members; ++i) {
    core_opts.role = i == 0 ? member_role::primary : member_role::secondary;
    listen_options listen = net_opts;
    if (listen.port != 0) listen.port = static_cast<std::uint16_t>(listen.port + i);
    cores.push_back(std::make_unique<server_core>(core_opts));
    servers.push_back(std::make_unique<tcp_server>(io.get_executor(), *cores.back(), listen));
    if (!start_listening(*servers.back(), listen)) return 1;
    // Advertise the port actually bound (--port 0), so that discovery comes back here.
    hosts.push_back(advertised_host(net_opts.bind_address) + ":" + std::to_string(servers.back()->port()));
  }
  std::vector<server_core*> set;
  for (int i = 0; i < members; ++i) {
    cores[i]->set_members(hosts, hosts[i]);
    set.push_back(cores[i].get());
  }
  std::int64_t term = 0;
  int primary = 0;
  if (members > 1) hold_election(set, -1, primary, term);
  // replSetStepDown: the election runs right after, on the io_context (never under a core's lock).
  for (int i = 0; i < members; ++i)
    cores[i]->set_election_handler([&, i] {
      boost::asio::post(io, [&, i] {
        if (primary != i) return;
        primary = next_electable(set, i);
        hold_election(set, i, primary, term);
      });
    });
  run_until_signal(io, servers, core_opts, net_opts, hosts);
  return 0;
}

// `routers` mongos on ports P, P+1, ... over one sharded core, all on one io_context.
int serve_sharded(server_options core_opts, const listen_options& net_opts, int routers) {
  boost::asio::io_context io;
  server_core core(core_opts);
  std::vector<std::unique_ptr<tcp_server>> servers;
  std::vector<std::string> hosts;
  // Load-balanced: one load balancer in front of router 0, one in front of all of them.
  const int listeners = core_opts.load_balanced ? std::min(routers, 2) : routers;
  for (int i = 0; i < listeners; ++i) {
    listen_options listen = net_opts;
    if (listen.port != 0) listen.port = static_cast<std::uint16_t>(listen.port + i);
    listen.router = core_opts.load_balanced ? 0 : i;
    listen.routers = core_opts.load_balanced && i == 1 ? routers : 1;
    servers.push_back(std::make_unique<tcp_server>(io.get_executor(), core, listen));
    if (!start_listening(*servers.back(), listen)) return 1;
    hosts.push_back(advertised_host(net_opts.bind_address) + ":" + std::to_string(servers.back()->port()));
  }
  run_until_signal(io, servers, core_opts, net_opts, hosts);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  server_options core_opts;
  listen_options net_opts;
  net_opts.port = 27017;
  bool log_commands = false;
  long long members = 1;
  long long routers = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](long long& out) {
      if (i + 1 >= argc || !parse_int(argv[i + 1], out)) return false;
      ++i;
      return true;
    };
    long long n = 0;
    if (arg == "--port" && value(n) && n >= 0 && n <= 65535) net_opts.port = static_cast<std::uint16_t>(n);
    else if (arg == "--bind" && i + 1 < argc) net_opts.bind_address = argv[++i];
    else if (arg == "--max-wire-version" && value(n) && n >= 0 && n <= 100)
      core_opts.max_wire_version = static_cast<int>(n);
    else if (arg == "--latency-us" && value(n) && n >= 0) net_opts.reply_latency = std::chrono::microseconds(n);
    else if (arg == "--transaction-lifetime-s" && value(n) && n > 0)
      core_opts.transaction_lifetime_limit = std::chrono::seconds(n);
    else if (arg == "--set-name" && i + 1 < argc) core_opts.set_name = argv[++i];
    else if (arg == "--log-commands") log_commands = true;
    else if (arg == "--auth") core_opts.auth = true;
    else if (arg == "--no-speculative-auth") core_opts.speculative_auth = false;
    else if (arg == "--tls-certificate-key-file" && i + 1 < argc) net_opts.tls_certificate_key_file = argv[++i];
    else if (arg == "--tls-ca-file" && i + 1 < argc) net_opts.tls_ca_file = argv[++i];
    else if (arg == "--x509-user" && i + 1 < argc) core_opts.users.push_back({argv[++i], "", "$external"});
    else if (arg == "--members" && value(members) && members >= 1 && members <= 50) continue;
    else if (arg == "--replication-lag-ms" && value(n) && n >= 0)
      core_opts.replication_lag = std::chrono::milliseconds(n);
    else if (arg == "--standalone") core_opts.standalone = true;
    else if (arg == "--sharded") core_opts.sharded = true;
    else if (arg == "--load-balanced") core_opts.load_balanced = true;
    else if (arg == "--mongos" && value(routers) && routers >= 1 && routers <= 50) continue;
    else if (arg == "--user" && i + 1 < argc && add_user(argv[++i], core_opts)) continue;
    else if (arg == "--help" || arg == "-h") return usage(nullptr);
    else return usage(("bad or incomplete argument: " + std::string(arg)).c_str());
  }
  if (log_commands) core_opts.command_log = print_command;
  net_opts.log = [](const std::string& line) { std::cerr << "testd: " << line << std::endl; };

  if (core_opts.standalone && members > 1) return usage("--standalone and --members > 1 exclude each other");
  if (core_opts.sharded && (members > 1 || core_opts.standalone))
    return usage("--sharded excludes --members > 1 and --standalone");
  if (routers > 1 && !core_opts.sharded && !core_opts.load_balanced)
    return usage("--mongos needs --sharded or --load-balanced");
  if (core_opts.load_balanced && (members > 1 || core_opts.standalone))
    return usage("--load-balanced excludes --members > 1 and --standalone");
  if (core_opts.load_balanced) core_opts.sharded = true;
  if (core_opts.sharded) members = core_opts.load_balanced ? std::min(routers, 2LL) : routers;
  if (net_opts.port != 0 && net_opts.port + members - 1 > 65535) return usage("--members N does not fit above --port");
  return core_opts.sharded ? serve_sharded(core_opts, net_opts, static_cast<int>(routers))
                           : serve(core_opts, net_opts, static_cast<int>(members));
}
