// The client side of a SOCKS5 handshake (socks5.md: RFC 1928, with no authentication or
// RFC 1929 username/password only), sans-I/O: the caller writes what `next()` asks to write and
// reads exactly the number of bytes it asks for, then feeds them back, until done or failed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mongowire::detail::proxy {

struct socks5_credentials {
  std::string username;  // 1-255 bytes (RFC 1929)
  std::string password;  // 1-255 bytes; never printed
};

struct socks5_action {
  enum class kind { write, read, done, failed };
  kind what = kind::failed;
  std::span<const std::uint8_t> bytes;  // kind::write: send these
  std::size_t read_size = 0;            // kind::read: read exactly this many bytes
};

class socks5_handshake {
 public:
  // socks5.md "Connection Establishment": the destination host is passed to the proxy as-is
  // (no local DNS resolution); IP literals go as addresses, names as domain names.
  socks5_handshake(std::string host, std::uint16_t port, std::optional<socks5_credentials> credentials);

  socks5_action start();
  // After a write completed: `input` empty. After a read: the bytes read.
  socks5_action resume(std::span<const std::uint8_t> input);
  // What went wrong (for kind::failed), naming the step; never contains the password.
  const std::string& error() const noexcept { return error_; }

 private:
  enum class step { greeting_sent, method_read, auth_sent, auth_read, connect_sent, reply_head_read, reply_tail_read };
  socks5_action write(step next, std::vector<std::uint8_t> bytes);
  socks5_action read(step next, std::size_t size);
  socks5_action fail(std::string why);
  socks5_action on_method(std::span<const std::uint8_t> input);
  socks5_action on_auth_reply(std::span<const std::uint8_t> input);
  socks5_action send_connect();
  socks5_action on_reply_head(std::span<const std::uint8_t> input);

  std::string host_;
  std::uint16_t port_;
  std::optional<socks5_credentials> credentials_;
  step step_ = step::greeting_sent;
  std::vector<std::uint8_t> out_;
  std::string error_;
};

// RFC 1928 section 6: the meaning of a reply's REP field.
const char* socks5_reply_meaning(std::uint8_t rep) noexcept;

}  // namespace mongowire::detail::proxy
