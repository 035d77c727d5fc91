// saslStart and saslContinue as a client sends them, for the tests of the test server's access
// control (tests/server/auth_test.cpp, tests/auth).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mongowire/bson.hpp"
#include "proto/auth/crypto.hpp"

namespace mongowire::testd::test {

// {saslStart: 1, mechanism, payload: BinData(0, payload), $db: "admin"}
inline bson::document sasl_start_command(std::string_view mechanism, std::string_view payload) {
  bson::document cmd;
  cmd.append("saslStart", 1);
  cmd.append("mechanism", mechanism);
  cmd.append("payload", bson::binary_ref{BSON_SUBTYPE_BINARY, detail::auth::as_bytes(payload)});
  cmd.append("$db", "admin");
  return cmd;
}

// {saslContinue: 1, conversationId, payload: BinData(0, payload), $db: "admin"}
inline bson::document sasl_continue_command(std::int32_t conversation_id, std::string_view payload) {
  bson::document cmd;
  cmd.append("saslContinue", 1);
  cmd.append("conversationId", conversation_id);
  cmd.append("payload", bson::binary_ref{BSON_SUBTYPE_BINARY, detail::auth::as_bytes(payload)});
  cmd.append("$db", "admin");
  return cmd;
}

// The payload of a SASL reply as text ("" when there is none).
inline std::string payload_text(bson::view reply) {
  auto p = reply["payload"].as_binary();
  return p ? std::string(reinterpret_cast<const char*>(p->bytes.data()), p->bytes.size()) : std::string();
}

}  // namespace mongowire::testd::test
