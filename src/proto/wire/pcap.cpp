#include "proto/wire/pcap.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <string>

namespace mongowire::detail::wire {
namespace {

// pcap file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html).
constexpr std::uint32_t pcap_magic_us = 0xa1b2c3d4;  // microsecond timestamps
constexpr std::uint32_t linktype_raw = 101;          // records start with the IP header
constexpr std::uint32_t snap_length = 262144;
constexpr std::uint32_t tcp_window = 65535;  // no window scaling option: the largest window
constexpr std::size_t ipv4_header = 20, ipv6_header = 40, tcp_header = 20;

namespace tcp_flag {
constexpr std::uint8_t fin = 0x01, syn = 0x02, psh = 0x08, ack = 0x10;
constexpr std::uint8_t syn_ack = syn | ack, psh_ack = psh | ack;
}  // namespace tcp_flag

void put_le32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_be16(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put_be16(out, v >> 16);
  put_be16(out, v & 0xffff);
}
void patch_be16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 8);
  out[at + 1] = static_cast<std::uint8_t>(v);
}

// RFC 1071 one's-complement sum of big-endian 16-bit words (an odd byte is padded with 0).
std::uint32_t sum_words(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0) {
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += (std::uint32_t(bytes[i]) << 8) | bytes[i + 1];
  if (i < bytes.size()) sum += std::uint32_t(bytes[i]) << 8;
  return sum;
}
std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::span<const std::uint8_t> address_bytes(const pcap_endpoint& e) { return {e.address.data(), e.ipv6 ? 16u : 4u}; }

void put_address(std::vector<std::uint8_t>& out, const pcap_endpoint& e) {
  auto bytes = address_bytes(e);
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// RFC 791 header; the checksum covers the header only.
void put_ipv4_header(std::vector<std::uint8_t>& out, const pcap_endpoint& src, const pcap_endpoint& dst,
                     std::size_t tcp_length, std::uint16_t id) {
  const std::size_t start = out.size();
  out.push_back(0x45);  // version 4, header of 5 words
  out.push_back(0);     // DSCP / ECN
  put_be16(out, static_cast<std::uint32_t>(ipv4_header + tcp_length));
  put_be16(out, id);
  put_be16(out, 0x4000);  // don't fragment
  out.push_back(64);      // TTL
  out.push_back(6);       // protocol: TCP
  put_be16(out, 0);       // checksum, patched below
  put_address(out, src);
  put_address(out, dst);
  patch_be16(out, start + 10, fold(sum_words({out.data() + start, ipv4_header})));
}

// RFC 8200 header: no checksum of its own (TCP's pseudo-header covers the addresses).
void put_ipv6_header(std::vector<std::uint8_t>& out, const pcap_endpoint& src, const pcap_endpoint& dst,
                     std::size_t tcp_length) {
  put_be32(out, 0x60000000);  // version 6, traffic class 0, flow label 0
  put_be16(out, static_cast<std::uint32_t>(tcp_length));
  out.push_back(6);   // next header: TCP
  out.push_back(64);  // hop limit
  put_address(out, src);
  put_address(out, dst);
}

// The TCP checksum covers a pseudo-header of the IP addresses, protocol and TCP length
// (RFC 9293 3.1; RFC 8200 8.1 for IPv6), the TCP header and the payload.
std::uint16_t tcp_checksum(const pcap_endpoint& src, const pcap_endpoint& dst, std::span<const std::uint8_t> segment) {
  std::uint32_t sum = sum_words(address_bytes(src));
  sum = sum_words(address_bytes(dst), sum);
  sum += 6 + static_cast<std::uint32_t>(segment.size() & 0xffff) + static_cast<std::uint32_t>(segment.size() >> 16);
  return fold(sum_words(segment, sum));
}

void put_record_header(std::vector<std::uint8_t>& out, std::int64_t time_us, std::size_t length) {
  put_le32(out, static_cast<std::uint32_t>(time_us / 1'000'000));
  put_le32(out, static_cast<std::uint32_t>(time_us % 1'000'000));
  put_le32(out, static_cast<std::uint32_t>(length));
  put_le32(out, static_cast<std::uint32_t>(length));
}

// Initial sequence numbers: any value will do; derived from the ports so a file is reproducible.
std::uint32_t initial_sequence(const pcap_endpoint& e, std::uint32_t salt) {
  return (std::uint32_t(e.port) * 2654435761u) ^ salt;
}

}  // namespace

