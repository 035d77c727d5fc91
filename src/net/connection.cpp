#include "net/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <openssl/x509v3.h>

#include <array>
#include <atomic>
#include <tuple>

#include "proto/auth/frame_redaction.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

namespace mongowire::detail::net {

using asio::ip::tcp;

namespace {
std::atomic<std::int32_t> request_counter{0};
std::atomic<std::uint64_t> connection_counter{0};
// The first read of a reply: 4 KiB holds the replies of a transaction's commands (well under
// 1 KiB); a larger frame's header gives its length and the decoder then grows to it. Every
// connection keeps this buffer while idle, so 16 KiB cost 12 KiB more per idle connection.
constexpr std::size_t read_chunk = 4 * 1024;
constexpr std::uint32_t immediate_read_budget = 8;  // read_now calls in a row before yielding
}  // namespace

std::int32_t next_request_id() noexcept {
  // Wraps within positive int32 values: some servers log negative ids as errors.
  return (request_counter.fetch_add(1, std::memory_order_relaxed) & 0x7fffffff) + 1;
}

connection::connection(asio::any_io_executor ex, connection_settings settings, std::uint64_t id)
    : socket_(ex),
      timer_(ex),
      timer_guard_(std::make_shared<timer_guard>(timer_guard{this})),
      settings_(std::move(settings)),
      observer_(settings_.observer),
      id_(id != 0 ? id : ++connection_counter) {
  // OP_COMPRESSED.md: once compressors are offered, even the handshake's reply may come compressed.
  decoder_.set_accept_compressed(!settings_.compressors.empty());
}

connection::~connection() {
  if (on_destroyed) on_destroyed(id_);
  timer_guard_->owner = nullptr;
  close();
}

error_code connection::fail(error_code ec, diagnostics& diag, std::string what) {
  broken_ = true;
  more_to_come_ = false;
  // CMAP "Clearing a connection pool": an interrupted operation fails with a retryable
  // PoolClearedError naming the pool's address.
  if (interrupted_) {
    diag.client_message = "Connection to " + address_ + " interrupted due to server monitor timeout";
    diag.server_address = address_;
    close();
    return client_errc::pool_cleared;
  }
  // The timer aborts the pending read/write by cancelling the socket: report that abort as
  // the timeout it was. Other errors (and later calls on the broken connection) keep theirs.
  if (timed_out_ && ec == asio::error::operation_aborted) ec = network_errc::socket_timeout;
  timed_out_ = false;
  diag.client_message = std::move(what) + ": " + ec.message();
  diag.server_address = address_;
  close();
  return ec;
}

// command-logging-and-monitoring.md "Security": traces of authentication and user management
// commands (and of hello with speculativeAuthenticate) show no secret.
void connection::observe(bool outgoing, std::span<const std::uint8_t> frame) {
  if (!observer_) return;
  if (outgoing) sensitive_exchange_ = auth::is_sensitive_request(frame);
  frame_event e{outgoing, frame, id_, local_ip_, local_port_, remote_ip_, remote_port_};
  if (!sensitive_exchange_) return observer_(e);
  const auto copy = auth::redacted_frame(frame);
  e.frame = copy;
  observer_(e);
}

void connection::remember_endpoints() {
  error_code ignored;
  const auto local = socket_.local_endpoint(ignored);
  const auto remote = socket_.remote_endpoint(ignored);
  local_ip_ = local.address().to_string();
  remote_ip_ = remote.address().to_string();
  local_port_ = local.port();
  remote_port_ = remote.port();
}

void connection::arm_timer(std::chrono::milliseconds limit) {
  timed_out_ = false;
  ++timer_arming_;
  if (limit.count() <= 0) {
    timer_.cancel();
    return;
  }
  timer_.expires_after(limit);
  // An expiry may already be queued when the operation completes and the timer is
  // cancelled: the handler then must not touch a later operation (or a destroyed
  // connection), hence the shared guard and the arming number.
  timer_.async_wait([guard = timer_guard_, arming = timer_arming_](error_code ec) {
    connection* self = guard->owner;
    if (ec || !self || self->timer_arming_ != arming) return;
    self->timed_out_ = true;
    error_code ignored;
    self->socket_.cancel(ignored);  // aborts the pending read or write on the socket
  });
}

// socks5.md "Connection Establishment": with a proxy, the TCP connection goes to the proxy (only
// the proxy's name is resolved here) and the SOCKS5 handshake then reaches the destination.
asio::awaitable<error_code> connection::async_connect(const std::string& host, std::uint16_t port, diagnostics& diag) {
  address_ = host + ":" + std::to_string(port);
  const proxy_settings* proxy = settings_.proxy ? &*settings_.proxy : nullptr;
  const std::string dial_host = proxy ? proxy->host : host;
  const std::string dial_port = std::to_string(proxy ? proxy->port : port);
  const std::string dialled = proxy ? "SOCKS5 proxy " + dial_host + ":" + dial_port + " for " + address_ : address_;
  tcp::resolver resolver(socket_.get_executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(dial_host, dial_port, use_tuple);
  if (rec) co_return fail(network_errc::dns_failed, diag, "resolving " + dialled + " failed (" + rec.message() + ")");
  arm_timer(settings_.connect_timeout);
  auto [cec, ep] = co_await asio::async_connect(socket_, endpoints, use_tuple);
  disarm_timer();
  if (timed_out_) co_return fail(network_errc::connect_timeout, diag, "connecting to " + dialled);
  if (cec) co_return fail(cec, diag, "connecting to " + dialled);
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);  // small request/reply frames: no Nagle delay
  socket_.non_blocking(true, ignored);               // write_now and read_now never block the thread
  if (observer_) remember_endpoints();
  if (proxy) {
    if (auto ec = co_await socks5_handshake(host, port, diag)) co_return ec;
  }
  if (settings_.tls) co_return co_await tls_handshake(host, diag);
  co_return error_code{};
}

// Runs the sans-I/O SOCKS5 exchange on the socket, bounded by connectTimeoutMS. A refusal is a
// network error (socks5.md: "the same as a network error (e.g. ECONNREFUSED)").
asio::awaitable<error_code> connection::socks5_handshake(const std::string& host, std::uint16_t port,
                                                         diagnostics& diag) {
  using kind = proxy::socks5_action::kind;
  proxy::socks5_handshake exchange(host, port, settings_.proxy->credentials);
  std::array<std::uint8_t, 257> in{};  // the longest read: a domain name (255) and the port
  arm_timer(settings_.connect_timeout);
  auto action = exchange.start();
  while (action.what == kind::write || action.what == kind::read) {
    const bool writing = action.what == kind::write;
    const auto out = asio::buffer(action.bytes.data(), action.bytes.size());
    const auto into = asio::buffer(in.data(), action.read_size);
    error_code ec;
    std::size_t n = 0;
    if (writing) std::tie(ec, n) = co_await asio::async_write(socket_, out, use_tuple);
    if (!writing) std::tie(ec, n) = co_await asio::async_read(socket_, into, use_tuple);
    if (ec || timed_out_) {
      disarm_timer();
      co_return fail(timed_out_ ? error_code(network_errc::connect_timeout) : ec, diag,
                     "SOCKS5 handshake with proxy " + settings_.proxy->host + " for " + address_);
    }
    action = exchange.resume(writing ? std::span<const std::uint8_t>{} : std::span<const std::uint8_t>(in.data(), n));
  }
  disarm_timer();
  if (action.what == kind::failed) co_return fail(network_errc::proxy_failed, diag, exchange.error());
  co_return error_code{};
}

// SNI names the host, never an IP literal (RFC 6066 section 3); unless tlsAllowInvalidHostnames
// or tlsInsecure, OpenSSL checks that the certificate names the host (DNS name or IP address),
// so that a mismatch is reported as such ("hostname mismatch", "IP address mismatch").
void connection::set_tls_peer(const std::string& host) {
  SSL* ssl = tls_->native_handle();
  error_code not_ip;
  asio::ip::make_address(host, not_ip);
  if (not_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (!settings_.verify_host_name) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!not_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    return;
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
}

asio::awaitable<error_code> connection::tls_handshake(const std::string& host, diagnostics& diag) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *settings_.tls);
  set_tls_peer(host);
  arm_timer(settings_.connect_timeout);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, use_tuple);
  disarm_timer();
  // CMAP "Backpressure-enabled" tells TLS failures apart: OpenSSL's own verdicts (certificate,
  // host name) are tls_handshake_failed; I/O errors (EOF, reset, timeout) keep their network code.
  if (ec && ec.category() == asio::error::get_ssl_category()) {
    const long verdict = SSL_get_verify_result(tls_->native_handle());
    const std::string why =
        verdict == X509_V_OK ? ec.message() : ec.message() + ": " + X509_verify_cert_error_string(verdict);
    co_return fail(network_errc::tls_handshake_failed, diag, "TLS handshake with " + address_ + " (" + why + ")");
  }
  if (ec || timed_out_)
    co_return fail(ec ? ec : error_code(network_errc::connect_timeout), diag, "TLS handshake with " + address_);
  co_return error_code{};
}

