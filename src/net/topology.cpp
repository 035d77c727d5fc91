#include "net/topology.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "net/authenticate.hpp"
#include "net/monitor.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/reply/command_reply.hpp"
#include "proto/sdam/error_classes.hpp"

namespace mongowire::detail::net {

using clock = std::chrono::steady_clock;

namespace {
std::atomic<std::uint64_t> topology_counter{0};
}  // namespace

struct topology::selection_request {
  sdam::operation_kind kind = sdam::operation_kind::write;
  const sdam::read_preference* read_pref = nullptr;  // null: the writable server (cached)
  std::span<const host_address> deprioritized;
  selection_origin origin;
};

asio::awaitable<error_code> handshake(connection& c, const topology_options& opts, bson::document& reply_copy,
                                      diagnostics& diag, bool use_op_msg, auth::authenticator* auth) {
  bson::document hello;
  hello_options ho;
  // handshake.md / OP_MSG.md "Usage": without an API version the first hello goes as legacy
  // isMaster over OP_QUERY, unless the server is already known to speak OP_MSG.
  ho.legacy_name = !use_op_msg;
  ho.client = default_client_metadata(opts.app_name);
  ho.load_balanced = opts.sdam.load_balanced;  // load-balancers.md "Connection Establishment"
  // OP_COMPRESSED.md "MongoDB Handshake Amendment": the compressors offered, [] when none.
  bson::array_builder compressors;
  for (auto id : opts.connection.compressors) compressors.push(wire::compressor_name(id));
  ho.compression = compressors.get_view();
  build_hello(hello, ho);
  if (auth) auth->prepare_hello(hello);  // handshake.md "Speculative Authentication"
  bson::view reply;
  if (use_op_msg) {
    append_command_fields(hello, command_fields{.db = admin_db});
    if (auto ec = co_await c.async_command(hello, std::nullopt, reply, diag)) co_return ec;
  } else if (auto ec = co_await c.async_legacy_command(hello, reply, diag)) {
    co_return ec;
  }
  reply_copy = bson::document(reply);  // kept for SDAM also when it is an error
  if (auto ec = check_command_reply(reply_copy, diag)) co_return ec;
  if (auto id = reply_copy["connectionId"].as_integer()) c.server_connection_id = *id;
  c.max_wire_version = static_cast<std::int32_t>(reply_copy["maxWireVersion"].as_integer().value_or(0));
  if (auto max = reply_copy["maxMessageSizeBytes"].as_integer(); max && *max > 0)
    c.set_max_message_size(static_cast<std::size_t>(*max));
  c.set_compressor(wire::negotiated_compressor(opts.connection.compressors, reply_copy));
  if (!opts.sdam.load_balanced) co_return error_code{};
  c.service_id = reply_copy["serviceId"].as_oid();
  if (c.service_id) co_return error_code{};
  diag.client_message =  // load-balancers.md "Connection Establishment", its words
      "Driver attempted to initialize in load balancing mode, but the server does not support this mode. (" +
      c.address() + " answered hello without serviceId)";
  co_return client_errc::invalid_reply;
}

bool running_on_faas() noexcept {
  auto set = [](const char* name) { return std::getenv(name) != nullptr; };
  const char* aws = std::getenv("AWS_EXECUTION_ENV");
  return (aws && std::string_view(aws).starts_with("AWS_Lambda_")) || set("AWS_LAMBDA_RUNTIME_API") ||
         set("FUNCTIONS_WORKER_RUNTIME") || set("K_SERVICE") || set("FUNCTION_NAME") || set("VERCEL");
}

topology::topology(asio::any_io_executor ex, topology_options opts)
    : ex_(std::move(ex)),
      opts_(std::move(opts)),
      description_(opts_.sdam),
      id_(++topology_counter),
      // server-monitoring.md "serverMonitoringMode": auto streams unless on a FaaS platform.
      streaming_(opts_.monitoring_mode == server_monitoring_mode::stream ||
                 (opts_.monitoring_mode == server_monitoring_mode::automatic && !running_on_faas())),
      random_(std::random_device{}()) {}

topology::~topology() { close(); }

// ---------------------------------------------------------------- servers

void topology::start() {
  if (started_ || closed_) return;
  started_ = true;
  if (sdam_observed()) {
    // SDAM monitoring: TopologyOpeningEvent first; the first change starts from "unknown".
    publish(server_event(sdam_event_type::topology_opening, {}));
    sdam_event changed = server_event(sdam_event_type::topology_description_changed, {});
    changed.previous_topology.type = std::string(sdam::to_string(sdam::topology_type::unknown));
    changed.new_topology = take_snapshot()->info();
    if (description_.type() == sdam::topology_type::load_balanced) return start_load_balanced(changed);
    publish(changed);
  }
  for (const auto& s : description_.servers()) add_server(s.address);
}

// load-balancers.md "Monitoring": without a monitor, the events still tell the load balancer's
// story: LoadBalanced with an Unknown server, ServerOpening, the server becoming LoadBalancer,
// then LoadBalanced with the LoadBalancer. `changed` is the first TopologyDescriptionChanged.
void topology::start_load_balanced(sdam_event changed) {
  topology_description_info with_unknown = changed.new_topology;
  for (auto& s : with_unknown.servers) s = server_description_info{s.address, "Unknown"};
  changed.new_topology = with_unknown;
  publish(changed);
  for (const auto& s : description_.servers()) {
    add_server(s.address);
    sdam_event server_changed = server_event(sdam_event_type::server_description_changed, s.address);
    server_changed.previous_server = server_description_info{s.address.to_string(), "Unknown"};
    server_changed.new_server = info_of(s);
    publish(server_changed);
  }
  sdam_event topology_changed = server_event(sdam_event_type::topology_description_changed, {});
  topology_changed.previous_topology = std::move(with_unknown);
  topology_changed.new_topology = take_snapshot()->info();
  publish(topology_changed);
}

void topology::close() {
  if (closed_) return;
  closed_ = true;
  invalidate_selection();
  const auto before = take_snapshot();
  for (auto& [address, m] : monitors_) stop_monitor(*m);
  for (auto& [address, p] : pools_) p->close();
  if (started_ && before) {
    for (const auto& s : before->servers) publish(server_event(sdam_event_type::server_closed, s.address));
    // "Closing Topology Description": the description becomes "unknown" before TopologyClosedEvent.
    sdam_event changed = server_event(sdam_event_type::topology_description_changed, {});
    changed.previous_topology = before->info();
    changed.new_topology.type = std::string(sdam::to_string(sdam::topology_type::unknown));
    publish(changed);
    publish(server_event(sdam_event_type::topology_closed, {}));
  }
  monitors_.clear();
  pools_.clear();
  notify_selection_waiters();
}

void topology::add_server(const host_address& address) {
  if (closed_ || monitors_.count(address) || pools_.count(address)) return;
  invalidate_selection();
  publish(server_event(sdam_event_type::server_opening, address));  // before the monitor starts
  auto self = weak_from_this();
  auto init = [self, address](connection& c, diagnostics& diag) -> asio::awaitable<error_code> {
    auto t = self.lock();
    if (!t) co_return client_errc::client_closed;
    co_return co_await t->initialize_pooled_connection(address, c, diag);
  };
  auto p = std::make_shared<pool>(ex_, address.to_string(), opts_.pool, opts_.connection, std::move(init),
                                  pool_event_observer());
  pools_.emplace(address, p);
  // load-balancers.md "Monitoring": no monitoring connection; the pool is usable at once.
  if (description_.type() == sdam::topology_type::load_balanced) {
    p->set_load_balanced();
    return p->mark_ready();
  }
  auto m = std::make_shared<monitor>(ex_, address);
  monitors_.emplace(address, m);
  asio::co_spawn(ex_, monitor_loop(shared_from_this(), m), asio::detached);
}

void topology::remove_server(const host_address& address) {
  invalidate_selection();
  if (auto it = monitors_.find(address); it != monitors_.end()) {
    stop_monitor(*it->second);
    monitors_.erase(it);
  }
  if (auto it = pools_.find(address); it != pools_.end()) {
    it->second->close();
    pools_.erase(it);
  }
  publish(server_event(sdam_event_type::server_closed, address));
}

// server-monitoring.md "hello or legacy hello Cancellation": a closed client interrupts its
// monitors at once, also one blocked in an awaitable hello.
void topology::stop_monitor(monitor& m) noexcept {
  m.stopped = true;
  m.timer.cancel();
  m.rtt_timer.cancel();
  if (m.conn) m.conn->close();
  if (m.rtt_conn) m.rtt_conn->close();
}

void topology::update(sdam::server_description incoming, const host_address& checked) {
  const auto before = take_snapshot();
  const auto changes = description_.apply(std::move(incoming));
  publish_changes(before);
  apply(changes, checked);
}

void topology::apply(const sdam::topology_changes& changes, const host_address& checked) {
  invalidate_selection();  // description_ was just updated by the caller
  if (changes.ignored) return;
  for (const auto& a : changes.added) add_server(a);
  for (const auto& a : changes.removed) remove_server(a);
  for (const auto& a : changes.clear_pool)
    if (auto it = pools_.find(a); it != pools_.end()) it->second->clear(false, pool_clear_cause::topology_update);
  for (const auto& a : changes.request_check)
    if (auto it = monitors_.find(a); it != monitors_.end()) request_check(*it->second);
  // server-monitoring.md "Marking the connection pool as ready": with the topology update.
  if (changes.pool_ready)
    if (auto it = pools_.find(checked); it != pools_.end()) it->second->mark_ready();
  notify_selection_waiters();
}

void topology::notify_selection_waiters() {
  for (auto* t : selection_waiters_) t->cancel();
}

void topology::request_immediate_check() {
  for (auto& [address, m] : monitors_) request_check(*m);
}

// ---------------------------------------------------------------- server selection

// Not coroutines themselves: one coroutine frame per selection (no allocation once warm).
asio::awaitable<error_code> topology::async_select_writable(selected_server& out, diagnostics& diag,
                                                            selection_origin origin) {
  selection_request req;
  req.origin = origin;
  return select_loop(req, out, diag);
}

asio::awaitable<error_code> topology::async_select(sdam::operation_kind kind, const sdam::read_preference& read_pref,
                                                   std::span<const host_address> deprioritized, selected_server& out,
                                                   diagnostics& diag, selection_origin origin) {
  selection_request req;
  req.kind = kind;
  req.origin = origin;
  req.deprioritized = deprioritized;
  // Writes and plain primary reads take the cached writable selection (no allocation).
  const bool primary_read =
      read_pref.mode == read_preference_mode::primary && read_pref.tag_sets.empty() && !read_pref.has_max_staleness();
  if (!deprioritized.empty() || (kind == sdam::operation_kind::read && !primary_read)) req.read_pref = &read_pref;
  return select_loop(req, out, diag);
}

asio::awaitable<error_code> topology::select_loop(selection_request req, selected_server& out, diagnostics& diag) {
  // client-side-operations-timeout.md: computedServerSelectionTimeout = min(serverSelectionTimeoutMS,
  // remaining timeoutMS).
  const auto deadline = std::min(clock::now() + opts_.server_selection_timeout, req.origin.deadline);
  log_selection(req, selection_log_step::started, deadline);
  asio::steady_timer waiter(ex_);
  for (bool waited = false;; waited = true) {
    error_code ec;
    if (selection_decided(req, deadline, out, ec, diag)) {
      log_selection(req, ec ? selection_log_step::failed : selection_log_step::succeeded, deadline, &out, ec, &diag);
      co_return ec;
    }
    // server-selection.md "Server Selection Algorithm", step 5: logged once per operation.
    if (!waited) log_selection(req, selection_log_step::waiting, deadline);
    request_immediate_check();
    waiter.expires_at(deadline);
    selection_waiters_.push_back(&waiter);
    co_await waiter.async_wait(use_tuple);
    selection_waiters_.remove(&waiter);
    // operation_aborted is either a topology change (loop again) or the caller's
    // cancellation, which the coroutine's cancellation state tells apart.
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) {
      ec = asio::error::operation_aborted;
      log_selection(req, selection_log_step::failed, deadline, nullptr, ec, &diag);
      co_return ec;
    }
  }
}

