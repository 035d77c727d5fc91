// A blocking loopback client speaking raw wire frames (the project's codec, no driver),
// for the network-layer tests: it can send any bytes, malformed ones included, and every
// read has a deadline so that a misbehaving server fails a test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/wire/frame_decoder.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

namespace mongowire::testd::test {

namespace wire = mongowire::detail::wire;

class raw_client {
 public:
  explicit raw_client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    decoder_.set_accept_compressed(true);  // replies to compressed requests come compressed
  }
  ~raw_client() { ::close(fd_); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  void send(std::span<const std::uint8_t> bytes) {
    while (!bytes.empty()) {
      auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
  }

  // The next whole frame, or nullopt when the server closed the connection (or broke the
  // framing) or nothing came before the deadline; closed() tells which.
  std::optional<std::vector<std::uint8_t>> read_frame(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto status = decoder_.next();
      if (status == wire::decode_status::frame_ready) {
        auto f = decoder_.frame();
        return std::vector<std::uint8_t>(f.begin(), f.end());
      }
      if (status == wire::decode_status::error) return std::nullopt;
      if (!receive_some(deadline)) return std::nullopt;
    }
  }

  // True when the server closes the connection before the deadline (anything it sends
  // first is discarded).
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (receive_some(deadline)) {
    }
    return closed_;
  }
  bool closed() const noexcept { return closed_; }

  // OP_MSG with `body` as its kind-0 section.
  static std::vector<std::uint8_t> op_msg(const bson::document& body, std::int32_t request_id, std::uint32_t flags = 0,
                                          bool checksum = false) {
    std::vector<std::uint8_t> out;
    wire::op_msg_encoder enc(out);
    enc.begin(request_id, 0, flags);
    enc.body(body);
    if (enc.finish(checksum)) throw std::logic_error("cannot encode the request");
    return out;
  }

  // Sends `json` (with "$db" added, "admin" unless given) and returns the reply body.
  bson::document command(const std::string& json, std::int32_t request_id = 1) {
    auto body = bson::document::from_json(json);
    if (!body.get_view().contains("$db")) body.append("$db", "admin");
    send(op_msg(body, request_id));
    auto frame = read_frame();
    if (!frame) throw std::runtime_error("no reply to " + json);
    wire::op_msg_view msg;
    if (wire::op_msg_view::parse(*frame, msg)) throw std::runtime_error("malformed reply to " + json);
    return bson::document(msg.body());
  }

 private:
  bool receive_some(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    auto buf = decoder_.prepare(64 * 1024);
    auto n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) {
      decoder_.commit(0);
      closed_ = true;
      return false;
    }
    decoder_.commit(static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  wire::frame_decoder decoder_;
  bool closed_ = false;
};

}  // namespace mongowire::testd::test
