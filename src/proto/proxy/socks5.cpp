#include "proto/proxy/socks5.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <array>

namespace mongowire::detail::proxy {

namespace {
constexpr std::uint8_t version = 5;
constexpr std::uint8_t method_none = 0x00;
constexpr std::uint8_t method_password = 0x02;
constexpr std::uint8_t method_refused = 0xFF;
constexpr std::uint8_t auth_version = 1;  // RFC 1929 section 2
constexpr std::uint8_t cmd_connect = 1;
constexpr std::uint8_t atyp_ipv4 = 1, atyp_domain = 3, atyp_ipv6 = 4;
// The reply head read first: VER REP RSV ATYP and the first byte of BND.ADDR, which for a
// domain name is its length, so the rest of the reply's size is known after it.
constexpr std::size_t reply_head_size = 5;

void append_field(std::vector<std::uint8_t>& out, const std::string& value) {
  out.push_back(static_cast<std::uint8_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
}

// RFC 1928 section 5: DST.ADDR as an IPv4 or IPv6 address when the host is one, else a name.
void append_destination(std::vector<std::uint8_t>& out, const std::string& host) {
  std::array<std::uint8_t, 16> addr{};
  if (inet_pton(AF_INET, host.c_str(), addr.data()) == 1) {
    out.push_back(atyp_ipv4);
    out.insert(out.end(), addr.begin(), addr.begin() + 4);
  } else if (inet_pton(AF_INET6, host.c_str(), addr.data()) == 1) {
    out.push_back(atyp_ipv6);
    out.insert(out.end(), addr.begin(), addr.end());
  } else {
    out.push_back(atyp_domain);
    append_field(out, host);
  }
}
}  // namespace

const char* socks5_reply_meaning(std::uint8_t rep) noexcept {
  switch (rep) {
    case 0x01: return "general SOCKS server failure";
    case 0x02: return "connection not allowed by ruleset";
    case 0x03: return "network unreachable";
    case 0x04: return "host unreachable";
    case 0x05: return "connection refused";
    case 0x06: return "TTL expired";
    case 0x07: return "command not supported";
    case 0x08: return "address type not supported";
    default: return "unassigned reply code";
  }
}

socks5_handshake::socks5_handshake(std::string host, std::uint16_t port, std::optional<socks5_credentials> credentials)
    : host_(std::move(host)), port_(port), credentials_(std::move(credentials)) {}

socks5_action socks5_handshake::write(step next, std::vector<std::uint8_t> bytes) {
  step_ = next;
  out_ = std::move(bytes);
  return {socks5_action::kind::write, out_, 0};
}

socks5_action socks5_handshake::read(step next, std::size_t size) {
  step_ = next;
  return {socks5_action::kind::read, {}, size};
}

socks5_action socks5_handshake::fail(std::string why) {
  error_ = std::move(why);
  return {socks5_action::kind::failed, {}, 0};
}

// socks5.md: offer "username/password" too only when both were given.
socks5_action socks5_handshake::start() {
  if (host_.empty() || host_.size() > 255)
    return fail(fmt::format("SOCKS5: destination host name of {} bytes (1 to 255 allowed)", host_.size()));
  if (credentials_ && (credentials_->username.empty() || credentials_->username.size() > 255 ||
                       credentials_->password.empty() || credentials_->password.size() > 255))
    return fail("SOCKS5: proxyUsername and proxyPassword must each be 1 to 255 bytes (RFC 1929)");
  if (credentials_) return write(step::greeting_sent, {version, 2, method_none, method_password});
  return write(step::greeting_sent, {version, 1, method_none});
}

socks5_action socks5_handshake::resume(std::span<const std::uint8_t> input) {
  switch (step_) {
    case step::greeting_sent: return read(step::method_read, 2);
    case step::method_read: return on_method(input);
    case step::auth_sent: return read(step::auth_read, 2);
    case step::auth_read: return on_auth_reply(input);
    case step::connect_sent: return read(step::reply_head_read, reply_head_size);
    case step::reply_head_read: return on_reply_head(input);
    case step::reply_tail_read: return {socks5_action::kind::done, {}, 0};
  }
  return fail("SOCKS5: handshake resumed in an unknown state");
}

socks5_action socks5_handshake::on_method(std::span<const std::uint8_t> input) {
  if (input.size() != 2 || input[0] != version)
    return fail(fmt::format("SOCKS5: the proxy answered the greeting with version {}, not 5",
                            input.empty() ? -1 : int(input[0])));
  const std::uint8_t method = input[1];
  if (method == method_none) return send_connect();
  if (method == method_password && credentials_) {
    std::vector<std::uint8_t> request{auth_version};
    append_field(request, credentials_->username);
    append_field(request, credentials_->password);
    return write(step::auth_sent, std::move(request));
  }
  if (method == method_refused)
    return fail(credentials_ ? "SOCKS5: the proxy accepts neither no authentication nor username/password"
                             : "SOCKS5: the proxy requires authentication (set proxyUsername and proxyPassword)");
  return fail(fmt::format("SOCKS5: the proxy chose authentication method {:#04x}, which was not offered", method));
}

socks5_action socks5_handshake::on_auth_reply(std::span<const std::uint8_t> input) {
  if (input.size() != 2 || input[0] != auth_version)
    return fail("SOCKS5: malformed reply to the username/password request (RFC 1929)");
  if (input[1] != 0) return fail("SOCKS5: the proxy refused proxyUsername/proxyPassword");
  return send_connect();
}

socks5_action socks5_handshake::send_connect() {
  std::vector<std::uint8_t> request{version, cmd_connect, 0};
  append_destination(request, host_);
  request.push_back(static_cast<std::uint8_t>(port_ >> 8));
  request.push_back(static_cast<std::uint8_t>(port_ & 0xFF));
  return write(step::connect_sent, std::move(request));
}

// RFC 1928 section 6: VER REP RSV ATYP BND.ADDR BND.PORT; the bound address is read and dropped.
socks5_action socks5_handshake::on_reply_head(std::span<const std::uint8_t> input) {
  if (input.size() != reply_head_size || input[0] != version)
    return fail("SOCKS5: malformed reply to CONNECT (version is not 5)");
  if (input[1] != 0)
    return fail(fmt::format("SOCKS5: the proxy could not connect to {}:{} ({}, reply code {})", host_, port_,
                            socks5_reply_meaning(input[1]), int(input[1])));
  // Bytes still to read after the 5-byte head: the rest of the address, then 2 port bytes.
  switch (input[3]) {
    case atyp_ipv4: return read(step::reply_tail_read, 4 - 1 + 2);
    case atyp_ipv6: return read(step::reply_tail_read, 16 - 1 + 2);
    case atyp_domain: return read(step::reply_tail_read, std::size_t{input[4]} + 2);
    default: return fail(fmt::format("SOCKS5: reply to CONNECT with unknown address type {}", int(input[3])));
  }
}

}  // namespace mongowire::detail::proxy