// True when the selection ends now: `out` is the server (`ec` clear), or `ec` says why it fails.
bool topology::selection_decided(const selection_request& req, clock_time deadline, selected_server& out,
                                 error_code& ec, diagnostics& diag) {
  if (closed_) {
    ec = client_errc::client_closed;
    return true;
  }
  if (!description_.compatible()) {
    diag.client_message = description_.compatibility_error();
    ec = client_errc::wire_version_unsupported;
    return true;
  }
  std::string error;
  if (try_select(req, out, error)) {
    if (error.empty()) return true;
    diag.client_message = std::move(error);  // e.g. an invalid read preference: fail at once
    ec = client_errc::invalid_argument;
    return true;
  }
  if (clock::now() < deadline) return false;
  diag.client_message = selection_failure(req);
  ec = client_errc::server_selection_timeout;
  return true;
}

// server-selection.md "Logging". Nothing is built unless the serverSelection component logs
// the step's level. The failure leaves out the servers: topologyDescription shows them.
void topology::log_selection(const selection_request& req, selection_log_step step, clock_time deadline,
                             const selected_server* chosen, error_code ec, const diagnostics* diag) const {
  if (!opts_.logging.enabled(log_component::server_selection, selection_log_level(step))) return;
  const topology_description_info current =
      topology_info(description_.type(), description_.set_name(), description_.servers());
  // The writable server is what read preference primary selects, in every topology type.
  const std::string selector = req.read_pref ? sdam::to_string(*req.read_pref) : std::string("{mode: primary}");
  bson::document d =
      selection_log_data(step, selection_log{selector, req.origin.operation, req.origin.operation_id, &current});
  if (step == selection_log_step::succeeded && chosen && chosen->description) {
    append_server_address(d, chosen->description->address.to_string());
  } else if (step == selection_log_step::waiting) {
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    d.append("remainingTimeMS", static_cast<std::int64_t>(std::max<std::int64_t>(0, remaining.count())));
  } else if (step == selection_log_step::failed) {
    const bool timed_out = ec == client_errc::server_selection_timeout;
    const std::string failure = timed_out ? selection_failure(req, false) : std::string();
    d.append("failure", failure_document(ec, diag, failure, false));
  }
  opts_.logging.emit(log_component::server_selection, selection_log_level(step), d);
}

