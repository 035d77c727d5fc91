// Database handles: runCommand and the collection-management commands (crud.md,
// enumerate-collections.md), run like every operation through the executor.
#include "client/api_operation.hpp"
#include "client/client_impl.hpp"
#include "mongowire/client.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/reply/cursor_reply.hpp"

namespace mongowire {

namespace asio = boost::asio;

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
  // client-side-operations-timeout.md: timeoutMS, once set, cannot be changed to unset.
  if (!options.timeout) options.timeout = options_.timeout;
  copy.options_ = std::move(options);
  return copy;
}

asio::awaitable<error_code> database::run_command(bson::document command, std::optional<bson::document> read_preference,
                                                  bson::document& reply, diagnostics& diag) {
  const detail::run_command_op user_command{command};
  auto op = detail::describe(user_command.traits(), db_, command, collection_options{});
  op.timeout = options_.timeout;
  if (read_preference) op.read_preference = read_preference->get_view();
  co_return co_await client_->execute(op, session_.get(), reply, diag);
}

// run-command.md "runCursorCommand": the command as runCommand sends it (never retried), and
// the cursor of its reply. client-side-operations-timeout.md "Cursors" for timeoutMode.
asio::awaitable<error_code> database::run_cursor_command(bson::document command, run_cursor_command_options options,
                                                         cursor& out, diagnostics& diag) {
  const detail::run_command_op user_command{command};
  auto op = detail::describe(user_command.traits(), db_, command, collection_options{});
  op.timeout = options_.timeout;
  if (options.read_preference) op.read_preference = options.read_preference->get_view();
  detail::cursor_settings settings;
  settings.type = options.type;
  settings.mode = options.timeout_mode;
  settings.batch_size = options.batch_size;
  if (options.type == cursor_type::tailable_await) settings.max_await_time_ms = options.max_await_time_ms;
  settings.comment = std::move(options.comment);
  co_return co_await detail::open_cursor(*client_, session_, op, settings, out, diag);
}

asio::awaitable<error_code> database::create_collection(std::string coll, bson::document options, diagnostics& diag) {
  const detail::create_collection_op op{coll, options};
  auto buffers = client_->lease_buffers();
  detail::no_result none;
  co_return co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, none, diag);
}

asio::awaitable<error_code> database::drop_collection(std::string coll, diagnostics& diag) {
  const detail::drop_collection_op op{coll};
  auto buffers = client_->lease_buffers();
  detail::no_result none;
  auto ec = co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, none, diag);
  // crud.md "drop": dropping a collection that does not exist succeeds.
  if (ec == make_server_error(server_code::namespace_not_found)) {
    diag.clear();
    ec = {};
  }
  co_return ec;
}

namespace {

detail::list_collections_op list_collections_operation(const list_collections_options& o, bool name_only) {
  detail::list_collections_op op;
  if (o.filter) op.filter = o.filter->get_view();
  op.name_only = name_only;
  op.authorized_collections = o.authorized_collections;
  op.batch_size = o.batch_size;
  if (o.comment) op.comment = o.comment->get();
  return op;
}

detail::cursor_settings list_collections_settings(const list_collections_options& o) {
  detail::cursor_settings s;
  s.mode = o.timeout_mode;
  s.batch_size = o.batch_size;
  return s;
}

}  // namespace

asio::awaitable<error_code> database::list_collections(list_collections_options options,
                                                       std::vector<bson::document>& out, diagnostics& diag) {
  const auto op = list_collections_operation(options, false);
  const detail::cursor_settings settings = list_collections_settings(options);
  co_return co_await detail::run_cursor_operation(*client_, session_, db_, options_, op, settings, out, diag);
}

asio::awaitable<error_code> database::list_collections_cursor(list_collections_options options, cursor& out,
                                                              diagnostics& diag) {
  const auto op = list_collections_operation(options, false);
  const detail::cursor_settings settings = list_collections_settings(options);
  co_return co_await detail::open_cursor_operation(*client_, session_, db_, options_, op, settings, out, diag);
}

// enumerate-collections.md "getCollectionNames": nameOnly: true lets the server skip the
// collection metadata (and the locks it needs).
asio::awaitable<error_code> database::list_collection_names(list_collections_options options,
                                                            std::vector<std::string>& out, diagnostics& diag) {
  const auto op = list_collections_operation(options, true);
  const detail::cursor_settings settings = list_collections_settings(options);
  std::vector<bson::document> entries;
  if (auto ec = co_await detail::run_cursor_operation(*client_, session_, db_, options_, op, settings, entries, diag))
    co_return ec;
  for (const auto& e : entries)
    if (auto name = e["name"].as_string()) out.emplace_back(*name);
  co_return error_code{};
}

asio::awaitable<error_code> database::aggregate(bson::view pipeline, aggregate_options options,
                                                std::vector<bson::document>& out, diagnostics& diag) {
  const detail::aggregate_op op = detail::aggregate_operation("", pipeline, options);  // {aggregate: 1}
  const detail::cursor_settings settings = detail::aggregate_cursor_settings(pipeline, options);
  co_return co_await detail::run_cursor_operation(*client_, session_, db_, options_, op, settings, out, diag);
}

asio::awaitable<error_code> database::aggregate_cursor(bson::view pipeline, aggregate_options options, cursor& out,
                                                       diagnostics& diag) {
  const detail::aggregate_op op = detail::aggregate_operation("", pipeline, options);  // {aggregate: 1}
  const detail::cursor_settings settings = detail::aggregate_cursor_settings(pipeline, options);
  co_return co_await detail::open_cursor_operation(*client_, session_, db_, options_, op, settings, out, diag);
}

}  // namespace mongowire
