// Hostile servers (issue 14, item 3): a scripted peer (tests/client/scripted_peer.hpp) answers a
// command with bytes that break the wire protocol: a lying messageLength, a frame cut short, a
// reply for another request, unknown required flag bits, a wrong checksum, a kind-1 section or
// a nested document running past its end, no reply at all, a reply a byte at a time, a flood
// of replies nobody asked for. Each case checks that the operation ends with an error naming
// what was wrong (or succeeds, when the bytes are only slow), that only the connection that
// received the bytes is closed (the pool holds two: the other stays), that nothing hangs, and
// that the next operation succeeds on another connection. A leak shows under `./dev test` (ASan).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <map>

#include "../engine/engine_support.hpp"
#include "mongowire/client.hpp"
#include "proto/wire/crc32c.hpp"
#include "proto/wire/frame.hpp"
#include "scripted_peer.hpp"

using namespace mongowire;
using namespace mongowire::enginetest;
namespace wire = mongowire::detail::wire;
using scripted::expect;
using scripted::step;
using scripted::wire_delivery;

namespace {

using std::chrono::steady_clock;
using frame_bytes = std::vector<std::uint8_t>;

constexpr std::size_t flag_bits_at = 16;
constexpr std::size_t response_to_at = 8;
// What the peer's hello announces (scripted_peer.cpp).
constexpr std::int32_t peer_max_message_size = 48'000'000;

struct probe_result {
  error_code ec;
  diagnostics diag;
  std::uint64_t connection_id = 0;  // the pooled connection the probe went out on
};

// {"probe": 1} on database "db": a command no rule retries (retryable-reads.md: runCommand is
// not retryable), so the hostile bytes reach the caller as they are.
asio::awaitable<error_code> run_probe(client& c, diagnostics& diag) {
  const std::string db = "db";
  const auto command = bson::document::from_json(R"({"probe": 1})");
  bson::document reply;
  auto pending = c.run_command(db, command, reply, diag);
  co_return co_await std::move(pending);
}

// The same, with a deadline of the caller's: Asio cancellation after `limit`.
asio::awaitable<error_code> run_probe_with_deadline(client& c, diagnostics& diag, std::chrono::milliseconds limit) {
  auto ex = co_await asio::this_coro::executor;
  asio::cancellation_signal cancel;
  asio::steady_timer deadline(ex, limit);
  deadline.async_wait([&cancel](error_code ec) {
    if (!ec) cancel.emit(asio::cancellation_type::terminal);
  });
  const auto command = bson::document::from_json(R"({"probe": 1})");
  bson::document reply;
  const std::string_view db = "db";
  auto token = asio::bind_cancellation_slot(cancel.slot(), asio::as_tuple(asio::use_awaitable));
  auto pending = c.async_run_command(db, command, reply, diag, token);
  auto [ec] = co_await std::move(pending);
  deadline.cancel();
  co_return ec;
}

// A client of the scripted peer whose pool keeps two connections (minPoolSize=2), recording
// pool events, the connection of every probe and the frames each connection decoded.
struct hostile_client {
  asio::io_context io;
  scripted::scripted_peer peer{io};
  event_recorder pool;
  std::vector<std::uint64_t> probe_connections;
  std::map<std::uint64_t, int> frames_received;
  std::unique_ptr<client> c;

  explicit hostile_client(std::chrono::milliseconds socket_timeout = 400ms) {
    client_options o;
    o.on_pool_event = pool.handler();
    o.on_command = [this](const command_event& e) {
      if (e.type == command_event_type::started && e.command_name == "probe")
        probe_connections.push_back(e.connection_id);
    };
    o.on_frame = [this](const frame_event& e) {
      if (!e.outgoing) ++frames_received[e.connection_id];
    };
    const std::string uri = peer.uri() + "&minPoolSize=2&socketTimeoutMS=" + std::to_string(socket_timeout.count());
    c = std::make_unique<client>(io.get_executor(), uri, std::move(o));
    REQUIRE_MESSAGE(run_until(io, [this] { return pool.count(pool_event_type::connection_ready) >= 2; }),
                    "the pool never held two connections");
  }

