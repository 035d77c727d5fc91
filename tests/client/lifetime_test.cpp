// The client's lifetime model (README, "Lifetime"): the client's monitors and pools keep its
// executor busy only while the client exists. Destroying it (or close()) stops them, so a
// coroutine that owns its client ends io_context::run() on every way out: an error path, an
// exception, a plain return. A forgotten close() must never hang a program.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include "mongowire/client.hpp"
#include "net/embedded_server.hpp"

namespace asio = boost::asio;
using namespace mongowire;

namespace {

enum class way_out { error_path, exception, plain_return };

// Runs one coroutine that owns a client and leaves it by `how`; returns whether io.run()
// returned by itself. A watchdog stops a hung run so that the test reports it.
bool run_ends(const std::string& uri, way_out how) {
  asio::io_context io;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        client c(co_await asio::this_coro::executor, uri);
        diagnostics diag;
        bson::document reply;
        auto ping = bson::document::from_json(R"({"ping": 1})");
        auto ec = co_await c.run_command("admin", ping, reply, diag);
        if (how == way_out::exception) throw std::runtime_error("the caller's own failure");
        if (how == way_out::error_path && ec) co_return;  // no close(): the destructor must do it
      },
      [](std::exception_ptr) {});
  std::atomic<bool> finished{false}, hung{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 200 && !finished; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!finished) hung = true, io.stop();
  });
  io.run();
  finished = true;
  watchdog.join();
  return !hung;
}

}  // namespace

TEST_CASE("lifetime: an unreachable server's error path, an exception and a plain return all end run()") {
  const std::string unreachable = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300";
  CHECK(run_ends(unreachable, way_out::error_path));
  CHECK(run_ends(unreachable, way_out::exception));
  CHECK(run_ends(unreachable, way_out::plain_return));
}

// The converse, so that the watchdog above is known to catch a hang: a client that outlives
// the coroutine keeps monitoring (the documented rule: destroy or close it).
TEST_CASE("lifetime: a client declared outside the run keeps the loop alive until destroyed") {
  testd::embedded_server server;
  asio::io_context io;
  std::optional<client> outside(std::in_place, io.get_executor(), server.uri());
  std::atomic<bool> hung{false};
  std::thread watchdog([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    hung = true;
    asio::post(io, [&] { outside.reset(); });  // destroying it must end the run
  });
  io.run();
  watchdog.join();
  CHECK(hung);
}

TEST_CASE("lifetime: with a reachable server and no close(), every way out ends run()") {
  testd::embedded_server server;
  CHECK(run_ends(server.uri(), way_out::error_path));
  CHECK(run_ends(server.uri(), way_out::exception));
  CHECK(run_ends(server.uri(), way_out::plain_return));
}