asio::awaitable<error_code> connection::async_command(bson::view body, std::optional<document_sequences> sequence,
                                                      bson::view& reply, diagnostics& diag, std::int32_t request_id) {
  if (request_id == 0) request_id = next_request_id();
  if (auto ec = co_await send_op_msg(body, sequence, request_id, 0, diag)) co_return ec;
  co_return co_await read_op_msg(request_id, reply, diag);
}

asio::awaitable<error_code> connection::async_send_unacknowledged(bson::view body,
                                                                  std::optional<document_sequences> sequence,
                                                                  diagnostics& diag, std::int32_t request_id) {
  co_return co_await send_op_msg(body, sequence, request_id, wire::msg_flag::more_to_come, diag);
}

asio::awaitable<error_code> connection::async_exhaust_command(bson::view body, bson::view& reply, diagnostics& diag) {
  const std::int32_t request_id = next_request_id();
  const std::optional<document_sequences> no_sequence;
  if (auto ec = co_await send_op_msg(body, no_sequence, request_id, wire::msg_flag::exhaust_allowed, diag))
    co_return ec;
  co_return co_await read_op_msg(request_id, reply, diag);
}

// OP_MSG.md "moreToCome": each streamed reply answers the previous reply's requestID.
asio::awaitable<error_code> connection::async_read_more(bson::view& reply, diagnostics& diag) {
  if (!more_to_come_) {
    diag.client_message = "no more replies announced on the connection to " + address_;
    co_return client_errc::invalid_argument;
  }
  const std::int32_t previous_reply = decoder_.header().request_id;
  co_return co_await read_op_msg(previous_reply, reply, diag);
}

