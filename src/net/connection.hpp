// One connection to one server: TCP (+ optional TLS), framing with the sans-I/O
// frame_decoder and op_msg_encoder, request/response matching, per-operation timeouts.
// Not thread-safe: a connection is used by one operation at a time (the pool checks it
// out), and all of its I/O runs on its executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mongowire/bson.hpp"
#include "mongowire/error.hpp"
#include "mongowire/events.hpp"
#include "proto/command/command_fields.hpp"
#include "proto/proxy/socks5.hpp"
#include "proto/wire/compression.hpp"
#include "proto/wire/frame_decoder.hpp"

namespace mongowire::detail::net {

namespace asio = boost::asio;

// The completion token of net/'s coroutines: errors come back as values, never as exceptions.
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Observes every frame sent and received (for traces, pcap files and protocol students).
using frame_observer = frame_event_handler;

// socks5.md: every connection is made through this proxy; the destination's name is passed on.
struct proxy_settings {
  std::string host;
  std::uint16_t port = 1080;
  std::optional<proxy::socks5_credentials> credentials;
};

struct connection_settings {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds socket_timeout{0};  // 0: no limit
  std::shared_ptr<asio::ssl::context> tls;      // null: plain TCP
  bool verify_host_name = true;                 // check the certificate names the host
  bool checksum = false;                        // send CRC-32C with every OP_MSG
  frame_observer observer;                      // null: no tracing
  // OP_COMPRESSED.md: offered in the handshake in this priority order; empty: no compression.
  std::vector<wire::compressor_id> compressors;
  int zlib_level = wire::default_zlib_level;  // zlibCompressionLevel
  std::optional<proxy_settings> proxy;        // proxyHost and friends; none: connect directly
};

class connection {
 public:
  // `id` 0: the next process-wide id; a pool passes the id its CMAP rules gave the connection,
  // so that pool and command events name it alike.
  connection(asio::any_io_executor ex, connection_settings settings, std::uint64_t id = 0);
  ~connection();

  asio::awaitable<error_code> async_connect(const std::string& host, std::uint16_t port, diagnostics& diag);

  // Sends `body` as OP_MSG (with its kind-1 sequences, if any) and reads the reply.
  // On success `reply` views the connection's buffer: valid until the next call.
  // `request_id` 0: take the next one (callers that report it in events pass their own).
  asio::awaitable<error_code> async_command(bson::view body, std::optional<document_sequences> sequence,
                                            bson::view& reply, diagnostics& diag, std::int32_t request_id = 0);

  // OP_MSG.md "moreToCome On Requests": an unacknowledged (w: 0) write is sent with the
  // moreToCome flag and the server sends no reply.
  asio::awaitable<error_code> async_send_unacknowledged(bson::view body, std::optional<document_sequences> sequence,
                                                        diagnostics& diag, std::int32_t request_id);

  // Streaming hello (server-monitoring.md "Streaming Protocol"): sends `body` with the OP_MSG
  // exhaustAllowed flag; the server may then stream more replies (more_to_come()), each read
  // with async_read_more.
  asio::awaitable<error_code> async_exhaust_command(bson::view body, bson::view& reply, diagnostics& diag);
  asio::awaitable<error_code> async_read_more(bson::view& reply, diagnostics& diag);
  // The last reply carried moreToCome: the next one comes without a request.
  bool more_to_come() const noexcept { return more_to_come_; }

  // The first hello of a connection, sent as legacy OP_QUERY on admin.$cmd
  // (OP_MSG.md "Usage": a driver not using an API version must use OP_QUERY until it
  // knows the server speaks OP_MSG).
  asio::awaitable<error_code> async_legacy_command(bson::view body, bson::view& reply, diagnostics& diag);

  void close() noexcept;
  // CMAP "Interrupting a Connection": close the socket now, failing the operation in progress
  // with a retryable PoolClearedError (interruptInUseConnections).
  void interrupt() noexcept;
  bool is_open() const noexcept;
  // A network or protocol error leaves the stream in an unknown state: never reuse it.
  bool is_broken() const noexcept { return broken_; }
  void set_max_message_size(std::size_t bytes) noexcept;
  void set_socket_timeout(std::chrono::milliseconds t) noexcept { settings_.socket_timeout = t; }
  std::chrono::milliseconds socket_timeout() const noexcept { return settings_.socket_timeout; }
  // The compressor the handshake negotiated (OP_COMPRESSED.md): every later request but the
  // excluded commands is sent compressed with it. nullopt: none.
  void set_compressor(std::optional<wire::compressor_id> id) noexcept { compressor_ = id; }
  std::optional<wire::compressor_id> compressor() const noexcept { return compressor_; }

