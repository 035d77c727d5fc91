// client_options::on_log end to end (logging.md, server-selection.md "Logging", SDAM "Log
// Messages", command-logging-and-monitoring.md "Log Messages"): what a client logs against the
// embedded test server and an unreachable one, and that a component that is off logs nothing.
#include <algorithm>
#include <chrono>

#include "client_support.hpp"

using namespace client_test;

namespace {

struct logged {
  log_component component;
  log_level level;
  std::string message;
  bson::document data;
};

// A client whose log messages are recorded (the handler runs on the test's thread).
struct logging_client {
  asio::io_context io;
  std::vector<logged> messages;
  std::unique_ptr<client> c;

  logging_client(const std::string& uri, component_log_levels levels, std::size_t max_document_length = 1000) {
    client_options o;
    o.log_levels = levels;
    o.log_max_document_length = max_document_length;
    o.on_log = [this](const log_message& m) {
      messages.push_back({m.component, m.level, std::string(m.message), bson::document(m.data)});
    };
    c = std::make_unique<client>(io.get_executor(), uri, std::move(o));
  }
  ~logging_client() { run(io, close_client(*c)); }
  static asio::awaitable<error_code> close_client(client& c) { co_return co_await c.close(); }

  std::vector<std::string> texts(log_component component) const {
    std::vector<std::string> out;
    for (const auto& m : messages)
      if (m.component == component) out.push_back(m.message);
    return out;
  }
  // Every message, for failure reports.
  std::string all() const {
    std::string out;
    for (const auto& m : messages) out += std::string(to_string(m.component)) + " " + m.data.to_json() + "\n";
    return out;
  }
};

asio::awaitable<error_code> insert_one_document(client& c) {
  const auto doc = bson::document::from_json(R"({"x": 1})");
  const insert_one_options options;
  insert_one_result result;
  diagnostics diag;
  co_return co_await c.get_collection("app", "logged").insert_one(doc, options, result, diag);
}

component_log_levels server_selection_at(log_level l) {
  component_log_levels levels;
  levels.server_selection = l;
  return levels;
}

}  // namespace

TEST_CASE("logging: with every component off the handler is never called") {
  testd::embedded_server server;
  logging_client lc(server.uri(), component_log_levels{});
  REQUIRE(!run(lc.io, insert_one_document(*lc.c)));
  CHECK(lc.messages.empty());
}

TEST_CASE("logging: a selection logs started then succeeded, with operation, operationId, selector and server") {
  testd::embedded_server server;
  logging_client lc(server.uri(), server_selection_at(log_level::debug));
  REQUIRE(!run(lc.io, insert_one_document(*lc.c)));  // the first one may wait for the server's discovery
  lc.messages.clear();
  REQUIRE(!run(lc.io, insert_one_document(*lc.c)));
  const std::vector<std::string> expected{"Server selection started", "Server selection succeeded"};
  REQUIRE_MESSAGE(lc.texts(log_component::server_selection) == expected, lc.all());
  const bson::view started = lc.messages[0].data, succeeded = lc.messages[1].data;
  CHECK(lc.messages[0].level == log_level::debug);
  CHECK(started["operation"].as_string() == "insert");
  CHECK(started["selector"].as_string() == "{mode: primary}");
  REQUIRE(started["operationId"].as_integer());
  CHECK(succeeded["operationId"].as_integer() == started["operationId"].as_integer());
  CHECK(succeeded["serverHost"].as_string() == "127.0.0.1");
  CHECK(succeeded["serverPort"].as_integer() == server.port());
  const auto topology = bson::document::from_json(std::string(*succeeded["topologyDescription"].as_string()));
  CHECK(topology["type"].as_string() == "Single");
  CHECK(topology.get_view().find_path("servers.0.address").as_string() == server.address());
}

TEST_CASE("logging: serverSelection at info keeps only the waiting message, logged once per operation") {
  logging_client lc("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300",
                    server_selection_at(log_level::informational));
  CHECK(run(lc.io, insert_one_document(*lc.c)) == client_errc::server_selection_timeout);
  REQUIRE(lc.messages.size() == 1);
  CHECK(lc.messages[0].level == log_level::informational);
  CHECK(lc.messages[0].message == "Waiting for suitable server to become available");
  const auto remaining = lc.messages[0].data["remainingTimeMS"].as_integer();
  REQUIRE(remaining);
  CHECK(*remaining <= 300);
}

TEST_CASE("logging: a selection that times out logs its failure without repeating the topology") {
  logging_client lc("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300", server_selection_at(log_level::debug));
  CHECK(run(lc.io, insert_one_document(*lc.c)) == client_errc::server_selection_timeout);
  REQUIRE(lc.texts(log_component::server_selection) ==
          std::vector<std::string>{"Server selection started", "Waiting for suitable server to become available",
                                   "Server selection failed"});
  const auto failure = lc.messages[2].data["failure"].as_document();
  REQUIRE(failure);
  const std::string message(failure->find("message").as_string().value_or(""));
  CHECK(message.find("serverSelectionTimeoutMS (300 ms)") != std::string::npos);
  CHECK(message.find("Unknown") == std::string::npos);  // the servers are in topologyDescription
}

TEST_CASE("logging: topology messages from opening to close, heartbeats with the monitor's connection") {
  testd::embedded_server server;
  component_log_levels levels;
  levels.topology = log_level::debug;
  auto lc = std::make_unique<logging_client>(server.uri(), levels, 100'000);  // whole hello replies
  REQUIRE(!run(lc->io, insert_one_document(*lc->c)));
  const auto texts = lc->texts(log_component::topology);
  REQUIRE(texts.size() >= 5);
  CHECK(texts[0] == "Starting topology monitoring");
  CHECK(texts[1] == "Topology description changed");
  CHECK(texts[2] == "Starting server monitoring");
  const auto succeeded = std::find_if(lc->messages.begin(), lc->messages.end(),
                                      [](const logged& m) { return m.message == "Server heartbeat succeeded"; });
  REQUIRE(succeeded != lc->messages.end());
  CHECK(succeeded->data["driverConnectionId"].as_integer() > 0);
  CHECK(succeeded->data["serverConnectionId"].as_integer() > 0);
  const std::string reply(*succeeded->data["reply"].as_string());
  CHECK_MESSAGE(bson::document::from_json(reply)["ok"].as_number() == 1, reply);
  auto& messages = lc->messages;
  const auto before_close = messages.size();
  run(lc->io, logging_client::close_client(*lc->c));
  REQUIRE(messages.size() > before_close);
  CHECK(messages.back().message == "Stopped topology monitoring");
}

TEST_CASE("logging: command messages carry the command, the reply and the duration as the spec names them") {
  testd::embedded_server server;
  component_log_levels levels;
  levels.command = log_level::debug;
  logging_client lc(server.uri(), levels);
  REQUIRE(!run(lc.io, insert_one_document(*lc.c)));
  REQUIRE(lc.texts(log_component::command) == std::vector<std::string>{"Command started", "Command succeeded"});
  const bson::view started = lc.messages[0].data, succeeded = lc.messages[1].data;
  CHECK(started["commandName"].as_string() == "insert");
  CHECK(started["databaseName"].as_string() == "app");
  CHECK(bson::document::from_json(std::string(*started["command"].as_string()))["insert"].as_string() == "logged");
  CHECK(succeeded["requestId"].as_integer() == started["requestId"].as_integer());
  CHECK(succeeded["durationMS"].as_double() >= 0.0);
  CHECK(bson::document::from_json(std::string(*succeeded["reply"].as_string()))["n"].as_integer() == 1);
}
