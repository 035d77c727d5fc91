// mongowire::cursor: opening a cursor, getMore, killCursors, and the timeoutMS rules of
// client-side-operations-timeout.md "Cursors".
#include "mongowire/cursor.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <span>
#include <utility>

#include "client/api_operation.hpp"
#include "client/write_models.hpp"
#include "client/cursor_state.hpp"
#include "proto/reply/cursor_reply.hpp"

namespace mongowire {

namespace asio = boost::asio;

namespace detail {

namespace {

// A network error leaves the cursor on a connection that is gone (load-balancers.md: the pinned
// connection is closed, not checked in) and the server is not asked to kill it. A timeout is not
// one: close() still kills the cursor (close-cursors.json "timeoutMS is refreshed for close").
bool cursor_lost_on(const error_code& ec) noexcept {
  if (ec == client_errc::timeout) return false;
  return ec.category() == network_category() || ec.category() == asio::error::get_system_category() ||
         ec.category() == asio::error::get_misc_category() || ec.category() == asio::error::get_ssl_category();
}

// The documents of a cursor reply's batch replace `state.batch`; its id and namespace are kept.
error_code take_cursor_reply(const bson::document& reply, cursor_state& state, diagnostics& diag) {
  cursor_reply parsed;
  if (auto ec = parse_cursor_reply(reply, parsed, diag)) return ec;
  const auto dot = parsed.ns.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == parsed.ns.size()) {
    diag.client_message =
        "invalid reply: field 'cursor.ns' is '" + std::string(parsed.ns) + "', expected \"<db>.<collection>\"";
    diag.reply = reply;
    return client_errc::invalid_reply;
  }
  state.batch.clear();
  for (const auto& e : parsed.batch)
    if (auto d = e.as_document()) state.batch.emplace_back(*d);
  state.id = parsed.id;
  if (state.ns != parsed.ns) {  // find_getmore_killcursors.md: getMore names the cursor's collection
    state.ns = parsed.ns;
    state.coll = state.ns.substr(dot + 1);
  }
  return {};
}

// client-side-operations-timeout.md "Cursors": the refusals, before anything is sent.
error_code check_cursor_settings(const client_impl& client, const operation& op, const cursor_settings& s,
                                 const operation_deadline& d, diagnostics& diag) {
  const bool tailable = s.type != cursor_type::non_tailable;
  auto refuse = [&](std::string why) {
    diag.client_message = std::string(op.traits.name) + ": " + std::move(why);
    return error_code(client_errc::invalid_argument);
  };
  if (s.mode && !d.enabled) return refuse("timeoutMode is set but timeoutMS is not");
  if (tailable && s.mode == timeout_mode::cursor_lifetime)
    return refuse("timeoutMode cursorLifetime is not allowed for a tailable cursor (only iteration)");
  if (s.writes && s.mode == timeout_mode::iteration)
    return refuse("timeoutMode iteration is not allowed for an aggregate with $out or $merge");
  std::optional<std::chrono::milliseconds> timeout = op.timeout;
  if (!timeout && client.uri().timeout_ms) timeout = std::chrono::milliseconds(*client.uri().timeout_ms);
  if (s.max_await_time_ms && d.enabled && timeout && timeout->count() > 0 && *s.max_await_time_ms >= timeout->count())
    return refuse("maxAwaitTimeMS (" + std::to_string(*s.max_await_time_ms) + ") must be less than timeoutMS (" +
                  std::to_string(timeout->count()) + ")");
  return {};
}

}  // namespace

cursor_settings aggregate_cursor_settings(bson::view pipeline, const mongowire::aggregate_options& o) {
  cursor_settings s;
  s.mode = o.timeout_mode;
  s.batch_size = o.batch_size;
  s.max_await_time_ms = o.max_await_time_ms;
  s.writes = pipeline_writes(pipeline);
  s.comment = o.comment;
  return s;
}

aggregate_op aggregate_operation(std::string_view coll, bson::view pipeline, const mongowire::aggregate_options& o) {
  aggregate_op op{coll, pipeline, {}};
  op.options.batch_size = o.batch_size;
  op.options.max_time_ms = o.max_time_ms;
  op.options.allow_disk_use = o.allow_disk_use;
  op.options.hint = hint_of(o.hint);
  if (o.collation) op.options.collation = o.collation->get_view();
  if (o.let) op.options.let = o.let->get_view();
  if (o.comment) op.options.comment = o.comment->get();
  return op;
}

void cursor_state::release() noexcept {
  connection.release();  // a broken one is closed by the pool, a sound one checked in
  if (implicit && session) session->release();
  session.reset();
}

// client-side-operations-timeout.md "Cursors": cursor_lifetime keeps the opening's deadline;
// iteration gives each call the whole timeoutMS again.
operation_deadline cursor_state::iteration_deadline() const {
  if (mode == timeout_mode::cursor_lifetime && lifetime.enabled) return lifetime;
  return client->deadline_for(timeout, session.get());
}

// DRIVERS-2243: servers before 4.4 (wire version 9) refuse a comment on getMore. Behind a load
// balancer the servers are 5.0 or newer (load-balancers.md), whatever its description says.
bool takes_get_more_comment(client_impl& client, const host_address& server) {
  const auto* d = client.topology().description().find(server);
  return !d || d->type == sdam::server_type::load_balancer || d->max_wire_version >= 9;
}

asio::awaitable<error_code> cursor_state::get_more(const operation_deadline& deadline, diagnostics& diag) {
  std::optional<bson::element> comment;
  if (settings.comment && takes_get_more_comment(*client, server)) comment = settings.comment->get();
  const get_more_op get_more{id, coll, settings.batch_size, comment};
  bson::document body;
  if (auto ec = get_more.build(body)) co_return ec;
  operation op = describe(get_more.traits(), db, body, collection_options{});
  op.cursor_server = &server;
  op.cursor_connection = &connection;
  op.deadline = deadline;
  op.max_await_time_ms = settings.max_await_time_ms;
  bson::document reply;
  if (auto ec = co_await client->execute(op, session.get(), reply, diag)) {
    if (cursor_lost_on(ec)) unreachable = true;
    co_return ec;
  }
  if (auto ec = take_cursor_reply(reply, *this, diag)) co_return ec;
  if (id == 0) release();  // exhausted: the pinned connection was checked in by the executor
  co_return error_code{};
}

asio::awaitable<void> cursor_state::kill(std::optional<std::chrono::milliseconds> override_timeout, diagnostics& diag) {
  if (id != 0 && !unreachable && session) {
    // load-balancers.md: a pinned connection broken by a timed-out getMore cannot carry it.
    if (connection.conn && connection.conn->is_broken()) connection.release();
    const std::int64_t ids[] = {id};
    const kill_cursors_op killing{coll, std::span<const std::int64_t>(ids)};
    bson::document body;
    killing.build(body);
    operation op = describe(killing.traits(), db, body, collection_options{});
    op.cursor_server = &server;
    op.cursor_connection = &connection;
    op.timeout = override_timeout ? override_timeout : timeout;  // a fresh deadline, computed by the executor
    bson::document reply;
    diagnostics kill_diag;
    if (co_await client->execute(op, session.get(), reply, kill_diag)) diag = std::move(kill_diag);
  }
  id = 0;
  batch.clear();
  release();
}

asio::awaitable<error_code> open_cursor(client_impl& client, const std::shared_ptr<session_impl>& given,
                                        const operation& op, const cursor_settings& settings, cursor& out,
                                        diagnostics& diag) {
  const bool implicit = !given;
  const operation_deadline deadline = op.deadline ? *op.deadline : client.deadline_for(op.timeout, given.get());
  if (auto ec = check_cursor_settings(client, op, settings, deadline, diag)) co_return ec;
  auto state = std::make_unique<cursor_state>(client.shared_from_this(),
                                              implicit ? client.make_implicit_session() : given, implicit);
  state->db = std::string(op.db);
  state->settings = settings;
  state->timeout = op.timeout;
  state->lifetime = deadline;
  const bool tailable = settings.type != cursor_type::non_tailable;
  state->mode = settings.mode.value_or(tailable ? timeout_mode::iteration : timeout_mode::cursor_lifetime);
  operation opening = op;
  opening.sent_to = &state->server;
  opening.cursor_connection = &state->connection;
  opening.deadline = deadline;
  // "Non-tailable Cursors" (iteration) and "Tailable non-awaitData Cursors": the deadline is
  // the client's alone; an awaitData cursor's opening carries maxTimeMS.
  opening.max_time_ms_omitted = state->mode == timeout_mode::iteration && settings.type != cursor_type::tailable_await;
  bson::document reply;
  if (auto ec = co_await client.execute(opening, state->session.get(), reply, diag)) co_return ec;
  if (auto ec = take_cursor_reply(reply, *state, diag)) co_return ec;
  if (state->id == 0) state->release();
  cursor_access::state(out) = std::move(state);
  co_return error_code{};
}

asio::awaitable<error_code> drain_cursor(cursor& c, std::vector<bson::document>& out, diagnostics& diag) {
  auto& state = cursor_access::state(c);
  while (state) {
    for (auto& d : state->batch) out.push_back(std::move(d));
    state->batch.clear();
    if (state->id == 0 || state->unreachable) break;
    // Each getMore of a drain is one next() call for timeout_mode iteration.
    const operation_deadline deadline = state->iteration_deadline();
    const error_code ec = co_await state->get_more(deadline, diag);
    // A tailable cursor never ends by itself: the drain stops at the end of the collection.
    const bool at_end = !ec && state->batch.empty() && state->settings.type != cursor_type::non_tailable;
    if (ec || at_end) {
      diagnostics ignored;
      co_await state->kill(std::nullopt, ignored);
      co_return ec;
    }
  }
  co_return error_code{};
}

}  // namespace detail

