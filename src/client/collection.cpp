// CRUD operations: each builds the command crud.md describes, runs it through the
// executor with the collection's session (or an implicit one), and reads the reply.
#include "client/api_operation.hpp"
#include "client/client_impl.hpp"
#include "client/write_models.hpp"
#include "mongowire/client.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/command/write_batches.hpp"
#include "proto/reply/cursor_reply.hpp"
#include "proto/reply/write_reply.hpp"

namespace mongowire {

namespace asio = boost::asio;

collection::collection(std::shared_ptr<detail::client_impl> c, std::shared_ptr<detail::session_impl> s, std::string db,
                       std::string coll)
    : client_(std::move(c)), session_(std::move(s)), db_(std::move(db)), coll_(std::move(coll)) {}

asio::any_io_executor collection::executor() const { return client_->executor(); }

namespace {

using detail::check_replacement_document;
using detail::check_update_document;
using detail::hint_of;
using detail::with_id;
using detail::write_limits_of;

// A statement above the server's limit is a client error before anything is sent
// (spec-conformance finding 2: it must change neither the topology nor a transaction).
error_code check_statement_size(std::string_view command, std::size_t size, const detail::write_limits& limits,
                                diagnostics& diag) {
  const std::size_t max = detail::max_statement_size(command, limits);
  if (size <= max) return {};
  diag.client_message = "document too large: a " + std::string(command) + " statement of " + std::to_string(size) +
                        " bytes exceeds the server's limit of " + std::to_string(max) + " bytes";
  return client_errc::invalid_argument;
}

// Where a handle's commands go: its client, session (null: an implicit one), database,
// collection and concerns.
struct write_target {
  detail::client_impl& client;
  detail::session_impl* session;
  const std::string& db;
  const std::string& coll;
  const collection_options& options;
  // client-side-operations-timeout.md "Batching": a bulk write's commands share one deadline.
  std::optional<detail::operation_deadline> deadline = std::nullopt;
};

// updateOne or updateMany, deleteOne or deleteMany: the statement's multi / limit.
enum class how_many { one, many };

// updateOne, updateMany (update_options) and replaceOne (replace_options): one update
// statement, and crud.md's UpdateResult from the reply.
template <class Options>
asio::awaitable<error_code> run_update(write_target t, bson::view filter, bson::view update_doc, const Options& o,
                                       how_many n, update_result& result, diagnostics& diag) {
  constexpr bool replacement = std::is_same_v<Options, replace_options>;
  const auto invalid =
      replacement ? check_replacement_document(update_doc, diag) : check_update_document(update_doc, diag);
  if (invalid) co_return invalid;
  detail::update_statement stmt;
  stmt.q = filter;
  stmt.u = update_doc;
  if (n == how_many::many) stmt.multi = true;
  if (o.upsert) stmt.upsert = true;
  if (o.collation) stmt.collation = o.collation->get_view();
  if constexpr (!replacement)
    if (o.array_filters) stmt.array_filters = o.array_filters->get_view();
  auto buffers = t.client.lease_buffers();
  const detail::update_op op{t.coll, std::span(&stmt, 1)};
  detail::write_result w;
  auto ec = co_await detail::run_operation(t.client, t.session, t.db, t.options, op, *buffers, w, diag);
  result.matched_count = w.n - static_cast<std::int64_t>(w.upserted_count);
  result.modified_count = w.n_modified.value_or(0);
  if (w.upserted_count > 0) {
    auto first = *w.upserted.begin();
    if (auto entry = first.as_document()) {
      bson::document id;
      id.append("_id", (*entry)["_id"]);
      result.upserted_id = std::move(id);
    }
  }
  co_return ec;
}

// deleteOne (limit 1) and deleteMany (limit 0).
asio::awaitable<error_code> run_delete(write_target t, bson::view filter, const delete_options& o, how_many n,
                                       delete_result& result, diagnostics& diag) {
  detail::delete_statement stmt;
  stmt.q = filter;
  stmt.limit = n == how_many::one ? 1 : 0;
  if (o.collation) stmt.collation = o.collation->get_view();
  auto buffers = t.client.lease_buffers();
  const detail::delete_op op{t.coll, std::span(&stmt, 1)};
  detail::write_result w;
  auto ec = co_await detail::run_operation(t.client, t.session, t.db, t.options, op, *buffers, w, diag);
  result.deleted_count = w.n;
  co_return ec;
}

}  // namespace

// insertOne has no options yet (crud.md "InsertOneOptions": bypassDocumentValidation, comment).
asio::awaitable<error_code> collection::insert_one(bson::view doc, insert_one_options, insert_one_result& result,
                                                   diagnostics& diag) {
  auto buffers = client_->lease_buffers();
  bson::view docs[] = {with_id(doc, buffers->staged, result.inserted_id)};
  if (auto ec = check_statement_size("insert", docs[0].size(), write_limits_of(*client_), diag)) co_return ec;
  const detail::insert_op op{coll_, docs};
  detail::write_result w;
  co_return co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, w, diag);
}

