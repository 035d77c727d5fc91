// mongowire-server-bench: pings/s of the test server (mongowire-testd's engine, embedded)
// under a pipelined raw client (the project's wire codec, no driver) on loopback, on one
// connection and on several, each with a window of K outstanding requests. The reference,
// measured in the same run with the same client and the same bytes, is a trivial Asio
// echo server: what the loopback, the client and Asio cost without any command handling.
//   mongowire-server-bench [--pings N] [--window K] [--connections C]
// Last line: pings_per_second=<x> (the test server, one connection, window K).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "net/embedded_server.hpp"
#include "proto/wire/frame_decoder.hpp"
#include "proto/wire/op_msg.hpp"

namespace {

namespace asio = boost::asio;
namespace wire = mongowire::detail::wire;
using asio::ip::tcp;
using bench_clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The reference peer: sends back every byte it receives.
class echo_server {
 public:
  echo_server() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~echo_server() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      socket.set_option(tcp::no_delay(true));
      asio::co_spawn(io_, echo(std::move(socket)), asio::detached);
    }
  }
  static asio::awaitable<void> echo(tcp::socket socket) {
    std::vector<std::uint8_t> buf(64 * 1024);
    for (;;) {
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), use_tuple);
      if (ec) co_return;
      auto [wec, written] = co_await asio::async_write(socket, asio::buffer(buf.data(), n), use_tuple);
      if (wec) co_return;
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

std::vector<std::uint8_t> ping_frame() {
  mongowire::bson::document body;
  body.append("ping", std::int32_t{1});
  body.append("$db", "admin");
  std::vector<std::uint8_t> out;
  wire::op_msg_encoder enc(out);
  enc.begin(1);
  enc.body(body);
  if (enc.finish()) throw std::logic_error("cannot encode ping");
  return out;
}

// One connection: keeps `window` pings outstanding until `total` replies have arrived.
asio::awaitable<void> pipelined_pings(tcp::socket& socket, const std::vector<std::uint8_t>& ping, std::size_t total,
                                      std::size_t window) {
  std::vector<std::uint8_t> out;
  auto send = [&](std::size_t n) {
    out.clear();
    for (std::size_t i = 0; i < n; ++i) out.insert(out.end(), ping.begin(), ping.end());
    return asio::async_write(socket, asio::buffer(out), use_tuple);
  };
  wire::frame_decoder decoder;
  std::size_t sent = std::min(window, total), received = 0;
  if (auto [ec, n] = co_await send(sent); ec) throw std::runtime_error("send failed: " + ec.message());
  while (received < total) {
    auto buf = decoder.prepare(64 * 1024);
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
    if (ec) throw std::runtime_error("read failed: " + ec.message());
    decoder.commit(n);
    std::size_t arrived = 0;
    for (auto s = decoder.next(); s != wire::decode_status::need_more; s = decoder.next()) {
      if (s == wire::decode_status::error) throw std::runtime_error("bad reply: " + decoder.diagnostic().message());
      ++arrived;
    }
    received += arrived;
    std::size_t more = std::min(arrived, total - sent);
    if (more > 0) {
      sent += more;
      if (auto [wec, wn] = co_await send(more); wec) throw std::runtime_error("send failed: " + wec.message());
    }
  }
}

// pings/s for `pings` pings spread over `connections` connections to 127.0.0.1:port.
double measure(std::uint16_t port, std::size_t pings, std::size_t window, std::size_t connections) {
  asio::io_context io;
  std::vector<tcp::socket> sockets;
  for (std::size_t i = 0; i < connections; ++i) {
    auto& s = sockets.emplace_back(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    s.set_option(tcp::no_delay(true));
  }
  auto ping = ping_frame();
  std::exception_ptr failure;
  auto started = bench_clock::now();
  for (auto& s : sockets)
    asio::co_spawn(io, pipelined_pings(s, ping, pings / connections, window), [&](std::exception_ptr e) {
      if (e) failure = e;
    });
  io.run();
  double seconds = std::chrono::duration<double>(bench_clock::now() - started).count();
  if (failure) std::rethrow_exception(failure);
  return static_cast<double>(pings / connections * connections) / seconds;
}

bool parse_size(std::string_view text, std::size_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out > 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t pings = 200'000, window = 16, connections = 4;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::size_t* target = arg == "--pings"         ? &pings
                          : arg == "--window"      ? &window
                          : arg == "--connections" ? &connections
                                                   : nullptr;
    if (!target || i + 1 >= argc || !parse_size(argv[i + 1], *target)) {
      std::fprintf(stderr, "usage: mongowire-server-bench [--pings N] [--window K] [--connections C]\n");
      return 2;
    }
    ++i;
  }
  mongowire::testd::embedded_server server;
  echo_server echo;
  measure(server.port(), 2000, window, 1);  // warm-up: connections, allocator, caches
  measure(echo.port(), 2000, window, 1);

  struct row {
    const char* what;
    std::size_t conns, win;
  };
  const row rows[] = {{"1 connection, 1 outstanding", 1, 1},
                      {"1 connection, window", 1, window},
                      {"C connections, window each", connections, window}};
  double headline = 0;
  std::printf("%zu pings per run, window %zu, %zu connections; reference: an Asio echo server in-process\n", pings,
              window, connections);
  for (auto& r : rows) {
    std::size_t n = r.win == 1 ? pings / 4 : pings;  // unpipelined runs are latency-bound: fewer pings
    double testd = measure(server.port(), n, r.win, r.conns);
    double reference = measure(echo.port(), n, r.win, r.conns);
    std::printf("%-30s (c=%zu k=%zu): testd %10.0f pings/s  echo %10.0f round trips/s  ratio %.2f\n", r.what, r.conns,
                r.win, testd, reference, testd / reference);
    if (r.conns == 1 && r.win == window) headline = testd;
  }
  std::printf("pings_per_second=%.0f\n", headline);
  return 0;
}