// True when decided: `out` is the server, or `error` says why selection fails at once.
bool topology::try_select(const selection_request& req, selected_server& out, std::string& error) {
  if (!req.read_pref) {
    auto s = try_select_writable();
    if (s) out = std::move(*s);
    return s.has_value();
  }
  sdam::selection_settings settings;
  settings.heartbeat_frequency_ms = opts_.heartbeat_frequency.count();
  settings.local_threshold_ms = opts_.local_threshold_ms;
  auto result = sdam::select_servers(description_, req.kind, *req.read_pref, req.deprioritized, settings);
  if (!result.error.empty()) {
    error = std::move(result.error);
    return true;
  }
  std::erase_if(result.candidates, [&](const host_address& a) { return !pools_.count(a); });
  if (result.candidates.empty()) return false;
  // server-selection.md, steps 6-7: the less busy of two random servers of the window.
  counts_.clear();
  for (const auto& a : result.candidates) counts_.push_back(operation_count(a));
  const host_address& chosen = result.candidates[sdam::choose_less_busy(counts_, random_)];
  out = selected_server{pools_.at(chosen), description_of(chosen)};
  return true;
}

std::optional<selected_server> topology::try_select_writable() {
  if (!writable_valid_) {
    writable_.clear();
    for (const auto& address : sdam::select_writable(description_, opts_.local_threshold_ms).candidates)
      if (auto it = pools_.find(address); it != pools_.end())
        if (auto d = description_of(address)) writable_.push_back(selected_server{it->second, std::move(d)});
    writable_valid_ = true;
  }
  if (writable_.empty()) return std::nullopt;
  if (writable_.size() == 1) return writable_.front();
  counts_.clear();  // several mongoses in the window
  for (const auto& s : writable_) counts_.push_back(operation_count(s.description->address));
  return writable_[sdam::choose_less_busy(counts_, random_)];
}