// crud.md "insertMany": a bulk write of inserts, split into commands like any bulk write.
asio::awaitable<error_code> collection::insert_many(std::vector<bson::document> docs, insert_many_options options,
                                                    insert_many_result& result, diagnostics& diag) {
  result = insert_many_result{};
  if (docs.empty()) {
    diag.client_message = "insertMany needs at least one document";
    co_return client_errc::invalid_argument;
  }
  std::vector<write_model> requests(docs.size());
  for (std::size_t i = 0; i < docs.size(); ++i) requests[i].document = std::move(docs[i]);
  bulk_write_result r;
  const bulk_write_options bulk{options.ordered};
  auto pending = bulk_write(std::move(requests), bulk, r, diag);  // no temporaries in co_await (g++ 12)
  auto ec = co_await std::move(pending);
  result.inserted_count = r.inserted_count;
  result.inserted_ids = std::move(r.inserted_ids);
  co_return ec;
}

asio::awaitable<error_code> collection::update_one(bson::view filter, bson::view update_doc, update_options options,
                                                   update_result& result, diagnostics& diag) {
  const write_target t{*client_, session_.get(), db_, coll_, options_};
  co_return co_await run_update(t, filter, update_doc, options, how_many::one, result, diag);
}

asio::awaitable<error_code> collection::update_many(bson::view filter, bson::view update_doc, update_options options,
                                                    update_result& result, diagnostics& diag) {
  const write_target t{*client_, session_.get(), db_, coll_, options_};
  co_return co_await run_update(t, filter, update_doc, options, how_many::many, result, diag);
}

asio::awaitable<error_code> collection::replace_one(bson::view filter, bson::view replacement, replace_options options,
                                                    update_result& result, diagnostics& diag) {
  const write_target t{*client_, session_.get(), db_, coll_, options_};
  co_return co_await run_update(t, filter, replacement, options, how_many::one, result, diag);
}

asio::awaitable<error_code> collection::delete_one(bson::view filter, delete_options options, delete_result& result,
                                                   diagnostics& diag) {
  const write_target t{*client_, session_.get(), db_, coll_, options_};
  co_return co_await run_delete(t, filter, options, how_many::one, result, diag);
}

asio::awaitable<error_code> collection::delete_many(bson::view filter, delete_options options, delete_result& result,
                                                    diagnostics& diag) {
  const write_target t{*client_, session_.get(), db_, coll_, options_};
  co_return co_await run_delete(t, filter, options, how_many::many, result, diag);
}

namespace {

// crud.md "CountOptions" for countDocuments and count.
detail::count_options count_fields(const count_options& o) {
  detail::count_options c;
  c.skip = o.skip;
  c.limit = o.limit;
  c.hint = hint_of(o.hint);
  if (o.collation) c.collation = o.collation->get_view();
  c.max_time_ms = o.max_time_ms;  // sent by the legacy count only
  return c;
}

// crud.md "FindOptions" as the find command's fields (find_getmore_killcursors.md names).
detail::find_op find_operation(std::string_view coll, bson::view filter, const find_options& o) {
  detail::find_options f;
  if (o.projection) f.projection = o.projection->get_view();
  if (o.sort) f.sort = o.sort->get_view();
  f.skip = o.skip;
  f.limit = o.limit;
  f.batch_size = o.batch_size;
  if (o.collation) f.collation = o.collation->get_view();
  f.hint = hint_of(o.hint);
  if (o.min) f.min = o.min->get_view();
  if (o.max) f.max = o.max->get_view();
  f.max_time_ms = o.max_time_ms;
  if (o.comment) f.comment = o.comment->get();
  f.return_key = o.return_key;
  f.show_record_id = o.show_record_id;
  f.allow_disk_use = o.allow_disk_use;
  if (o.let) f.let = o.let->get_view();
  f.tailable = o.type != cursor_type::non_tailable;
  f.await_data = o.type == cursor_type::tailable_await;
  return {coll, filter, f};
}

// crud.md "FindOptions": maxAwaitTimeMS is for tailable awaitData cursors only (the server
// refuses maxTimeMS on the getMore of any other cursor).
detail::cursor_settings find_cursor_settings(const find_options& o) {
  detail::cursor_settings s;
  s.type = o.type;
  s.mode = o.timeout_mode;
  s.batch_size = o.batch_size;
  if (o.type == cursor_type::tailable_await) s.max_await_time_ms = o.max_await_time_ms;
  s.comment = o.comment;
  return s;
}

}  // namespace

