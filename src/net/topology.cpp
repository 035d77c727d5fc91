#include "net/topology.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proto/command/command_builder.hpp"
#include "proto/reply/command_reply.hpp"
#include "proto/sdam/server_selection.hpp"

namespace mongowire::detail::net {

using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct topology::monitor {
  monitor(asio::any_io_executor ex, host_address a) : address(std::move(a)), timer(std::move(ex)) {}
  host_address address;
  asio::steady_timer timer;
  std::unique_ptr<connection> conn;
  bool speaks_op_msg = false;  // learnt from the first hello reply
  bool check_requested = false;
  bool stopped = false;
  clock::time_point last_check{};
};

asio::awaitable<error_code> handshake(connection& c, const topology_options& opts, bson::document& reply_copy,
                                      diagnostics& diag, bool use_op_msg) {
  bson::document hello;
  hello_options ho;
  // handshake.md / OP_MSG.md "Usage": without an API version the first hello goes as legacy
  // isMaster over OP_QUERY, unless the server is already known to speak OP_MSG.
  ho.legacy_name = !use_op_msg;
  ho.client = default_client_metadata(opts.app_name);
  build_hello(hello, ho);
  bson::view reply;
  if (use_op_msg) {
    append_command_fields(hello, command_fields{.db = admin_db});
    if (auto ec = co_await c.async_command(hello, std::nullopt, reply, diag)) co_return ec;
  } else if (auto ec = co_await c.async_legacy_command(hello, reply, diag)) {
    co_return ec;
  }
  if (auto ec = check_command_reply(reply, diag)) co_return ec;
  reply_copy = bson::document(reply);
  if (auto id = reply["connectionId"].as_integer()) c.server_connection_id = *id;
  c.max_wire_version = static_cast<std::int32_t>(reply["maxWireVersion"].as_integer().value_or(0));
  if (auto max = reply["maxMessageSizeBytes"].as_integer(); max && *max > 0)
    c.set_max_message_size(static_cast<std::size_t>(*max));
  co_return error_code{};
}

topology::topology(asio::any_io_executor ex, topology_options opts)
    : ex_(std::move(ex)), opts_(std::move(opts)), description_(opts_.sdam) {}

topology::~topology() { close(); }

void topology::start() {
  for (const auto& s : description_.servers()) add_server(s.address);
}

void topology::close() {
  if (closed_) return;
  closed_ = true;
  invalidate_selection();
  for (auto& [address, m] : monitors_) {
    m->stopped = true;
    m->timer.cancel();
    if (m->conn) m->conn->close();
  }
  monitors_.clear();
  for (auto& [address, p] : pools_) p->close();
  pools_.clear();
  notify_selection_waiters();
}

void topology::add_server(const host_address& address) {
  if (closed_ || monitors_.count(address)) return;
  invalidate_selection();
  auto m = std::make_shared<monitor>(ex_, address);
  monitors_.emplace(address, m);
  auto self = weak_from_this();
  auto init = [self, address](connection& c, diagnostics& diag) -> asio::awaitable<error_code> {
    auto t = self.lock();
    if (!t) co_return client_errc::client_closed;
    co_return co_await t->initialize_pooled_connection(address, c, diag);
  };
  pools_.emplace(address, std::make_shared<pool>(ex_, address.to_string(), opts_.pool, opts_.connection,
                                                 std::move(init), opts_.on_pool_event));
  asio::co_spawn(ex_, monitor_loop(m), asio::detached);
}

void topology::remove_server(const host_address& address) {
  invalidate_selection();
  if (auto it = monitors_.find(address); it != monitors_.end()) {
    it->second->stopped = true;
    it->second->timer.cancel();
    if (it->second->conn) it->second->conn->close();
    monitors_.erase(it);
  }
  if (auto it = pools_.find(address); it != pools_.end()) {
    it->second->close();
    pools_.erase(it);
  }
}

void topology::apply(const sdam::topology_changes& changes, const host_address& checked) {
  invalidate_selection();  // description_ was just updated by the caller
  if (changes.ignored) return;
  for (const auto& a : changes.added) add_server(a);
  for (const auto& a : changes.removed) remove_server(a);
  for (const auto& a : changes.clear_pool)
    if (auto it = pools_.find(a); it != pools_.end()) it->second->clear();
  for (const auto& a : changes.request_check)
    if (auto it = monitors_.find(a); it != monitors_.end()) {
      it->second->check_requested = true;
      it->second->timer.cancel();
    }
  if (changes.pool_ready)
    if (auto it = pools_.find(checked); it != pools_.end()) it->second->mark_ready();
  notify_selection_waiters();
}

void topology::notify_selection_waiters() {
  for (auto* t : selection_waiters_) t->cancel();
}

void topology::request_immediate_check() {
  for (auto& [address, m] : monitors_) {
    m->check_requested = true;
    m->timer.cancel();
  }
}

asio::awaitable<error_code> topology::check(monitor& m, diagnostics& diag) {
  if (!m.conn || m.conn->is_broken() || !m.conn->is_open()) {
    m.conn = std::make_unique<connection>(ex_, opts_.connection);
    // Monitors use connectTimeoutMS for reads too (SDAM "Timeouts").
    m.conn->set_socket_timeout(opts_.connection.connect_timeout);
    m.speaks_op_msg = false;
    if (auto ec = co_await m.conn->async_connect(m.address.host, m.address.port, diag)) co_return ec;
  }
  const auto started = clock::now();
  bson::view reply;
  bson::document hello;
  error_code ec;
  if (!m.speaks_op_msg) {
    bson::document copy;
    ec = co_await handshake(*m.conn, opts_, copy, diag, false);
    if (!ec) {
      hello = std::move(copy);
      reply = hello;
    }
  } else {
    build_hello(hello);
    append_command_fields(hello, command_fields{.db = admin_db});
    bson::view r;
    ec = co_await m.conn->async_command(hello, std::nullopt, r, diag);
    if (!ec) ec = check_command_reply(r, diag);
    if (!ec) reply = r;
  }
  const double rtt_ms = std::chrono::duration<double, std::milli>(clock::now() - started).count();
  if (opts_.on_heartbeat)
    opts_.on_heartbeat(server_heartbeat_event{m.address.to_string(), !ec,
                                              std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - started),
                                              ec ? bson::view() : reply, ec});
  if (ec) co_return ec;
  m.speaks_op_msg = reply["maxWireVersion"].as_integer().value_or(0) >= 6;
  if (closed_ || m.stopped) co_return client_errc::client_closed;
  apply(description_.apply_hello(m.address, reply, rtt_ms), m.address);
  co_return error_code{};
}

