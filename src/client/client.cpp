// The public client and session: thin handles over client_impl / session_impl.
#include "mongowire/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>

#include "client/api_operation.hpp"
#include "client/client_impl.hpp"
#include "proto/auth/authenticator.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/txn/server_session_pool.hpp"

namespace mongowire {

namespace asio = boost::asio;
using detail::client_impl;
using detail::session_impl;

// ---------------------------------------------------------------- client

client::client(asio::any_io_executor ex, std::string_view uri, client_options options) {
  connection_string cs = parse_uri(uri);  // throws mongowire::error naming the bad part
  {
    // auth.md "Errors": an unusable credential fails here, not at the first connection.
    std::optional<detail::auth::credential> credential;
    diagnostics diag;
    if (auto ec = detail::auth::client_credential(cs, credential, diag.client_message))
      throw mongowire::error(ec, std::move(diag));
  }
  impl_ = std::make_shared<client_impl>(std::move(ex), std::move(cs), std::move(options));
  impl_->public_client = this;
  impl_->start();
}

client::~client() {
  if (!impl_) return;
  impl_->public_client = nullptr;
  impl_->topology().close();
  impl_->silence_handlers();
}

asio::any_io_executor client::get_executor() const { return impl_->executor(); }

collection client::get_collection(std::string_view db, std::string_view coll) const {
  return collection(impl_, nullptr, std::string(db), std::string(coll));
}

database client::get_database(std::string_view db) const { return database(impl_, nullptr, std::string(db)); }

session client::start_session(const session_options& options) {
  // snapshot-sessions.md "snapshot": "Client MUST throw an error if both snapshot and
  // causalConsistency are set to true."
  if (options.snapshot.value_or(false) && options.causal_consistency.value_or(false)) {
    diagnostics diag;
    diag.client_message = "Only one of causalConsistency and snapshot can be set to true";
    throw mongowire::error(client_errc::invalid_argument, std::move(diag));
  }
  if (options.default_timeout && options.default_timeout->count() < 0) {  // client-side-operations-timeout.md
    diagnostics diag;
    diag.client_message = "defaultTimeoutMS must not be negative";
    throw mongowire::error(client_errc::invalid_argument, std::move(diag));
  }
  auto s = impl_->make_session(options, true);
  if (s->is_snapshot()) s->snapshot_time = options.snapshot_time;
  return session(std::move(s));
}

namespace {

// A server session whose last commit is unknown is not reused: a later resolution by anyone
// holding its lsid and txnNumber must not meet a new transaction on the same id.
void keep_unknown_commit_out_of_pool(detail::session_impl& s) {
  if (s.last_commit.outcome == commit_outcome::unknown) detail::mark_dirty(s.server_session);
}

// The detached end of a session destroyed with a transaction in progress. A function, not a
// capturing lambda: a coroutine lambda's captures live in the lambda object, which is gone
// once co_spawn returns; parameters live in the coroutine frame.
asio::awaitable<void> abort_and_release(std::shared_ptr<detail::session_impl> impl) {
  diagnostics ignored;
  co_await impl->client->abort(*impl, ignored);
  impl->txn.end_session();
  impl->release();
}

// enumerate-databases.md: listDatabases on admin, a retryable read (list_databases_op), not
// a runCommand.
asio::awaitable<error_code> run_list_databases(client_impl& impl, const list_databases_options& o, bool name_only,
                                               std::vector<bson::document>& out, diagnostics& diag) {
  detail::list_databases_op op;
  if (o.filter) op.filter = o.filter->get_view();
  op.name_only = name_only;
  op.authorized_databases = o.authorized_databases;
  if (o.comment) op.comment = o.comment->get();
  auto buffers = impl.lease_buffers();
  collection_options no_handle;  // no temporaries in co_await (g++ 12)
  no_handle.timeout = o.timeout;
  bson::view databases;
  if (auto ec =
          co_await detail::run_operation(impl, nullptr, detail::admin_db, no_handle, op, *buffers, databases, diag))
    co_return ec;
  for (const auto& e : databases)
    if (auto d = e.as_document()) out.emplace_back(*d);
  co_return error_code{};
}

}  // namespace

asio::awaitable<error_code> client::list_databases(list_databases_options options, std::vector<bson::document>& out,
                                                   diagnostics& diag) {
  co_return co_await run_list_databases(*impl_, options, false, out, diag);
}

asio::awaitable<error_code> client::list_database_names(list_databases_options options, std::vector<std::string>& out,
                                                        diagnostics& diag) {
  std::vector<bson::document> entries;
  if (auto ec = co_await run_list_databases(*impl_, options, true, entries, diag)) co_return ec;
  for (const auto& e : entries)
    if (auto name = e["name"].as_string()) out.emplace_back(*name);
  co_return error_code{};
}

asio::awaitable<error_code> client::run_command(std::string db, bson::document command, bson::document& reply,
                                                diagnostics& diag) {
  co_return co_await get_database(db).run_command(std::move(command), std::nullopt, reply, diag);
}

asio::awaitable<error_code> client::close() { co_return co_await impl_->close(); }

client::stats client::get_stats() const noexcept { return impl_->stats; }

// ---------------------------------------------------------------- session

session::session(std::shared_ptr<session_impl> impl) : impl_(std::move(impl)) {}
session::session(session&&) noexcept = default;
session& session::operator=(session&&) noexcept = default;

namespace {

// driver-sessions.md "endSession" for a session whose handle is gone: a transaction in progress
// is aborted. A destructor cannot wait, so the abort runs detached on the client's executor
// and keeps the session alive until it is done.
void end_detached(const std::shared_ptr<session_impl>& impl) {
  keep_unknown_commit_out_of_pool(*impl);
  if (impl->txn.in_transaction()) asio::co_spawn(impl->client->executor(), abort_and_release(impl), asio::detached);
  else impl->release();
}

}  // namespace

session::~session() {
  if (!impl_ || impl_->ended) return;
  // An operation still in flight uses the server session: the session ends once it is done, so
  // that no other session takes its lsid meanwhile and the abort is not refused as
  // session_in_use (issue 16 trap 14).
  if (impl_->busy) impl_->end_when_idle = [impl = impl_] { end_detached(impl); };
  else end_detached(impl_);
}

asio::any_io_executor session::executor() const { return impl_->client->executor(); }

collection session::get_collection(std::string_view db, std::string_view coll) const {
  return collection(impl_->client, impl_, std::string(db), std::string(coll));
}

database session::get_database(std::string_view db) const { return database(impl_->client, impl_, std::string(db)); }

error_code session::start_transaction(const std::optional<transaction_options>& options, diagnostics& diag) {
  // snapshot-sessions.md "ClientSession changes".
  if (impl_->is_snapshot()) {
    diag.client_message = "Transactions are not supported in snapshot sessions";
    return client_errc::invalid_argument;
  }
  auto resolved = detail::resolve_transaction_options(options, impl_->options.default_transaction_options,
                                                      impl_->client->default_transaction_options());
  auto refusal = impl_->txn.start_transaction(impl_->server_session, std::move(resolved));
  if (refusal.ec) diag.client_message = std::string(refusal.message);
  else {
    impl_->server_abort.reset();
    impl_->unpin();  // transactions.md "When to unpin", rule 4
    impl_->last_commit = commit_result{};
    if (!impl_->accounting_spans_attempts) impl_->begin_accounting();
  }
  return refusal.ec;
}

namespace {

// What a commit's completion says of the transaction: a refusal sent nothing (no change);
// UnknownTransactionCommitResult leaves it unknown; any other answer is definite.
void record_commit(commit_result& r, error_code ec, const diagnostics& diag) {
  if (ec.category() == client_category() && !diag.has_label(label::unknown_transaction_commit_result)) return;
  ++r.attempts;
  r.error = ec;
  r.labels = diag.labels.items();
  if (!ec) r.outcome = commit_outcome::committed;
  else if (diag.has_label(label::unknown_transaction_commit_result)) r.outcome = commit_outcome::unknown;
  else r.outcome = commit_outcome::aborted;
}

}  // namespace

asio::awaitable<error_code> session::commit_transaction(diagnostics& diag) {
  const auto state_before = impl_->txn.state();
  const error_code ec = co_await impl_->client->commit(*impl_, diag);
  // A transaction that ran no command commits without sending anything (committed_empty).
  if (state_before != transaction_state::starting && state_before != transaction_state::committed_empty) {
    // A cancelled commit may have reached the server: like a network error, its outcome is
    // unknown and committing again is safe (transactions.md "UnknownTransactionCommitResult";
    // issue 16 trap 10, go#1416), never "aborted".
    if (ec == asio::error::operation_aborted) diag.labels.add(label::unknown_transaction_commit_result);
    const int reached_before = impl_->last_commit.attempts;
    record_commit(impl_->last_commit, ec, diag);
    if (reached_before > 0 && impl_->last_commit.attempts > reached_before) ++impl_->accounting.commit_retries;
  }
  co_return ec;
}

const commit_result& session::last_commit() const noexcept { return impl_->last_commit; }

std::optional<std::string> session::pinned_server() const {
  if (!impl_->pinned_mongos) return std::nullopt;
  return impl_->pinned_mongos->to_string();
}

const transaction_accounting& session::last_transaction_accounting() const noexcept { return impl_->accounting; }

asio::awaitable<error_code> session::resolve_commit(std::chrono::milliseconds deadline, diagnostics& diag) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  error_code ec = impl_->last_commit.error;
  while (impl_->last_commit.outcome == commit_outcome::unknown && std::chrono::steady_clock::now() < until) {
    diag.clear();
    ec = co_await commit_transaction(diag);
  }
  co_return ec;
}