asio::awaitable<error_code> collection::find(bson::view filter, find_options options, std::vector<bson::document>& out,
                                             diagnostics& diag) {
  const detail::find_op op = find_operation(coll_, filter, options);
  const detail::cursor_settings settings = find_cursor_settings(options);
  co_return co_await detail::run_cursor_operation(*client_, session_, db_, options_, op, settings, out, diag);
}

asio::awaitable<error_code> collection::find_cursor(bson::view filter, find_options options, cursor& out,
                                                    diagnostics& diag) {
  const detail::find_op op = find_operation(coll_, filter, options);
  const detail::cursor_settings settings = find_cursor_settings(options);
  co_return co_await detail::open_cursor_operation(*client_, session_, db_, options_, op, settings, out, diag);
}

// One batch of at most one document, so no getMore and no cursor left on the server
// (crud.md: findOne is find with limit 1 and singleBatch).
asio::awaitable<error_code> collection::find_one(bson::view filter, find_options options,
                                                 std::optional<bson::document>& out, diagnostics& diag) {
  options.limit = -1;  // find_getmore_killcursors.md: a negative limit is one batch (singleBatch)
  options.batch_size.reset();
  auto buffers = client_->lease_buffers();
  const detail::find_op op = find_operation(coll_, filter, options);
  detail::cursor_reply cursor;
  if (auto ec = co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, cursor, diag))
    co_return ec;
  auto first = cursor.batch.begin();
  auto doc = first != cursor.batch.end() ? (*first).as_document() : std::nullopt;
  if (!doc) {
    out.reset();
    co_return error_code{};
  }
  if (!out) out.emplace();
  out->clear();  // reuses the caller's buffer
  out->concat(*doc);
  co_return error_code{};
}

// crud.md "estimatedDocumentCount": count without a query reads the collection's metadata.
asio::awaitable<error_code> collection::estimated_document_count(estimated_document_count_options options,
                                                                 std::int64_t& out, diagnostics& diag) {
  detail::estimated_document_count_op op{coll_, options.max_time_ms, std::nullopt};
  if (options.comment) op.comment = options.comment->get();
  auto buffers = client_->lease_buffers();
  co_return co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, out, diag);
}

asio::awaitable<error_code> collection::count_documents(bson::view filter, count_options options, std::int64_t& out,
                                                        diagnostics& diag) {
  const detail::count_documents_op op{coll_, filter, count_fields(options)};
  auto buffers = client_->lease_buffers();
  co_return co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, out, diag);
}

asio::awaitable<error_code> collection::aggregate(bson::view pipeline, aggregate_options options,
                                                  std::vector<bson::document>& out, diagnostics& diag) {
  const detail::aggregate_op op = detail::aggregate_operation(coll_, pipeline, options);
  const detail::cursor_settings settings = detail::aggregate_cursor_settings(pipeline, options);
  co_return co_await detail::run_cursor_operation(*client_, session_, db_, options_, op, settings, out, diag);
}

asio::awaitable<error_code> collection::aggregate_cursor(bson::view pipeline, aggregate_options options, cursor& out,
                                                         diagnostics& diag) {
  const detail::aggregate_op op = detail::aggregate_operation(coll_, pipeline, options);
  const detail::cursor_settings settings = detail::aggregate_cursor_settings(pipeline, options);
  co_return co_await detail::open_cursor_operation(*client_, session_, db_, options_, op, settings, out, diag);
}