asio::awaitable<error_code> connection::send_op_msg(bson::view body, std::optional<document_sequences> sequence,
                                                    std::int32_t request_id, std::uint32_t flags, diagnostics& diag) {
  if (broken_ || !socket_.is_open()) co_return fail(network_errc::connection_closed, diag, "connection to " + address_);
  more_to_come_ = false;
  wire::op_msg_encoder enc(out_, decoder_.max_message_size());
  last_request_id_ = request_id;
  enc.begin(request_id, 0, flags);
  add_command_sections(enc, body, sequence);
  if (auto ec = enc.finish(settings_.checksum)) {
    diag.client_message = "cannot encode command: " + ec.message();
    co_return ec;  // the connection is still usable: nothing was sent
  }
  // OP_COMPRESSED.md "Messages not allowed to be compressed".
  const bool compress = compressor_ && wire::may_compress(body.first_key());
  co_return co_await send_frame(diag, compress);
}

asio::awaitable<error_code> connection::read_op_msg(std::int32_t response_to, bson::view& reply, diagnostics& diag) {
  if (auto ec = co_await read_frame(response_to, diag)) co_return ec;
  wire::op_msg_view msg;
  wire::decode_error err;
  if (auto ec = wire::op_msg_view::parse(received_frame(), msg, &err, decoder_.max_message_size()))
    co_return fail(ec, diag, "reply from " + address_ + " is malformed (" + err.message() + ")");
  more_to_come_ = msg.more_to_come();
  reply = msg.body();
  // OP_MSG.md "moreToCome": without it nothing may follow the reply. Bytes already buffered
  // are replies nobody asked for: the connection is Errored (CMAP "Perishable", wire-protocol
  // error), closed now and at check-in instead of answering a later request with them. The
  // reply itself was whole and stays valid (it lives in the decoder's buffer).
  if (!more_to_come_ && decoder_.buffered() > decoder_.frame().size()) {
    broken_ = true;
    close();
  }
  co_return error_code{};
}

