// mongowire-testd: the wire-faithful in-memory test server as a standalone program.
//   mongowire-testd [--port N (0: any free port)] [--bind ADDR] [--max-wire-version N] [--latency-us N]
//                   [--transaction-lifetime-s N] [--set-name NAME] [--log-commands]
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "core/server_core.hpp"
#include "net/tcp_server.hpp"

namespace {

using namespace mongowire::testd;

int usage(const char* why) {
  if (why) std::fprintf(stderr, "mongowire-testd: %s\n", why);
  std::fputs(
      "usage: mongowire-testd [--port N] [--bind ADDR] [--max-wire-version N] [--latency-us N]\n"
      "                       [--transaction-lifetime-s N] [--set-name NAME] [--log-commands]\n"
      "An in-memory MongoDB 7.0 replica-set primary for tests and benchmarks.\n",
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

}  // namespace

int main(int argc, char** argv) {
  server_options core_opts;
  listen_options net_opts;
  net_opts.port = 27017;
  bool log_commands = false;
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
    else if (arg == "--help" || arg == "-h") return usage(nullptr);
    else return usage(("bad or incomplete argument: " + std::string(arg)).c_str());
  }
  if (log_commands)
    core_opts.command_log = [](const command_log_entry& e) {
      std::cout << "conn" << e.connection_id << " " << e.command.to_relaxed_json() << "\n  -> "
                << (e.reply.empty() ? std::string("<connection closed>") : e.reply.to_relaxed_json()) << std::endl;
    };
  net_opts.log = [](const std::string& line) { std::cerr << "testd: " << line << std::endl; };

  boost::asio::io_context io;
  server_core core(core_opts);
  tcp_server server(io.get_executor(), core, net_opts);
  try {
    server.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mongowire-testd: cannot listen on %s:%u: %s\n", net_opts.bind_address.c_str(),
                 unsigned{net_opts.port}, e.what());
    return 1;
  }
  // Advertise the port actually bound (--port 0), so that discovery comes back here.
  std::string address = advertised_host(net_opts.bind_address) + ":" + std::to_string(server.port());
  core.set_members({address}, address);
  // First line of stdout: scripts that start us with --port 0 read the port from it.
  std::printf("mongowire-testd listening on %s (replica set %s, maxWireVersion %d)\n", address.c_str(),
              core_opts.set_name.c_str(), core_opts.max_wire_version);
  std::fflush(stdout);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    server.stop();
    io.stop();
  });
  io.run();
  return 0;
}