std::optional<pcap_endpoint> pcap_endpoint::parse(std::string_view text, std::uint16_t port) {
  const std::string s(text);
  pcap_endpoint e;
  e.port = port;
  if (inet_pton(AF_INET, s.c_str(), e.address.data()) == 1) return e;
  if (inet_pton(AF_INET6, s.c_str(), e.address.data()) != 1) return std::nullopt;
  constexpr std::uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(mapped_prefix, mapped_prefix + 12, e.address.begin())) {
    std::copy(e.address.begin() + 12, e.address.end(), e.address.begin());
    std::fill(e.address.begin() + 4, e.address.end(), 0);
    return e;
  }
  e.ipv6 = true;
  return e;
}

pcap_writer::pcap_writer(std::vector<std::uint8_t>& out) : out_(out) {
  put_le32(out_, pcap_magic_us);
  put_le32(out_, 2 | (4u << 16));  // version 2.4 (two little-endian 16-bit fields)
  put_le32(out_, 0);               // thiszone: timestamps are UTC
  put_le32(out_, 0);               // sigfigs
  put_le32(out_, snap_length);
  put_le32(out_, linktype_raw);
}

void pcap_writer::send(side& from, side& to, segment s, std::int64_t time_us) {
  const std::size_t ip_length = from.endpoint.ipv6 ? ipv6_header : ipv4_header;
  const std::size_t tcp_length = tcp_header + s.payload.size();
  put_record_header(out_, time_us, ip_length + tcp_length);
  if (from.endpoint.ipv6) put_ipv6_header(out_, from.endpoint, to.endpoint, tcp_length);
  else put_ipv4_header(out_, from.endpoint, to.endpoint, tcp_length, from.ip_id++);
  const std::size_t tcp_start = out_.size();
  const bool acks = (s.flags & tcp_flag::ack) != 0;
  put_be16(out_, from.endpoint.port);
  put_be16(out_, to.endpoint.port);
  put_be32(out_, from.next_seq);
  put_be32(out_, acks ? to.next_seq : 0);
  out_.push_back(5 << 4);  // data offset: 5 words, no options
  out_.push_back(s.flags);
  put_be16(out_, tcp_window);
  put_be16(out_, 0);  // checksum, patched below
  put_be16(out_, 0);  // urgent pointer
  out_.insert(out_.end(), s.payload.begin(), s.payload.end());
  patch_be16(out_, tcp_start + 16,
             tcp_checksum(from.endpoint, to.endpoint, {out_.data() + tcp_start, out_.size() - tcp_start}));
  if (acks) from.acked = to.next_seq;
  // SYN and FIN each take one sequence number (RFC 9293 3.4).
  from.next_seq += static_cast<std::uint32_t>(s.payload.size()) + ((s.flags & (tcp_flag::syn | tcp_flag::fin)) ? 1 : 0);
}

pcap_writer::flow& pcap_writer::find_or_open(const pcap_endpoint& client, const pcap_endpoint& server,
                                             std::int64_t time_us) {
  for (flow& f : flows_)
    if (f.client.endpoint == client && f.server.endpoint == server) return f;
  flow& f = flows_.emplace_back();
  f.client.endpoint = client;
  f.server.endpoint = server;
  f.client.next_seq = initial_sequence(client, 0x5eed0001);
  f.server.next_seq = initial_sequence(server, 0x5eed0002) ^ client.port;
  // RFC 9293 3.5: the three-way handshake.
  send(f.client, f.server, {tcp_flag::syn, {}}, time_us);
  send(f.server, f.client, {tcp_flag::syn_ack, {}}, time_us);
  send(f.client, f.server, {tcp_flag::ack, {}}, time_us);
  return f;
}

bool pcap_writer::add_frame(const pcap_endpoint& client, const pcap_endpoint& server, bool from_client,
                            std::span<const std::uint8_t> frame, std::int64_t time_us) {
  if (client.ipv6 != server.ipv6) return false;
  flow& f = find_or_open(client, server, time_us);
  side& from = from_client ? f.client : f.server;
  side& to = from_client ? f.server : f.client;
  while (!frame.empty()) {
    const auto piece = frame.first(std::min(frame.size(), pcap_max_segment));
    // The receiver's kernel would have acknowledged by now: never send beyond its window.
    if (from.next_seq + static_cast<std::uint32_t>(piece.size()) - to.acked > tcp_window)
      send(to, from, {tcp_flag::ack, {}}, time_us);
    send(from, to, {tcp_flag::psh_ack, piece}, time_us);
    frame = frame.subspan(piece.size());
  }
  return true;
}

}  // namespace mongowire::detail::wire
