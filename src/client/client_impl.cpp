#include "client/client_impl.hpp"
#include "proto/operation/operations.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "proto/command/command_builder.hpp"
#include "proto/command/redaction.hpp"
#include "proto/reply/command_reply.hpp"
#include "proto/retry/error_labels.hpp"
#include "proto/retry/retryable_codes.hpp"
#include "proto/sdam/server_selection.hpp"
#include "proto/sdam/topology_description.hpp"
#include "proto/txn/capabilities.hpp"

namespace mongowire::detail {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- session_impl

session_impl::session_impl(std::shared_ptr<client_impl> c, session_options opts, bool expl)
    : client(std::move(c)), options(std::move(opts)), is_explicit(expl) {}

session_impl::~session_impl() { release(); }

void session_impl::bind(detail::server_session s) noexcept {
  server_session = s;
  bound_ = true;
}

void session_impl::release() {
  if (released_) return;
  released_ = true;
  ended = true;
  unpin();  // transactions.md "When to unpin", rule 6
  if (bound_) client->session_pool().release(server_session, clock::now(), client->session_timeout());
}

void session_impl::begin_accounting() noexcept {
  accounting = transaction_accounting{};
  accounting_started = clock::now();
}

void session_impl::close_accounting() noexcept { accounting.total = clock::now() - accounting_started; }

void session_impl::advance_cluster_time(bson::view doc) {
  auto incoming = doc["clusterTime"].as_timestamp();
  if (!incoming) return;
  if (cluster_time) {
    auto current = (*cluster_time)["clusterTime"].as_timestamp();
    if (current && *current >= *incoming) return;
    cluster_time->clear();  // keeps its buffer: no allocation per reply once warm (issue 13)
    cluster_time->concat(doc);
    return;
  }
  cluster_time = bson::document(doc);
}

// ---------------------------------------------------------------- client_impl

namespace {

std::optional<bson::document> write_concern_from_uri(const connection_string& cs) {
  if (!cs.w && !cs.journal && !cs.wtimeout_ms) return std::nullopt;
  bson::document wc;
  if (cs.w) std::visit([&](const auto& w) { wc.append("w", w); }, *cs.w);
  if (cs.journal) wc.append("j", *cs.journal);
  if (cs.wtimeout_ms) wc.append("wtimeout", *cs.wtimeout_ms);
  return wc;
}

// TLS from the connection string (uri-options.md "tls*"): CA file or the system store,
// an optional client certificate, and the two "allow invalid" relaxations.
std::shared_ptr<asio::ssl::context> tls_context_from(const connection_string& cs) {
  if (!cs.tls.value_or(false)) return nullptr;
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  if (cs.tls_ca_file) ctx->load_verify_file(*cs.tls_ca_file);
  else ctx->set_default_verify_paths();
  if (cs.tls_certificate_key_file) {
    if (cs.tls_certificate_key_file_password) {
      auto password = *cs.tls_certificate_key_file_password;
      ctx->set_password_callback([password](std::size_t, asio::ssl::context::password_purpose) { return password; });
    }
    ctx->use_certificate_chain_file(*cs.tls_certificate_key_file);
    ctx->use_private_key_file(*cs.tls_certificate_key_file, asio::ssl::context::pem);
  }
  const bool insecure = cs.tls_insecure.value_or(false);
  ctx->set_verify_mode(insecure || cs.tls_allow_invalid_certificates.value_or(false) ? asio::ssl::verify_none
                                                                                     : asio::ssl::verify_peer);
  return ctx;
}

// socks5.md: proxyPort defaults to 1080; the credentials are used only when both are given.
net::proxy_settings proxy_settings_from(const connection_string& cs) {
  net::proxy_settings proxy;
  proxy.host = *cs.proxy_host;
  proxy.port = static_cast<std::uint16_t>(cs.proxy_port.value_or(1080));
  if (cs.proxy_username && cs.proxy_password) proxy.credentials = {*cs.proxy_username, *cs.proxy_password};
  return proxy;
}

net::topology_options topology_options_from(const connection_string& cs, const client_options& opts) {
  using std::chrono::milliseconds;
  net::topology_options t;
  t.sdam = sdam::topology_settings::from(cs);
  if (cs.max_pool_size) t.pool.max_pool_size = static_cast<std::size_t>(*cs.max_pool_size);
  if (cs.min_pool_size) t.pool.min_pool_size = static_cast<std::size_t>(*cs.min_pool_size);
  if (cs.max_connecting) t.pool.max_connecting = static_cast<std::size_t>(*cs.max_connecting);
  if (cs.wait_queue_timeout_ms) t.pool.wait_queue_timeout = milliseconds(*cs.wait_queue_timeout_ms);
  if (cs.max_idle_time_ms) t.pool.max_idle_time = milliseconds(*cs.max_idle_time_ms);
  if (cs.connect_timeout_ms) t.connection.connect_timeout = milliseconds(*cs.connect_timeout_ms);
  if (cs.socket_timeout_ms) t.connection.socket_timeout = milliseconds(*cs.socket_timeout_ms);
  if (cs.heartbeat_frequency_ms) t.heartbeat_frequency = milliseconds(*cs.heartbeat_frequency_ms);
  if (cs.local_threshold_ms) t.local_threshold_ms = *cs.local_threshold_ms;
  if (cs.monitoring_mode) t.monitoring_mode = *cs.monitoring_mode;
  if (cs.server_selection_timeout_ms) t.server_selection_timeout = milliseconds(*cs.server_selection_timeout_ms);
  t.connection.checksum = opts.checksum;
  for (const auto& name : cs.compressors)  // the parser kept only known names
    if (auto id = wire::compressor_from_name(name)) t.connection.compressors.push_back(*id);
  t.connection.zlib_level = cs.zlib_compression_level.value_or(wire::default_zlib_level);
  t.connection.tls = tls_context_from(cs);  // throws boost::system::system_error on unreadable files
  t.connection.verify_host_name = !cs.tls_insecure.value_or(false) && !cs.tls_allow_invalid_hostnames.value_or(false);
  if (opts.on_frame) t.connection.observer = opts.on_frame;
  if (cs.proxy_host) t.connection.proxy = proxy_settings_from(cs);
  if (cs.app_name) t.app_name = *cs.app_name;
  t.on_pool_event = opts.on_pool_event;
  t.on_heartbeat = opts.on_heartbeat;
  t.on_sdam_event = opts.on_sdam_event;
  t.log = opts.log;
  t.logging = detail::logger(opts.on_log, opts.log_levels, opts.log_max_document_length);
  std::string unusable;  // the client's constructor refused an unusable credential already
  detail::auth::client_credential(cs, t.credential, unusable);
  return t;
}

bool is_network_class(const error_code& ec) noexcept {
  return ec.category() == network_category() || ec.category() == boost::asio::error::get_system_category() ||
         ec.category() == boost::asio::error::get_misc_category() || ec.category() == protocol_category() ||
         ec.category() == boost::asio::error::get_ssl_category();
}

failure_kind classify(const error_code& ec) noexcept {
  if (ec.category() == server_category()) return failure_kind::server_reply;
  if (ec == client_errc::server_selection_timeout) return failure_kind::server_selection;
  if (ec == client_errc::pool_cleared) return failure_kind::pool_cleared;
  if (ec == asio::error::operation_aborted) return failure_kind::client;
  if (is_network_class(ec)) return failure_kind::network;
  return failure_kind::client;
}

// A network error here is the new connection's handshake (labelled and retried like any
// network error); WaitQueueTimeout and a closed pool get the transaction labels of one.
failure_kind classify_checkout(const error_code& ec) noexcept {
  if (ec == client_errc::pool_cleared) return failure_kind::pool_cleared;
  if (ec == client_errc::wait_queue_timeout || ec == client_errc::pool_closed) return failure_kind::checkout_failed;
  return classify(ec);
}

// client-side-operations-timeout.md "Command Execution": the socket timeout of a command,
// the remaining time rounded up (0, no limit, for timeoutMS 0).
std::chrono::milliseconds remaining_ms(const operation_deadline& d) {
  if (!d.limited()) return std::chrono::milliseconds(0);
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(d.at - clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

// client-side-operations-timeout.md "Server Selection": with timeoutMS, connection checkout gets
// the remaining computedServerSelectionTimeout instead of waitQueueTimeoutMS; serverSelectionTimeoutMS
// already bounded the selection, so the operation's deadline is what is left of it.
std::optional<clock::time_point> checkout_deadline_of(const operation_deadline& d) noexcept {
  if (!d.enabled) return std::nullopt;
  return d.at;
}

// client-side-operations-timeout.md "Command Execution": maxTimeMS = remaining timeoutMS -
// minRoundTripTime, or a timeout error before anything is sent when that leaves nothing.
// Never on getMore ("Cursors": the cursor's remaining time is the socket timeout only).
// client-side-operations-timeout.md "Cursors": a cursor's ITERATION-mode opening and a tailable
// non-awaitData cursor's commands go without maxTimeMS (`omit`); an awaitData cursor's getMore
// carries min(maxAwaitTimeMS, remaining - minRoundTripTime) (`await_cap`, alone without a limit).
struct time_budget_rules {
  bool omit = false;
  std::optional<std::int64_t> await_cap;
};

error_code time_budget_of(const operation_deadline& d, std::string_view command_name,
                          const sdam::server_description& server, const time_budget_rules& rules,
                          std::optional<std::int64_t>& max_time_ms, diagnostics& diag) {
  if (!d.limited()) {
    if (command_name == "getMore") max_time_ms = rules.await_cap;
    return {};
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(d.at - clock::now());
  const auto min_rtt = std::chrono::milliseconds(static_cast<std::int64_t>(server.min_round_trip_time_ms));
  if (left <= min_rtt) {
    diag.client_message = "timeoutMS expired before '" + std::string(command_name) + "' was sent to " +
                          server.address.to_string() + " (" + std::to_string(left.count()) +
                          " ms left, minimum round trip time " + std::to_string(min_rtt.count()) + " ms)";
    return client_errc::timeout;
  }
  const std::int64_t budget = (left - min_rtt).count();
  if (command_name == "getMore") {
    if (rules.await_cap) max_time_ms = std::min(*rules.await_cap, budget);
  } else if (!rules.omit) {
    max_time_ms = budget;
  }
  return {};
}

// client-side-operations-timeout.md "Error Transformations": the timeouts of the blocking
// sections and MaxTimeMSExpired (code 50, checked by code only: top level, a write error or a
// write concern error).
bool is_timeout_error(error_code ec, const diagnostics& d) noexcept {
  if (ec == client_errc::timeout || ec == client_errc::server_selection_timeout ||
      ec == client_errc::wait_queue_timeout || ec == network_errc::socket_timeout ||
      ec == network_errc::connect_timeout)
    return true;
  constexpr std::int32_t max_time_ms_expired = 50;
  if (ec.category() != server_category()) return false;
  if (d.server_code == max_time_ms_expired || ec.value() == max_time_ms_expired) return true;
  for (const auto& w : d.write_errors)
    if (w.code == max_time_ms_expired) return true;
  return d.write_concern && d.write_concern->code == max_time_ms_expired;
}

// client-side-operations-timeout.md "Errors": the timeout error exposes the underlying error
// (diag.cause; the other fields still describe it) and its string includes that error's.
error_code to_timeout_error(error_code ec, diagnostics& d) {
  if (ec == client_errc::timeout) return ec;
  d.cause = ec;
  const auto underlying = describe(d);
  d.client_message = "timeoutMS expired: " + ec.message() + (underlying.empty() ? "" : " (" + underlying + ")");
  return client_errc::timeout;
}

// A retry whose backoff would end after the deadline cannot finish in time.
bool ends_after(const operation_deadline& d, const attempt_decision& decision) noexcept {
  return decision.retry && d.limited() && clock::now() + decision.backoff >= d.at;  // also: already expired
}

// Charges the time since its last mark to a bucket of a transaction's accounting (issue 16);
// outside a transaction it reads no clock.
class accounting_clock {
 public:
  explicit accounting_clock(transaction_accounting* a) noexcept : a_(a) { restart(); }
  void restart() noexcept {
    if (a_) mark_ = clock::now();
  }
  void charge(std::chrono::nanoseconds transaction_accounting::*bucket) noexcept {
    if (!a_) return;
    const auto now = clock::now();
    a_->*bucket += now - mark_;
    mark_ = now;
  }

 private:
  transaction_accounting* a_;
  clock::time_point mark_{};
};

}  // namespace

client_impl::client_impl(asio::any_io_executor ex, connection_string cs, client_options opts)
    : ex_(std::move(ex)), cs_(std::move(cs)), opts_(std::move(opts)) {
  retry_writes_ = cs_.retry_writes.value_or(true);
  retry_reads_ = cs_.retry_reads.value_or(true);
  if (opts_.jitter_seed) rng_.seed(static_cast<std::minstd_rand::result_type>(*opts_.jitter_seed));
  max_adaptive_retries_ = cs_.max_adaptive_retries.value_or(default_max_adaptive_retries);
  overload_retargeting_ = cs_.enable_overload_retargeting.value_or(false);
  write_concern_ = write_concern_from_uri(cs_);
  if (cs_.read_concern_level) {
    bson::document rc;
    rc.append("level", *cs_.read_concern_level);
    read_concern_ = std::move(rc);
  }
  // transactions.md: a transaction's concerns default to the client's.
  client_txn_defaults_.write_concern = write_concern_;
  client_txn_defaults_.read_concern = read_concern_;
  if (cs_.read_preference) {  // ... and so does its read preference ("readPreference")
    bson::document rp;
    rp.append("mode", to_string(*cs_.read_preference));
    client_txn_defaults_.read_preference = std::move(rp);
  }
  client_read_preference_ = sdam::read_preference::from(cs_);
  topology_ = std::make_shared<net::topology>(ex_, gated(topology_options_from(cs_, opts_)));
  if (opts_.log)
    for (const auto& w : cs_.warnings) opts_.log("connection string: " + w);
}

client_impl::~client_impl() { topology_->close(); }

// Background work (a connection still being established, a monitor's last check) may end
// after the public client is gone; the caller's handlers, and what they capture, may be gone
// too. Every handler the topology calls goes through this gate, closed by silence_handlers().
net::topology_options client_impl::gated(net::topology_options t) const {
  const std::weak_ptr<const bool> alive = handlers_alive_;
  auto gate = [alive]<class Handler>(Handler h) -> Handler {
    if (!h) return h;
    return [alive, h = std::move(h)](const auto& event) {
      if (alive.lock()) h(event);
    };
  };
  t.on_pool_event = gate(std::move(t.on_pool_event));
  t.on_heartbeat = gate(std::move(t.on_heartbeat));
  t.on_sdam_event = gate(std::move(t.on_sdam_event));
  t.logging.handler() = gate(std::move(t.logging.handler()));
  t.connection.observer = gate(std::move(t.connection.observer));
  return t;
}

void client_impl::silence_handlers() noexcept {
  handlers_alive_.reset();
  opts_.on_command = nullptr;  // called by the executor itself, e.g. for a session that outlives the client
  opts_.on_retry = nullptr;
}

void client_impl::start() { topology_->start(); }

op_buffers_lease client_impl::lease_buffers() {
  if (free_buffers_.empty()) return {*this, std::make_unique<op_buffers>()};
  auto b = std::move(free_buffers_.back());
  free_buffers_.pop_back();
  return {*this, std::move(b)};
}

void client_impl::return_buffers(std::unique_ptr<op_buffers> b) noexcept {
  // Keep a handful, and none that a large result blew up: memory stays bounded.
  constexpr std::size_t max_kept = 64, max_bytes = 64 * 1024;
  if (free_buffers_.size() >= max_kept || b->reply.size() > max_bytes || b->staged.size() > max_bytes) return;
  try {
    free_buffers_.push_back(std::move(b));
  } catch (...) {  // out of memory: just drop the buffers
  }
}

op_buffers_lease::~op_buffers_lease() {
  if (b_) owner_->return_buffers(std::move(b_));
}

std::optional<bson::view> client_impl::default_write_concern() const {
  if (write_concern_) return write_concern_->get_view();
  return std::nullopt;
}

std::optional<bson::view> client_impl::default_read_concern() const {
  if (read_concern_) return read_concern_->get_view();
  return std::nullopt;
}

std::optional<std::chrono::minutes> client_impl::session_timeout() const {
  // load-balancers.md "Session Expiration": logicalSessionTimeoutMinutes ignored, no pruning.
  if (topology_->description().type() == sdam::topology_type::load_balanced) return std::nullopt;
  auto minutes = topology_->logical_session_timeout_minutes();
  if (!minutes) return std::chrono::minutes(30);  // unknown yet: the server default
  return std::chrono::minutes(*minutes);
}

double client_impl::jitter() {
  if (jitter_source_) return jitter_source_();
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

void client_impl::gossip_cluster_time(bson::view doc) {
  auto incoming = doc["clusterTime"].as_timestamp();
  if (!incoming) return;
  if (cluster_time_) {
    auto current = (*cluster_time_)["clusterTime"].as_timestamp();
    if (current && *current >= *incoming) return;
    cluster_time_->clear();  // keeps its buffer: no allocation per reply once warm (issue 13)
    cluster_time_->concat(doc);
    return;
  }
  cluster_time_ = bson::document(doc);
}

std::shared_ptr<session_impl> client_impl::make_session(const session_options& opts, bool is_explicit) {
  auto s = std::make_shared<session_impl>(shared_from_this(), opts, is_explicit);
  // driver-sessions.md "startSession": an explicit session has its server session from the
  // start; an implicit one takes it after connection checkout (attempt).
  if (is_explicit) s->bind(sessions_.acquire(clock::now(), session_timeout()));
  return s;
}

std::shared_ptr<session_impl> client_impl::make_implicit_session() { return make_session({}, false); }

// An operation with the session, transaction and retry rules resolved: everything its
// command needs across its attempts.
struct client_impl::resolved_operation {
  operation_traits traits;
  std::string_view db;
  const bson::document* body = nullptr;
  session_impl* session = nullptr;
  std::optional<txn_fields> txn;           // inside a transaction / commit / abort
  std::optional<std::int64_t> txn_number;  // retryable write outside a transaction
  std::optional<bson::view> read_concern;
  std::optional<bson::view> write_concern;
  bool write_concern_error_is_error = true;
  // driver-sessions.md "When using unacknowledged writes": no session id with w:0.
  bool unacknowledged = false;
  // retryable-writes.md: the server of the first attempt decided whether a write with
  // retry.policy_enabled runs as a retryable write.
  bool retryable_write_decided = false;
  // Null: the primary (writes, transactions, primary reads); else selection as a read by it.
  const sdam::read_preference* read_preference = nullptr;
  read_preference_plan routing;  // read_preference.cpp
  retry_settings retry;
  std::int64_t operation_id = 0;
  // retryable-writes.md / retryable-reads.md "sharded": the server whose failure is being
  // retried, avoided by the retry's selection unless it is the only one.
  std::shared_ptr<const sdam::server_description> deprioritized;
  operation_deadline deadline;    // client-side-operations-timeout.md: one for all attempts
  time_budget_rules time_budget;  // operation::max_time_ms_omitted, operation::max_await_time_ms
};

// How one attempt failed, for the labels and the retry decision.
struct client_impl::attempt_outcome {
  failure_kind kind = failure_kind::client;
  bool command_sent = false;
  std::int32_t max_wire_version = 0;
  std::shared_ptr<const sdam::server_description> server;  // null when selection failed
};

// The event is the client's reusable scratch object: assigning into its strings reuses their
// capacity, so that once warm monitoring allocates nothing per command (handlers run
// synchronously and cannot start another command before returning).
command_event& client_impl::prepare_event(command_event_type type, const resolved_operation& plan,
                                          std::int32_t request_id, const net::selected_server& server,
                                          const net::connection& conn) {
  command_event& e = event_scratch_;
  e.type = type;
  e.command_name.assign(plan.traits.name);
  e.database_name.assign(plan.db);
  e.request_id = request_id;
  e.operation_id = plan.operation_id;
  e.address.assign(server.server_pool->address());  // "host:port", kept by the pool
  e.connection_id = conn.id();
  e.server_connection_id = conn.server_connection_id;
  e.service_id = conn.service_id;  // load-balancers.md "Events"
  e.duration = {};
  e.document = bson::view();
  e.redacted = is_sensitive_command(plan.traits.name, *plan.body);
  e.error = {};
  e.diag = nullptr;
  return e;
}

void client_impl::emit_started(const resolved_operation& plan, const bson::document& command, std::int32_t request_id,
                               const net::selected_server& server, const net::connection& conn) {
  if (!commands_observed()) return;
  command_event& e = prepare_event(command_event_type::started, plan, request_id, server, conn);
  if (!e.redacted) e.document = command;
  publish_command(e);
}

void client_impl::emit_finished(const resolved_operation& plan, const finished_command& f,
                                const net::selected_server& server, const net::connection& conn) {
  if (!commands_observed()) return;
  const auto type = f.ec ? command_event_type::failed : command_event_type::succeeded;
  command_event& e = prepare_event(type, plan, f.request_id, server, conn);
  e.duration = clock::now() - f.started;
  if ((!f.ec || f.kind == failure_kind::server_reply) && !e.redacted) e.document = f.reply;
  e.error = f.ec;
  diagnostics redacted;  // only filled for a sensitive command
  if (e.redacted) redacted = redacted_failure(f.diag);
  e.diag = e.redacted ? &redacted : &f.diag;
  publish_command(e);
}

bool client_impl::commands_observed() const noexcept {
  return opts_.on_command || topology_->options().logging.enabled(log_component::command, log_level::debug);
}

void client_impl::publish_command(const command_event& e) const {
  if (opts_.on_command) opts_.on_command(e);
  log_command_event(topology_->options().logging, e);
}

// What the selected server allows. driver-sessions.md: the session id goes only to a server
// that supports sessions ("In the case of an explicit session ... the driver MUST raise an
// error"; an implicit one is ignored) and never with an unacknowledged write.
// retryable-writes.md "Supported Server Versions": the first attempt's server decides whether
// a write runs as a retryable write; a retry on a server without support is not made
// ("drivers MUST raise the retryable error from the previous attempt").
error_code client_impl::fit_to_server(resolved_operation& plan, const sdam::server_description& server,
                                      bool& send_session, diagnostics& diag) {
  // One rule (proto/txn/capabilities.hpp) for this preflight and client::capabilities. Only a
  // known server is judged: a pinned mongos or a cursor's server may be Unknown (its monitor
  // lost it), whose paused pool then fails the checkout with PoolClearedError, a retryable
  // error that unpins (transactions.md "When to unpin"; issue 16 trap 9), not a refusal.
  const bool known = server.type != sdam::server_type::unknown;
  const std::string_view no_sessions = known ? sessions_unsupported_reason(server) : std::string_view{};
  const bool sessions = no_sessions.empty();
  if (plan.session && plan.session->is_explicit && !sessions) {
    diag.client_message =
        "sessions are not supported by " + server.address.to_string() + ": " + std::string(no_sessions);
    return client_errc::sessions_not_supported;
  }
  if (plan.txn && known) {  // issue 16 "capability preflight": refused before anything is sent
    if (auto why = transactions_unsupported_reason(server); !why.empty()) {
      diag.client_message = "cannot run a transaction on " + server.address.to_string() + ": " + std::string(why);
      return client_errc::transactions_not_supported;
    }
  }
  send_session = plan.session && sessions && !plan.unacknowledged;
  if (plan.retry.family != retry_family::write || !plan.retry.policy_enabled) return {};
  const bool supported = supports_retryable_writes(server);
  if (!plan.retryable_write_decided) {
    plan.retryable_write_decided = true;
    plan.retry.policy_enabled = supported;
  } else if (!supported) {
    diag.client_message =
        "the server selected for the retry, " + server.address.to_string() + ", does not support retryable writes";
    return client_errc::transactions_not_supported;
  }
  return {};
}

// After checkout. driver-sessions.md "Sessions and Connections": an implicit session takes its
// server session only now. retryable-writes.md "Generating Transaction IDs": one number for
// all attempts of a retryable write.
void client_impl::attach_server_session(resolved_operation& plan) {
  session_impl& s = *plan.session;
  if (!s.has_server_session()) s.bind(sessions_.acquire(clock::now(), session_timeout()));
  if (plan.retry.family == retry_family::write && plan.retry.policy_enabled && !plan.txn_number)
    plan.txn_number = next_txn_number(s.server_session);
}

// The operation's fields, then the session/transaction fields (command_builder).
void client_impl::build_command(const resolved_operation& plan, bool send_session,
                                std::optional<std::int64_t> max_time_ms, bson::document& command) {
  command.clear();
  // client-side-operations-timeout.md "Validation and Overrides": with timeoutMS the deprecated
  // maxTimeMS option is ignored (the executor's own maxTimeMS replaces it).
  if (plan.deadline.enabled) {
    for (const auto& e : plan.body->get_view())
      if (e.key() != "maxTimeMS") command.append(e.key(), e);
  } else {
    command.concat(*plan.body);
  }
  command_fields f;
  f.db = plan.db;
  if (send_session) {
    f.lsid = plan.session->server_session.id;
    plan.session->server_session.last_use = clock::now();  // driver-sessions.md "lastUse": each time the id is sent
  }
  if (plan.txn) {
    f.txn_number = plan.txn->txn_number;
    f.start_transaction = plan.txn->start_transaction;
    f.in_transaction = plan.txn->autocommit.has_value();
    if (plan.txn->read_concern) f.read_concern_document = plan.txn->read_concern->get_view();
    if (plan.txn->write_concern) f.write_concern_document = plan.txn->write_concern->get_view();
    f.max_time_ms = plan.deadline.enabled ? max_time_ms : plan.txn->max_time_ms;  // maxCommitTimeMS is deprecated
    if (plan.txn->recovery_token) f.recovery_token = plan.txn->recovery_token->get_view();
  } else {
    f.txn_number = plan.txn_number;
    f.read_concern_document = plan.read_concern;
    f.write_concern_document = plan.write_concern;
    f.max_time_ms = max_time_ms;
  }
  // client-side-operations-timeout.md "Deprecations": wTimeoutMS is ignored with timeoutMS.
  if (plan.deadline.enabled && f.write_concern_document && f.write_concern_document->contains("wtimeout")) {
    write_concern_scratch_.clear();
    for (const auto& e : *f.write_concern_document)
      if (e.key() != "wtimeout") write_concern_scratch_.append(e.key(), e);
    f.write_concern_document = write_concern_scratch_.get_view();
    if (write_concern_scratch_.get_view().empty()) f.write_concern_document.reset();
  }
  // driver-sessions.md "Gossipping the cluster time": the greater of client and session.
  const bson::document* ct = cluster_time_ ? &*cluster_time_ : nullptr;
  if (plan.session && plan.session->cluster_time) {
    auto s = (*plan.session->cluster_time)["clusterTime"].as_timestamp();
    auto c = ct ? (*ct)["clusterTime"].as_timestamp() : std::nullopt;
    if (!c || (s && *s > *c)) ct = &*plan.session->cluster_time;
  }
  if (ct) f.cluster_time = ct->get_view();
  append_command_fields(command, f);
}

// SDAM "isStaleError": the generations to compare; in load-balanced mode those of the
// connection's service (load-balancers.md "Post-Handshake Errors": only it is cleared).
void client_impl::note_connection(sdam::application_error& err, const net::selected_server& server,
                                  const net::connection& conn) {
  err.connection_generation = conn.generation;
  err.service_id = conn.service_id;
  err.pool_generation =
      conn.service_id ? server.server_pool->generation_of(*conn.service_id) : server.server_pool->generation();
}

// SDAM "Error handling" and driver-sessions.md for a network error after the command went out.
void client_impl::on_network_error(session_impl* session, error_code ec, const net::selected_server& server,
                                   const net::connection& conn, const diagnostics& diag) {
  if (session) mark_dirty(session->server_session);  // driver-sessions.md: "MUST mark ... as dirty"
  // Bytes that break the wire protocol make only their connection perished (CMAP "Perishable":
  // Errored, "Wire-Protocol Error"); the connection is closed at check-in. SDAM's network error
  // ("an error that occurs while reading from or writing to a network socket") marks the server
  // Unknown and clears the pool: one hostile reply must not close the server's other connections.
  if (ec.category() == protocol_category()) return;
  sdam::application_error err;
  err.address = server.description->address;
  err.kind = ec == network_errc::socket_timeout ? sdam::error_kind::network_timeout : sdam::error_kind::network;
  note_connection(err, server, conn);
  err.max_wire_version = conn.max_wire_version;
  err.message = diag.client_message;
  topology_->handle_application_error(err);
}

// Copies the reply, takes its cluster time, operation time and recovery token, and checks it.
error_code client_impl::on_reply(session_impl* session, bool write_concern_error_is_error, bson::view reply_view,
                                 const net::selected_server& server, const net::connection& conn, bson::document& reply,
                                 diagnostics& diag, failure_kind& kind) {
  reply.clear();
  reply.concat(reply_view);
  reply_metadata meta;
  diagnostics meta_diag;
  if (!parse_reply_metadata(reply, meta, meta_diag)) {
    if (meta.cluster_time) {
      gossip_cluster_time(meta.cluster_time->document);
      if (session) session->advance_cluster_time(meta.cluster_time->document);
    }
    if (session && meta.operation_time && (!session->operation_time || *session->operation_time < *meta.operation_time))
      session->operation_time = meta.operation_time;
    if (session && meta.recovery_token) session->txn.on_recovery_token(*meta.recovery_token);
  }
  error_code ec =
      write_concern_error_is_error ? check_write_concern_reply(reply, diag) : check_command_reply(reply, diag);
  if (!ec) return ec;
  kind = ec.category() == server_category() ? failure_kind::server_reply : failure_kind::client;
  if (auto err = sdam::command_error_from_reply(server.description->address, reply)) {
    note_connection(*err, server, conn);
    err->max_wire_version = conn.max_wire_version;
    topology_->handle_application_error(*err);
  }
  return ec;
}

asio::awaitable<error_code> client_impl::select_server(const resolved_operation& plan, net::selected_server& server,
                                                       diagnostics& diag) {
  if (plan.routing.cursor_server)
    co_return select_server_at(*plan.routing.cursor_server, "server of the cursor", server, diag);
  // transactions.md "Mongos Pinning": every later command of the transaction goes to its mongos.
  if (plan.txn && plan.session && plan.session->pinned_mongos)
    co_return select_server_at(*plan.session->pinned_mongos, "mongos of the transaction", server, diag);
  const net::selection_origin origin{plan.traits.name, plan.operation_id, plan.deadline.at};
  const std::span<const host_address> avoid = plan.deprioritized
                                                  ? std::span<const host_address>(&plan.deprioritized->address, 1)
                                                  : std::span<const host_address>();
  if (!plan.read_preference && avoid.empty()) co_return co_await topology_->async_select_writable(server, diag, origin);
  static const sdam::read_preference primary{read_preference_mode::primary, {}, {}};
  const auto kind = plan.read_preference ? sdam::operation_kind::read : sdam::operation_kind::write;
  const sdam::read_preference& preference = plan.read_preference ? *plan.read_preference : primary;
  co_return co_await topology_->async_select(kind, preference, avoid, server, diag, origin);
}

namespace {

// The attempt's connection: the pinned one (load-balancers.md: one checkout per pin), or one
// from the server's pool within the operation's deadline.
asio::awaitable<error_code> connection_for(const operation_deadline& deadline, pinned_connection* pin,
                                           const net::selected_server& server, std::unique_ptr<net::connection>& conn,
                                           diagnostics& diag) {
  if (pin && pin->conn) {
    conn = std::move(pin->conn);
    co_return error_code{};
  }
  const std::optional<clock::time_point> checkout_deadline = checkout_deadline_of(deadline);
  co_return co_await server.server_pool->async_checkout(conn, diag, checkout_deadline);
}

}  // namespace

asio::awaitable<error_code> client_impl::attempt(resolved_operation& plan, bson::document& reply, diagnostics& diag,
                                                 attempt_outcome& out) {
  transaction_accounting* const accounting = accounting_of(plan);
  accounting_clock timer(accounting);
  net::selected_server server;
  error_code selected = co_await select_server(plan, server, diag);
  timer.charge(&transaction_accounting::server_selection);
  if (selected) {
    out.kind = classify(selected);
    co_return selected;
  }
  out.server = server.description;
  pin_transaction(plan, *server.description);
  bool send_session = false;
  if (auto ec = fit_to_server(plan, *server.description, send_session, diag)) co_return ec;
  std::unique_ptr<net::connection> conn;
  pinned_connection* const pin = pin_for(plan);
  const error_code checked_out = co_await connection_for(plan.deadline, pin, server, conn, diag);
  timer.charge(&transaction_accounting::pool_wait);
  if (checked_out) {
    out.kind = classify_checkout(checked_out);
    co_return checked_out;
  }
  out.max_wire_version = conn->max_wire_version;
  std::optional<std::int64_t> max_time_ms;
  if (auto ec =
          time_budget_of(plan.deadline, plan.traits.name, *server.description, plan.time_budget, max_time_ms, diag)) {
    check_in(pin, server, std::move(conn), ec, reply);  // nothing was sent: the connection is intact
    co_return ec;
  }
  if (send_session) attach_server_session(plan);
  session_impl* session = send_session ? plan.session : nullptr;
  bson::document& command = conn->command_buffer;
  build_command(plan, send_session, max_time_ms, command);
  append_read_preference(plan.routing, *server.description, command);
  if (plan.routing.sent_to) *plan.routing.sent_to = server.description->address;
  const std::optional<document_sequences> sequence = find_document_sequences(command);
  finished_command f{.request_id = net::next_request_id(), .started = clock::now(), .reply = reply, .diag = diag};
  emit_started(plan, command, f.request_id, server, *conn);
  const command_bytes before{conn->bytes_sent(), conn->bytes_received()};
  bson::view reply_view;
  timer.restart();
  // client-side-operations-timeout.md "Command Execution": with timeoutMS the socket timeout is
  // the remaining time (socketTimeoutMS ignored) for the write and all reads of the reply; a
  // timed-out connection is closed (never reused half-read).
  const auto legacy_socket_timeout = conn->socket_timeout();
  if (plan.deadline.enabled) conn->set_socket_timeout(remaining_ms(plan.deadline));
  f.ec = co_await exchange(plan.unacknowledged, *conn, command, sequence, reply_view, diag, f.request_id);
  conn->set_socket_timeout(legacy_socket_timeout);
  timer.charge(&transaction_accounting::wire);
  ++stats.commands;
  f.ec = judge_exchange(plan, session, f.ec, reply_view, server, *conn, reply, diag, out);
  count_command(*conn, before, out.command_sent ? accounting : nullptr);
  f.kind = out.kind;
  emit_finished(plan, f, server, *conn);
  check_in(pin, server, std::move(conn), f.ec, reply);
  co_return f.ec;
}

// What an exchange's outcome is. A failure that leaves the connection usable is the encoding's
// (e.g. over maxMessageSizeBytes): nothing went out, so it is a client error for SDAM, labels,
// retries and the transaction.
error_code client_impl::judge_exchange(const resolved_operation& plan, session_impl* session, error_code ec,
                                       bson::view reply_view, const net::selected_server& server,
                                       const net::connection& conn, bson::document& reply, diagnostics& diag,
                                       attempt_outcome& out) {
  out.command_sent = !ec || conn.is_broken();
  if (out.command_sent && session && !is_transaction_end(plan.retry.family)) session->txn.on_command_sent();
  if (!out.command_sent) {
    out.kind = failure_kind::client;
    return ec;
  }
  if (!ec) return on_reply(session, plan.write_concern_error_is_error, reply_view, server, conn, reply, diag, out.kind);
  out.kind = classify(ec);
  if (out.kind == failure_kind::network) on_network_error(session, ec, server, conn, diag);
  return ec;
}

// transactions.md "Mongos Pinning": the mongos selected for a transaction's first command (or
// for a commit or abort retried after unpinning) takes all its later commands.
void client_impl::pin_transaction(const resolved_operation& plan, const sdam::server_description& server) noexcept {
  // load-balancers.md: a commit or abort retried after unpinning runs on a connection of its own,
  // checked in after it (load-balancers/transactions.json "transient network commit error").
  const bool routed = server.type == sdam::server_type::mongos ||
                      (server.type == sdam::server_type::load_balancer && !is_transaction_end(plan.retry.family));
  if (!plan.txn || !plan.session || plan.session->pinned_mongos || !routed) return;
  plan.session->pinned_mongos = server.address;
  ++plan.session->accounting.pins;
}

// load-balancers.md "Connection Pinning": the connection a command of a transaction (the same
// rules as mongos pinning) or of a cursor uses in load-balanced mode; a cursor opened in a
// transaction shares the transaction's.
pinned_connection* client_impl::pin_for(const resolved_operation& plan) const noexcept {
  if (topology_->description().type() != sdam::topology_type::load_balanced) return nullptr;
  if (plan.txn && plan.session && plan.session->pinned_mongos) return &plan.session->pinned_conn;
  return plan.routing.cursor_connection;
}

// transactions.md "When to unpin", rules 1-3: an abort attempt's failure, a
// TransientTransactionError, a commit's UnknownTransactionCommitResult, before any retry.
void client_impl::unpin_after_failure(const resolved_operation& plan, const diagnostics& d) noexcept {
  if (!plan.txn || !plan.session) return;
  const bool commit_unknown =
      plan.retry.family == retry_family::commit && d.has_label(label::unknown_transaction_commit_result);
  if (plan.retry.family != retry_family::abort && !commit_unknown && !d.has_label(label::transient_transaction_error))
    return;
  if (plan.session->pinned_mongos) ++plan.session->accounting.unpins;
  plan.session->unpin();
}

// Sends the command and reads its reply. OP_MSG.md: w:0 writes go with moreToCome; command
// monitoring then reports {ok: 1}.
asio::awaitable<error_code> client_impl::exchange(bool unacknowledged, net::connection& conn,
                                                  const bson::document& command,
                                                  const std::optional<document_sequences>& sequence,
                                                  bson::view& reply_view, diagnostics& diag, std::int32_t request_id) {
  if (!unacknowledged) co_return co_await conn.async_command(command, sequence, reply_view, diag, request_id);
  static const bson::document unacknowledged_reply = bson::document::from_json(R"({"ok": 1})");
  const error_code ec = co_await conn.async_send_unacknowledged(command, sequence, diag, request_id);
  reply_view = unacknowledged_reply.get_view();
  co_return ec;
}

// The accounting a command of `plan` adds to: its session's, when it carries transaction
// fields (a statement of a transaction, commitTransaction, abortTransaction).
transaction_accounting* client_impl::accounting_of(const resolved_operation& plan) noexcept {
  return plan.txn && plan.session ? &plan.session->accounting : nullptr;
}

// Per-connection counters: the client's totals, and the transaction's accounting when there is
// one, add this command's share.
void client_impl::count_command(const net::connection& conn, command_bytes before, transaction_accounting* accounting) {
  const std::size_t sent = conn.bytes_sent() - before.sent, received = conn.bytes_received() - before.received;
  stats.bytes_sent += sent;
  stats.bytes_received += received;
  if (!accounting) return;
  ++accounting->round_trips;
  accounting->bytes_sent += sent;
  accounting->bytes_received += received;
}

void client_impl::add_labels(const resolved_operation& plan, const attempt_outcome& out, diagnostics& d) const {
  label_context ctx;
  ctx.family = plan.retry.family;
  ctx.in_transaction = plan.txn.has_value();
  ctx.retryable_write =
      (plan.retry.family == retry_family::write && plan.retry.policy_enabled) || is_transaction_end(plan.retry.family);
  ctx.max_wire_version = out.max_wire_version;
  add_client_labels(out.kind, d, ctx);
  if (out.kind == failure_kind::server_reply && plan.txn_number) rewrite_retryable_writes_unsupported(d);
}

asio::awaitable<error_code> client_impl::run_attempts(resolved_operation& plan, bson::document& reply,
                                                      diagnostics& diag) {
  if (plan.operation_id == 0) plan.operation_id = next_operation_id_++;
  const auto started = clock::now();
  retry_tracker tracker(plan.retry);
  std::vector<std::pair<error_code, diagnostics>> failures;
  for (;;) {
    diagnostics attempt_diag;
    attempt_outcome outcome;
    error_code ec = co_await attempt(plan, reply, attempt_diag, outcome);
    if (!ec) co_return error_code{};
    tracker.set_policy_enabled(plan.retry.policy_enabled);
    tracker.set_sharded(topology_->description().type() == sdam::topology_type::sharded);
    add_labels(plan, outcome, attempt_diag);
    unpin_after_failure(plan, attempt_diag);
    if (reports_write_conflict(attempt_diag)) write_conflicts.add(plan.db, plan.body->get_view());  // gauges
    auto decision = tracker.on_failure({outcome.kind, outcome.command_sent}, attempt_diag, jitter());
    emit_retry(plan, failures.size() + 1, ec, attempt_diag, decision, started);
    failures.emplace_back(ec, std::move(attempt_diag));
    if (plan.retry.family == retry_family::commit && plan.session)
      plan.session->txn.on_commit_attempt(failures.back().second.has_label(label::system_overloaded)
                                              ? commit_attempt_outcome::failed_overload
                                              : commit_attempt_outcome::failed_other);
    // client-side-operations-timeout.md "Retryability": retries go on while time remains; at
    // the deadline (or on a timeout of a blocking section) the operation fails with a timeout.
    const bool timed_out = plan.deadline.enabled && ec != asio::error::operation_aborted &&
                           (is_timeout_error(ec, failures.back().second) || ends_after(plan.deadline, decision));
    if (timed_out) {
      diag = std::move(failures.back().second);
      co_return to_timeout_error(ec, diag);
    }
    if (!decision.retry || ec == asio::error::operation_aborted) {
      auto& chosen = failures[std::min(tracker.error_to_report(), failures.size() - 1)];
      diag = std::move(chosen.second);
      co_return chosen.first;
    }
    ++stats.retries;
    if (decision.deprioritize_failed_server) plan.deprioritized = outcome.server;
    if (auto* accounting = accounting_of(plan))  // issue 16: attempts by cause
      ++(failures.back().second.has_label(label::system_overloaded) ? accounting->overload_retries
                                                                    : accounting->retryable_write_retries);
    if (plan.retry.family == retry_family::commit && plan.session)
      plan.txn = plan.session->txn.next_commit_attempt();  // transactions.md: w:"majority" on retry
    if (decision.backoff.count() > 0) {
      accounting_clock timer(accounting_of(plan));
      asio::steady_timer t(ex_, decision.backoff);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      timer.charge(&transaction_accounting::backoff);
    }
  }
}

// client-backpressure.md, step 2.4: a write needs retryWrites, a read retryReads, runCommand
// (sent as given: the client cannot tell) both. Commands in a transaction too.
bool client_impl::overload_retries_allowed(const operation& op) const noexcept {
  if (op.traits.sent_as_given) return retry_reads_ && retry_writes_;
  return op.traits.selects_by_read_preference ? retry_reads_ : retry_writes_;
}

retry_settings client_impl::retry_settings_for(retry_family family) const noexcept {
  retry_settings s;
  s.family = family;
  s.max_adaptive_retries = max_adaptive_retries_;
  s.overload_retargeting = overload_retargeting_;
  return s;
}

asio::awaitable<error_code> client_impl::execute(const operation& op, session_impl* session, bson::document& reply,
                                                 diagnostics& diag) {
  if (closed_) co_return client_errc::client_closed;
  // An implicit session lives on this coroutine's frame (no allocation per operation); it
  // takes a server session only after connection checkout.
  std::optional<session_impl> implicit;
  if (!session) session = &implicit.emplace(shared_from_this(), session_options{}, false);
  if (auto ec = claim_session(*session, op.traits.name, diag)) co_return ec;
  const session_claim claim{*session};  // released however this coroutine ends
  resolved_operation plan;
  operation_concerns concerns;  // `plan` views into it
  error_code ec = plan_operation(op, *session, plan, concerns, diag);
  if (!ec) ec = plan_deadline(op, *session, plan, diag);
  if (!ec && !plan.txn) session->unpin();  // transactions.md "When to unpin", rule 5
  if (!ec) ec = plan_read_preference(op, plan.txn.has_value(), plan.routing, diag);
  if (!ec && plan.routing.selects_by_read_preference()) plan.read_preference = &plan.routing.read_preference;
  if (!ec) ec = co_await run_attempts(plan, reply, diag);
  if (!ec && session->is_snapshot() && !session->snapshot_time) record_snapshot_time(*session, reply);
  note_statement_error(session, ec, diag);
  if (implicit) implicit->release();
  co_return ec;
}

operation_deadline client_impl::deadline_for(std::optional<std::chrono::milliseconds> timeout,
                                             const session_impl* session) const {
  if (session && session->with_transaction_deadline) return *session->with_transaction_deadline;
  if (!timeout && cs_.timeout_ms) timeout = std::chrono::milliseconds(*cs_.timeout_ms);
  operation_deadline d;
  if (!timeout) return d;
  d.enabled = true;
  if (timeout->count() > 0) d.at = clock::now() + *timeout;
  return d;
}

// client-side-operations-timeout.md "Validation and Overrides": timeoutMS is never negative,
// and inside withTransaction the session's timeout is the operation's (an operation that
// sets its own is refused). The deadline is fixed before the first blocking section.
error_code client_impl::plan_deadline(const operation& op, const session_impl& session, resolved_operation& plan,
                                      diagnostics& diag) const {
  if (op.timeout && op.timeout->count() < 0) {
    diag.client_message = "timeoutMS must not be negative (got " + std::to_string(op.timeout->count()) + ")";
    return client_errc::invalid_argument;
  }
  if (op.timeout && session.with_transaction_deadline) {
    diag.client_message = "'" + std::string(op.traits.name) +
                          "' sets timeoutMS inside withTransaction, whose session timeout applies to it "
                          "(client-side-operations-timeout.md \"Validation and Overrides\")";
    return client_errc::invalid_argument;
  }
  plan.deadline = op.deadline ? *op.deadline : deadline_for(op.timeout, &session);
  plan.retry.retry_until_deadline = plan.deadline.enabled;
  return {};
}

// driver-sessions.md: "a ClientSession ... MUST NOT be used concurrently": a second operation
// is refused before anything is sent.
error_code claim_session(session_impl& s, std::string_view name, diagnostics& diag) {
  if (!s.busy) {
    s.busy = true;
    return {};
  }
  diag.client_message = "the session is already running an operation; '" + std::string(name) +
                        "' was not sent (driver-sessions.md: a session is used by one operation at a time)";
  return client_errc::session_in_use;
}

void client_impl::note_statement_error(session_impl* session, error_code ec, const diagnostics& diag) {
  if (session && session->txn.in_transaction() && !session->server_abort &&
      statement_error_aborts_transaction(ec, diag))
    session->server_abort = std::make_unique<std::pair<error_code, diagnostics>>(ec, diag);
}

// The session and transaction rules for one operation, before any I/O: refusals, the
// transaction fields or the read/write concerns, and the retry settings.
error_code client_impl::plan_operation(const operation& op, session_impl& session, resolved_operation& plan,
                                       operation_concerns& concerns, diagnostics& diag) {
  if (session.ended) {
    diag.client_message = "cannot use a session that has ended";
    return client_errc::session_ended;
  }
  plan.traits = op.traits;
  plan.db = op.db;
  static const bson::document empty_body;
  plan.body = op.body ? op.body : &empty_body;
  plan.session = &session;
  plan.write_concern_error_is_error = op.write_concern_error_is_error;
  plan.operation_id = op.operation_id;
  plan.time_budget = {op.max_time_ms_omitted, op.max_await_time_ms};

  operation_request req;
  req.is_read = op.traits.selects_by_read_preference;
  req.has_explicit_read_concern = op.read_concern.has_value();
  req.has_explicit_write_concern = op.write_concern.has_value();
  if (session.causally_consistent()) req.after_cluster_time = session.operation_time;
  auto prepared = session.txn.prepare_operation(req);
  if (!prepared) {
    diag.client_message = std::string(prepared.refusal.message);
    return prepared.refusal.ec;
  }
  if (!prepared.value) return plan_outside_transaction(op, session, plan, concerns, diag);
  // transactions.md "readPreference": an operation's own read preference must be primary too.
  if (op.read_preference && !is_primary(bson::document(*op.read_preference))) {
    diag.client_message = "read preference in a transaction must be primary";
    return client_errc::read_preference_not_primary;
  }
  plan.txn = std::move(prepared.value);
  // transactions.md: no retries inside a transaction, overload errors excepted ("Interaction
  // with Client Backpressure"), which follow the command's retryReads/retryWrites.
  plan.retry = retry_settings_for(retry_family::other);
  plan.retry.overload_retry_enabled = overload_retries_allowed(op);
  return {};
}

error_code client_impl::plan_outside_transaction(const operation& op, session_impl& session, resolved_operation& plan,
                                                 operation_concerns& concerns, diagnostics& diag) {
  std::optional<bson::view> read_concern = op.read_concern ? op.read_concern : op.inherited_read_concern;
  std::optional<bson::view> write_concern = op.write_concern ? op.write_concern : op.inherited_write_concern;
  if (!read_concern && op.traits.takes_read_concern && !op.traits.sent_as_given) read_concern = default_read_concern();
  if (!write_concern && op.traits.takes_write_concern && !op.traits.sent_as_given)
    write_concern = default_write_concern();
  // snapshot-sessions.md "Sending readConcern to the server on all commands".
  if (session.is_snapshot()) {
    concerns.snapshot_read_concern.clear();
    concerns.snapshot_read_concern.append("level", "snapshot");
    if (session.snapshot_time) concerns.snapshot_read_concern.append("atClusterTime", *session.snapshot_time);
    read_concern = concerns.snapshot_read_concern.get_view();
  }
  // causal-consistency.md "Causally consistent read and write commands": the session's
  // operationTime goes into readConcern.afterClusterTime, merged with the level if any.
  if (session.causally_consistent() && session.operation_time && op.traits.takes_after_cluster_time) {
    concerns.causal_read_concern.clear();
    if (read_concern)
      for (const auto& e : *read_concern)
        if (e.key() != "afterClusterTime") concerns.causal_read_concern.append(e.key(), e);
    concerns.causal_read_concern.append("afterClusterTime", *session.operation_time);
    read_concern = concerns.causal_read_concern.get_view();
  }
  plan.read_concern = read_concern;
  plan.write_concern = write_concern;
  plan.unacknowledged = plan.write_concern && is_unacknowledged(*plan.write_concern);
  // driver-sessions.md "When using unacknowledged writes": "For unacknowledged writes with an
  // explicit session, drivers SHOULD raise an error."
  if (plan.unacknowledged && session.is_explicit) {
    diag.client_message =
        "an unacknowledged write (w: 0) cannot run with an explicit session: its session id would be "
        "in use by two operations at once (driver-sessions.md)";
    return client_errc::invalid_argument;
  }
  const retry_family family = op.traits.retryability;
  plan.retry = retry_settings_for(family);
  if (family == retry_family::write) plan.retry.policy_enabled = retry_writes_ && !plan.unacknowledged;
  else if (family == retry_family::read) plan.retry.policy_enabled = retry_reads_;
  plan.retry.overload_retry_enabled = overload_retries_allowed(op);
  return {};
}

// snapshot-sessions.md "Server Command Responses": find/aggregate report atClusterTime in
// `cursor`, distinct at the top level; the first one fixes the session's snapshot.
void client_impl::record_snapshot_time(session_impl& s, const bson::document& reply) {
  std::optional<bson::timestamp> at = reply["atClusterTime"].as_timestamp();
  if (auto cursor = reply["cursor"].as_document()) at = at ? at : (*cursor)["atClusterTime"].as_timestamp();
  if (at) s.snapshot_time = at;
}

void emit_retry_event(const retry_event_handler& handler, retry_event& e, error_code ec, const diagnostics& d,
                      std::chrono::steady_clock::duration elapsed) {
  e.error = ec;
  e.server_code = d.server_code;
  e.code_name = d.code_name;
  e.labels = &d.labels;
  e.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
  handler(e);
}

void client_impl::emit_retry(const resolved_operation& plan, std::size_t attempt, error_code ec, const diagnostics& d,
                             const attempt_decision& decision, clock::time_point started) const {
  if (!opts_.on_retry) return;
  retry_event e;
  e.operation_id = plan.operation_id;
  e.attempt = static_cast<int>(attempt);
  e.command = plan.traits.name;
  e.decision = decision.retry && ec != asio::error::operation_aborted ? mongowire::retry_decision::retry_command
                                                                      : mongowire::retry_decision::give_up;
  e.backoff = e.decision == mongowire::retry_decision::retry_command ? decision.backoff : std::chrono::microseconds{0};
  emit_retry_event(opts_.on_retry, e, ec, d, clock::now() - started);
}

// A command the executor sends on its own behalf to admin (commit, abort, endSessions).
void client_impl::plan_admin_command(const operation_traits& traits, const bson::document& body,
                                     resolved_operation& plan) const {
  plan.traits = traits;
  plan.db = admin_db;
  plan.body = &body;
  plan.retry = retry_settings_for(traits.retryability);
}

// commitTransaction and abortTransaction: same fields, same place (admin), retried once as
// retryable writes (transactions.md "Retrying commitTransaction/abortTransaction").
asio::awaitable<error_code> client_impl::finish_transaction(session_impl& s, bool commit, diagnostics& diag) {
  if (auto ec = claim_session(s, commit ? "commitTransaction" : "abortTransaction", diag)) co_return ec;
  const session_claim claim{s};
  auto action = commit ? s.txn.commit_transaction() : s.txn.abort_transaction();
  if (!action) {
    diag.client_message = std::string(action.refusal.message);
    co_return action.refusal.ec;
  }
  // transactions.md "When to unpin", rule 1: an abort unpins whether it succeeds, fails or sends nothing.
  const auto unpin = [&s, commit] {
    if (!commit) s.unpin();
  };
  if (!action.value->sends()) {  // transactions.md: the transaction ran no command
    s.close_accounting();
    unpin();
    co_return error_code{};
  }
  bson::document body;
  const operation_traits traits = commit ? commit_transaction_op{}.traits() : abort_transaction_op{}.traits();
  if (commit) commit_transaction_op{}.build(body);
  else abort_transaction_op{}.build(body);
  resolved_operation plan;
  plan_admin_command(traits, body, plan);
  plan.session = &s;
  plan.txn = std::move(action.value->fields);
  // Retried as retryable writes even with retryWrites=false (transactions.md); overload
  // retries follow retryWrites like any write (client-backpressure.md, step 2.4).
  plan.retry.overload_retry_enabled = retry_writes_;
  // client-side-operations-timeout.md "Sessions": the session's defaultTimeoutMS, else the client's.
  plan.deadline = deadline_for(s.session_timeout(), &s);
  plan.retry.retry_until_deadline = plan.deadline.enabled;
  diagnostics ignored;  // transactions.md "abortTransaction": errors are ignored once the retry is spent.
  diagnostics& reported = commit ? diag : ignored;
  const auto started = clock::now();
  const error_code ec = co_await run_attempts(plan, s.finish_reply, reported);
  if (commit) s.accounting.commit += clock::now() - started;
  s.close_accounting();
  unpin();
  if (!commit) co_return error_code{};
  if (!ec) s.txn.on_commit_attempt(commit_attempt_outcome::succeeded);
  co_return ec;
}

asio::awaitable<error_code> client_impl::commit(session_impl& s, diagnostics& diag) {
  co_return co_await finish_transaction(s, true, diag);
}

asio::awaitable<error_code> client_impl::abort(session_impl& s, diagnostics& diag) {
  co_return co_await finish_transaction(s, false, diag);
}

asio::awaitable<error_code> client_impl::close() {
  if (closed_) co_return error_code{};
  closed_ = true;
  // driver-sessions.md "Client close": endSessions for pooled sessions, errors ignored, sent
  // "to the primary if the primary is available, otherwise ... to any available secondary".
  auto batches = sessions_.take_end_sessions_batches();
  static const sdam::read_preference primary_preferred{read_preference_mode::primary_preferred, {}, {}};
  const auto& now = topology_->description();
  if (sdam::select_servers(now, sdam::operation_kind::read, primary_preferred).candidates.empty())
    batches.clear();  // nobody available to tell
  for (auto& batch : batches) {
    if (batch.empty()) continue;
    const end_sessions_op op{batch};
    bson::document body;
    op.build(body);
    resolved_operation plan;
    plan_admin_command(op.traits(), body, plan);
    plan.read_preference = &primary_preferred;
    bson::document reply;
    diagnostics ignored;
    co_await run_attempts(plan, reply, ignored);
  }
  topology_->close();
  co_return error_code{};
}

}  // namespace mongowire::detail

namespace mongowire {

std::string_view to_string(retry_decision d) noexcept {
  switch (d) {
    case retry_decision::retry_command: return "retry_command";
    case retry_decision::retry_commit: return "retry_commit";
    case retry_decision::rerun_transaction: return "rerun_transaction";
    case retry_decision::give_up: return "give_up";
  }
  return "unknown";
}

}  // namespace mongowire