asio::awaitable<void> topology::monitor_loop(std::shared_ptr<monitor> m) {
  auto self = shared_from_this();
  bool previously_known = false;
  while (!m->stopped && !closed_) {
    m->check_requested = false;
    m->last_check = clock::now();
    diagnostics diag;
    auto ec = co_await check(*m, diag);
    if (m->stopped || closed_) co_return;
    if (ec) {
      // SDAM "Network error during server check": retry once at once when the server was
      // known, since a single failure may just be a connection reset.
      if (previously_known) {
        previously_known = false;
        diagnostics retry_diag;
        if (!(ec = co_await check(*m, retry_diag))) {
          previously_known = true;
          continue;
        }
        diag = retry_diag;
      }
      if (m->stopped || closed_) co_return;
      if (auto it = pools_.find(m->address); it != pools_.end()) it->second->clear();
      apply(description_.apply_check_failure(m->address, diag.message.empty() ? ec.message() : diag.message),
            m->address);
    } else {
      previously_known = true;
    }
    // Sleep until the next heartbeat, or until a check is requested (but never check
    // more often than minHeartbeatFrequencyMS).
    auto next = m->last_check + opts_.heartbeat_frequency;
    for (;;) {
      m->timer.expires_at(m->check_requested ? m->last_check + opts_.min_heartbeat_frequency : next);
      co_await m->timer.async_wait(use_tuple);
      if (m->stopped || closed_) co_return;
      if (clock::now() >= m->timer.expiry()) break;
    }
  }
}