cursor::cursor() noexcept = default;
cursor::cursor(cursor&&) noexcept = default;
cursor& cursor::operator=(cursor&& other) noexcept {
  if (this != &other) {
    kill_detached();
    state_ = std::move(other.state_);
  }
  return *this;
}

cursor::~cursor() { kill_detached(); }

namespace {

asio::awaitable<void> kill_and_release(std::unique_ptr<detail::cursor_state> state) {
  const std::optional<std::chrono::milliseconds> own_timeout;
  diagnostics ignored;  // best effort, as close() (find_getmore_killcursors.md)
  co_await state->kill(own_timeout, ignored);
}

}  // namespace

// A destructor cannot wait: an open server cursor is killed by a detached killCursors on the
// client's executor (as a destroyed session's transaction is aborted), so that the server does
// not keep it until its idle timeout. The coroutine owns the state until the reply.
void cursor::kill_detached() noexcept {
  if (!state_) return;
  if (state_->id == 0 || state_->unreachable || !state_->session) {
    state_.reset();
    return;
  }
  auto executor = state_->client->executor();
  try {
    asio::co_spawn(executor, kill_and_release(std::move(state_)), asio::detached);
  } catch (...) {
    state_.reset();  // no memory for the coroutine: the server's idle timeout ends the cursor
  }
}