std::optional<selected_server> topology::server_at(const host_address& address) {
  auto it = pools_.find(address);
  if (closed_ || it == pools_.end()) return std::nullopt;
  auto description = description_of(address);
  if (!description) return std::nullopt;
  return selected_server{it->second, std::move(description)};
}

std::shared_ptr<const sdam::server_description> topology::description_of(const host_address& address) {
  if (auto it = snapshots_.find(address); it != snapshots_.end()) return it->second;
  const auto* d = description_.find(address);
  if (!d) return nullptr;
  auto s = std::make_shared<const sdam::server_description>(*d);
  snapshots_.emplace(address, s);
  return s;
}

std::uint64_t topology::operation_count(const host_address& address) const noexcept {
  auto it = pools_.find(address);
  if (it == pools_.end()) return 0;
  const pool& p = *it->second;
  return p.total_connections() - p.idle_connections() + p.waiters();
}

std::string topology::selection_failure(const selection_request& req, bool with_servers) const {
  std::string m = req.read_pref ? "no server suitable for read preference " + sdam::to_string(*req.read_pref) + " found"
                                : std::string("no writable server found");
  m += " within serverSelectionTimeoutMS (" + std::to_string(opts_.server_selection_timeout.count()) + " ms)";
  if (!with_servers) return m;
  m += "; topology type " + std::string(sdam::to_string(description_.type()));
  for (const auto& s : description_.servers()) {
    m += "; " + s.address.to_string() + " " + std::string(sdam::to_string(s.type));
    if (!s.error.empty()) m += " (" + s.error + ")";
  }
  return m;
}