asio::awaitable<error_code> topology::initialize_pooled_connection(const host_address& address, connection& c,
                                                                    diagnostics& diag) {
  error_code ec = co_await c.async_connect(address.host, address.port, diag);
  bson::document reply;
  const auto* known = description_.find(address);
  const bool speaks_op_msg = known && known->type != sdam::server_type::unknown && known->max_wire_version >= 6;
  if (!ec) ec = co_await handshake(c, opts_, reply, diag, speaks_op_msg);
  if (!ec) {
    auto max_wire = reply["maxWireVersion"].as_integer().value_or(0);
    if (max_wire < opts_.sdam.min_wire_version) {
      diag.message = "server at " + address.to_string() + " reports maximum wire version " + std::to_string(max_wire) +
                     ", but this version of mongowire requires at least " +
                     std::to_string(opts_.sdam.min_wire_version) + " (MongoDB 4.2)";
      co_return client_errc::wire_version_unsupported;
    }
    co_return error_code{};
  }
  // SDAM "Error handling": a failed handshake marks the server Unknown and clears its pool.
  if (ec.category() != server_category()) {
    sdam::application_error err;
    err.address = address;
    err.kind = ec == network_errc::socket_timeout || ec == network_errc::connect_timeout ? sdam::error_kind::network_timeout
                                                                                       : sdam::error_kind::network;
    err.completed_handshake = false;
    err.message = diag.message;
    if (auto it = pools_.find(address); it != pools_.end()) {
      err.connection_generation = c.generation;
      err.pool_generation = it->second->generation();
    }
    handle_application_error(err);
  }
  co_return ec;
}

std::optional<selected_server> topology::try_select_writable() {
  if (writable_valid_) return writable_;
  writable_.reset();
  auto result = sdam::select_writable(description_);
  for (const auto& address : result.candidates) {
    auto it = pools_.find(address);
    const auto* desc = description_.find(address);
    if (it != pools_.end() && desc) {
      writable_ = selected_server{it->second, std::make_shared<const sdam::server_description>(*desc)};
      break;
    }
  }
  writable_valid_ = true;
  return writable_;
}

asio::awaitable<error_code> topology::async_select_writable(selected_server& out, diagnostics& diag) {
  const auto deadline = clock::now() + opts_.server_selection_timeout;
  asio::steady_timer waiter(ex_);
  for (;;) {
    if (closed_) co_return client_errc::client_closed;
    if (!description_.compatible()) {
      diag.message = description_.compatibility_error();
      co_return client_errc::wire_version_unsupported;
    }
    if (auto s = try_select_writable()) {
      out = std::move(*s);
      co_return error_code{};
    }
    if (clock::now() >= deadline) {
      diag.message = "no writable server found within serverSelectionTimeoutMS (" +
                     std::to_string(opts_.server_selection_timeout.count()) + " ms); topology type " +
                     std::string(sdam::to_string(description_.type()));
      for (const auto& s : description_.servers()) {
        diag.message += "; " + s.address.to_string() + " " + std::string(sdam::to_string(s.type));
        if (!s.error.empty()) diag.message += " (" + s.error + ")";
      }
      co_return client_errc::server_selection_timeout;
    }
    request_immediate_check();
    waiter.expires_at(deadline);
    selection_waiters_.push_back(&waiter);
    co_await waiter.async_wait(use_tuple);
    selection_waiters_.remove(&waiter);
    // operation_aborted is either a topology change (loop again) or the caller's
    // cancellation, which the coroutine's cancellation state tells apart.
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return asio::error::operation_aborted;
  }
}

void topology::handle_application_error(const sdam::application_error& err) {
  auto response = description_.handle_application_error(err);
  invalidate_selection();
  if (response.ignored) return;
  if (response.clear_pool)
    if (auto it = pools_.find(err.address); it != pools_.end()) it->second->clear();
  apply(response.changes, err.address);
  if (response.request_immediate_check)
    if (auto it = monitors_.find(err.address); it != monitors_.end()) {
      it->second->check_requested = true;
      it->second->timer.cancel();
    }
}

}  // namespace mongowire::detail::net
