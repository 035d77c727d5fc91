#include "memory_report.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <cstdio>

#include "mongowire/client.hpp"

namespace txnbench {

namespace asio = boost::asio;
using namespace mongowire;

namespace {

// serverStatus through a client of its own (the workers' clients are busy); empty or the error.
asio::awaitable<std::string> server_status(std::string uri, bson::document* reply) {
  client c(co_await asio::this_coro::executor, uri);
  bson::document command;
  command.append("serverStatus", 1);
  diagnostics diag;
  std::string error;
  if (auto ec = co_await c.run_command("admin", command, *reply, diag))
    error = "serverStatus failed: " + ec.message() + " " + describe(diag);
  co_await c.close();
  co_return error;
}

std::string json_number(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "null"; }

std::string mb(std::int64_t kb) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(kb) / 1024.0);
  return buf;
}

}  // namespace

std::int64_t process_rss_kb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  long long kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %lld kB", &kb) == 1) break;
  std::fclose(f);
  return kb;
}

memory_probe::memory_probe(std::string uri, bool embedded_server) : uri_(std::move(uri)) {
  figures_.embedded_server = embedded_server;
}

void memory_probe::window_started() {
  if (!figures_.start) figures_.start = sample();
}

void memory_probe::run_ended() { figures_.end = sample(); }

memory_sample memory_probe::sample() {
  memory_sample s;
  s.client_rss_kb = process_rss_kb();
  bson::document reply;
  asio::io_context io;
  auto status = asio::co_spawn(io, server_status(uri_, &reply), asio::use_future);
  io.run();
  try {
    figures_.server_error = status.get();
  } catch (const std::exception& e) {
    figures_.server_error = std::string("serverStatus failed: ") + e.what();
  }
  if (!figures_.server_error.empty()) return s;
  auto view = reply.get_view();
  if (auto resident = view.find_path("mem.resident").as_integer(); resident && !figures_.embedded_server)
    s.server_rss_kb = *resident * 1024;
  if (auto bytes = view["wiredTiger"].as_document())
    if (auto cache = (*bytes)["cache"].as_document())
      s.server_store_bytes = (*cache)["bytes currently in the cache"].as_integer();
  return s;
}

std::string memory_json(const memory_figures& m) {
  auto field = [&](auto get) {
    return std::pair{m.start ? get(*m.start) : std::optional<std::int64_t>{},
                     m.end ? get(*m.end) : std::optional<std::int64_t>{}};
  };
  auto client = field([](const memory_sample& s) { return std::optional<std::int64_t>(s.client_rss_kb); });
  auto server = field([](const memory_sample& s) { return s.server_rss_kb; });
  auto store = field([](const memory_sample& s) { return s.server_store_bytes; });
  return "{\"client_rss_start_kb\": " + json_number(client.first) +
         ", \"client_rss_end_kb\": " + json_number(client.second) +
         ", \"server_rss_start_kb\": " + json_number(server.first) +
         ", \"server_rss_end_kb\": " + json_number(server.second) +
         ", \"server_store_start_bytes\": " + json_number(store.first) +
         ", \"server_store_end_bytes\": " + json_number(store.second) +
         ", \"embedded_server\": " + (m.embedded_server ? "true" : "false") + "}";
}

void print_memory_text(const memory_figures& m) {
  if (!m.start || !m.end) return;
  std::printf("  memory         %s RSS %s at the window's start, %s at the end%s\n",
              m.embedded_server ? "process" : "client", mb(m.start->client_rss_kb).c_str(),
              mb(m.end->client_rss_kb).c_str(), m.embedded_server ? " (client and embedded server share it)" : "");
  if (m.start->server_rss_kb && m.end->server_rss_kb)
    std::printf("                 server RSS %s at the start, %s at the end\n", mb(*m.start->server_rss_kb).c_str(),
                mb(*m.end->server_rss_kb).c_str());
  if (m.start->server_store_bytes && m.end->server_store_bytes)
    std::printf("                 server store %s at the start, %s at the end\n",
                mb(*m.start->server_store_bytes / 1024).c_str(), mb(*m.end->server_store_bytes / 1024).c_str());
  if (!m.server_error.empty()) std::printf("                 server figures unavailable: %s\n", m.server_error.c_str());
}

}  // namespace txnbench
