// Database handles: runCommand and the collection-management commands (crud.md,
// enumerate-collections.md), run like every operation through the executor.
#include "client/client_impl.hpp"
#include "mongowire/client.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/reply/cursor_reply.hpp"

namespace mongowire {

namespace asio = boost::asio;
using detail::retry_family;

database::database(std::shared_ptr<detail::client_impl> c, std::shared_ptr<detail::session_impl> s, std::string db)
    : client_(std::move(c)), session_(std::move(s)), db_(std::move(db)) {}

asio::any_io_executor database::executor() const { return client_->executor(); }

collection database::get_collection(std::string_view coll) const {
  collection c(client_, session_, db_, std::string(coll));
  c.options_ = options_;
  return c;
}

database database::with_options(collection_options options) const {
  database copy = *this;
  copy.options_ = std::move(options);
  return copy;
}

namespace {

detail::operation management_op(std::string_view name, const std::string& db, const bson::document& body,
                                const collection_options& options) {
  detail::operation op;
  op.name = name;
  op.db = db;
  op.body = &body;
  op.is_write = true;
  if (options.write_concern) op.inherited_write_concern = options.write_concern->get_view();
  return op;
}

}  // namespace

asio::awaitable<error_code> database::run_command(bson::document command, std::optional<bson::document> read_preference,
                                                  bson::document& reply, diagnostics& diag) {
  detail::operation op;
  op.name = command.get_view().first_key();
  op.db = db_;
  op.body = &command;
  // transactions.md "readPreference": inside a transaction every command is subject to the
  // transaction's read preference (or its own), which must be primary.
  op.is_read = true;
  op.inherits_client_concerns = false;  // run-command.md: the command is sent as given
  if (read_preference) op.read_preference = read_preference->get_view();
  co_return co_await client_->execute(op, session_.get(), reply, diag);
}

asio::awaitable<error_code> database::create_collection(std::string coll, bson::document options, diagnostics& diag) {
  bson::document body;
  detail::build_create(body, coll, options);
  bson::document reply;
  co_return co_await client_->execute(management_op("create", db_, body, options_), session_.get(), reply, diag);
}

asio::awaitable<error_code> database::drop_collection(std::string coll, diagnostics& diag) {
  bson::document body;
  detail::build_drop(body, coll);
  bson::document reply;
  auto ec = co_await client_->execute(management_op("drop", db_, body, options_), session_.get(), reply, diag);
  // crud.md "drop": dropping a collection that does not exist succeeds.
  if (ec == make_server_error(server_code::namespace_not_found)) {
    diag.clear();
    ec = {};
  }
  co_return ec;
}

asio::awaitable<error_code> database::list_collections(std::vector<bson::document>& out, diagnostics& diag) {
  bson::document body;
  body.append("listCollections", 1);
  body.append_document("cursor", [](bson::document&) {});
  std::shared_ptr<detail::session_impl> session = session_;
  if (!session) session = client_->make_session({}, false);  // getMores use the session of the command
  detail::operation op;
  op.name = "listCollections";
  op.db = db_;
  op.body = &body;
  op.family = retry_family::read;
  bson::document reply;
  error_code ec = co_await client_->execute(op, session.get(), reply, diag);
  while (!ec) {
    detail::cursor_reply cursor;
    if ((ec = detail::parse_cursor_reply(reply, cursor, diag))) break;
    for (const auto& e : cursor.batch)
      if (auto d = e.as_document()) out.emplace_back(*d);
    if (cursor.id == 0) break;
    std::string_view coll = cursor.ns.substr(cursor.ns.find('.') + 1);  // "$cmd.listCollections"
    bson::document get_more;
    detail::build_get_more(get_more, cursor.id, coll);
    detail::operation next;
    next.name = "getMore";
    next.db = db_;
    next.body = &get_more;
    bson::document next_reply;
    ec = co_await client_->execute(next, session.get(), next_reply, diag);
    reply = std::move(next_reply);
  }
  if (!session_) session->release();
  co_return ec;
}

}  // namespace mongowire
