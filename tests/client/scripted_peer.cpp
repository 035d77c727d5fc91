#include "scripted_peer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <optional>

#include "proto/wire/frame_decoder.hpp"
#include "proto/wire/legacy.hpp"
#include "proto/wire/op_msg.hpp"

namespace scripted {

namespace asio = boost::asio;
namespace bson = mongowire::bson;
namespace wire = mongowire::detail::wire;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// {"v": <the field at path>} in canonical extended JSON (types included); "" when missing.
std::string field_as_json(bson::view doc, std::string_view path) {
  auto e = doc.find_path(path);
  if (!e) return "";
  bson::document holder;
  holder.append("v", e);
  return holder.to_json();
}

std::string check_field(const field_check& c, bson::view received, const bson::view* previous) {
  const std::string got = field_as_json(received, c.path);
  using kind = field_check::kind;
  if (c.what == kind::present) return got.empty() ? c.path + " is missing" : "";
  if (c.what == kind::absent) return got.empty() ? "" : c.path + " must be absent, got " + got;
  const std::string want = c.what == kind::equals ? c.expected : previous ? field_as_json(*previous, c.path) : "";
  if (want.empty()) return c.path + ": no previous command to compare with";
  return got == want ? "" : c.path + " is " + (got.empty() ? "missing" : got) + ", expected " + want;
}

// OP_MSG body plus its kind-1 sequences as arrays: what the command means to a server.
bson::document merged_command(const wire::op_msg_view& msg) {
  bson::document cmd(msg.body());
  for (const auto& seq : msg.sequences()) {
    cmd.append_array_of(seq.identifier(), [&](bson::array_builder& array) {
      for (auto doc : seq) array.push(doc);
    });
  }
  return cmd;
}

bool is_hello(std::string_view name) { return name == "hello" || name == "isMaster" || name == "ismaster"; }

}  // namespace

step& step::present(std::string path) {
  checks_.push_back({field_check::kind::present, std::move(path), {}});
  return *this;
}

step& step::absent(std::string path) {
  checks_.push_back({field_check::kind::absent, std::move(path), {}});
  return *this;
}

step& step::equals(std::string path, std::string_view json_value) {
  const auto holder = bson::document::from_json(R"({"v": )" + std::string(json_value) + "}");
  checks_.push_back({field_check::kind::equals, std::move(path), holder.to_json()});
  return *this;
}

step& step::same_as_previous(std::string path) {
  checks_.push_back({field_check::kind::same_as_previous, std::move(path), {}});
  return *this;
}

step& step::reply(std::string_view json) {
  reply_ = bson::document::from_json(json);
  return *this;
}

step& step::close_connection() {
  closes_ = true;
  return *this;
}

step& step::deliver(wire_delivery how) {
  delivery_ = std::move(how);
  return *this;
}

std::vector<std::string> step::mismatches(bson::view received, const bson::view* previous) const {
  std::vector<std::string> out;
  if (received.first_key() != command_) return {"expected " + command_ + " (step left waiting)"};
  for (const auto& c : checks_)
    if (auto why = check_field(c, received, previous); !why.empty()) out.push_back(why);
  return out;
}

// ---------------------------------------------------------------- the peer

struct scripted_peer::state {
  explicit state(asio::io_context& io, peer_options o) : acceptor(io), options(std::move(o)) {}

  tcp::acceptor acceptor;
  peer_options options;
  std::string address;  // "127.0.0.1:<port>"
  std::vector<step> script;
  std::size_t next = 0;
  std::vector<received_command> commands;
  std::vector<std::string> problems;
  std::vector<std::string> lines;  // the transcript
  std::int32_t connections = 0;
  std::int32_t request_ids = 0;
  std::vector<std::weak_ptr<tcp::socket>> sockets;
  wire_delivery delivery;  // how the answer to the frame being served goes on the wire

  bson::document hello_reply(bool legacy, std::int32_t connection_id) const;
  static bson::document mongos_hello(bool legacy);
  // The reply to send, or nullopt to close the connection instead.
  std::optional<bson::document> answer(bson::document cmd, std::int32_t request_id, std::int32_t connection_id);
  std::optional<bson::document> answer_from_script(bson::document cmd, std::int32_t request_id);
  std::optional<std::vector<std::uint8_t>> answer_frame(std::span<const std::uint8_t> frame, std::int32_t connection);
};