asio::awaitable<error_code> connection::async_legacy_command(bson::view body, bson::view& reply, diagnostics& diag) {
  if (broken_ || !socket_.is_open()) co_return fail(network_errc::connection_closed, diag, "connection to " + address_);
  const auto request_id = last_request_id_ = next_request_id();
  if (auto ec = wire::encode_op_query(out_, request_id, "admin.$cmd", 0, 0, -1, body)) {
    diag.client_message = "cannot encode legacy command: " + ec.message();
    co_return ec;
  }
  if (auto ec = co_await send_frame(diag)) co_return ec;
  if (auto ec = co_await read_frame(request_id, diag)) co_return ec;
  wire::op_reply_view r;
  wire::decode_error err;
  if (auto ec = wire::parse_op_reply(received_frame(), r, &err, decoder_.max_message_size()))
    co_return fail(ec, diag, "legacy reply from " + address_ + " is malformed (" + err.message() + ")");
  reply = r.first_document;
  co_return error_code{};
}

asio::awaitable<error_code> connection::send_frame(diagnostics& diag, bool compress) {
  if (compress) {
    if (auto ec =
            codec_.compress(out_, *compressor_, compressed_out_, settings_.zlib_level, decoder_.max_message_size())) {
      diag.client_message =
          "cannot compress command with " + std::string(wire::compressor_name(*compressor_)) + ": " + ec.message();
      co_return ec;  // nothing was sent
    }
  }
  const std::vector<std::uint8_t>& frame = compress ? compressed_out_ : out_;
  observe(true, frame);  // the bytes as they go on the wire
  error_code ec;
  std::size_t n = tls_ ? 0 : write_now(frame, ec);
  if (n < frame.size() && !ec) {
    arm_timer(settings_.socket_timeout);
    const auto rest = asio::buffer(frame) + n;
    std::size_t more = 0;
    if (tls_) std::tie(ec, more) = co_await asio::async_write(*tls_, rest, use_tuple);
    if (!tls_) std::tie(ec, more) = co_await asio::async_write(socket_, rest, use_tuple);
    disarm_timer();
    n += more;
    if (!ec && timed_out_) ec = network_errc::socket_timeout;
  }
  if (ec) co_return fail(ec, diag, "sending to " + address_);
  bytes_sent_ += n;
  ++frames_sent_;
  co_return error_code{};
}

