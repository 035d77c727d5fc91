#include "net/tcp_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <list>
#include <optional>
#include <vector>

#include "proto/wire/compression.hpp"
#include "proto/wire/frame_decoder.hpp"
#include "proto/wire/legacy.hpp"
#include "core/command_error.hpp"
#include "proto/wire/op_msg.hpp"

namespace mongowire::testd {

namespace asio = boost::asio;
using asio::ip::tcp;
namespace wire = mongowire::detail::wire;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

struct connection {
  explicit connection(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
  tcp::socket socket;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;  // over `socket` when the server requires TLS
  asio::steady_timer timer;
  wire::frame_decoder decoder;
  std::vector<std::uint8_t> reply_frame;  // the reply being encoded
  std::vector<std::uint8_t> pending;      // encoded replies not yet written (pipelined requests)
  std::vector<sequence> sequences;
  wire::frame_codec codec;                              // OP_COMPRESSED contexts
  std::vector<std::uint8_t> inflated;                   // the request being handled, decompressed
  std::vector<std::uint8_t> compressed;                 // the reply, compressed
  std::optional<wire::compressor_id> reply_compressor;  // the request came compressed with it
  connection_context ctx;
  bool watching_topology = false;   // an awaitable hello, blocked or waiting
  bool in_awaitable_hello = false;  // waiting for a topology change: a change ends the wait
  bool topology_changed = false;    // ... and the topology changed meanwhile
};

std::atomic<std::int32_t> next_request_id{1};

// What to do once a command has run.
enum class reply_action { send, run_again, close };

constexpr std::chrono::seconds tls_handshake_timeout{10};

std::shared_ptr<asio::ssl::context> make_tls_context(const listen_options& opts) {
  if (opts.tls_certificate_key_file.empty()) return nullptr;
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  ctx->use_certificate_chain_file(opts.tls_certificate_key_file);
  ctx->use_private_key_file(opts.tls_certificate_key_file, asio::ssl::context::pem);
  // A client certificate, when the client presents one, must be signed by this CA (mongod
  // --tlsCAFile with --tlsAllowConnectionsWithoutCertificates).
  if (!opts.tls_ca_file.empty()) {
    ctx->load_verify_file(opts.tls_ca_file);
    ctx->set_verify_mode(asio::ssl::verify_peer);
  }
  return ctx;
}

// The client certificate's subject in RFC 2253 form (what MONGODB-X509 user names are), when
// the client presented one that the CA file verified; "" otherwise.
std::string verified_subject(SSL* ssl) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), X509_free);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(connection& c,
                                                                              std::span<std::uint8_t> buf) {
  if (!c.tls) co_return co_await c.socket.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
  auto [ec, n] = co_await c.tls->async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
  // Drivers close TLS connections without close_notify, as mongod expects: an end of stream.
  if (ec == asio::ssl::error::stream_truncated) ec = asio::error::eof;
  co_return std::tuple{ec, n};
}

asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> write_all(connection& c,
                                                                              std::span<const std::uint8_t> bytes) {
  if (c.tls) co_return co_await asio::async_write(*c.tls, asio::buffer(bytes.data(), bytes.size()), use_tuple);
  co_return co_await asio::async_write(c.socket, asio::buffer(bytes.data(), bytes.size()), use_tuple);
}

}  // namespace

struct tcp_server::state : std::enable_shared_from_this<tcp_server::state> {
  state(asio::any_io_executor ex, server_core& c, listen_options o)
      : strand(asio::make_strand(ex)), acceptor(strand), core(c), opts(std::move(o)) {}

  asio::strand<asio::any_io_executor> strand;
  tcp::acceptor acceptor;
  server_core& core;
  listen_options opts;
  std::list<std::weak_ptr<connection>> connections;
  std::shared_ptr<asio::ssl::context> tls_context;  // null: plain TCP
  std::atomic<std::size_t> open{0};
  bool stopped = false;
  std::int32_t next_router = 0;  // listen_options::routers: the next connection's offset

