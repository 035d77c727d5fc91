// Round trips per second of `ping` through pool check-out + connection.async_command +
// check-in at 1, 8 and 64 concurrent callers against the embedded test server, and heap
// allocations per command once warm. The reference, measured in the same run, is the raw
// connection (no pool) with one caller.
//
// Allocations are counted with a replaced global operator new, per thread: the embedded
// server runs on its own thread and its allocations are not the client's.
//
//   mongowire-pool-bench [commands per measurement, default 20000]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/connection.hpp"
#include "net/embedded_server.hpp"
#include "net/pool.hpp"
#include "net/topology.hpp"

namespace {
thread_local std::uint64_t allocations = 0;
}

// g++ 12 sees malloc/free behind the replaced operators and warns about "mismatched"
// pairs where it inlines them; the pairs are consistent (both sides replaced here).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a) {
  ++allocations;
  const auto align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

namespace asio = boost::asio;
namespace net = mongowire::detail::net;
using mongowire::diagnostics;
using mongowire::error_code;
using mongowire::bson::document;
using mongowire::bson::view;
using clock_type = std::chrono::steady_clock;

struct measurement {
  double commands_per_second = 0;
  double allocations_per_command = 0;
};

void check(error_code ec, const diagnostics& diag) {
  if (ec) throw std::runtime_error(ec.message() + ": " + describe(diag));
}

document ping_command() {
  document d;
  d.append("ping", std::int32_t{1});
  d.append("$db", "admin");
  return d;
}

asio::awaitable<void> raw_caller(net::connection& conn, const document& ping, std::size_t commands) {
  diagnostics diag;
  for (std::size_t i = 0; i < commands; ++i) {
    view reply;
    check(co_await conn.async_command(ping, std::nullopt, reply, diag), diag);
  }
}

asio::awaitable<void> pool_caller(net::pool& pool, const document& ping, std::size_t commands) {
  diagnostics diag;
  for (std::size_t i = 0; i < commands; ++i) {
    std::unique_ptr<net::connection> conn;
    check(co_await pool.async_checkout(conn, diag), diag);
    view reply;
    check(co_await conn->async_command(ping, std::nullopt, reply, diag), diag);
    pool.checkin(std::move(conn));
  }
}

// Runs `callers` coroutines made by `make(commands_each)` to completion; the io_context
// runs on this thread, so `allocations` counts exactly the client's work.
template <class Make>
measurement measure(asio::io_context& io, std::size_t callers, std::size_t total, Make make) {
  const std::size_t each = total / callers;
  std::size_t done = 0;
  const auto allocs_before = allocations;
  const auto started = clock_type::now();
  for (std::size_t i = 0; i < callers; ++i)
    asio::co_spawn(io, make(each), [&](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      ++done;
    });
  io.restart();
  io.run();
  const double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  if (done != callers) throw std::runtime_error("a caller did not finish");
  const double commands = static_cast<double>(each * callers);
  return {commands / seconds, static_cast<double>(allocations - allocs_before) / commands};
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t total = argc > 1 ? std::stoul(argv[1]) : 20000;
  mongowire::testd::embedded_server server;
  asio::io_context io;
  const document ping = ping_command();
  const net::topology_options handshake_options;

  auto connect = [&](net::connection& c, diagnostics& diag) -> asio::awaitable<error_code> {
    if (auto ec = co_await c.async_connect("127.0.0.1", server.port(), diag)) co_return ec;
    document reply;
    co_return co_await net::handshake(c, handshake_options, reply, diag);
  };

  // Reference: one raw connection, one caller.
  net::connection raw(io.get_executor(), {});
  const auto allocations_at_start = allocations;
  {
    diagnostics diag;
    error_code ec;
    asio::co_spawn(io, connect(raw, diag), [&](std::exception_ptr, error_code r) { ec = r; });
    io.run();
    check(ec, diag);
  }
  std::printf("connect + handshake: %llu allocations (the counter works)\n",
              static_cast<unsigned long long>(allocations - allocations_at_start));
  auto raw_make = [&](std::size_t n) { return raw_caller(raw, ping, n); };
  measure(io, 1, total / 10, raw_make);  // warm up
  const auto reference = measure(io, 1, total, raw_make);
  std::printf("raw connection  c=1   %10.0f cmd/s  ratio 1.00  allocs/cmd %.3f  (reference)\n",
              reference.commands_per_second, reference.allocations_per_command);

  net::pool_options opts;
  opts.max_pool_size = 100;
  opts.max_connecting = 8;
  auto pool = std::make_shared<net::pool>(io.get_executor(), server.address(), opts, net::connection_settings{},
                                          connect, mongowire::pool_event_handler{});
  pool->mark_ready();
  auto pool_make = [&](std::size_t n) { return pool_caller(*pool, ping, n); };
  double worst_allocations = 0;
  for (std::size_t callers : {1, 8, 64}) {
    measure(io, callers, std::max(total / 10, callers * 20), pool_make);  // warm: connections and caches
    const auto m = measure(io, callers, total, pool_make);
    std::printf("pool            c=%-3zu %10.0f cmd/s  ratio %.2f  allocs/cmd %.3f  (connections %zu)\n", callers,
                m.commands_per_second, m.commands_per_second / reference.commands_per_second, m.allocations_per_command,
                pool->total_connections());
    worst_allocations = std::max(worst_allocations, m.allocations_per_command);
  }
  // The same with a pool event handler installed (CMAP events are std::function calls that
  // build a pool_event with the address string).
  std::size_t events = 0;
  auto observed = std::make_shared<net::pool>(io.get_executor(), server.address(), opts, net::connection_settings{},
                                              connect, [&](const mongowire::pool_event&) { ++events; });
  observed->mark_ready();
  auto observed_make = [&](std::size_t n) { return pool_caller(*observed, ping, n); };
  measure(io, 8, total / 10, observed_make);
  const auto with_events = measure(io, 8, total, observed_make);
  std::printf("pool + events   c=8   %10.0f cmd/s  ratio %.2f  allocs/cmd %.3f  (%zu events)\n",
              with_events.commands_per_second, with_events.commands_per_second / reference.commands_per_second,
              with_events.allocations_per_command, events);
  observed->close();
  pool->close();
  raw.close();
  server.stop();
  std::printf("allocs_per_command=%.3f\n", worst_allocations);
  return 0;
}
