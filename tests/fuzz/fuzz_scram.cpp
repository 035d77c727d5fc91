// libFuzzer target: untrusted SCRAM server messages (auth.md SCRAM-SHA-1/SCRAM-SHA-256,
// RFC 5802 section 7) -> the server-first and server-final parsers and the attribute grammar.
// Properties checked beyond "no crash": a refusal always says why; an accepted server-first
// message extends the client's nonce, has a salt and at least 4096 iterations; an accepted
// server-final message has a verifier or an error. No key is derived (PBKDF2 with a hostile
// iteration count is the client's time, not a parser's).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "proto/auth/scram.hpp"

using namespace mongowire::detail::auth;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

constexpr std::string_view client_nonce = "fyko+d2lbbFgONRv9qkxdawL";

void check_server_first(std::string_view message) {
  server_first_message first;
  std::string why;
  if (!parse_server_first(message, client_nonce, first, why)) {
    require(!why.empty());
    return;
  }
  require(first.nonce.size() > client_nonce.size() && first.nonce.starts_with(client_nonce));
  require(!first.salt.empty());
  require(first.iterations >= min_iteration_count);
}

void check_server_final(std::string_view message) {
  server_final_message final_message;
  std::string why;
  if (!parse_server_final(message, final_message, why)) {
    require(!why.empty());
    return;
  }
  require(!final_message.verifier.empty() || !final_message.error.empty() || message.starts_with("e="));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_server_first(text);
  // The same bytes after the client's nonce, as a server that echoes it would send them.
  check_server_first("r=" + std::string(client_nonce) + std::string(text));
  check_server_final(text);
  std::vector<scram_attribute> attrs;
  std::string why;
  if (!parse_attributes(text, attrs, why)) require(!why.empty());
  if (auto decoded = base64_decode(text)) require(decoded->size() <= text.size() / 4 * 3);
  if (auto name = unescape_username(text)) require(escape_username(*name).size() >= name->size());
  return 0;
}