std::int64_t cursor::id() const noexcept { return state_ ? state_->id : 0; }
std::string_view cursor::ns() const noexcept { return state_ ? std::string_view(state_->ns) : std::string_view(); }
std::size_t cursor::buffered() const noexcept { return state_ ? state_->batch.size() : 0; }
bool cursor::has_more() const noexcept {
  return state_ && (!state_->batch.empty() || (state_->id != 0 && !state_->unreachable));
}

asio::any_io_executor cursor::executor() const { return state_ ? state_->client->executor() : asio::any_io_executor(); }

asio::awaitable<error_code> cursor::next(std::optional<bson::document>& out, diagnostics& diag) {
  co_return co_await advance(out, false, diag);
}

asio::awaitable<error_code> cursor::try_next(std::optional<bson::document>& out, diagnostics& diag) {
  co_return co_await advance(out, true, diag);
}

// A document of the batch first (even past the deadline: "Non-tailable Cursors"), else
// getMores within one deadline until one brings a document, the cursor ends, or (`once`) after one.
asio::awaitable<error_code> cursor::advance(std::optional<bson::document>& out, bool once, diagnostics& diag) {
  out.reset();
  if (!state_) co_return error_code{};
  detail::cursor_state& s = *state_;
  std::optional<detail::operation_deadline> deadline;
  while (s.batch.empty() && s.id != 0 && !s.unreachable) {
    if (!deadline) deadline = s.iteration_deadline();
    if (auto ec = co_await s.get_more(*deadline, diag)) co_return ec;
    if (once) break;
  }
  if (s.batch.empty()) co_return error_code{};
  out.emplace(std::move(s.batch.front()));
  s.batch.pop_front();
  co_return error_code{};
}

asio::awaitable<error_code> cursor::close(std::optional<std::chrono::milliseconds> timeout, diagnostics& diag) {
  if (!state_) co_return error_code{};
  co_await state_->kill(timeout, diag);
  co_return error_code{};
}

}  // namespace mongowire
