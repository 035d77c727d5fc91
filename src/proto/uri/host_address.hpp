// Host identifiers: "host[:port]" and "[ipv6][:port]", shared by the URI parser and SDAM
// (which reads "hosts", "me" and "primary" of hello replies).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mongowire::detail::uri {

struct host_port_text {
  std::string_view host;  // without brackets
  std::optional<std::string_view> port;
  bool bracketed = false;  // written as an IP literal "[...]"
};

// Splits at the port separator; does not validate the host itself.
std::optional<host_port_text> split_host_port(std::string_view text, std::string& why);

// 1..65535, decimal digits only (connection-string spec, "Port").
std::optional<std::uint16_t> parse_port(std::string_view text, std::string& why);

// Checks a host name or IPv4 address: not empty, no URI delimiters, spaces or control bytes.
bool validate_host_name(std::string_view host, std::string& why);

bool is_ipv6_address(std::string_view text);

std::string to_lower_ascii(std::string_view text);

}  // namespace mongowire::detail::uri
