// net::topology's server monitors, after server-monitoring.md: the streaming protocol
// (awaitable hello with exhaustAllowed) plus an RTT monitor for servers that report a
// topologyVersion, polling otherwise; the error handling of "Network or command error during
// server check"; heartbeat events.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/monitor.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/reply/command_reply.hpp"

namespace mongowire::detail::net {

using clock = std::chrono::steady_clock;

namespace {

double milliseconds_since(clock::time_point start) {
  return std::chrono::duration<double, std::milli>(clock::now() - start).count();
}

bool is_network_timeout(error_code ec) noexcept {
  return ec == network_errc::socket_timeout || ec == network_errc::connect_timeout;
}

enum class check_kind { handshake, streamed, awaitable, polled };

}  // namespace

asio::awaitable<void> topology::monitor_loop([[maybe_unused]] std::shared_ptr<topology> self,
                                             std::shared_ptr<monitor> m) {
  while (!m->stopped && !closed_) {
    const auto* current = description_.find(m->address);
    const bool was_known = current && current->type != sdam::server_type::unknown;
    check_result r;
    diagnostics diag;
    const error_code ec = co_await check(*m, r, diag);
    if (m->stopped || closed_) co_return;
    if (!ec) {
      on_check_succeeded(*m, r);
      // "Heartbeat frequency": while streaming, the next check starts at once.
      if (streaming_ && m->topology_version) continue;
    } else if (m->check_cancelled) {
      m->check_cancelled = false;  // the client marked the server Unknown: just wait
      m->conn.reset();
    } else {
      on_check_failed(*m, ec, diag);
      // "Network or command error during server check", step 4: a known server that failed
      // with a network error is checked again at once (after it was marked Unknown).
      if (was_known && ec.category() != server_category()) continue;
    }
    co_await wait_for_next_check(*m);
  }
}

// One check: a new connection's handshake, the next streamed reply, an awaitable hello, or
// a polled hello. Publishes the heartbeat events around it.
asio::awaitable<error_code> topology::check(monitor& m, check_result& out, diagnostics& diag) {
  m.checking = true;
  m.check_cancelled = false;
  m.last_check = clock::now();
  check_kind kind = check_kind::polled;
  if (!m.conn || m.conn->is_broken() || !m.conn->is_open()) kind = check_kind::handshake;
  else if (m.conn->more_to_come()) kind = check_kind::streamed;
  else if (streaming_ && m.topology_version) kind = check_kind::awaitable;
  out.awaited = kind == check_kind::streamed || kind == check_kind::awaitable;
  // Made before "heartbeat started", whose log message names the connection (driverConnectionId).
  if (kind == check_kind::handshake) m.conn = std::make_unique<connection>(ex_, opts_.connection);
  publish_heartbeat(m, sdam_event_type::server_heartbeat_started, &out, {}, nullptr);
  const auto started = clock::now();
  error_code ec;
  if (kind == check_kind::handshake) ec = co_await open_monitor_connection(m, out, diag);
  else if (kind == check_kind::streamed) ec = co_await read_streamed_hello(m, out, diag);
  else ec = co_await hello_on_monitor(m, kind == check_kind::awaitable, out, diag);
  out.duration = clock::now() - started;
  m.checking = false;
  const auto type = ec ? sdam_event_type::server_heartbeat_failed : sdam_event_type::server_heartbeat_succeeded;
  if (!m.stopped && !closed_) publish_heartbeat(m, type, &out, ec, &diag);
  co_return ec;
}

asio::awaitable<error_code> topology::open_monitor_connection(monitor& m, check_result& out, diagnostics& diag) {
  // Monitors use connectTimeoutMS for reads too (server-monitoring.md "Monitoring").
  m.conn->set_socket_timeout(opts_.connection.connect_timeout);
  m.topology_version.reset();
  if (auto ec = co_await m.conn->async_connect(m.address.host, m.address.port, diag)) co_return ec;
  const auto started = clock::now();
  const error_code ec = co_await handshake(*m.conn, opts_, out.reply, diag, false);
  // "Measuring RTT": the handshake's hello is a sample.
  if (!ec) out.rtt_sample_ms = milliseconds_since(started);
  co_return ec;
}

asio::awaitable<error_code> topology::hello_on_monitor(monitor& m, bool awaitable, check_result& out,
                                                       diagnostics& diag) {
  bson::document hello;
  build_hello(hello);
  const auto connect_timeout = opts_.connection.connect_timeout;
  m.conn->set_socket_timeout(connect_timeout);
  if (awaitable) {
    // "Streaming hello": the last topologyVersion, maxAwaitTimeMS = heartbeatFrequencyMS, and
    // ("Socket timeout") connectTimeoutMS + heartbeatFrequencyMS to read, unlimited with 0.
    hello.append_document("topologyVersion", [&](bson::document& tv) {
      tv.append("processId", m.topology_version->process_id);
      tv.append("counter", m.topology_version->counter);
    });
    hello.append("maxAwaitTimeMS", static_cast<std::int64_t>(opts_.heartbeat_frequency.count()));
    if (connect_timeout.count() > 0) m.conn->set_socket_timeout(connect_timeout + opts_.heartbeat_frequency);
  }
  append_command_fields(hello, command_fields{.db = admin_db});
  const auto started = clock::now();
  bson::view reply;
  error_code ec;
  if (awaitable) ec = co_await m.conn->async_exhaust_command(hello, reply, diag);
  else ec = co_await m.conn->async_command(hello, std::nullopt, reply, diag);
  if (ec) co_return ec;
  // "Clients MUST NOT update RTT based on streaming hello responses".
  if (!awaitable) out.rtt_sample_ms = milliseconds_since(started);
  out.reply = bson::document(reply);
  co_return check_command_reply(out.reply, diag);
}

// "Streaming hello": the server announced (moreToCome) another reply without a request.
asio::awaitable<error_code> topology::read_streamed_hello(monitor& m, check_result& out, diagnostics& diag) {
  bson::view reply;
  if (auto ec = co_await m.conn->async_read_more(reply, diag)) co_return ec;
  out.reply = bson::document(reply);
  co_return check_command_reply(out.reply, diag);
}

void topology::on_check_succeeded(monitor& m, const check_result& r) {
  if (r.rtt_sample_ms && sdam::is_valid_rtt_sample(*r.rtt_sample_ms)) {
    m.rtt_average_ms = sdam::average_round_trip_time(m.rtt_average_ms, *r.rtt_sample_ms);
    m.add_rtt_sample(*r.rtt_sample_ms);
  }
  const bson::view reply = r.reply;
  m.topology_version.reset();
  if (auto tv = reply["topologyVersion"].as_document()) m.topology_version = sdam::parse_topology_version(*tv);
  // SDAM lastUpdateTime: the monitor's clock reading, in ms.
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch()).count();
  // "Measuring RTT": the description carries the monitor's average, not this reply's time.
  auto described =
      sdam::server_description::from_hello(m.address, reply, m.rtt_average_ms.value_or(0.0), std::nullopt, now_ms);
  described.min_round_trip_time_ms = sdam::min_round_trip_time(m.rtt_samples);
  update(std::move(described), m.address);
  if (!streaming_ || !m.topology_version || m.rtt_running || m.stopped || closed_) return;
  auto it = monitors_.find(m.address);
  if (it == monitors_.end()) return;
  m.rtt_running = true;
  asio::co_spawn(ex_, rtt_loop(shared_from_this(), it->second), asio::detached);
}

