// libmongoc's side of bench/footprint: connected clients waiting in a mongoc_client_pool_t (its
// model of an idle connection: one stream per pooled client), then open sessions.
#include <mongoc/mongoc.h>

#include <vector>

#include "footprint.hpp"

namespace footprint {
namespace {

std::string ping(mongoc_client_t* client, const bson_t* opts) {
  bson_t* command = BCON_NEW("ping", BCON_INT32(1));
  bson_error_t error;
  const bool ok = mongoc_client_command_with_opts(client, "admin", command, nullptr, opts, nullptr, &error);
  bson_destroy(command);
  return ok ? std::string() : std::string("ping: ") + error.message;
}

// Heap bytes of a pool holding `k` connected, idle clients.
std::string pool_bytes(const std::string& uri, int k, std::int64_t& bytes) {
  const std::int64_t before = heap_bytes();
  mongoc_uri_t* parsed = mongoc_uri_new(with_options(uri, "maxPoolSize=" + std::to_string(k)).c_str());
  if (!parsed) return "libmongoc refused the URI";
  mongoc_client_pool_t* pool = mongoc_client_pool_new(parsed);
  std::vector<mongoc_client_t*> clients;
  std::string error;
  for (int i = 0; i < k && error.empty(); ++i) {
    clients.push_back(mongoc_client_pool_pop(pool));
    error = ping(clients.back(), nullptr);
  }
  for (auto* c : clients) mongoc_client_pool_push(pool, c);
  bytes = heap_bytes() - before;
  mongoc_client_pool_destroy(pool);
  mongoc_uri_destroy(parsed);
  return error;
}

std::string session_bytes(const std::string& uri, int m, std::int64_t& per_session) {
  mongoc_client_t* client = mongoc_client_new(uri.c_str());
  if (!client) return "libmongoc refused the URI";
  std::vector<mongoc_client_session_t*> sessions;
  sessions.reserve(static_cast<std::size_t>(m));
  std::string error = ping(client, nullptr);
  const std::int64_t before = heap_bytes();
  for (int i = 0; i < m && error.empty(); ++i) {
    bson_error_t e;
    sessions.push_back(mongoc_client_start_session(client, nullptr, &e));
    if (!sessions.back()) {
      sessions.pop_back();
      error = std::string("mongoc_client_start_session: ") + e.message;
      break;
    }
    bson_t opts = BSON_INITIALIZER;
    if (!mongoc_client_session_append(sessions.back(), &opts, &e)) error = e.message;
    if (error.empty()) error = ping(client, &opts);
    bson_destroy(&opts);
  }
  per_session = (heap_bytes() - before) / m;
  for (auto* s : sessions) mongoc_client_session_destroy(s);
  mongoc_client_destroy(client);
  return error;
}

}  // namespace

std::string measure_mongoc(const std::string& uri, int connections, int sessions, figures& out) {
  mongoc_init();
  std::int64_t one = 0, many = 0;
  std::string error = pool_bytes(uri, 1, one);
  if (error.empty()) error = pool_bytes(uri, connections, many);
  if (error.empty()) error = session_bytes(uri, sessions, out.per_session_bytes);
  out.client_bytes = one;
  out.per_connection_bytes = (many - one) / (connections - 1);
  mongoc_cleanup();
  return error;
}

}  // namespace footprint
