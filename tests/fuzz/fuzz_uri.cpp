// libFuzzer target: untrusted connection strings (connection-string.md, uri-options.md) ->
// parse_uri under each parse setting, and host addresses as hello replies carry them.
// Properties checked beyond "no crash": a refusal is client_errc::invalid_uri and says why;
// an accepted string has a host (or an SRV name) and prints a canonical form (to_string,
// secrets as "****") that parses again, under the same settings, to the same canonical form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mongowire/uri.hpp"

using namespace mongowire;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void check_uri(std::string_view text, const uri_parse_settings& settings) {
  connection_string cs;
  std::string why;
  if (error_code ec = parse_uri(text, cs, why, settings)) {
    require(ec == client_errc::invalid_uri && !why.empty());
    return;
  }
  require(!cs.hosts.empty() || cs.srv_host.has_value());
  const std::string canonical = cs.to_string();
  connection_string again;
  std::string again_why;
  require(!parse_uri(canonical, again, again_why, settings));
  require(again.to_string() == canonical);
}

void check_host(std::string_view text) {
  std::string why;
  auto address = parse_host_address(text, &why);
  if (!address) {
    require(!why.empty());
    return;
  }
  if (address->is_unix_socket()) return;  // a path is not written back as host:port
  auto again = parse_host_address(address->to_string());
  require(again && *again == *address);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_uri(text, {});
  check_uri(text, {.invalid_value_is_error = false, .accept_srv = true, .accept_unix_sockets = true});
  check_host(text);
  return 0;
}