  probe_result probe(step answer) {
    peer.play({std::move(answer)});
    probe_result r;
    r.ec = run(io, run_probe(*c, r.diag), 5s);
    if (!probe_connections.empty()) r.connection_id = probe_connections.back();
    INFO(peer.transcript());
    CHECK(peer.problems().empty());
    CHECK(peer.script_done());
    return r;
  }

  // Pool events of `type` from index `from` on.
  std::vector<pool_event> events_since(std::size_t from, pool_event_type type) const {
    std::vector<pool_event> out;
    for (std::size_t i = from; i < pool.events.size(); ++i)
      if (pool.events[i].type == type) out.push_back(pool.events[i]);
    return out;
  }

  // The client closed, every connection it made is closed too.
  void close_and_check_nothing_left() {
    auto closing = c->close();
    run(io, std::move(closing), 5s);
    const bool all_closed = run_until(io, [this] {
      return pool.count(pool_event_type::connection_closed) == pool.count(pool_event_type::connection_created);
    });
    CHECK_MESSAGE(all_closed, pool.count(pool_event_type::connection_created)
                                  << " connections created, " << pool.count(pool_event_type::connection_closed)
                                  << " closed");
  }
};

// The operation after a hostile reply succeeds, on another connection than `hostile_id`.
void check_next_probe_succeeds(hostile_client& h, std::uint64_t hostile_id) {
  auto next = h.probe(expect("probe"));
  CHECK_MESSAGE(!next.ec, next.ec.message() << ": " << describe(next.diag));
  CHECK(next.connection_id != hostile_id);
}

// The rule of every refused reply: the error named `what`, only that connection was closed
// (reason "error"), the pool was not cleared, and the next operation succeeds.
void check_refused(hostile_client& h, std::size_t events_before, const probe_result& r, error_code expected,
                   std::string_view what) {
  CHECK_MESSAGE(r.ec == expected, r.ec.category().name() << ": " << r.ec.message() << " (" << describe(r.diag) << ")");
  CHECK_MESSAGE(r.diag.client_message.find(what) != std::string::npos, r.diag.client_message);
  CHECK(r.diag.server_address == h.peer.address());
  const auto closed = h.events_since(events_before, pool_event_type::connection_closed);
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].connection_id == r.connection_id);
  CHECK(closed[0].reason == "error");
  CHECK(h.events_since(events_before, pool_event_type::pool_cleared).empty());
  check_next_probe_succeeds(h, r.connection_id);
  h.close_and_check_nothing_left();
}

// One hostile reply refused with `expected`, its message naming `what`.
void check_reply_refused(wire_delivery how, error_code expected, std::string_view what) {
  hostile_client h;
  const auto before = h.pool.events.size();
  auto r = h.probe(expect("probe").deliver(std::move(how)));
  check_refused(h, before, r, expected, what);
}

// ---------------------------------------------------------------- rewrites of the reply

wire_delivery withheld() {
  wire_delivery how;
  how.withhold = true;
  return how;
}

wire_delivery dribbled(std::chrono::milliseconds per_byte) {
  wire_delivery how;
  how.byte_delay = per_byte;
  return how;
}

wire_delivery with_message_length(std::int32_t length) {
  return {.rewrite = [length](frame_bytes& f) { wire::store_i32le(f.data(), length); }};
}

wire_delivery with_flag_bits(std::uint32_t bits) {
  return {.rewrite = [bits](frame_bytes& f) {
    wire::store_u32le(f.data() + flag_bits_at, wire::load_u32le(f.data() + flag_bits_at) | bits);
  }};
}

// Appends `bytes` to the frame and makes messageLength count them.
void append_to_frame(frame_bytes& f, const frame_bytes& bytes) {
  wire::append_bytes(f, bytes);
  wire::patch_message_length(f);
}