  void log(const connection& c, std::string_view what) const {
    if (opts.log) opts.log("connection " + std::to_string(c.ctx.connection_id) + " " + std::string(what));
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) co_return;
        if (opts.log) opts.log("accept failed: " + ec.message());
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto conn = std::make_shared<connection>(std::move(socket));
      conn->decoder.set_accept_compressed(true);  // handle_op_compressed checks the negotiation
      conn->ctx = core.open_connection();
      // A load balancer in front of several mongos hands each new connection to the next one.
      conn->ctx.router = opts.router + next_router;
      next_router = (next_router + 1) % std::max<std::int32_t>(opts.routers, 1);
      std::erase_if(connections, [](const auto& w) { return w.expired(); });
      connections.push_back(conn);
      asio::co_spawn(strand, serve(self, conn), asio::detached);
    }
  }

  static asio::awaitable<void> serve(std::shared_ptr<state> self, std::shared_ptr<connection> conn) {
    ++self->open;
    bool ready = true;
    if (self->tls_context) ready = co_await tls_handshake(self, conn);
    if (ready) co_await self->read_loop(*conn);
    self->core.close_connection(conn->ctx);
    boost::system::error_code ignored;
    conn->socket.shutdown(tcp::socket::shutdown_both, ignored);
    conn->socket.close(ignored);
    --self->open;
  }

  // The server's side of the TLS handshake, bounded in time: a peer that never speaks TLS (a
  // plain-TCP client's hello is not a ClientHello) is closed with the reason in the log.
  static asio::awaitable<bool> tls_handshake(std::shared_ptr<state> self, std::shared_ptr<connection> conn) {
    conn->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(conn->socket, *self->tls_context);
    conn->timer.expires_after(tls_handshake_timeout);
    conn->timer.async_wait([conn](boost::system::error_code ec) {
      boost::system::error_code ignored;
      if (!ec) conn->socket.cancel(ignored);
    });
    auto [ec] = co_await conn->tls->async_handshake(asio::ssl::stream_base::server, use_tuple);
    conn->timer.cancel();
    if (ec) self->log(*conn, "closed: TLS handshake failed: " + ec.message());
    else conn->ctx.tls_subject = verified_subject(conn->tls->native_handle());
    co_return !ec;
  }

  // Handles every complete frame in the buffer before writing, so that the replies to
  // pipelined requests leave in one write.
  asio::awaitable<void> read_loop(connection& c) {
    for (;;) {
      auto buf = c.decoder.prepare(16 * 1024);
      auto [ec, n] = co_await read_some(c, buf);
      if (ec) {
        if (ec != asio::error::eof && ec != asio::error::operation_aborted) log(c, "read failed: " + ec.message());
        else if (ec == asio::error::eof && c.decoder.buffered() > 0)
          log(c, "closed by the peer in the middle of a frame (" + std::to_string(c.decoder.buffered()) +
                     " bytes buffered)");
        co_return;
      }
      c.decoder.commit(n);
      for (;;) {
        auto status = c.decoder.next();
        if (status == wire::decode_status::need_more) break;
        if (status == wire::decode_status::error) {
          log(c, "closed: " + c.decoder.diagnostic().message());
          co_await flush(c);
          co_return;
        }
        if (!co_await handle_frame(c, c.decoder.frame())) {
          co_await flush(c);
          co_return;
        }
      }
      if (!co_await flush(c)) co_return;
    }
  }

  // Returns false when the connection must be closed.
  asio::awaitable<bool> handle_frame(connection& c, std::span<const std::uint8_t> frame) {
    auto header = wire::read_header(frame.data());
    if (header.op_code == static_cast<std::int32_t>(wire::opcode::msg)) co_return co_await handle_op_msg(c, frame);
    if (header.op_code == static_cast<std::int32_t>(wire::opcode::query)) co_return co_await handle_op_query(c, frame);
    if (header.op_code == static_cast<std::int32_t>(wire::opcode::compressed))
      co_return co_await handle_op_compressed(c, frame);
    auto name = wire::opcode_name(header.op_code);
    log(c, "closed: unsupported opCode " + std::to_string(header.op_code) +
               (name.empty() ? "" : " (" + std::string(name) + ")") + " in request " +
               std::to_string(header.request_id));
    co_return false;
  }

  // OP_COMPRESSED.md: only a compressor that hello negotiated; the reply goes back compressed
  // with the request's compressor, as mongod does. A frame that does not decompress closes
  // the connection (mongod ends the session on a decompression failure).
  asio::awaitable<bool> handle_op_compressed(connection& c, std::span<const std::uint8_t> frame) {
    wire::decode_error err;
    if (c.ctx.compressors.empty()) {
      log(c, "closed: OP_COMPRESSED in request " + std::to_string(wire::read_header(frame.data()).request_id) +
                 " but no compressor was negotiated");
      co_return false;
    }
    if (c.codec.decompress(frame, c.inflated, &err, wire::default_max_message_size, c.ctx.compressors)) {
      log(c, "closed: " + err.message());
      co_return false;
    }
    const auto id = static_cast<wire::compressor_id>(frame[wire::header_size + 8]);
    core.record_compression(id, false, frame.size() - wire::header_size - wire::compressed_prefix_size,
                            c.inflated.size() - wire::header_size);
    const std::span<const std::uint8_t> original(c.inflated);
    const auto op = wire::read_header(original.data()).op_code;
    bool keep_open = false;
    c.reply_compressor = id;
    if (op == static_cast<std::int32_t>(wire::opcode::msg)) keep_open = co_await handle_op_msg(c, original);
    else if (op == static_cast<std::int32_t>(wire::opcode::query)) keep_open = co_await handle_op_query(c, original);
    else log(c, "closed: OP_COMPRESSED wraps unsupported opCode " + std::to_string(op));
    c.reply_compressor.reset();
    co_return keep_open;
  }

  // Queues the encoded reply, compressed when its request was.
  void queue_reply(connection& c) {
    std::span<const std::uint8_t> bytes(c.reply_frame);
    if (c.reply_compressor && !c.codec.compress(c.reply_frame, *c.reply_compressor, c.compressed)) {
      core.record_compression(*c.reply_compressor, true, c.reply_frame.size() - wire::header_size,
                              c.compressed.size() - wire::header_size - wire::compressed_prefix_size);
      bytes = c.compressed;
    }
    c.pending.insert(c.pending.end(), bytes.begin(), bytes.end());
  }

  asio::awaitable<bool> handle_op_msg(connection& c, std::span<const std::uint8_t> frame) {
    wire::op_msg_view msg;
    wire::decode_error err;
    if (wire::op_msg_view::parse(frame, msg, &err)) {
      log(c, "closed: " + err.message());
      co_return false;
    }
    c.sequences.clear();
    for (const auto& seq : msg.sequences()) {
      auto& s = c.sequences.emplace_back();
      s.identifier = seq.identifier();
      for (auto doc : seq) s.docs.push_back(doc);
    }
    bson::document reply;
    for (;;) {
      reply = core.handle(msg.body(), c.sequences, c.ctx);
      auto action = co_await before_reply(c);
      if (action == reply_action::close) co_return false;
      if (action == reply_action::send) break;
    }
    if (msg.more_to_come()) co_return !closes_fire_and_forget(c, reply);
    wire::op_msg_encoder enc(c.reply_frame);
    enc.begin(next_request_id++, msg.header().request_id, 0);
    enc.body(reply);
    if (auto ec = enc.finish(msg.checksum_present())) {  // OP_MSG.md: checksummed request, checksummed reply
      log(c, "closed: cannot encode the reply: " + ec.message());
      co_return false;
    }
    queue_reply(c);
    co_return true;
  }

  // OP_MSG.md "moreToCome": no reply. But a not-primary error closes the connection so that
  // the client selects a server again (mongod's service_entry_point_common.cpp, "Not-primary
  // error while processing ... via fire-and-forget command execution").
  bool closes_fire_and_forget(const connection& c, const bson::document& reply) const {
    auto code = reply["code"].as_int32();
    if (!code || !is_not_primary_error(*code)) return false;
    log(c, "closed: not-primary error " + std::to_string(*code) + " on a fire-and-forget (moreToCome) request");
    return true;
  }

  asio::awaitable<bool> handle_op_query(connection& c, std::span<const std::uint8_t> frame) {
    wire::op_query_view q;
    wire::decode_error err;
    if (wire::parse_op_query(frame, q, &err)) {
      log(c, "closed: " + err.message());
      co_return false;
    }
    bson::document reply;
    std::string_view ns = q.full_collection_name;
    if (ns.size() < 5 || ns.substr(ns.size() - 5) != ".$cmd") {
      // mongod 5.1+ removed OP_QUERY find; only commands are accepted this way.
      reply = legacy_op_query_removed_reply();
    } else {
      // A legacy command may be wrapped as {$query: {...}, $readPreference: ...}.
      bson::view body = q.query;
      if (auto inner = q.query["$query"].as_document()) body = *inner;
      bson::document with_db(body);
      if (!body.contains("$db")) with_db.append("$db", ns.substr(0, ns.size() - 5));
      c.sequences.clear();
      for (;;) {
        reply = core.handle(with_db, c.sequences, c.ctx);
        auto action = co_await before_reply(c);
        if (action == reply_action::close) co_return false;
        if (action == reply_action::send) break;
      }
    }
    wire::encode_op_reply(c.reply_frame, next_request_id++, q.header.request_id, reply);
    queue_reply(c);
    co_return true;
  }

  static bson::document legacy_op_query_removed_reply() {
    bson::document d;
    d.append("$err", "Unsupported OP_QUERY command: only commands on <db>.$cmd are accepted");
    d.append("code", std::int32_t{5739101});
    d.append("ok", 0.0);
    return d;
  }

  // Applies what the core asked for: close without replying, or wait first (failpoint
  // blockConnection, an awaitable hello, the latency knob). Replies already encoded are
  // written before any wait or close, as mongod would have sent them by then.
  asio::awaitable<reply_action> before_reply(connection& c) {
    if (c.ctx.close_connection) {
      c.ctx.close_connection = false;
      co_return reply_action::close;
    }
    if (c.ctx.run_again) co_return co_await wait_to_run_again(c);
    const auto block =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::milliseconds(c.ctx.block_ms)) +
        opts.reply_latency;
    const auto await = std::chrono::microseconds(std::chrono::milliseconds(c.ctx.await_ms));
    c.ctx.block_ms = 0;
    c.ctx.await_ms = 0;
    if (block.count() <= 0 && await.count() <= 0) co_return reply_action::send;
    if (!co_await flush(c)) co_return reply_action::close;
    c.watching_topology = c.ctx.awaiting_topology_change;
    c.topology_changed = false;
    bool waited = true;
    if (block.count() > 0) waited = co_await pause(c, block, false);
    if (waited && await.count() > 0 && !c.topology_changed) waited = co_await pause(c, await, true);
    c.watching_topology = false;
    if (stopped) co_return reply_action::close;
    // Awaitable hello: answer as soon as the topology changes, with the new description.
    if (c.topology_changed) {
      c.ctx.fail_command_evaluated = true;
      co_return reply_action::run_again;
    }
    co_return waited ? reply_action::send : reply_action::close;
  }

  // Waits `d`. A failCommand block is not interrupted (mongod sleeps before it runs the
  // command); an awaitable hello's wait ends at a topology change. False: cut short.
  asio::awaitable<bool> pause(connection& c, std::chrono::microseconds d, bool ends_at_topology_change) {
    c.in_awaitable_hello = ends_at_topology_change;
    c.timer.expires_after(d);
    auto [ec] = co_await c.timer.async_wait(use_tuple);
    c.in_awaitable_hello = false;
    co_return !ec;
  }

  // A secondary waiting to apply a read's cluster time: the command runs again after the wait.
  asio::awaitable<reply_action> wait_to_run_again(connection& c) {
    const auto wait = std::chrono::milliseconds(c.ctx.block_ms);
    c.ctx.block_ms = 0;
    c.ctx.run_again = false;
    if (!co_await flush(c)) co_return reply_action::close;
    c.timer.expires_after(wait);
    auto [ec] = co_await c.timer.async_wait(use_tuple);
    co_return ec || stopped ? reply_action::close : reply_action::run_again;
  }

  asio::awaitable<bool> flush(connection& c) {
    if (c.pending.empty()) co_return true;
    auto [ec, n] = co_await write_all(c, c.pending);
    (void)n;
    c.pending.clear();
    co_return !ec;
  }

  // On the strand: wakes every connection waiting in an awaitable hello.
  void topology_changed() {
    for (auto& w : connections)
      if (auto c = w.lock(); c && c->watching_topology) {
        c->topology_changed = true;
        if (c->in_awaitable_hello) c->timer.cancel();
      }
  }

  void close_all() {
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (auto& w : connections)
      if (auto c = w.lock()) {
        c->socket.close(ignored);
        c->timer.cancel();
      }
    connections.clear();
  }
};