bson::document scripted_peer::state::hello_reply(bool legacy, std::int32_t connection_id) const {
  const std::string me = '"' + address + '"';
  auto reply = options.set_name.empty()
                   ? mongos_hello(legacy)
                   : bson::document::from_json(
                         std::string(legacy ? R"({"ismaster": true)" : R"({"isWritablePrimary": true)") +
                         R"(, "secondary": false,
        "setName": ")" + options.set_name +
                         R"(", "setVersion": 1, "hosts": [)" + me + "], \"primary\": " + me + ", \"me\": " + me +
                         R"(, "electionId": {"$oid": "7fffffff0000000000000001"},
        "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000, "maxWriteBatchSize": 100000,
        "logicalSessionTimeoutMinutes": 30, "minWireVersion": 0, "ok": 1})");
  reply.append("maxWireVersion", options.max_wire_version);
  reply.append("connectionId", connection_id);
  return reply;
}

// A mongos answers hello without replica-set fields (server-discovery-and-monitoring.md
// "Parsing a hello or legacy hello response": msg "isdbgrid" makes the type Mongos).
bson::document scripted_peer::state::mongos_hello(bool legacy) {
  return bson::document::from_json(std::string(legacy ? R"({"ismaster": true)" : R"({"isWritablePrimary": true)") +
                                   R"(, "msg": "isdbgrid", "maxBsonObjectSize": 16777216,
        "maxMessageSizeBytes": 48000000, "maxWriteBatchSize": 100000, "logicalSessionTimeoutMinutes": 30,
        "minWireVersion": 0, "ok": 1})");
}

std::optional<bson::document> scripted_peer::state::answer(bson::document cmd, std::int32_t request_id,
                                                           std::int32_t connection_id) {
  const std::string_view name = cmd.get_view().first_key();
  if (is_hello(name)) return hello_reply(false, connection_id);
  // driver-sessions.md "endSessions": sent when the client closes; not the script's business.
  if (name == "endSessions") return bson::document::from_json(R"({"ok": 1})");
  return answer_from_script(std::move(cmd), request_id);
}

std::optional<bson::document> scripted_peer::state::answer_from_script(bson::document cmd, std::int32_t request_id) {
  const std::string number = "#" + std::to_string(commands.size() + 1) + " ";
  lines.push_back(number + "-> " + cmd.get_view().to_relaxed_json());
  auto note = [&](const std::string& why) {
    problems.push_back(number + why);
    lines.push_back("   !! " + why);
  };
  std::vector<std::string> mismatches{"unexpected " + std::string(cmd.get_view().first_key()) + ": script ended"};
  if (next < script.size()) {
    const bson::view previous = commands.empty() ? bson::view() : commands.back().body.get_view();
    mismatches = script[next].mismatches(cmd, commands.empty() ? nullptr : &previous);
  }
  commands.push_back({std::move(cmd), request_id});
  for (const auto& why : mismatches) note(why);
  // Another command than the step's is refused (an error no rule retries) and the step waits.
  if (next == script.size() || commands.back().body.get_view().first_key() != script[next].command())
    return bson::document::from_json(R"({"ok": 0, "code": 8, "codeName": "UnknownError",
                                         "errmsg": "scripted peer: not in the script"})");
  const step& s = script[next++];
  delivery = s.delivery();
  lines.push_back(s.closes() ? "   <- (connection closed)" : "   <- " + s.answer().get_view().to_relaxed_json());
  if (s.closes()) return std::nullopt;
  return s.answer();
}

// The encoded reply to one frame, or nullopt to close the connection.
std::optional<std::vector<std::uint8_t>> scripted_peer::state::answer_frame(std::span<const std::uint8_t> frame,
                                                                            std::int32_t connection) {
  std::vector<std::uint8_t> out;
  wire::decode_error err;
  delivery = {};
  const auto header = wire::read_header(frame.data());
  if (header.op_code == static_cast<std::int32_t>(wire::opcode::query)) {
    // handshake.md: the first hello of a connection may be a legacy isMaster over OP_QUERY.
    wire::op_query_view q;
    if (!wire::parse_op_query(frame, q, &err) && is_hello(q.query.first_key())) {
      wire::encode_op_reply(out, ++request_ids, header.request_id, hello_reply(true, connection));
      return out;
    }
  } else if (wire::op_msg_view msg; !wire::op_msg_view::parse(frame, msg, &err)) {
    auto reply = answer(merged_command(msg), header.request_id, connection);
    if (!reply) return std::nullopt;
    wire::op_msg_encoder enc(out);
    enc.begin(++request_ids, header.request_id, 0);
    enc.body(*reply);
    if (!enc.finish(msg.checksum_present())) {
      if (delivery.rewrite) delivery.rewrite(out);
      return out;
    }
  }
  problems.push_back("unexpected frame (opCode " + std::to_string(header.op_code) + "): " + err.message());
  return std::nullopt;
}