void topology::read_pool_gauges(std::vector<pool_gauges>& out) const {
  out.resize(pools_.size());
  std::size_t i = 0;
  for (const auto& [address, p] : pools_) p->read_gauges(out[i++]);
}

void topology::invalidate_selection() noexcept {
  writable_valid_ = false;
  snapshots_.clear();
}

// ---------------------------------------------------------------- errors

namespace {

// The gauges' name for why SDAM "Error handling" cleared a pool.
pool_clear_cause clear_cause_of(sdam::error_kind kind) noexcept {
  switch (kind) {
    case sdam::error_kind::network: return pool_clear_cause::network_error;
    case sdam::error_kind::network_timeout: return pool_clear_cause::network_timeout;
    case sdam::error_kind::auth: return pool_clear_cause::authentication_error;
    case sdam::error_kind::command: return pool_clear_cause::state_change_error;
  }
  return pool_clear_cause::network_error;
}

}  // namespace

void topology::handle_application_error(const sdam::application_error& err) {
  // SDAM "Error handling": after the handshake, a command error other than a state change
  // (e.g. the WriteConflict of contention) changes nothing, so the selection cache stays
  // valid and the hot error path allocates no snapshot.
  if (err.kind == sdam::error_kind::command && err.completed_handshake && !sdam::is_state_change(err.code, err.message))
    return;
  const auto before = take_snapshot();
  auto response = description_.handle_application_error(err);
  if (response.ignored) return;
  invalidate_selection();
  publish_changes(before);
  // SDAM "Error handling pseudocode": the pool is cleared after the server is marked Unknown.
  // load-balancers.md "Post-Handshake Errors": only the connections of the erring service.
  if (auto it = pools_.find(err.address); response.clear_pool && it != pools_.end()) {
    if (err.service_id) it->second->clear_service(*err.service_id, clear_cause_of(err.kind), err.message);
    else if (description_.type() != sdam::topology_type::load_balanced)  // CMAP: never paused there
      it->second->clear(false, clear_cause_of(err.kind), err.message);
  }
  apply(response.changes, err.address);
  auto it = monitors_.find(err.address);
  if (it == monitors_.end()) return;
  if (response.request_immediate_check) request_check(*it->second);
  // server-monitoring.md "hello or legacy hello Cancellation": cancel the check in progress.
  if (response.cancel_monitor_check && it->second->conn) {
    it->second->check_cancelled = it->second->checking;
    it->second->conn->close();
  }
}

// uri-options.md "connectTimeoutMS": it applies to the hello of the handshake too, so a peer that
// accepts and never answers fails the establishment instead of holding it past socketTimeoutMS
// (unlimited by default).
asio::awaitable<error_code> topology::bounded_handshake(connection& c, bson::document& reply, diagnostics& diag,
                                                        bool speaks_op_msg, auth::authenticator* auth) {
  const auto socket_timeout = c.socket_timeout();
  const auto connect_timeout = opts_.connection.connect_timeout;
  if (connect_timeout.count() > 0 && (socket_timeout.count() == 0 || connect_timeout < socket_timeout))
    c.set_socket_timeout(connect_timeout);
  const error_code ec = co_await handshake(c, opts_, reply, diag, speaks_op_msg, auth);
  c.set_socket_timeout(socket_timeout);
  co_return ec;
}