// Issue 13: a plain TCP frame that fits the socket's send buffer (the usual case) is sent at
// once, without a trip through the reactor: an Asio write completing immediately is still posted,
// and every posted completion costs an epoll_wait before the coroutine resumes.
std::size_t connection::write_now(std::span<const std::uint8_t> frame, error_code& ec) {
  if (!socket_.is_open() || !socket_.non_blocking()) return 0;  // the asynchronous write reports it
  const std::size_t n = socket_.write_some(asio::buffer(frame.data(), frame.size()), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
  return ec ? 0 : n;
}

// Plain TCP: a reply already in the socket's buffer is read at once, without a posted completion
// (see write_now). `would_block` when nothing has arrived yet.
std::size_t connection::read_now(std::span<std::uint8_t> into, error_code& ec) {
  if (!socket_.is_open() || !socket_.non_blocking()) {
    ec = asio::error::would_block;  // never block the thread: let the reactor wait
    return 0;
  }
  const std::size_t n = socket_.read_some(asio::buffer(into.data(), into.size()), ec);
  if (ec == asio::error::try_again) ec = asio::error::would_block;
  return ec ? 0 : n;
}

asio::awaitable<error_code> connection::read_frame(std::int32_t request_id, diagnostics& diag) {
  bool armed = false;  // the timer runs only while the coroutine waits for the socket
  for (;;) {
    auto status = decoder_.next();
    if (status == wire::decode_status::frame_ready) break;
    if (status == wire::decode_status::error) {
      if (armed) disarm_timer();
      co_return fail(decoder_.error(), diag, "reading from " + address_ + " (" + decoder_.diagnostic().message() + ")");
    }
    auto buf = decoder_.prepare(std::max(read_chunk, decoder_.bytes_needed()));
    error_code ec = asio::error::would_block;
    std::size_t n = 0;
    // Fairness: when replies keep arriving before they are read, a coroutine reading them at once
    // never gives the others on its thread a turn; every few reads, it goes through the reactor.
    if (!tls_ && ++immediate_reads_ < immediate_read_budget) n = read_now(buf, ec);
    if (ec == asio::error::would_block) {
      immediate_reads_ = 0;
      if (!armed) arm_timer(settings_.socket_timeout);
      armed = true;
      const auto into = asio::buffer(buf.data(), buf.size());
      if (tls_) std::tie(ec, n) = co_await tls_->async_read_some(into, use_tuple);
      if (!tls_) std::tie(ec, n) = co_await socket_.async_read_some(into, use_tuple);
    }
    if (ec) {
      if (armed) disarm_timer();
      if (ec == asio::error::eof) ec = network_errc::connection_closed;
      co_return fail(ec, diag, "reading from " + address_);
    }
    decoder_.commit(n);
    bytes_received_ += n;
  }
  if (armed) disarm_timer();
  observe(false, decoder_.frame());
  auto header = decoder_.header();
  if (header.response_to != request_id)
    co_return fail(protocol_errc::response_to_mismatch, diag,
                   "reply from " + address_ + " answers request " + std::to_string(header.response_to) + ", expected " +
                       std::to_string(request_id));
  // OP_COMPRESSED.md: decompress with the compressor the message names, whichever was negotiated.
  received_compressed_ = header.op_code == static_cast<std::int32_t>(wire::opcode::compressed);
  wire::decode_error err;
  if (received_compressed_ && codec_.decompress(decoder_.frame(), inflated_, &err, decoder_.max_message_size()))
    co_return fail(err.code, diag, "reply from " + address_ + " cannot be decompressed (" + err.message() + ")");
  co_return error_code{};
}

std::span<const std::uint8_t> connection::received_frame() const noexcept {
  return received_compressed_ ? std::span<const std::uint8_t>(inflated_) : decoder_.frame();
}

void connection::disarm_timer() noexcept {
  ++timer_arming_;  // an expiry already queued is void now
  timer_.cancel();
}

void connection::interrupt() noexcept {
  interrupted_ = true;
  broken_ = true;
  close();  // aborts the read or write in progress
}

void connection::close() noexcept {
  error_code ignored;
  timer_.cancel();
  if (socket_.is_open()) {
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }
}

bool connection::is_open() const noexcept { return socket_.is_open(); }

void connection::set_max_message_size(std::size_t bytes) noexcept { decoder_.set_max_message_size(bytes); }

}  // namespace mongowire::detail::net
