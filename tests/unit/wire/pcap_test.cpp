#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "proto/wire/pcap.hpp"

using namespace mongowire::detail::wire;

namespace {

using bytes = std::vector<std::uint8_t>;

std::uint32_t le32(const bytes& b, std::size_t at) {
  return b[at] | std::uint32_t(b[at + 1]) << 8 | std::uint32_t(b[at + 2]) << 16 | std::uint32_t(b[at + 3]) << 24;
}
std::uint32_t be16(const std::uint8_t* p) { return std::uint32_t(p[0]) << 8 | p[1]; }
std::uint32_t be32(const std::uint8_t* p) { return be16(p) << 16 | be16(p + 2); }

// RFC 1071: a header (or pseudo-header + segment) with a correct checksum sums to 0xffff.
std::uint32_t ones_sum(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += be16(p + i);
  if (n % 2) sum += std::uint32_t(p[n - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

struct packet {
  std::uint32_t ts_sec, ts_usec;
  bool ipv6;
  std::uint32_t src_port, dst_port, seq, ack, flags;
  bytes payload;
  bool ip_checksum_ok, tcp_checksum_ok;
};

// Reads back what pcap_writer wrote: records of raw IP packets carrying TCP.
std::vector<packet> read_packets(const bytes& file) {
  std::vector<packet> out;
  for (std::size_t at = 24; at < file.size();) {
    const std::uint32_t length = le32(file, at + 8);
    const std::uint8_t* ip = file.data() + at + 16;
    packet p{le32(file, at), le32(file, at + 4), (ip[0] >> 4) == 6};
    const std::size_t ip_length = p.ipv6 ? 40 : 20;
    const std::uint8_t* tcp = ip + ip_length;
    const std::size_t tcp_length = length - ip_length;
    p.src_port = be16(tcp), p.dst_port = be16(tcp + 2), p.seq = be32(tcp + 4), p.ack = be32(tcp + 8);
    p.flags = tcp[13];
    p.payload.assign(tcp + 20, tcp + tcp_length);
    p.ip_checksum_ok = p.ipv6 || ones_sum(ip, 20) == 0xffff;
    const std::size_t address_length = p.ipv6 ? 16 : 4;
    const std::uint8_t* addresses = ip + (p.ipv6 ? 8 : 12);
    std::uint32_t pseudo = ones_sum(addresses, 2 * address_length) + 6 + static_cast<std::uint32_t>(tcp_length);
    p.tcp_checksum_ok = ones_sum(tcp, tcp_length, pseudo) == 0xffff;
    out.push_back(std::move(p));
    at += 16 + length;
  }
  return out;
}

pcap_endpoint endpoint(const char* text, std::uint16_t port) { return *pcap_endpoint::parse(text, port); }

}  // namespace

TEST_CASE("pcap: the file header names libpcap 2.4, microseconds and LINKTYPE_RAW") {
  bytes file;
  pcap_writer w(file);
  REQUIRE(file.size() == 24);
  CHECK(le32(file, 0) == 0xa1b2c3d4);
  CHECK(le32(file, 4) == (2u | 4u << 16));
  CHECK(le32(file, 20) == 101);
}

TEST_CASE("pcap: a new connection starts with SYN, SYN-ACK, ACK; frames continue its sequence numbers") {
  bytes file;
  pcap_writer w(file);
  const auto client = endpoint("127.0.0.1", 50123), server = endpoint("127.0.0.1", 27017);
  const bytes request(100, 0xab), reply(300, 0xcd);
  REQUIRE(w.add_frame(client, server, true, request, 1'700'000'000'123'456));
  REQUIRE(w.add_frame(client, server, false, reply, 1'700'000'000'200'000));
  const auto p = read_packets(file);
  REQUIRE(p.size() == 5);
  CHECK(p[0].flags == 0x02);  // SYN
  CHECK(p[1].flags == 0x12);  // SYN-ACK
  CHECK(p[2].flags == 0x10);  // ACK
  CHECK(p[1].ack == p[0].seq + 1);
  CHECK(p[2].seq == p[0].seq + 1);
  CHECK(p[2].ack == p[1].seq + 1);
  CHECK(p[3].flags == 0x18);  // PSH-ACK with the request
  CHECK(p[3].src_port == 50123);
  CHECK(p[3].dst_port == 27017);
  CHECK(p[3].seq == p[2].seq);
  CHECK(p[3].payload == request);
  CHECK(p[4].src_port == 27017);
  CHECK(p[4].seq == p[1].seq + 1);
  CHECK(p[4].ack == p[3].seq + 100);  // the reply acknowledges the request
  CHECK(p[4].payload == reply);
  CHECK(p[3].ts_sec == 1'700'000'000);
  CHECK(p[3].ts_usec == 123'456);
  for (const auto& each : p) {
    CHECK(!each.ipv6);
    CHECK(each.ip_checksum_ok);
    CHECK(each.tcp_checksum_ok);
  }
}

TEST_CASE("pcap: a frame above 65495 bytes is split; the receiver acknowledges before its window overflows") {
  bytes file;
  pcap_writer w(file);
  const auto client = endpoint("10.1.2.3", 40000), server = endpoint("10.1.2.4", 27017);
  bytes big(150'000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
  REQUIRE(w.add_frame(client, server, true, big, 1));
  auto p = read_packets(file);
  p.erase(p.begin(), p.begin() + 3);  // the handshake
  // segment, ACK, segment, ACK, segment: 65495 unacknowledged bytes fit a 65535-byte window,
  // two segments do not.
  REQUIRE(p.size() == 5);
  CHECK(p[0].payload.size() == pcap_max_segment);
  CHECK(p[1].src_port == 27017);  // a bare ACK of the first segment
  CHECK(p[1].payload.empty());
  CHECK(p[1].ack == p[0].seq + pcap_max_segment);
  CHECK(p[2].payload.size() == pcap_max_segment);
  CHECK(p[2].seq == p[0].seq + pcap_max_segment);
  CHECK(p[3].payload.empty());
  CHECK(p[3].ack == p[2].seq + pcap_max_segment);
  CHECK(p[4].payload.size() == 150'000 - 2 * pcap_max_segment);
  bytes joined = p[0].payload;
  joined.insert(joined.end(), p[2].payload.begin(), p[2].payload.end());
  joined.insert(joined.end(), p[4].payload.begin(), p[4].payload.end());
  CHECK(joined == big);
  for (const auto& each : p) CHECK(each.tcp_checksum_ok);
}

TEST_CASE("pcap: IPv6 endpoints give IPv6 packets; IPv4-mapped addresses are written as IPv4") {
  bytes file;
  pcap_writer w(file);
  REQUIRE(w.add_frame(endpoint("::1", 50000), endpoint("::1", 27017), true, bytes(20, 1), 1));
  auto p = read_packets(file);
  REQUIRE(p.size() == 4);
  CHECK(p[3].ipv6);
  CHECK(p[3].tcp_checksum_ok);
  const auto mapped = endpoint("::ffff:192.168.0.9", 1);
  CHECK(!mapped.ipv6);
  CHECK(mapped == endpoint("192.168.0.9", 1));
}

TEST_CASE("pcap: bad addresses and mixed address families are refused") {
  CHECK(!pcap_endpoint::parse("localhost", 1));
  CHECK(!pcap_endpoint::parse("", 1));
  CHECK(!pcap_endpoint::parse("1.2.3.4.5", 1));
  bytes file;
  pcap_writer w(file);
  CHECK(!w.add_frame(endpoint("::1", 1), endpoint("127.0.0.1", 2), true, bytes(4, 0), 0));
  CHECK(file.size() == 24);
}

TEST_CASE("pcap: two connections to one server keep their own sequence numbers") {
  bytes file;
  pcap_writer w(file);
  const auto server = endpoint("127.0.0.1", 27017);
  REQUIRE(w.add_frame(endpoint("127.0.0.1", 50001), server, true, bytes(10, 1), 1));
  REQUIRE(w.add_frame(endpoint("127.0.0.1", 50002), server, true, bytes(10, 2), 2));
  REQUIRE(w.add_frame(endpoint("127.0.0.1", 50001), server, true, bytes(10, 3), 3));
  const auto p = read_packets(file);
  REQUIRE(p.size() == 9);  // two handshakes and three data segments
  CHECK(p[3].src_port == 50001);
  CHECK(p[7].src_port == 50002);
  CHECK(p[8].src_port == 50001);
  CHECK(p[8].seq == p[3].seq + 10);
}