  std::uint64_t id() const noexcept { return id_; }
  std::int32_t last_request_id() const noexcept { return last_request_id_; }
  const std::string& address() const noexcept { return address_; }
  std::uint64_t generation = 0;  // pool generation at creation (CMAP)
  // Set by the pool that made it: called by the destructor, so that a connection destroyed
  // while checked out (never checked in) does not keep its place in the pool.
  std::function<void(std::uint64_t id)> on_destroyed;
  std::chrono::steady_clock::time_point last_checkin{};
  std::int64_t server_connection_id = 0;
  std::int32_t max_wire_version = 0;  // from the handshake
  // load-balancers.md "Connection Establishment": the hello reply's serviceId (load-balanced mode).
  std::optional<bson::object_id> service_id;
  // Scratch space for the command being sent on this connection: reused, so that once warm
  // building a command allocates nothing (the connection is checked out exclusively).
  bson::document command_buffer;
  std::size_t bytes_sent() const noexcept { return bytes_sent_; }
  std::size_t bytes_received() const noexcept { return bytes_received_; }
  // Requests sent so far; before the pool hands it out, the round trips of its handshake and
  // authentication (pool_event::round_trips of connection_ready).
  std::uint32_t frames_sent() const noexcept { return frames_sent_; }

 private:
  asio::awaitable<error_code> send_frame(diagnostics& diag, bool compress = false);
  std::size_t write_now(std::span<const std::uint8_t> frame, error_code& ec);
  std::size_t read_now(std::span<std::uint8_t> into, error_code& ec);
  // The frame just read, decompressed when it came as OP_COMPRESSED.
  std::span<const std::uint8_t> received_frame() const noexcept;
  asio::awaitable<error_code> read_frame(std::int32_t request_id, diagnostics& diag);
  asio::awaitable<error_code> send_op_msg(bson::view body, std::optional<document_sequences> sequence,
                                          std::int32_t request_id, std::uint32_t flags, diagnostics& diag);
  asio::awaitable<error_code> read_op_msg(std::int32_t response_to, bson::view& reply, diagnostics& diag);
  asio::awaitable<error_code> tls_handshake(const std::string& host, diagnostics& diag);
  asio::awaitable<error_code> socks5_handshake(const std::string& host, std::uint16_t port, diagnostics& diag);
  void set_tls_peer(const std::string& host);
  error_code fail(error_code ec, diagnostics& diag, std::string what);
  void observe(bool outgoing, std::span<const std::uint8_t> frame);
  void remember_endpoints();
  void arm_timer(std::chrono::milliseconds limit);
  void disarm_timer() noexcept;

  // Lets a queued timer handler find out whether its connection still exists.
  struct timer_guard {
    connection* owner;
  };

  asio::ip::tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  asio::steady_timer timer_;
  std::shared_ptr<timer_guard> timer_guard_;
  std::uint64_t timer_arming_ = 0;  // bumped on every arm/disarm
  connection_settings settings_;
  wire::frame_decoder decoder_;
  std::vector<std::uint8_t> out_;
  wire::frame_codec codec_;  // OP_COMPRESSED contexts, reused
  std::optional<wire::compressor_id> compressor_;
  std::vector<std::uint8_t> compressed_out_;  // out_ as OP_COMPRESSED
  std::vector<std::uint8_t> inflated_;        // the last reply, decompressed
  bool received_compressed_ = false;
  frame_observer observer_;
  // The last request was a sensitive command: it and its replies reach the observer redacted.
  bool sensitive_exchange_ = false;
  std::uint64_t id_;
  std::string address_;
  // The socket's endpoints once connected, for the frame observer (pcap files need the ports).
  std::string local_ip_, remote_ip_;
  std::uint16_t local_port_ = 0, remote_port_ = 0;
  bool broken_ = false;
  std::int32_t last_request_id_ = 0;
  bool timed_out_ = false;
  bool interrupted_ = false;
  bool more_to_come_ = false;
  std::uint32_t immediate_reads_ = 0;  // replies read without waiting, since the last wait
  std::size_t bytes_sent_ = 0;
  std::size_t bytes_received_ = 0;
  std::uint32_t frames_sent_ = 0;
};

// Process-wide request ids (wire protocol: requestID identifies a message to its peer).
std::int32_t next_request_id() noexcept;

}  // namespace mongowire::detail::net