// The byte offset of the element named `key` (its value follows the key's NUL).
std::size_t value_of(const frame_bytes& f, std::string_view key) {
  const std::string needle = std::string(key) + '\0';
  auto at = std::search(f.begin(), f.end(), needle.begin(), needle.end());
  REQUIRE(at != f.end());
  return static_cast<std::size_t>(at - f.begin()) + needle.size();
}

}  // namespace

TEST_CASE("hostile: messageLength above maxMessageSizeBytes is refused from the header, before the body is read") {
  check_reply_refused(with_message_length(peer_max_message_size + 1), protocol_errc::message_too_long,
                      "messageLength 48000001 exceeds maxMessageSizeBytes 48000000");
}

TEST_CASE("hostile: messageLength below the 16-byte header (4, 15, negative) is message_too_short") {
  for (std::int32_t length : {4, 15, -1}) {
    CAPTURE(length);
    check_reply_refused(with_message_length(length), protocol_errc::message_too_short,
                        "messageLength " + std::to_string(length) + " is smaller than the 16-byte header");
  }
}

TEST_CASE("hostile: a reply whose responseTo names another request is response_to_mismatch (wire protocol)") {
  wire_delivery how{.rewrite = [](frame_bytes& f) {
    wire::store_i32le(f.data() + response_to_at, wire::load_i32le(f.data() + response_to_at) + 1000);
  }};
  check_reply_refused(std::move(how), protocol_errc::response_to_mismatch, "answers request");
}

TEST_CASE("hostile: an unknown required flag bit (OP_MSG.md flagBits 0-15) is an error") {
  check_reply_refused(with_flag_bits(1u << 2), protocol_errc::unknown_required_flag,
                      "flagBits 0x00000004 sets unknown required bit(s) 2");
}

TEST_CASE("hostile: an unknown optional flag bit (OP_MSG.md flagBits 16-31) is ignored") {
  hostile_client h;
  const auto before = h.pool.events.size();
  auto r = h.probe(expect("probe").deliver(with_flag_bits(1u << 20)));
  CHECK_MESSAGE(!r.ec, describe(r.diag));
  CHECK(h.events_since(before, pool_event_type::connection_closed).empty());
  h.close_and_check_nothing_left();
}

TEST_CASE("hostile: checksumPresent with a wrong CRC-32C is checksum_mismatch (OP_MSG.md checksum)") {
  wire_delivery how{.rewrite = [](frame_bytes& f) {
    wire::store_u32le(f.data() + flag_bits_at, wire::msg_flag::checksum_present);
    frame_bytes crc;
    wire::append_u32le(crc, 0);
    append_to_frame(f, crc);
    wire::store_u32le(f.data() + f.size() - 4, wire::crc32c({f.data(), f.size() - 4}) ^ 1u);
  }};
  check_reply_refused(std::move(how), protocol_errc::checksum_mismatch, "differs from computed");
}

TEST_CASE("hostile: a kind-1 section whose size runs past the frame is section_overrun") {
  wire_delivery how{.rewrite = [](frame_bytes& f) {
    frame_bytes section{1};
    wire::append_i32le(section, 1000);  // the section holds 4 + 5 + 5 bytes
    wire::append_cstring(section, "docs");
    wire::append_bytes(section, bson::document().get_view().bytes());
    append_to_frame(f, section);
  }};
  check_reply_refused(std::move(how), protocol_errc::section_overrun, "kind-1 size 1000 does not fit");
}

TEST_CASE("hostile: a nested document whose length lies inside a well-sized body is invalid_bson") {
  wire_delivery how{.rewrite = [](frame_bytes& f) {
    const std::size_t nested = value_of(f, "nested");
    wire::store_i32le(f.data() + nested, wire::load_i32le(f.data() + nested) + 3);  // ends inside its parent
  }};
  hostile_client h;
  const auto before = h.pool.events.size();
  auto r = h.probe(expect("probe").reply(R"({"ok": 1, "nested": {"x": 1}, "after": "tail"})").deliver(std::move(how)));
  check_refused(h, before, r, protocol_errc::invalid_bson, "kind-0 document");
}