tcp_server::tcp_server(asio::any_io_executor ex, server_core& core, listen_options opts)
    : state_(std::make_shared<state>(std::move(ex), core, std::move(opts))) {}

tcp_server::~tcp_server() {
  state_->core.set_topology_listener({});
  if (!state_->stopped) stop();
}

void tcp_server::start() {
  state_->tls_context = make_tls_context(state_->opts);  // throws for an unusable file
  auto address = asio::ip::make_address(state_->opts.bind_address);
  tcp::endpoint ep(address, state_->opts.port);
  state_->acceptor.open(ep.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(ep);
  state_->acceptor.listen();
  state_->core.set_topology_listener([weak = std::weak_ptr<state>(state_)] {
    if (auto s = weak.lock()) asio::post(s->strand, [s] { s->topology_changed(); });
  });
  asio::co_spawn(state_->strand, state_->accept_loop(), asio::detached);
}

void tcp_server::stop() {
  // Runs on the strand so that it never races with a connection's coroutine.
  asio::dispatch(state_->strand, [s = state_] { s->close_all(); });
}

std::uint16_t tcp_server::port() const noexcept {
  boost::system::error_code ec;
  auto ep = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

std::string tcp_server::address() const { return state_->opts.bind_address + ":" + std::to_string(port()); }

std::size_t tcp_server::open_connections() const noexcept { return state_->open.load(); }

}  // namespace mongowire::testd