namespace {

// findOneAndUpdate/Replace/Delete: the fields their options share.
template <class Options>
detail::find_and_modify_options find_and_modify_fields(bson::view filter, const Options& o) {
  detail::find_and_modify_options f;
  f.query = filter;
  if (o.sort) f.sort = o.sort->get_view();
  if (o.projection) f.fields = o.projection->get_view();
  if (o.collation) f.collation = o.collation->get_view();
  f.max_time_ms = o.max_time_ms;
  if constexpr (requires { o.return_new; }) {
    f.return_new = o.return_new;
    if (o.upsert) f.upsert = true;
  }
  return f;
}

asio::awaitable<error_code> run_find_and_modify(write_target t, const detail::find_and_modify_options& f,
                                                std::optional<bson::document>& out, diagnostics& diag) {
  const detail::find_and_modify_op op{t.coll, f};
  auto buffers = t.client.lease_buffers();
  detail::find_and_modify_result r;
  if (auto ec = co_await detail::run_operation(t.client, t.session, t.db, t.options, op, *buffers, r, diag))
    co_return ec;
  if (r.value) out = bson::document(*r.value);
  else out.reset();
  co_return error_code{};
}

}  // namespace

asio::awaitable<error_code> collection::find_one_and_update(bson::view filter, bson::view update_doc,
                                                            find_one_and_update_options options,
                                                            std::optional<bson::document>& out, diagnostics& diag) {
  if (auto ec = check_update_document(update_doc, diag)) co_return ec;
  auto f = find_and_modify_fields(filter, options);
  f.update = update_doc;
  if (options.array_filters) f.array_filters = options.array_filters->get_view();
  const write_target t{*client_, session_.get(), db_, coll_, options_};
  co_return co_await run_find_and_modify(t, f, out, diag);
}

asio::awaitable<error_code> collection::find_one_and_replace(bson::view filter, bson::view replacement,
                                                             find_one_and_replace_options options,
                                                             std::optional<bson::document>& out, diagnostics& diag) {
  if (auto ec = check_replacement_document(replacement, diag)) co_return ec;
  auto f = find_and_modify_fields(filter, options);
  f.update = replacement;
  const write_target t{*client_, session_.get(), db_, coll_, options_};
  co_return co_await run_find_and_modify(t, f, out, diag);
}

asio::awaitable<error_code> collection::find_one_and_delete(bson::view filter, find_one_and_delete_options options,
                                                            std::optional<bson::document>& out, diagnostics& diag) {
  auto f = find_and_modify_fields(filter, options);
  f.remove = true;
  const write_target t{*client_, session_.get(), db_, coll_, options_};
  co_return co_await run_find_and_modify(t, f, out, diag);
}

collection collection::with_options(collection_options options) const {
  collection copy = *this;
  // client-side-operations-timeout.md: timeoutMS, once set, cannot be changed to unset.
  if (!options.timeout) options.timeout = options_.timeout;
  copy.options_ = std::move(options);
  return copy;
}

asio::awaitable<error_code> collection::distinct(std::string field, bson::view filter, distinct_options options,
                                                 bson::document& values, diagnostics& diag) {
  detail::distinct_op op{coll_, field, filter, std::nullopt, options.max_time_ms, std::nullopt};
  if (options.collation) op.collation = options.collation->get_view();
  if (options.comment) op.comment = options.comment->get();
  auto buffers = client_->lease_buffers();
  bson::view array;
  if (auto ec = co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, array, diag))
    co_return ec;
  values = bson::document(array);
  co_return error_code{};
}

asio::awaitable<error_code> collection::count(bson::view filter, count_options options, std::int64_t& out,
                                              diagnostics& diag) {
  const detail::count_op op{coll_, filter, count_fields(options)};
  auto buffers = client_->lease_buffers();
  co_return co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, out, diag);
}

asio::awaitable<error_code> collection::create_index(bson::view keys, index_options options, std::string& name,
                                                     diagnostics& diag) {
  name = options.name.empty() ? detail::default_index_name(keys) : options.name;
  bson::document extra;
  if (options.unique) extra.append("unique", true);
  const detail::index_model model{keys, name, extra};
  detail::create_indexes_op op{coll_, std::span(&model, 1), options.max_time_ms, std::nullopt};
  if (options.comment) op.comment = options.comment->get();
  auto buffers = client_->lease_buffers();
  detail::no_result none;
  co_return co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, none, diag);
}

asio::awaitable<error_code> collection::list_indexes(std::vector<bson::document>& out, diagnostics& diag) {
  list_indexes_options defaults;
  co_return co_await list_indexes(std::move(defaults), out, diag);
}