TEST_CASE("hostile: a reply that never comes ends at socketTimeoutMS with socket_timeout, the pool kept (SDAM)") {
  hostile_client h;
  const auto before = h.pool.events.size();
  const auto started = steady_clock::now();
  auto r = h.probe(expect("probe").deliver(withheld()));
  CHECK(steady_clock::now() - started < 3s);
  check_refused(h, before, r, network_errc::socket_timeout, "reading from");
}

TEST_CASE("hostile: a reply that never comes ends at the caller's deadline (Asio cancellation), connection closed") {
  hostile_client h(10s);
  h.peer.play({expect("probe").deliver(withheld())});
  const auto before = h.pool.events.size();
  probe_result r;
  const auto started = steady_clock::now();
  r.ec = run(h.io, run_probe_with_deadline(*h.c, r.diag, 150ms), 5s);
  CHECK(steady_clock::now() - started < 3s);
  CHECK(r.ec == asio::error::operation_aborted);
  const auto closed = h.events_since(before, pool_event_type::connection_closed);
  REQUIRE(closed.size() == 1);  // never checked in as reusable: its reply could still arrive
  CHECK(closed[0].connection_id == h.probe_connections.back());
  CHECK(h.events_since(before, pool_event_type::pool_cleared).empty());
  check_next_probe_succeeds(h, closed[0].connection_id);
  h.close_and_check_nothing_left();
}

TEST_CASE("hostile: a reply dribbled one byte at a time is read whole and succeeds") {
  hostile_client h(5s);
  const auto before = h.pool.events.size();
  const std::string long_text(120, 'd');
  auto r = h.probe(expect("probe").reply(R"({"ok": 1, "text": ")" + long_text + R"("})").deliver(dribbled(1ms)));
  CHECK_MESSAGE(!r.ec, describe(r.diag));
  CHECK(h.events_since(before, pool_event_type::connection_closed).empty());
  check_next_probe_succeeds(h, 0);
  h.close_and_check_nothing_left();
}

TEST_CASE("hostile: a frame cut short by a closed connection is a network error: SDAM marks Unknown, clears the pool") {
  hostile_client h;
  const auto before = h.pool.events.size();
  auto r = h.probe(
      expect("probe").deliver({.rewrite = [](frame_bytes& f) { f.resize(f.size() / 2); }, .close_after = true}));
  CHECK_MESSAGE(r.ec == network_errc::connection_closed, r.ec.message());
  CHECK(r.diag.client_message.find("reading from") != std::string::npos);
  // SDAM "Network error when reading or writing": a non-timeout network error after the
  // handshake marks the server Unknown and clears its pool (the other connection goes stale).
  CHECK(h.events_since(before, pool_event_type::pool_cleared).size() == 1);
  check_next_probe_succeeds(h, r.connection_id);
  h.close_and_check_nothing_left();
}

TEST_CASE("hostile: a flood of replies nobody asked for closes the connection instead of being buffered or read") {
  constexpr int unsolicited = 2000;  // ~80 KB: more than one read of the connection
  hostile_client h;
  const auto before = h.pool.events.size();
  wire_delivery how{.rewrite = [](frame_bytes& f) {
    const frame_bytes reply = f;
    for (int i = 0; i < unsolicited; ++i) wire::append_bytes(f, reply);
  }};
  auto r = h.probe(expect("probe").deliver(std::move(how)));
  CHECK_MESSAGE(!r.ec, describe(r.diag));  // its own reply came first and was whole
  // CMAP "Perishable" (Errored: wire-protocol error): closed when checked in, never reused.
  const auto closed = h.events_since(before, pool_event_type::connection_closed);
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].connection_id == r.connection_id);
  CHECK(closed[0].reason == "error");
  CHECK(h.events_since(before, pool_event_type::pool_cleared).empty());
  CHECK(h.frames_received[r.connection_id] == 2);  // the hello and the probe's reply: no flood frame decoded
  check_next_probe_succeeds(h, r.connection_id);
  h.close_and_check_nothing_left();
}