std::string_view to_string(commit_outcome o) noexcept {
  switch (o) {
    case commit_outcome::none: return "none";
    case commit_outcome::committed: return "committed";
    case commit_outcome::aborted: return "aborted";
    case commit_outcome::unknown: return "unknown";
  }
  return "unknown";
}

asio::awaitable<error_code> session::abort_transaction(diagnostics& diag) {
  co_return co_await impl_->client->abort(*impl_, diag);
}

namespace {

// client-side-operations-timeout.md "timeoutMS": "Drivers MUST error if a negative value is specified."
error_code check_timeout(std::chrono::milliseconds timeout, diagnostics& diag) {
  if (timeout.count() >= 0) return {};
  diag.client_message = "timeoutMS must not be negative (got " + std::to_string(timeout.count()) + ")";
  return client_errc::invalid_argument;
}

}  // namespace

asio::awaitable<error_code> session::commit_transaction(std::chrono::milliseconds timeout, diagnostics& diag) {
  if (auto ec = check_timeout(timeout, diag)) co_return ec;
  const detail::timeout_override_scope scope{*impl_, timeout};
  co_return co_await commit_transaction(diag);
}

asio::awaitable<error_code> session::abort_transaction(std::chrono::milliseconds timeout, diagnostics& diag) {
  if (auto ec = check_timeout(timeout, diag)) co_return ec;
  const detail::timeout_override_scope scope{*impl_, timeout};
  co_return co_await abort_transaction(diag);
}

