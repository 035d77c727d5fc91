// command-logging-and-monitoring.md "Security": which command events are redacted.
#include <doctest/doctest.h>

#include "proto/command/redaction.hpp"

using namespace mongowire;
using namespace mongowire::detail;

TEST_CASE("redaction: the listed authentication and user commands are sensitive, in any casing") {
  const bson::document body = bson::document::from_json(R"({"x": 1})");
  for (std::string_view name : {"authenticate", "saslStart", "saslContinue", "getnonce", "createUser", "updateUser",
                                "copydbgetnonce", "copydbsaslstart", "copydb", "SASLSTART", "createuser"})
    CHECK_MESSAGE(is_sensitive_command(name, body), name);
  for (std::string_view name : {"find", "insert", "dropUser", "usersInfo", "hello", "ping", "sasl", ""})
    CHECK_MESSAGE(!is_sensitive_command(name, body), name);
}

TEST_CASE("redaction: hello and legacy hello are sensitive only with speculativeAuthenticate") {
  const auto plain = bson::document::from_json(R"({"hello": 1, "helloOk": true})");
  const auto speculative = bson::document::from_json(R"({"hello": 1, "speculativeAuthenticate": {"saslStart": 1}})");
  for (std::string_view name : {"hello", "isMaster", "ismaster"}) {
    CHECK_MESSAGE(!is_sensitive_command(name, plain), name);
    CHECK_MESSAGE(is_sensitive_command(name, speculative), name);
  }
  // speculativeAuthenticate on another command does not make it sensitive.
  CHECK(!is_sensitive_command("find", speculative));
}

TEST_CASE("redaction: a failure keeps only code, codeName and errorLabels") {
  diagnostics d;
  d.server_code = 18;
  d.code_name = "AuthenticationFailed";
  d.server_message = "Authentication failed for user secret-user";
  d.labels.add("RetryableWriteError");
  d.reply = bson::document::from_json(R"({"ok": 0, "errmsg": "secret", "code": 18})");
  d.server_address = "h:27017";
  d.write_errors.push_back({});
  const diagnostics r = redacted_failure(d);
  CHECK(r.server_code == 18);
  CHECK(r.code_name == "AuthenticationFailed");
  CHECK(r.has_label("RetryableWriteError"));
  CHECK(r.server_message.empty());
  CHECK(r.client_message.empty());
  CHECK(r.reply.get_view().empty());
  CHECK(r.server_address.empty());
  CHECK(r.write_errors.empty());
  CHECK(!r.write_concern);
}