asio::awaitable<error_code> topology::initialize_pooled_connection(const host_address& address, connection& c,
                                                                   diagnostics& diag) {
  error_code ec = co_await c.async_connect(address.host, address.port, diag);
  bson::document reply;
  const auto* known = description_.find(address);
  // load-balancers.md: "the OP_MSG protocol MUST be used for all steps of the connection handshake".
  const bool load_balanced = opts_.sdam.load_balanced;
  const bool speaks_op_msg =
      load_balanced || (known && known->type != sdam::server_type::unknown && known->max_wire_version >= 6);
  std::optional<auth::authenticator> authenticator;
  if (opts_.credential) authenticator.emplace(*opts_.credential, opts_.scram_cache);
  auth::authenticator* const auth = authenticator ? &*authenticator : nullptr;
  if (!ec) ec = co_await bounded_handshake(c, reply, diag, speaks_op_msg, auth);
  if (!ec) {
    auto max_wire = reply["maxWireVersion"].as_integer().value_or(0);
    if (max_wire < opts_.sdam.min_wire_version) {
      diag.client_message = "server at " + address.to_string() + " reports maximum wire version " +
                            std::to_string(max_wire) + ", but this version of mongowire requires at least " +
                            std::to_string(opts_.sdam.min_wire_version) + " (MongoDB 4.2)";
      co_return client_errc::wire_version_unsupported;
    }
    if (auto it = pools_.find(address); load_balanced && it != pools_.end()) it->second->assign_service(c);
    if (!auth) co_return error_code{};
    co_return co_await authenticate_pooled_connection(address, c, reply, *auth, diag);
  }
  // load-balancers.md "Initial Handshake Errors": ignored by SDAM in load-balanced mode.
  if (!closed_ && !load_balanced) report_handshake_error(address, c, ec, reply, diag, false);
  co_return ec;
}

// auth.md "Authentication Handshake": "If the authentication handshake fails for a socket,
// drivers MUST mark the server Unknown and clear the server's connection pool".
asio::awaitable<error_code> topology::authenticate_pooled_connection(const host_address& address, connection& c,
                                                                     bson::view hello_reply, auth::authenticator& a,
                                                                     diagnostics& diag) {
  const error_code ec = co_await async_authenticate(c, a, hello_reply, diag);
  if (ec && !closed_) {
    const bson::document failed_reply = diag.reply;  // the saslStart/saslContinue error reply
    report_handshake_error(address, c, ec, failed_reply, diag, true);
  }
  co_return ec;
}

// SDAM "MongoDB Handshake errors" with CMAP "Backpressure-enabled": network errors of the
// connection establishment and of hello get SystemOverloadedError and RetryableError and
// then change nothing; DNS and non-I/O TLS failures, server errors in the hello reply (e.g.
// ShutdownInProgress) and every error of the authentication step go through SDAM error
// handling with completedHandshake false.
void topology::report_handshake_error(const host_address& address, const connection& c, error_code ec, bson::view reply,
                                      diagnostics& diag, bool during_authentication) {
  sdam::application_error err;
  if (ec.category() == server_category()) {
    auto from_reply = sdam::command_error_from_reply(address, reply);
    if (!from_reply) return;
    err = std::move(*from_reply);
  } else if (ec == client_errc::authentication_failed) {
    err.address = address;  // a client-side verdict (bad server signature): a command error
    err.message = diag.client_message;
  } else if (ec.category() != client_category()) {
    err.address = address;
    const bool timeout = ec == network_errc::socket_timeout || ec == network_errc::connect_timeout;
    err.kind = timeout ? sdam::error_kind::network_timeout : sdam::error_kind::network;
    err.message = diag.client_message;
    // A refusal by DNS, the SOCKS5 proxy or TLS verification is not the server being overloaded.
    const bool refusal =
        ec == network_errc::dns_failed || ec == network_errc::proxy_failed || ec == network_errc::tls_handshake_failed;
    if (!during_authentication && !refusal) {
      diag.labels.add(label::system_overloaded);
      diag.labels.add(label::retryable_error);
      err.system_overloaded = true;
    }
  } else {
    return;  // our own refusal (e.g. the client is closed)
  }
  err.completed_handshake = false;
  err.connection_generation = c.generation;
  err.service_id = c.service_id;  // load-balanced mode: authentication errors clear this service only
  if (auto it = pools_.find(address); it != pools_.end())
    err.pool_generation = c.service_id ? it->second->generation_of(*c.service_id) : it->second->generation();
  handle_application_error(err);
}