asio::awaitable<error_code> session::run_command(std::string db, bson::document command, bson::document& reply,
                                                 diagnostics& diag) {
  co_return co_await get_database(db).run_command(std::move(command), std::nullopt, reply, diag);
}

asio::awaitable<void> session::end() {
  if (!impl_ || impl_->ended) co_return;
  keep_unknown_commit_out_of_pool(*impl_);
  if (impl_->txn.in_transaction()) {
    diagnostics ignored;
    co_await impl_->client->abort(*impl_, ignored);
  }
  impl_->txn.end_session();
  impl_->release();
}

client& session::client() const {
  if (auto* c = impl_->client->public_client) return *c;
  diagnostics diag;
  diag.client_message = "the client that started this session has been destroyed";
  throw mongowire::error(client_errc::client_closed, std::move(diag));
}

const session_options& session::options() const noexcept { return impl_->options; }

transaction_state session::current_transaction_state() const noexcept { return impl_->txn.state(); }
bool session::in_transaction() const noexcept { return impl_->txn.in_transaction(); }
bool session::is_dirty() const noexcept { return impl_->server_session.dirty; }
bson::document session::id() const { return detail::lsid_document(impl_->server_session.id); }
std::optional<bson::document> session::cluster_time() const { return impl_->cluster_time; }
std::optional<bson::timestamp> session::operation_time() const { return impl_->operation_time; }
void session::advance_cluster_time(bson::view ct) { impl_->advance_cluster_time(ct); }
void session::advance_operation_time(bson::timestamp t) {
  if (!impl_->operation_time || *impl_->operation_time < t) impl_->operation_time = t;
}
std::int64_t session::txn_number() const noexcept { return impl_->server_session.txn_number; }
std::optional<bson::timestamp> session::snapshot_time() const noexcept { return impl_->snapshot_time; }

}  // namespace mongowire
