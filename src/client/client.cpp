// The public client and session: thin handles over client_impl / session_impl.
#include "mongowire/client.hpp"

#include <boost/asio/detached.hpp>

#include "client/api_operation.hpp"
#include "client/client_impl.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/txn/server_session_pool.hpp"

namespace mongowire {

namespace asio = boost::asio;
using detail::client_impl;
using detail::session_impl;

std::string_view to_string(transaction_state s) noexcept {
  return detail::to_string(static_cast<detail::transaction_state>(s));
}

// ---------------------------------------------------------------- client

client::client(asio::any_io_executor ex, std::string_view uri, client_options options) {
  connection_string cs = parse_uri(uri);  // throws mongowire::error naming the bad part
  if (cs.username || cs.auth_mechanism) {
    // Failing here beats every command failing later with Unauthorized.
    diagnostics diag;
    diag.message =
        "authentication (SCRAM, X.509) is not implemented by mongowire yet; remove the credentials "
        "and authMechanism from the connection string";
    throw mongowire::error(client_errc::invalid_uri, std::move(diag));
  }
  impl_ = std::make_shared<client_impl>(std::move(ex), std::move(cs), std::move(options));
  impl_->public_client = this;
  impl_->start();
}

client::~client() {
  if (!impl_) return;
  impl_->public_client = nullptr;
  impl_->topology().close();
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
    diag.message = "Only one of causalConsistency and snapshot can be set to true";
    throw mongowire::error(client_errc::invalid_argument, std::move(diag));
  }
  auto s = impl_->make_session(options, true);
  if (s->is_snapshot()) s->snapshot_time = options.snapshot_time;
  return session(std::move(s));
}

asio::awaitable<error_code> client::list_databases(std::vector<bson::document>& out, diagnostics& diag) {
  auto pending = list_databases(list_databases_options{}, out, diag);  // no temporaries in co_await (g++ 12)
  co_return co_await std::move(pending);
}

namespace {

// enumerate-databases.md: {listDatabases: 1, filter?, nameOnly?, authorizedDatabases?, comment?}
// on admin; a retryable read (classify_command), not a runCommand.
asio::awaitable<error_code> run_list_databases(client_impl& impl, const list_databases_options& o, bool name_only,
                                               std::vector<bson::document>& out, diagnostics& diag) {
  bson::document body;
  body.append("listDatabases", 1);
  if (o.filter) body.append("filter", *o.filter);
  if (name_only) body.append("nameOnly", true);
  if (o.authorized_databases) body.append("authorizedDatabases", *o.authorized_databases);
  if (o.comment) body.append("comment", o.comment->get());
  const auto op = detail::api_operation(detail::admin_db, body, collection_options{});
  bson::document reply;
  if (auto ec = co_await impl.execute(op, nullptr, reply, diag)) co_return ec;
  if (auto dbs = reply["databases"].as_array())
    for (const auto& e : *dbs)
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

session::~session() {
  if (!impl_ || impl_->ended) return;
  if (!impl_->txn.in_transaction()) {
    impl_->release();
    return;
  }
  // driver-sessions.md "endSession": a transaction in progress is aborted. A destructor
  // cannot wait, so the abort runs detached on the client's executor and keeps the session
  // alive until it is done.
  auto impl = impl_;
  asio::co_spawn(
      impl->client->executor(),
      [impl]() -> asio::awaitable<void> {
        diagnostics ignored;
        co_await impl->client->abort(*impl, ignored);
        impl->txn.end_session();
        impl->release();
      },
      asio::detached);
}

asio::any_io_executor session::executor() const { return impl_->client->executor(); }

collection session::get_collection(std::string_view db, std::string_view coll) const {
  return collection(impl_->client, impl_, std::string(db), std::string(coll));
}

database session::get_database(std::string_view db) const { return database(impl_->client, impl_, std::string(db)); }

error_code session::start_transaction(const std::optional<transaction_options>& options, diagnostics& diag) {
  // snapshot-sessions.md "ClientSession changes".
  if (impl_->is_snapshot()) {
    diag.message = "Transactions are not supported in snapshot sessions";
    return client_errc::invalid_argument;
  }
  auto resolved = detail::resolve_transaction_options(options, impl_->options.default_transaction_options,
                                                      impl_->client->default_transaction_options());
  auto refusal = impl_->txn.start_transaction(impl_->server, std::move(resolved));
  if (refusal.ec) diag.message = std::string(refusal.message);
  return refusal.ec;
}

asio::awaitable<error_code> session::commit_transaction(diagnostics& diag) {
  co_return co_await impl_->client->commit(*impl_, diag);
}

asio::awaitable<error_code> session::abort_transaction(diagnostics& diag) {
  co_return co_await impl_->client->abort(*impl_, diag);
}

asio::awaitable<error_code> session::run_command(std::string db, bson::document command, bson::document& reply,
                                                 diagnostics& diag) {
  co_return co_await get_database(db).run_command(std::move(command), std::nullopt, reply, diag);
}

asio::awaitable<void> session::end() {
  if (!impl_ || impl_->ended) co_return;
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
  diag.message = "the client that started this session has been destroyed";
  throw mongowire::error(client_errc::client_closed, std::move(diag));
}

const session_options& session::options() const noexcept { return impl_->options; }

transaction_state session::current_transaction_state() const noexcept {
  return static_cast<transaction_state>(impl_->txn.state());
}
bool session::in_transaction() const noexcept { return impl_->txn.in_transaction(); }
bool session::is_dirty() const noexcept { return impl_->server.dirty; }
bson::document session::id() const { return detail::lsid_document(impl_->server.id); }
std::optional<bson::document> session::cluster_time() const { return impl_->cluster_time; }
std::optional<bson::timestamp> session::operation_time() const { return impl_->operation_time; }
void session::advance_cluster_time(bson::view ct) { impl_->advance_cluster_time(ct); }
void session::advance_operation_time(bson::timestamp t) {
  if (!impl_->operation_time || *impl_->operation_time < t) impl_->operation_time = t;
}
std::int64_t session::txn_number() const noexcept { return impl_->server.txn_number; }
std::optional<bson::timestamp> session::snapshot_time() const noexcept { return impl_->snapshot_time; }

}  // namespace mongowire
