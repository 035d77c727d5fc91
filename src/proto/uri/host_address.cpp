#include "proto/uri/host_address.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>

#include "mongowire/uri.hpp"

namespace mongowire {
namespace detail::uri {

std::optional<host_port_text> split_host_port(std::string_view text, std::string& why) {
  host_port_text out;
  std::string_view after_host;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      why = fmt::format("IP literal '{}' has no closing ']'", text);
      return std::nullopt;
    }
    out.host = text.substr(1, close - 1);
    out.bracketed = true;
    after_host = text.substr(close + 1);
    if (!after_host.empty() && after_host.front() != ':') {
      why = fmt::format("unexpected '{}' after IP literal in '{}'", after_host, text);
      return std::nullopt;
    }
  } else {
    const auto colon = text.find(':');
    out.host = text.substr(0, colon);
    after_host = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (!after_host.empty()) out.port = after_host.substr(1);
  return out;
}

std::optional<std::uint16_t> parse_port(std::string_view text, std::string& why) {
  unsigned value = 0;
  const bool digits_only =
      !text.empty() && text.size() <= 5 && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits_only) std::from_chars(text.data(), text.data() + text.size(), value);
  if (!digits_only || value < 1 || value > 65535) {
    why = fmt::format("invalid port '{}': expected an integer from 1 to 65535", text);
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

bool validate_host_name(std::string_view host, std::string& why) {
  if (host.empty()) {
    why = "empty host name";
    return false;
  }
  if (host.size() > 255) {
    why = fmt::format("host name of {} bytes is longer than 255", host.size());
    return false;
  }
  for (char ch : host) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || std::string_view(" /\\?#@[]:,%\"").find(ch) != std::string_view::npos) {
      why = c < 0x20 || c == 0x7f ? fmt::format("control byte 0x{:02x} in host name", c)
                                  : fmt::format("character '{}' not allowed in host name '{}'", ch, host);
      return false;
    }
  }
  return true;
}

bool is_ipv6_address(std::string_view text) {
  if (text.empty() || text.size() > 45) return false;
  const std::string zero_terminated(text);
  in6_addr addr{};
  return ::inet_pton(AF_INET6, zero_terminated.c_str(), &addr) == 1;
}

std::string to_lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace detail::uri

std::string host_address::to_string() const {
  if (is_unix_socket()) return host;
  return is_ipv6_literal() ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

std::optional<host_address> parse_host_address(std::string_view text, std::string* why) {
  using namespace detail::uri;
  std::string message;
  auto fail = [&]() -> std::optional<host_address> {
    if (why) *why = fmt::format("invalid address '{}': {}", text, message);
    return std::nullopt;
  };
  const auto parts = split_host_port(text, message);
  if (!parts) return fail();
  host_address out;
  if (parts->bracketed) {
    if (!is_ipv6_address(parts->host)) {
      message = fmt::format("'{}' is not an IPv6 address", parts->host);
      return fail();
    }
  } else if (!validate_host_name(parts->host, message)) {
    return fail();
  }
  out.host = to_lower_ascii(parts->host);
  if (parts->port) {
    const auto port = parse_port(*parts->port, message);
    if (!port) return fail();
    out.port = *port;
  }
  return out;
}

}  // namespace mongowire