namespace {

detail::list_indexes_op list_indexes_operation(std::string_view coll, const list_indexes_options& o,
                                               detail::cursor_settings& settings) {
  detail::list_indexes_op op{coll, o.batch_size, std::nullopt};
  if (o.comment) op.comment = o.comment->get();
  settings.mode = o.timeout_mode;
  settings.batch_size = o.batch_size;
  return op;
}

}  // namespace

asio::awaitable<error_code> collection::list_indexes(list_indexes_options options, std::vector<bson::document>& out,
                                                     diagnostics& diag) {
  detail::cursor_settings settings;
  const detail::list_indexes_op op = list_indexes_operation(coll_, options, settings);
  co_return co_await detail::run_cursor_operation(*client_, session_, db_, options_, op, settings, out, diag);
}

asio::awaitable<error_code> collection::list_indexes_cursor(list_indexes_options options, cursor& out,
                                                            diagnostics& diag) {
  detail::cursor_settings settings;
  const detail::list_indexes_op op = list_indexes_operation(coll_, options, settings);
  co_return co_await detail::open_cursor_operation(*client_, session_, db_, options_, op, settings, out, diag);
}

asio::awaitable<error_code> collection::list_index_names(std::vector<std::string>& out, diagnostics& diag) {
  std::vector<bson::document> indexes;
  if (auto ec = co_await list_indexes(indexes, diag)) co_return ec;
  for (const auto& ix : indexes)
    if (auto name = ix["name"].as_string()) out.emplace_back(*name);
  co_return error_code{};
}

asio::awaitable<error_code> collection::drop_index(std::string name, drop_index_options options, diagnostics& diag) {
  // index-management.md "dropIndex": '*' MUST raise an error (it would drop more than one).
  if (name == "*") {
    diag.client_message = "drop_index: '*' names every index; use drop_indexes to drop them all";
    co_return client_errc::invalid_argument;
  }
  detail::drop_indexes_op op{coll_, name, options.max_time_ms, std::nullopt};
  if (options.comment) op.comment = options.comment->get();
  auto buffers = client_->lease_buffers();
  detail::no_result none;
  co_return co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, none, diag);
}

asio::awaitable<error_code> collection::drop_indexes(drop_index_options options, diagnostics& diag) {
  detail::drop_indexes_op op{coll_, "*", options.max_time_ms, std::nullopt};
  if (options.comment) op.comment = options.comment->get();
  auto buffers = client_->lease_buffers();
  detail::no_result none;
  co_return co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, none, diag);
}

asio::awaitable<error_code> collection::drop(diagnostics& diag) {
  const detail::drop_collection_op op{coll_};
  auto buffers = client_->lease_buffers();
  detail::no_result none;
  auto ec = co_await detail::run_operation(*client_, session_.get(), db_, options_, op, *buffers, none, diag);
  // crud.md "drop": a collection that does not exist is not an error.
  if (ec == make_server_error(server_code::namespace_not_found)) {
    diag.clear();
    ec = {};
  }
  co_return ec;
}

// ---- bulkWrite and insertMany (crud.md "Bulk Write")

namespace {

enum class bulk_command { insert, update, remove };

bulk_command command_of(write_model::kind k) {
  switch (k) {
    case write_model::kind::insert_one: return bulk_command::insert;
    case write_model::kind::delete_one:
    case write_model::kind::delete_many: return bulk_command::remove;
    default: return bulk_command::update;
  }
}

std::string_view statement_field(bulk_command c) {
  return c == bulk_command::insert ? "documents" : c == bulk_command::update ? "updates" : "deletes";
}

// Requests of one command kind, by index in the caller's list.
struct bulk_group {
  bulk_command command;
  std::vector<std::size_t> requests;
};

// Ordered: runs of consecutive requests of one command. Unordered: one group per command,
// inserts first (crud.md lets unordered writes run in any order).
std::vector<bulk_group> group_requests(const std::vector<write_model>& requests, bool ordered) {
  std::vector<bulk_group> groups;
  if (ordered) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      auto c = command_of(requests[i].type);
      if (groups.empty() || groups.back().command != c) groups.push_back({c, {}});
      groups.back().requests.push_back(i);
    }
    return groups;
  }
  for (auto c : {bulk_command::insert, bulk_command::update, bulk_command::remove}) {
    bulk_group g{c, {}};
    for (std::size_t i = 0; i < requests.size(); ++i)
      if (command_of(requests[i].type) == c) g.requests.push_back(i);
    if (!g.requests.empty()) groups.push_back(std::move(g));
  }
  return groups;
}

