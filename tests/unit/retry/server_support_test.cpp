// Which servers take session ids and transaction numbers, decided from their hello reply:
// driver-sessions.md "How to Tell Whether a Connection Supports Sessions" and
// retryable-writes.md "Supported Server Versions".
#include <doctest/doctest.h>

#include <string>

#include "proto/retry/retry_policy.hpp"
#include "proto/txn/server_session_pool.hpp"

using namespace mongowire;
using namespace mongowire::detail;

namespace {

sdam::server_description from_hello(const std::string& json) {
  host_address a{"a", 27017};
  return sdam::server_description::from_hello(a, bson::document::from_json(json), 1.0);
}

const std::string replica_set_primary =
    R"({"ok": 1, "isWritablePrimary": true, "setName": "rs0", "hosts": ["a:27017"], "me": "a:27017",
        "minWireVersion": 0, "maxWireVersion": 21, "logicalSessionTimeoutMinutes": 30})";
const std::string standalone =
    R"({"ok": 1, "isWritablePrimary": true, "minWireVersion": 0, "maxWireVersion": 21,
        "logicalSessionTimeoutMinutes": 30})";
const std::string mongos =
    R"({"ok": 1, "isWritablePrimary": true, "msg": "isdbgrid", "minWireVersion": 0, "maxWireVersion": 21,
        "logicalSessionTimeoutMinutes": 30})";
// mongocryptd: a standalone without sessions.
const std::string no_sessions = R"({"ok": 1, "isWritablePrimary": true, "minWireVersion": 0, "maxWireVersion": 21})";
const std::string rs_without_sessions =
    R"({"ok": 1, "isWritablePrimary": true, "setName": "rs0", "hosts": ["a:27017"], "me": "a:27017",
        "minWireVersion": 0, "maxWireVersion": 21})";

}  // namespace

TEST_CASE("driver-sessions.md: a server supports sessions when its hello has logicalSessionTimeoutMinutes") {
  CHECK(supports_sessions(from_hello(replica_set_primary)));
  CHECK(supports_sessions(from_hello(standalone)));
  CHECK(supports_sessions(from_hello(mongos)));
  CHECK_FALSE(supports_sessions(from_hello(no_sessions)));
  CHECK_FALSE(supports_sessions(from_hello(rs_without_sessions)));
  CHECK_FALSE(supports_sessions(sdam::server_description::unknown({"a", 27017})));
}

TEST_CASE(
    "retryable-writes.md: retryable writes need logicalSessionTimeoutMinutes and a server that is not a standalone") {
  REQUIRE(from_hello(standalone).type == sdam::server_type::standalone);
  CHECK(supports_retryable_writes(from_hello(replica_set_primary)));
  CHECK(supports_retryable_writes(from_hello(mongos)));
  CHECK_FALSE(supports_retryable_writes(from_hello(standalone)));
  CHECK_FALSE(supports_retryable_writes(from_hello(no_sessions)));
  CHECK_FALSE(supports_retryable_writes(from_hello(rs_without_sessions)));
}

TEST_CASE("retryable-writes.md: the error reported is the latest of an attempt that reached the server") {
  const auto fk_net = failure_kind::network;
  diagnostics retryable;
  retryable.labels.add(label::retryable_write_error);
  diagnostics invalid_reply;  // a client-side error about a reply: the attempt was made
  {
    retry_tracker t({.family = retry_family::write});
    t.on_failure({fk_net, true}, retryable, 0);
    t.on_failure({failure_kind::client, true}, invalid_reply, 0);
    CHECK(t.error_to_report() == 1);
  }
  {
    // Only errors before sending (e.g. server selection, then a checkout handshake error): the first.
    retry_tracker t({.family = retry_family::write});
    t.on_failure({failure_kind::pool_cleared, false}, retryable, 0);
    t.on_failure({fk_net, false}, retryable, 0);
    CHECK(t.error_to_report() == 0);
  }
  {
    // Not sent first, then sent: the one that was sent.
    retry_tracker t({.family = retry_family::read});
    t.on_failure({failure_kind::pool_cleared, false}, retryable, 0);
    t.on_failure({fk_net, true}, retryable, 0);
    CHECK(t.error_to_report() == 1);
  }
}

TEST_CASE("retryable-writes.md: a write whose first server does not support retryable writes is never retried") {
  retry_tracker t({.family = retry_family::write});
  t.set_policy_enabled(false);  // the executor's decision after selecting a standalone
  diagnostics network;
  network.labels.add(label::retryable_write_error);
  CHECK_FALSE(t.on_failure({failure_kind::network, true}, network, 0).retry);
}
