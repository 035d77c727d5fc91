// Helpers for the server-core tests: a server with an injected clock and JSON commands.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/server_core.hpp"

namespace mongowire::testd::test {

struct harness {
  std::chrono::system_clock::time_point now{std::chrono::seconds(1'700'000'000)};
  server_core server;
  connection_context conn;

  explicit harness(server_options opts = {})
      : server([&] {
          opts.clock = [this] { return now; };
          return std::move(opts);
        }()),
        conn(server.open_connection()) {}

  // Runs a command given as extended JSON; "$db" defaults to "test".
  bson::document run(const std::string& json, connection_context* on = nullptr) {
    auto body = bson::document::from_json(json);
    if (!body.get_view().contains("$db")) body.append("$db", "test");
    return server.handle(body, {}, on ? *on : conn);
  }
  bson::document admin(const std::string& json) {
    auto body = bson::document::from_json(json);
    body.append("$db", "admin");
    return server.handle(body, {}, conn);
  }
};

// {"lsid": ..., "txnNumber": n} fragment for session number `session`.
inline std::string session_fields(int session, long long txn_number = -1) {
  std::string id = std::string(1, static_cast<char>('A' + session)) + "AAAAAAAAAAAAAAAAAAAAA==";
  std::string out = R"("lsid": {"id": {"$binary": {"base64": ")" + id + R"(", "subType": "04"}}})";
  if (txn_number >= 0) out += R"(, "txnNumber": {"$numberLong": ")" + std::to_string(txn_number) + R"("})";
  return out;
}

inline bool ok(const bson::document& reply) { return reply["ok"].as_number().value_or(0) == 1.0; }
inline std::int32_t code_of(const bson::document& reply) { return reply["code"].as_int32().value_or(0); }
inline std::string errmsg(const bson::document& reply) { return std::string(reply["errmsg"].as_string().value_or("")); }

inline std::vector<std::string> labels(const bson::document& reply) {
  std::vector<std::string> out;
  if (auto l = reply["errorLabels"]; l.is_array())
    for (auto e : bson::view(*l.as_array())) out.emplace_back(e.as_string().value_or(""));
  return out;
}
inline bool has_label(const bson::document& reply, std::string_view label) {
  for (auto& l : labels(reply))
    if (l == label) return true;
  return false;
}

// Documents of a find's first batch, as relaxed JSON strings.
inline std::vector<std::string> first_batch(const bson::document& reply) {
  std::vector<std::string> out;
  auto batch = reply.get_view().find_path("cursor.firstBatch");
  if (batch.is_array())
    for (auto d : bson::view(*batch.as_array())) out.push_back(d.as_document()->to_relaxed_json());
  return out;
}

// The number of documents in collection "c" (a count command: a find's first batch stops at 101).
inline std::size_t count_docs(harness& h) {
  return static_cast<std::size_t>(h.run(R"({"count": "c"})")["n"].as_integer().value_or(-1));
}

}  // namespace mongowire::testd::test