// Validates every request and gives inserted documents their _id, before anything is sent.
error_code prepare_requests(std::vector<write_model>& requests, diagnostics& diag) {
  for (auto& r : requests)
    if (auto invalid = detail::prepare_write_model(r, diag)) return invalid;
  return {};
}

// The whole command of a group: {insert|update|delete: coll, <statements>, ordered}.
void build_group_command(bson::document& body, std::string_view coll, const bulk_group& group,
                         const std::vector<write_model>& requests, bool ordered) {
  if (group.command == bulk_command::insert) {
    std::vector<bson::view> docs;
    for (auto i : group.requests) docs.push_back(requests[i].document.get_view());
    detail::build_insert(body, coll, docs, ordered);
  } else if (group.command == bulk_command::update) {
    std::vector<detail::update_statement> stmts;
    for (auto i : group.requests) {
      const auto& r = requests[i];
      detail::update_statement& s = stmts.emplace_back();
      s.q = r.filter;
      s.u = r.update;
      s.u_is_pipeline = r.update_is_pipeline;
      if (r.type == write_model::kind::update_many) s.multi = true;
      if (r.options.upsert) s.upsert = true;
      if (r.options.array_filters) s.array_filters = r.options.array_filters->get_view();
      if (r.options.collation) s.collation = r.options.collation->get_view();
    }
    detail::build_update(body, coll, stmts, ordered);
  } else {
    std::vector<detail::delete_statement> stmts;
    for (auto i : group.requests) {
      const auto& r = requests[i];
      detail::delete_statement& s = stmts.emplace_back();
      s.q = r.filter;
      s.limit = r.type == write_model::kind::delete_many ? 0 : 1;
      if (r.collation) s.collation = r.collation->get_view();
    }
    detail::build_delete(body, coll, stmts, ordered);
  }
}

// The sizes of the statements of `body`'s array `field`, each checked against the limit.
error_code statement_sizes(const bson::document& body, std::string_view field, const detail::write_limits& limits,
                           std::vector<std::size_t>& sizes, diagnostics& diag) {
  const std::string_view command = body.get_view().first_key();
  for (const auto& e : body[field].as_array().value_or(bson::view())) {
    const std::size_t size = e.as_document().value_or(bson::view()).size();
    if (auto ec = check_statement_size(command, size, limits, diag)) return ec;
    sizes.push_back(size);
  }
  return {};
}

// What the commands of one bulk write did so far (crud.md "BulkWriteResult", "BulkWriteException").
struct bulk_progress {
  bulk_write_result& result;
  std::vector<write_error> write_errors;
  std::optional<write_concern_error> wc_error;
  label_set labels;
};

// Adds one command's reply to the progress; `indexes` maps its statements to request
// indexes. Returns whether an ordered bulk write stops here.
bool merge_reply(const bson::document& reply, const diagnostics& command_diag, std::span<const std::size_t> indexes,
                 bulk_command command, const std::vector<write_model>& requests, bool ordered, bulk_progress& p) {
  for (const auto& l : command_diag.labels.items()) p.labels.add(l);
  if (command_diag.write_concern) p.wc_error = command_diag.write_concern;
  detail::write_result w;
  diagnostics reply_diag;
  detail::parse_write_reply(reply, w, reply_diag);
  std::vector<bool> failed(indexes.size(), false);
  for (auto& e : reply_diag.write_errors) {
    if (e.index < 0 || static_cast<std::size_t>(e.index) >= indexes.size()) continue;
    failed[static_cast<std::size_t>(e.index)] = true;
    e.index = static_cast<std::int32_t>(indexes[static_cast<std::size_t>(e.index)]);
    p.write_errors.push_back(std::move(e));
  }
  auto& r = p.result;
  if (command == bulk_command::insert) {
    r.inserted_count += w.n;
    // Ordered inserts stop at the first error; unordered ones skip only the failed documents.
    for (std::size_t k = 0; k < indexes.size(); ++k) {
      if (failed[k] && ordered) break;
      if (!failed[k]) r.inserted_ids.append(std::to_string(indexes[k]), requests[indexes[k]].document["_id"]);
    }
  } else if (command == bulk_command::update) {
    r.matched_count += w.n - static_cast<std::int64_t>(w.upserted_count);
    r.modified_count += w.n_modified.value_or(0);
    r.upserted_count += static_cast<std::int64_t>(w.upserted_count);
    for (const auto& entry : w.upserted) {
      auto u = detail::upserted_entry_of(entry);
      if (u.index < 0 || static_cast<std::size_t>(u.index) >= indexes.size()) continue;
      r.upserted_ids.append(std::to_string(indexes[static_cast<std::size_t>(u.index)]), u.id);
    }
  } else {
    r.deleted_count += w.n;
  }
  return ordered && !reply_diag.write_errors.empty();
}