// server-monitoring.md "Network or command error during server check": 1. close the
// connection, 2. mark the server Unknown, 3. clear its pool, interrupting the connections in
// use after a network timeout, all before the next check.
void topology::on_check_failed(monitor& m, error_code ec, const diagnostics& diag) {
  if (m.conn) m.conn->close();
  m.conn.reset();
  m.topology_version.reset();
  m.rtt_average_ms.reset();  // "rttMonitor.reset()"
  m.rtt_samples.clear();
  const auto before = take_snapshot();
  auto why = describe(diag);
  if (why.empty()) why = ec.message();
  const auto changes = description_.apply_check_failure(m.address, why);
  publish_changes(before);
  if (!changes.ignored)
    if (auto it = pools_.find(m.address); it != pools_.end())
      it->second->clear(is_network_timeout(ec), pool_clear_cause::heartbeat_failed, why);
  apply(changes, m.address);
}

// Sleeps heartbeatFrequencyMS after the last check began, or minHeartbeatFrequencyMS when a
// check is requested meanwhile.
asio::awaitable<void> topology::wait_for_next_check(monitor& m) {
  const auto next = m.last_check + opts_.heartbeat_frequency;
  for (;;) {
    m.timer.expires_at(m.check_requested ? m.last_check + opts_.min_heartbeat_frequency : next);
    co_await m.timer.async_wait(use_tuple);
    if (m.stopped || closed_) co_return;
    if (clock::now() >= m.timer.expiry()) break;
  }
  m.check_requested = false;  // this check answers every request made so far
}