// ---------------------------------------------------------------- SDAM events

bool topology::sdam_observed() const noexcept {
  return opts_.on_sdam_event || opts_.logging.enabled(log_component::topology, log_level::debug);
}

std::optional<topology::snapshot> topology::take_snapshot() const {
  if (!sdam_observed()) return std::nullopt;
  return snapshot{description_.type(), description_.set_name(), description_.servers()};
}

// ServerDescriptionChangedEvent per changed server (SDAM "Server Description Equality"), then
// one TopologyDescriptionChangedEvent when anything changed.
void topology::publish_changes(const std::optional<snapshot>& before) {
  if (!before) return;
  const auto& now = description_.servers();
  bool changed = before->type != description_.type() || before->set_name != description_.set_name() ||
                 before->servers.size() != now.size();
  for (const auto& d : now) {
    auto it = std::find_if(before->servers.begin(), before->servers.end(),
                           [&](const sdam::server_description& b) { return b.address == d.address; });
    if (it == before->servers.end()) {
      changed = true;  // a new member: ServerOpeningEvent when its monitor starts
      continue;
    }
    if (it->equivalent_to(d)) continue;
    changed = true;
    sdam_event e = server_event(sdam_event_type::server_description_changed, d.address);
    e.previous_server = info_of(*it);
    e.new_server = info_of(d);
    publish(e);
  }
  if (!changed) return;
  sdam_event e = server_event(sdam_event_type::topology_description_changed, {});
  e.previous_topology = before->info();
  e.new_topology = take_snapshot()->info();
  publish(e);
}

sdam_event topology::server_event(sdam_event_type type, const host_address& address) const {
  sdam_event e;
  e.type = type;
  e.topology_id = id_;
  if (!address.host.empty()) e.address = address.to_string();
  return e;
}

void topology::publish(const sdam_event& e) const {
  if (opts_.on_sdam_event) opts_.on_sdam_event(e);
  log_sdam_event(opts_.logging, e);
}

// CMAP "Connection Pool Logging" via the pools' events, when the connection component logs.
pool_event_handler topology::pool_event_observer() const {
  if (!opts_.logging.enabled(log_component::connection, log_level::debug)) return opts_.on_pool_event;
  bson::document settings;  // "Connection pool created" shows the pool's options
  settings.append("maxIdleTimeMS", static_cast<std::int64_t>(opts_.pool.max_idle_time.count()));
  settings.append("minPoolSize", static_cast<std::int64_t>(opts_.pool.min_pool_size));
  settings.append("maxPoolSize", static_cast<std::int64_t>(opts_.pool.max_pool_size));
  settings.append("maxConnecting", static_cast<std::int64_t>(opts_.pool.max_connecting));
  settings.append("waitQueueTimeoutMS", static_cast<std::int64_t>(opts_.pool.wait_queue_timeout.count()));
  return [user = opts_.on_pool_event, logging = opts_.logging, settings = std::move(settings)](const pool_event& e) {
    if (user) user(e);
    log_pool_event(logging, e, settings);
  };
}

}  // namespace mongowire::detail::net

namespace mongowire {
std::string_view to_string(sdam_event_type t) noexcept {
  switch (t) {
    case sdam_event_type::server_opening: return "ServerOpeningEvent";
    case sdam_event_type::server_closed: return "ServerClosedEvent";
    case sdam_event_type::server_description_changed: return "ServerDescriptionChangedEvent";
    case sdam_event_type::topology_opening: return "TopologyOpeningEvent";
    case sdam_event_type::topology_closed: return "TopologyClosedEvent";
    case sdam_event_type::topology_description_changed: return "TopologyDescriptionChangedEvent";
    case sdam_event_type::server_heartbeat_started: return "ServerHeartbeatStartedEvent";
    case sdam_event_type::server_heartbeat_succeeded: return "ServerHeartbeatSucceededEvent";
    case sdam_event_type::server_heartbeat_failed: return "ServerHeartbeatFailedEvent";
  }
  return "unknown";
}
}  // namespace mongowire
