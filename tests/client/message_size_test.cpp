// A message above the server's maxMessageSizeBytes is our own mistake, not a protocol
// violation of the peer (issue 9, "protocol_errc means only the peer sent bad bytes"): it
// is refused with client_errc::message_too_large before anything is sent, and it must
// not be handled like a network error (no pool clear, no server marked Unknown).
#include "client_support.hpp"

using namespace client_test;

namespace {

error_code run_command(fixture& f, const bson::document& command, diagnostics& diag) {
  return run(f.io, [&]() -> asio::awaitable<error_code> {
    bson::document reply;
    co_return co_await f.c->run_command("admin", command, reply, diag);
  }());
}

}  // namespace

TEST_CASE("OP_MSG.md: a command above maxMessageSizeBytes is client_errc::message_too_large, the pool intact") {
  fixture f;
  diagnostics diag;
  const auto ping = bson::document::from_json(R"({"ping": 1})");
  REQUIRE(!run_command(f, ping, diag));  // the handshake told maxMessageSizeBytes (48,000,000)
  bson::document huge;
  huge.append("ping", 1);
  huge.append("pad", std::string(48'000'000, 'x'));
  const auto ec = run_command(f, huge, diag);
  CHECK_MESSAGE(ec == client_errc::message_too_large, ec.message());
  CHECK(ec.category() != protocol_category());
  CHECK(f.pool_cleared_count() == 0);
  diagnostics after;
  CHECK(!run_command(f, ping, after));
}