// crud.md "BulkWriteException": every write error and the write concern error.
error_code bulk_write_error(bulk_progress& p, diagnostics& diag) {
  if (p.write_errors.empty() && !p.wc_error) return {};
  diag.write_errors = std::move(p.write_errors);
  diag.write_concern = std::move(p.wc_error);
  diag.labels = std::move(p.labels);
  const auto& first = diag.write_errors.empty() ? diag.write_concern->errmsg : diag.write_errors.front().errmsg;
  diag.client_message = "bulk write error";
  diag.server_message = first;  // the first write error's errmsg, from the reply
  return detail::write_reply_error(diag);
}

// Sends a group as commands within the server's limits (crud.md "Bulk Write" batch
// splitting: maxWriteBatchSize statements, maxMessageSizeBytes per message).
asio::awaitable<error_code> run_group(write_target t, const bson::document& body, const bulk_group& group,
                                      const std::vector<write_model>& requests, bool ordered,
                                      const std::vector<std::size_t>& sizes, const detail::write_limits& limits,
                                      bulk_progress& p, bool& stop, diagnostics& diag) {
  const auto field = statement_field(group.command);
  std::size_t statements_bytes = 0;
  for (auto n : sizes) statements_bytes += n;
  const std::size_t envelope = body.size() - statements_bytes;  // what the body keeps around the sequence
  for (std::size_t first = 0; first < sizes.size() && !stop;) {
    const auto count = detail::next_batch_count(std::span(sizes).subspan(first), envelope, field, limits);
    bson::document slice;
    if (count < sizes.size()) detail::copy_with_statements(body, field, first, count, slice);
    const bson::document& command = count < sizes.size() ? slice : body;
    auto op = detail::describe(detail::bulk_batch_traits(command), t.db, command, t.options);
    op.deadline = t.deadline;
    bson::document reply;
    diagnostics command_diag;
    const error_code ec = co_await t.client.execute(op, t.session, reply, command_diag);
    if (ec && !command_diag.write_concern) {
      // The command itself failed: report it with what earlier commands did.
      diag = std::move(command_diag);
      diag.write_errors.insert(diag.write_errors.begin(), p.write_errors.begin(), p.write_errors.end());
      co_return ec;
    }
    stop = merge_reply(reply, command_diag, std::span(group.requests).subspan(first, count), group.command, requests,
                       ordered, p);
    first += count;
  }
  co_return error_code{};
}

}  // namespace

asio::awaitable<error_code> collection::bulk_write(std::vector<write_model> requests, bulk_write_options options,
                                                   bulk_write_result& result, diagnostics& diag) {
  result = bulk_write_result{};
  if (requests.empty()) {
    diag.client_message = "bulkWrite needs at least one request";  // crud.md: "MUST raise an error"
    co_return client_errc::invalid_argument;
  }
  if (auto ec = prepare_requests(requests, diag)) co_return ec;
  const auto limits = write_limits_of(*client_);
  const auto groups = group_requests(requests, options.ordered);
  std::vector<bson::document> bodies(groups.size());
  std::vector<std::vector<std::size_t>> sizes(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    build_group_command(bodies[g], coll_, groups[g], requests, options.ordered);
    if (auto ec = statement_sizes(bodies[g], statement_field(groups[g].command), limits, sizes[g], diag)) co_return ec;
  }
  bulk_progress progress{result, {}, {}, {}};
  const write_target target{*client_, session_.get(), db_,
                            coll_,    options_,       client_->deadline_for(options_.timeout, session_.get())};
  bool stop = false;
  for (std::size_t g = 0; g < groups.size() && !stop; ++g) {
    auto ec = co_await run_group(target, bodies[g], groups[g], requests, options.ordered, sizes[g], limits, progress,
                                 stop, diag);
    if (ec) co_return ec;
  }
  co_return bulk_write_error(progress, diag);
}

}  // namespace mongowire
