// mongowire-nullserver: a fast replica-set primary that stores nothing, for benchmarks that
// must measure the client and not the server. One blocking thread per connection (one recv
// and one send per request: the server adds no syscall of its own), frames cut and parsed
// with the project's wire codec (frame_decoder, op_msg_view, OP_QUERY/OP_REPLY, OP_COMPRESSED).
//   mongowire-nullserver [--port N] [--bind ADDR] [--set-name NAME]
// Prints "mongowire-nullserver listening on ADDR:PORT" first, then serves until killed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "null_replies.hpp"
#include "proto/wire/frame_decoder.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

namespace {

using namespace mongowire;
namespace wire = mongowire::detail::wire;

std::atomic<std::int64_t> next_connection_id{1};

bool send_all(int fd, std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

// One client connection: its buffers are reused, so a warm connection allocates little.
class session {
 public:
  session(int fd, const nullserver::server_identity& identity) : fd_(fd), replies_(identity) {
    state_.connection_id = next_connection_id++;
    decoder_.set_accept_compressed(true);  // accepted only with a negotiated compressor, below
  }
  ~session() { ::close(fd_); }

  void serve() {
    for (;;) {
      auto room = decoder_.prepare(64 * 1024);
      const ssize_t n = ::recv(fd_, room.data(), room.size(), 0);
      if (n <= 0) return;
      decoder_.commit(static_cast<std::size_t>(n));
      wire::decode_status status;
      while ((status = decoder_.next()) == wire::decode_status::frame_ready)
        if (!handle(decoder_.frame())) return;
      if (status == wire::decode_status::error) return log("closed: " + decoder_.diagnostic().message());
      // The replies to pipelined requests leave in one send.
      if (!out_.empty() && !send_all(fd_, out_)) return;
      out_.clear();
    }
  }

 private:
  void log(const std::string& what) const {
    std::fprintf(stderr, "connection %lld %s\n", static_cast<long long>(state_.connection_id), what.c_str());
  }

  // Returns false when the connection must close (a malformed or unsupported frame).
  bool handle(std::span<const std::uint8_t> frame) {
    wire::decode_error err;
    std::optional<wire::compressor_id> compressed_with;
    if (wire::read_header(frame.data()).op_code == static_cast<std::int32_t>(wire::opcode::compressed)) {
      if (state_.compressors.empty() ||
          codec_.decompress(frame, inflated_, &err, wire::default_max_message_size, state_.compressors)) {
        log("closed: OP_COMPRESSED not negotiated or malformed " + err.message());
        return false;
      }
      compressed_with = static_cast<wire::compressor_id>(frame[wire::header_size + 8]);
      frame = inflated_;
    }
    const auto op = wire::read_header(frame.data()).op_code;
    bool reply = false;
    if (op == static_cast<std::int32_t>(wire::opcode::msg)) reply = handle_op_msg(frame, err);
    else if (op == static_cast<std::int32_t>(wire::opcode::query)) reply = handle_op_query(frame, err);
    if (err.code) {
      log("closed: " + err.message());
      return false;
    }
    if (op != static_cast<std::int32_t>(wire::opcode::msg) && op != static_cast<std::int32_t>(wire::opcode::query)) {
      log("closed: unsupported opCode " + std::to_string(op));
      return false;
    }
    if (!reply) return true;
    // As mongod: a compressed request is answered with the same compressor.
    if (compressed_with && !codec_.compress(reply_frame_, *compressed_with, compressed_)) {
      out_.insert(out_.end(), compressed_.begin(), compressed_.end());
    } else {
      out_.insert(out_.end(), reply_frame_.begin(), reply_frame_.end());
    }
    return true;
  }

  // Encodes the reply into reply_frame_; false when none is due (moreToCome) or on error.
  bool handle_op_msg(std::span<const std::uint8_t> frame, wire::decode_error& err) {
    wire::op_msg_view msg;
    if (wire::op_msg_view::parse(frame, msg, &err)) return false;
    std::size_t documents = 0;
    for (const auto& seq : msg.sequences()) documents += seq.size();
    replies_.answer(msg.body(), documents, state_, reply_);
    await_if_asked();
    if (msg.more_to_come()) return false;  // OP_MSG.md "moreToCome": no reply
    wire::op_msg_encoder enc(reply_frame_);
    enc.begin(next_request_id_++, msg.header().request_id, 0);
    enc.body(reply_);
    return !enc.finish(msg.checksum_present());
  }

  bool handle_op_query(std::span<const std::uint8_t> frame, wire::decode_error& err) {
    wire::op_query_view q;
    if (wire::parse_op_query(frame, q, &err)) return false;
    bson::view body = q.query;
    if (auto inner = q.query.find("$query").as_document()) body = *inner;  // {$query: {...}, $readPreference}
    replies_.answer(body, 0, state_, reply_);
    await_if_asked();
    wire::encode_op_reply(reply_frame_, next_request_id_++, q.header.request_id, reply_);
    return true;
  }

  // An awaitable hello: replies after maxAwaitTimeMS, or earlier if the client writes or closes.
  void await_if_asked() {
    if (state_.await_ms <= 0) return;
    if (!out_.empty() && send_all(fd_, out_)) out_.clear();
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(state_.await_ms, 24 * 3600 * 1000)));
  }

  int fd_;
  nullserver::reply_builder replies_;
  nullserver::connection_state state_;
  wire::frame_decoder decoder_;
  wire::frame_codec codec_;
  std::vector<std::uint8_t> inflated_, reply_frame_, compressed_, out_;
  bson::document reply_;
  std::int32_t next_request_id_ = 1;
};

int listen_on(const std::string& bind, int port, int& bound_port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (fd < 0 || ::inet_pton(AF_INET, bind.c_str(), &addr.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1024) != 0)
    return -1;
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  bound_port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bind = "127.0.0.1";
  int port = 27017;
  nullserver::server_identity identity;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) port = std::atoi(argv[++i]);
    else if (arg == "--bind" && i + 1 < argc) bind = argv[++i];
    else if (arg == "--set-name" && i + 1 < argc) identity.set_name = argv[++i];
    else {
      std::fprintf(stderr, "usage: mongowire-nullserver [--port N] [--bind IPV4] [--set-name NAME]\n");
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  int bound_port = 0;
  const int listener = listen_on(bind, port, bound_port);
  if (listener < 0) {
    std::fprintf(stderr, "mongowire-nullserver: cannot listen on %s:%d: %s\n", bind.c_str(), port,
                 std::strerror(errno));
    return 1;
  }
  identity.address = bind + ":" + std::to_string(bound_port);
  std::printf("mongowire-nullserver listening on %s (replica set %s, maxWireVersion 21)\n", identity.address.c_str(),
              identity.set_name.c_str());
  std::fflush(stdout);
  for (;;) {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread([fd, &identity] { session(fd, identity).serve(); }).detach();
  }
}