// "Requesting an immediate check". A request during a check does not interrupt it (a streaming
// monitor keeps waiting for the server's reply) but, as the spec's Monitor pseudocode's event
// does, ends the wait that may follow it: after a check cancelled by an application error the
// selection that asked for a check is not left waiting for heartbeatFrequencyMS.
void topology::request_check(monitor& m) noexcept {
  if (m.stopped) return;
  m.check_requested = true;
  m.timer.cancel();
}

void topology::publish_heartbeat(monitor& m, sdam_event_type type, const check_result* r, error_code ec,
                                 const diagnostics* diag) const {
  if (type != sdam_event_type::server_heartbeat_started && opts_.on_heartbeat) {
    opts_.on_heartbeat(server_heartbeat_event{m.address.to_string(), !ec, r->duration,
                                              ec ? bson::view() : r->reply.get_view(), ec, r->awaited});
  }
  if (!sdam_observed()) return;
  sdam_event e = server_event(type, m.address);
  e.awaited = r->awaited;
  if (m.conn) {
    e.connection_id = m.conn->id();
    e.server_connection_id = m.conn->server_connection_id;
  }
  e.duration = r->duration;
  if (type == sdam_event_type::server_heartbeat_succeeded) e.reply = r->reply;
  e.error = ec;
  if (diag && ec) e.message = describe(*diag);
  if (ec && e.message.empty()) e.message = ec.message();
  publish(e);
}

// "Measuring RTT" while streaming: a hello every heartbeatFrequencyMS on a dedicated
// connection. Its failures change nothing but the connection; it publishes no events.
asio::awaitable<void> topology::rtt_loop([[maybe_unused]] std::shared_ptr<topology> self, std::shared_ptr<monitor> m) {
  while (!m->stopped && !closed_ && m->topology_version) {
    m->rtt_timer.expires_after(opts_.heartbeat_frequency);
    co_await m->rtt_timer.async_wait(use_tuple);
    if (m->stopped || closed_) break;
    double rtt_ms = 0;
    diagnostics diag;
    const error_code ec = co_await measure_rtt(*m, rtt_ms, diag);
    if (m->stopped || closed_) break;
    if (!ec && sdam::is_valid_rtt_sample(rtt_ms)) {
      m->rtt_average_ms = sdam::average_round_trip_time(m->rtt_average_ms, rtt_ms);
      m->add_rtt_sample(rtt_ms);
    }
    if (ec && m->rtt_conn) {
      m->rtt_conn->close();
      m->rtt_conn.reset();
    }
  }
  m->rtt_running = false;
}

asio::awaitable<error_code> topology::measure_rtt(monitor& m, double& rtt_ms, diagnostics& diag) {
  if (!m.rtt_conn) {
    m.rtt_conn = std::make_unique<connection>(ex_, opts_.connection);
    m.rtt_conn->set_socket_timeout(opts_.connection.connect_timeout);
    if (auto ec = co_await m.rtt_conn->async_connect(m.address.host, m.address.port, diag)) co_return ec;
    const auto started = clock::now();
    bson::document reply;
    if (auto ec = co_await handshake(*m.rtt_conn, opts_, reply, diag, false)) co_return ec;
    rtt_ms = milliseconds_since(started);
    co_return error_code{};
  }
  bson::document hello;
  build_hello(hello);
  append_command_fields(hello, command_fields{.db = admin_db});
  const auto started = clock::now();
  bson::view reply;
  if (auto ec = co_await m.rtt_conn->async_command(hello, std::nullopt, reply, diag)) co_return ec;
  rtt_ms = milliseconds_since(started);
  co_return error_code{};
}

}  // namespace mongowire::detail::net