namespace {

// Writes an answer as `how` says; false when the connection is to be closed.
asio::awaitable<bool> deliver(std::shared_ptr<tcp::socket> socket, std::vector<std::uint8_t> bytes, wire_delivery how) {
  if (how.withhold) co_return true;
  if (how.byte_delay.count() <= 0) {
    auto [ec, n] = co_await asio::async_write(*socket, asio::buffer(bytes), use_tuple);
    co_return !ec && !how.close_after;
  }
  asio::steady_timer pause(socket->get_executor());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    pause.expires_after(how.byte_delay);
    auto [timer_ec] = co_await pause.async_wait(use_tuple);
    auto [ec, n] = co_await asio::async_write(*socket, asio::buffer(&bytes[i], 1), use_tuple);
    if (timer_ec || ec) co_return false;
  }
  co_return !how.close_after;
}

// One connection: frames in, answers out, until either side closes.
asio::awaitable<void> serve(std::shared_ptr<scripted_peer::state> peer, std::shared_ptr<tcp::socket> socket) {
  const std::int32_t connection = ++peer->connections;
  wire::frame_decoder frames;
  for (bool open = true; open;) {
    auto space = frames.prepare(4096);
    auto [ec, n] = co_await socket->async_read_some(asio::buffer(space.data(), space.size()), use_tuple);
    if (ec) break;
    frames.commit(n);
    auto status = frames.next();
    for (; open && status == wire::decode_status::frame_ready; status = frames.next()) {
      auto out = peer->answer_frame(frames.frame(), connection);
      open = out.has_value();
      if (!open) break;
      auto written = deliver(socket, std::move(*out), peer->delivery);
      open = co_await std::move(written);
    }
    if (status == wire::decode_status::error) open = false;
  }
  boost::system::error_code ignored;
  socket->close(ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<scripted_peer::state> peer) {
  for (;;) {
    auto socket = std::make_shared<tcp::socket>(peer->acceptor.get_executor());
    auto [ec] = co_await peer->acceptor.async_accept(*socket, use_tuple);
    if (ec) co_return;  // closed: the peer is gone
    peer->sockets.push_back(socket);
    asio::co_spawn(peer->acceptor.get_executor(), serve(peer, socket), asio::detached);
  }
}

}  // namespace

scripted_peer::scripted_peer(asio::io_context& io, peer_options options)
    : state_(std::make_shared<state>(io, std::move(options))) {
  const tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(loopback.protocol());
  state_->acceptor.bind(loopback);
  state_->acceptor.listen();
  state_->address = "127.0.0.1:" + std::to_string(state_->acceptor.local_endpoint().port());
  asio::co_spawn(io, accept_loop(state_), asio::detached);
}

scripted_peer::~scripted_peer() {
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto& weak : state_->sockets)
    if (auto s = weak.lock()) s->close(ignored);
}

std::string scripted_peer::uri() const {
  if (state_->options.set_name.empty()) return "mongodb://" + state_->address + "/";
  return "mongodb://" + state_->address + "/?replicaSet=" + state_->options.set_name;
}

const std::string& scripted_peer::address() const noexcept { return state_->address; }

void scripted_peer::play(std::vector<step> script) {
  state_->script = std::move(script);
  state_->next = 0;
  state_->commands.clear();
  state_->problems.clear();
  state_->lines.clear();
}

bool scripted_peer::script_done() const noexcept { return state_->next == state_->script.size(); }

const std::vector<std::string>& scripted_peer::problems() const noexcept { return state_->problems; }

const std::vector<received_command>& scripted_peer::commands() const noexcept { return state_->commands; }

std::string scripted_peer::transcript() const {
  std::string out = "exchange with the scripted peer (" + std::to_string(state_->next) + " of " +
                    std::to_string(state_->script.size()) + " steps played):\n";
  for (const auto& line : state_->lines) out += line + "\n";
  for (std::size_t i = state_->next; i < state_->script.size(); ++i)
    out += "   .. step " + std::to_string(i + 1) + " never came: " + state_->script[i].command() + "\n";
  return out;
}

}  // namespace scripted
