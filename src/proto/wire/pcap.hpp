// libpcap capture files of wire conversations, for Wireshark and tshark: each frame a client
// sends or receives becomes one TCP segment (or several above 65495 bytes) in a synthesized
// IPv4 or IPv6 packet, with a SYN / SYN-ACK / ACK handshake per connection and consistent
// sequence and acknowledgement numbers. Sans-I/O: packets are appended to a byte vector the
// caller writes wherever it wants.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace mongowire::detail::wire {

// One side of a TCP connection.
struct pcap_endpoint {
  std::array<std::uint8_t, 16> address{};  // IPv4: the first 4 bytes
  bool ipv6 = false;
  std::uint16_t port = 0;

  // "127.0.0.1", "::1", "::ffff:10.0.0.1" (an IPv4-mapped address is written as IPv4).
  // nullopt when `text` is no IP address.
  static std::optional<pcap_endpoint> parse(std::string_view text, std::uint16_t port);
  friend bool operator==(const pcap_endpoint&, const pcap_endpoint&) = default;
};

// The largest TCP payload of one IPv4 packet: 65535 - 20 (IP header) - 20 (TCP header).
inline constexpr std::size_t pcap_max_segment = 65495;

class pcap_writer {
 public:
  // Appends the file header (microsecond timestamps, LINKTYPE_RAW: each record is an IP packet).
  explicit pcap_writer(std::vector<std::uint8_t>& out);

  // Appends the packets that carry `frame` between `client` and `server` at `time_us`
  // (microseconds since the Unix epoch): the TCP handshake first when the pair is new, then
  // one segment per pcap_max_segment bytes. The receiver acknowledges (a bare ACK) only when
  // the sender would otherwise overrun its 65535-byte window. False when the two endpoints
  // are not of one address family (nothing is appended).
  bool add_frame(const pcap_endpoint& client, const pcap_endpoint& server, bool from_client,
                 std::span<const std::uint8_t> frame, std::int64_t time_us);

 private:
  struct side {
    pcap_endpoint endpoint;
    std::uint32_t next_seq = 0;  // sequence number of the next byte this side sends
    std::uint32_t acked = 0;     // the last acknowledgement number this side sent
    std::uint16_t ip_id = 0;     // IPv4 identification, one per packet
  };
  struct flow {
    side client, server;
  };
  struct segment {
    std::uint8_t flags;
    std::span<const std::uint8_t> payload;
  };

  flow& find_or_open(const pcap_endpoint& client, const pcap_endpoint& server, std::int64_t time_us);
  void send(side& from, side& to, segment s, std::int64_t time_us);

  std::vector<std::uint8_t>& out_;
  std::vector<flow> flows_;
};

}  // namespace mongowire::detail::wire
