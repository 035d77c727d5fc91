// CRUD operations: each builds the command crud.md describes, runs it through the
// executor with the collection's session (or an implicit one), and reads the reply.
#include "client/client_impl.hpp"
#include "mongowire/client.hpp"
#include "proto/command/command_builder.hpp"
#include "proto/reply/cursor_reply.hpp"
#include "proto/reply/write_reply.hpp"

namespace mongowire {

namespace asio = boost::asio;
using detail::retry_family;

collection::collection(std::shared_ptr<detail::client_impl> c, std::shared_ptr<detail::session_impl> s, std::string db,
                       std::string coll)
    : client_(std::move(c)), session_(std::move(s)), db_(std::move(db)), coll_(std::move(coll)) {}

asio::any_io_executor collection::executor() const { return client_->executor(); }

namespace {

detail::operation make_op(std::string_view name, const std::string& db, const bson::document& body,
                          retry_family family, bool is_read) {
  detail::operation op;
  op.name = name;
  op.db = db;
  op.body = &body;
  op.family = family;
  op.is_read = is_read;
  return op;
}

// The handle's concerns apply to the commands that take them: the read concern to reads,
// the write concern to writes (read-write-concern.md, "Generic Command Method").
detail::operation with_handle_options(detail::operation op, const collection_options& options) {
  if (op.is_read && options.read_concern) op.inherited_read_concern = options.read_concern->get_view();
  if (!op.is_read && options.write_concern) op.inherited_write_concern = options.write_concern->get_view();
  return op;
}

// crud.md "Update vs. Replacement Validation": drivers check the first key.
error_code check_update_document(bson::view update_doc, diagnostics& diag) {
  if (!update_doc.empty() && update_doc.first_key().starts_with('$')) return {};
  diag.message = "update document must contain only atomic modifiers (its first key must start with '$')";
  return client_errc::invalid_argument;
}

error_code check_replacement_document(bson::view replacement, diagnostics& diag) {
  if (replacement.empty() || !replacement.first_key().starts_with('$')) return {};
  diag.message = "replacement document must not contain atomic modifiers";
  return client_errc::invalid_argument;
}

// The inherited write concern of a write (the handle's, else the client's).
detail::operation write_op(std::string_view name, const std::string& db, const bson::document& body,
                           retry_family family, const collection_options& options) {
  auto op = with_handle_options(make_op(name, db, body, family, false), options);
  op.is_write = true;
  return op;
}

detail::operation read_op(std::string_view name, const std::string& db, const bson::document& body,
                          retry_family family, const collection_options& options) {
  return with_handle_options(make_op(name, db, body, family, true), options);
}

// The document to insert: `doc` itself when it has an _id, else a copy in `staged` with an
// ObjectId first (crud.md: drivers generate _id so that the caller learns it).
bson::view with_id(bson::view doc, bson::document& staged, bson::document& id_out) {
  id_out.clear();
  if (auto id = doc["_id"]) {
    id_out.append("_id", id);
    return doc;
  }
  auto oid = bson::object_id::generate();
  staged.clear();
  staged.append("_id", oid);
  staged.concat(doc);
  id_out.append("_id", oid);
  return staged;
}

}  // namespace

asio::awaitable<error_code> collection::insert_one(bson::view doc, insert_one_result& result, diagnostics& diag) {
  auto buffers = client_->lease_buffers();
  bson::view docs[] = {with_id(doc, buffers->staged, result.inserted_id)};
  detail::build_insert(buffers->body, coll_, docs);
  auto op = write_op("insert", db_, buffers->body, retry_family::write, options_);
  if (auto ec = co_await client_->execute(op, session_.get(), buffers->reply, diag)) co_return ec;
  detail::write_result w;
  co_return detail::parse_write_reply(buffers->reply, w, diag);
}

asio::awaitable<error_code> collection::insert_many(std::vector<bson::document> docs, insert_many_result& result,
                                                    diagnostics& diag) {
  co_return co_await insert_many(std::move(docs), insert_many_options{}, result, diag);
}

asio::awaitable<error_code> collection::insert_many(std::vector<bson::document> docs, insert_many_options options,
                                                    insert_many_result& result, diagnostics& diag) {
  std::vector<bson::document> stored;
  std::vector<bson::view> views;
  stored.reserve(docs.size());
  result.inserted_ids.clear();
  bson::document id;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    bson::document& staged = stored.emplace_back();
    bson::view with = with_id(docs[i], staged, id);
    views.push_back(with.data() == staged.data() ? staged.get_view() : docs[i].get_view());
    result.inserted_ids.append(std::to_string(i), id["_id"]);
  }
  bson::document body;
  detail::build_insert(body, coll_, views, options.ordered);
  bson::document reply;
  auto op = write_op("insert", db_, body, retry_family::write, options_);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  detail::write_result w;
  auto ec = detail::parse_write_reply(reply, w, diag);
  result.inserted_count = w.n;
  co_return ec;
}

asio::awaitable<error_code> collection::update(bson::view filter, bson::view update_doc, bool multi, bool upsert,
                                               update_result& result, diagnostics& diag) {
  update_options options;
  options.upsert = upsert;
  co_return co_await update(filter, update_doc, multi, std::move(options), result, diag);
}

asio::awaitable<error_code> collection::update(bson::view filter, bson::view update_doc, bool multi,
                                               update_options options, update_result& result, diagnostics& diag) {
  if (auto ec = check_update_document(update_doc, diag)) co_return ec;
  co_return co_await run_update(filter, update_doc, multi, std::move(options), result, diag);
}

asio::awaitable<error_code> collection::replace_one(bson::view filter, bson::view replacement, update_options options,
                                                    update_result& result, diagnostics& diag) {
  if (auto ec = check_replacement_document(replacement, diag)) co_return ec;
  co_return co_await run_update(filter, replacement, false, std::move(options), result, diag);
}

asio::awaitable<error_code> collection::run_update(bson::view filter, bson::view update_doc, bool multi,
                                                   update_options options, update_result& result, diagnostics& diag) {
  detail::update_statement stmt;
  stmt.q = filter;
  stmt.u = update_doc;
  if (multi) stmt.multi = true;
  if (options.upsert) stmt.upsert = true;
  if (options.array_filters) stmt.array_filters = options.array_filters->get_view();
  if (options.collation) stmt.collation = options.collation->get_view();
  auto buffers = client_->lease_buffers();
  detail::build_update(buffers->body, coll_, std::span(&stmt, 1));
  // retryable-writes.md: multi-document updates are not retryable.
  auto op = write_op("update", db_, buffers->body, multi ? retry_family::other : retry_family::write, options_);
  if (auto ec = co_await client_->execute(op, session_.get(), buffers->reply, diag)) co_return ec;
  detail::write_result w;
  auto ec = detail::parse_write_reply(buffers->reply, w, diag);
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

asio::awaitable<error_code> collection::remove(bson::view filter, std::int32_t limit, delete_result& result,
                                               diagnostics& diag) {
  detail::delete_statement stmt;
  stmt.q = filter;
  stmt.limit = limit;
  auto buffers = client_->lease_buffers();
  detail::build_delete(buffers->body, coll_, std::span(&stmt, 1));
  auto op = write_op("delete", db_, buffers->body, limit == 1 ? retry_family::write : retry_family::other, options_);
  if (auto ec = co_await client_->execute(op, session_.get(), buffers->reply, diag)) co_return ec;
  detail::write_result w;
  auto ec = detail::parse_write_reply(buffers->reply, w, diag);
  result.deleted_count = w.n;
  co_return ec;
}

// Runs a cursor-returning command and drains it with getMore.
static asio::awaitable<error_code> drain_cursor(detail::client_impl& client, detail::session_impl* session,
                                                const std::string& db, const std::string& coll,
                                                detail::operation op, std::vector<bson::document>& out,
                                                diagnostics& diag,
                                                std::optional<std::int32_t> batch_size = std::nullopt) {
  bson::document reply;
  if (auto ec = co_await client.execute(op, session, reply, diag)) co_return ec;
  for (;;) {
    detail::cursor_reply cursor;
    if (auto ec = detail::parse_cursor_reply(reply, cursor, diag)) co_return ec;
    for (const auto& e : cursor.batch)
      if (auto d = e.as_document()) out.emplace_back(*d);
    if (cursor.id == 0) co_return error_code{};
    bson::document body;
    // crud.md "find": getMore carries the cursor's batchSize; the collection comes from `ns`.
    std::string_view ns_coll = coll;
    if (auto dot = cursor.ns.find('.'); dot != std::string_view::npos) ns_coll = cursor.ns.substr(dot + 1);
    detail::build_get_more(body, cursor.id, ns_coll, batch_size);
    // getMore is not retried (retryable-reads.md) and keeps the session of the find.
    auto get_more = make_op("getMore", db, body, retry_family::other, true);
    bson::document next;
    if (auto ec = co_await client.execute(get_more, session, next, diag)) co_return ec;
    reply = std::move(next);
  }
}

asio::awaitable<error_code> collection::find(bson::view filter, find_options options, std::vector<bson::document>& out,
                                             diagnostics& diag) {
  detail::find_options f;
  if (options.projection) f.projection = options.projection->get_view();
  if (options.sort) f.sort = options.sort->get_view();
  f.skip = options.skip;
  f.limit = options.limit;
  f.batch_size = options.batch_size;
  bson::document body;
  detail::build_find(body, coll_, filter, f);
  std::shared_ptr<detail::session_impl> implicit = session_;
  // A cursor's getMores must use the session of its find (driver-sessions.md).
  if (!implicit) implicit = client_->make_session({}, false);
  auto op = read_op("find", db_, body, retry_family::read, options_);
  auto ec = co_await drain_cursor(*client_, implicit.get(), db_, coll_, op, out, diag, options.batch_size);
  if (!session_) implicit->release();
  co_return ec;
}

// One batch of at most one document, so no getMore and no cursor left on the server
// (crud.md: findOne is find with limit 1 and singleBatch).
asio::awaitable<error_code> collection::find_one(bson::view filter, std::optional<bson::document>& out,
                                                 diagnostics& diag) {
  detail::find_options f;
  f.limit = 1;
  f.single_batch = true;
  auto buffers = client_->lease_buffers();
  detail::build_find(buffers->body, coll_, filter, f);
  auto op = read_op("find", db_, buffers->body, retry_family::read, options_);
  if (auto ec = co_await client_->execute(op, session_.get(), buffers->reply, diag)) co_return ec;
  detail::cursor_reply cursor;
  if (auto ec = detail::parse_cursor_reply(buffers->reply, cursor, diag)) co_return ec;
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

asio::awaitable<error_code> collection::count_documents(bson::view filter, std::int64_t& out, diagnostics& diag) {
  bson::document body;
  detail::build_count_documents(body, coll_, filter);
  bson::document reply;
  auto op = read_op("aggregate", db_, body, retry_family::read, options_);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  co_return detail::parse_count_documents_reply(reply, out, diag);
}

asio::awaitable<error_code> collection::aggregate(bson::view pipeline, std::vector<bson::document>& out,
                                                  diagnostics& diag) {
  co_return co_await aggregate(pipeline, aggregate_options{}, out, diag);
}

asio::awaitable<error_code> collection::aggregate(bson::view pipeline, aggregate_options options,
                                                  std::vector<bson::document>& out, diagnostics& diag) {
  detail::aggregate_options a;
  a.batch_size = options.batch_size;
  bson::document body;
  detail::build_aggregate(body, coll_, pipeline, a);
  if (options.max_time_ms) body.append("maxTimeMS", *options.max_time_ms);
  std::shared_ptr<detail::session_impl> implicit = session_;
  if (!implicit) implicit = client_->make_session({}, false);
  // An aggregate ending in $out/$merge writes: not a retryable read.
  bool writes = false;
  for (const auto& stage : pipeline)
    if (auto s = stage.as_document()) writes = writes || s->first_key() == "$out" || s->first_key() == "$merge";
  auto op = with_handle_options(make_op("aggregate", db_, body, writes ? retry_family::other : retry_family::read,
                                        !writes),
                                options_);
  op.is_write = writes;
  auto ec = co_await drain_cursor(*client_, implicit.get(), db_, coll_, op, out, diag, options.batch_size);
  if (!session_) implicit->release();
  co_return ec;
}

asio::awaitable<error_code> collection::find_and_modify(bson::view filter, bson::view update_doc, bool remove,
                                                        find_one_and_modify_options options,
                                                        std::optional<bson::document>& out, diagnostics& diag) {
  detail::find_and_modify_options f;
  f.query = filter;
  f.remove = remove;
  if (!remove) {
    f.update = update_doc;
    f.return_new = options.return_new;
    if (options.upsert) f.upsert = true;
  }
  if (options.sort) f.sort = options.sort->get_view();
  if (options.projection) f.fields = options.projection->get_view();
  bson::document body;
  if (auto ec = detail::build_find_and_modify(body, coll_, f)) {
    diag.message = "findAndModify needs exactly one of remove or update";
    co_return ec;
  }
  bson::document reply;
  auto op = write_op("findAndModify", db_, body, retry_family::write, options_);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  detail::find_and_modify_result r;
  if (auto ec = detail::parse_find_and_modify_reply(reply, r, diag)) co_return ec;
  if (r.value) out = bson::document(*r.value);
  else out.reset();
  co_return error_code{};
}

collection collection::with_options(collection_options options) const {
  collection copy = *this;
  copy.options_ = std::move(options);
  return copy;
}

asio::awaitable<error_code> collection::distinct(std::string field, bson::view filter, bson::document& values,
                                                 diagnostics& diag) {
  bson::document body;
  detail::build_distinct(body, coll_, field, filter);
  bson::document reply;
  auto op = read_op("distinct", db_, body, retry_family::read, options_);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  bson::view array;
  if (auto ec = detail::parse_distinct_reply(reply, array, diag)) co_return ec;
  values = bson::document(array);
  co_return error_code{};
}

asio::awaitable<error_code> collection::count(bson::view filter, std::int64_t& out, diagnostics& diag) {
  bson::document body;
  detail::build_count(body, coll_, filter);
  bson::document reply;
  auto op = read_op("count", db_, body, retry_family::read, options_);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  co_return detail::parse_count_reply(reply, out, diag);
}

asio::awaitable<error_code> collection::create_index(bson::view keys, index_options options, std::string& name,
                                                     diagnostics& diag) {
  name = options.name.empty() ? detail::default_index_name(keys) : options.name;
  bson::document extra;
  if (options.unique) extra.append("unique", true);
  detail::index_model model{keys, name, extra};
  bson::document body;
  detail::build_create_indexes(body, coll_, std::span(&model, 1));
  bson::document reply;
  auto op = write_op("createIndexes", db_, body, retry_family::other, options_);
  co_return co_await client_->execute(op, session_.get(), reply, diag);
}

asio::awaitable<error_code> collection::list_indexes(std::vector<bson::document>& out, diagnostics& diag) {
  bson::document body;
  body.append("listIndexes", coll_);
  std::shared_ptr<detail::session_impl> implicit = session_;
  if (!implicit) implicit = client_->make_session({}, false);
  auto op = make_op("listIndexes", db_, body, retry_family::read, true);
  auto ec = co_await drain_cursor(*client_, implicit.get(), db_, coll_, op, out, diag);
  if (!session_) implicit->release();
  co_return ec;
}

asio::awaitable<error_code> collection::drop(diagnostics& diag) {
  bson::document body;
  detail::build_drop(body, coll_);
  bson::document reply;
  auto op = write_op("drop", db_, body, retry_family::other, options_);
  auto ec = co_await client_->execute(op, session_.get(), reply, diag);
  // crud.md "drop": a collection that does not exist is not an error.
  if (ec == make_server_error(server_code::namespace_not_found)) {
    diag.clear();
    ec = {};
  }
  co_return ec;
}

asio::awaitable<error_code> collection::find_one_and_update(bson::view filter, bson::view update_doc,
                                                            find_one_and_modify_options options,
                                                            std::optional<bson::document>& out, diagnostics& diag) {
  if (auto ec = check_update_document(update_doc, diag)) co_return ec;
  co_return co_await find_and_modify(filter, update_doc, false, std::move(options), out, diag);
}

asio::awaitable<error_code> collection::find_one_and_replace(bson::view filter, bson::view replacement,
                                                             find_one_and_modify_options options,
                                                             std::optional<bson::document>& out, diagnostics& diag) {
  if (auto ec = check_replacement_document(replacement, diag)) co_return ec;
  co_return co_await find_and_modify(filter, replacement, false, std::move(options), out, diag);
}

// ---- bulkWrite (crud.md "Bulk Write")

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

bool is_multi(write_model::kind k) {
  return k == write_model::kind::update_many || k == write_model::kind::delete_many;
}

// Requests of one command, by index in the caller's list.
struct bulk_batch {
  bulk_command command;
  std::vector<std::size_t> requests;
};

// Ordered: runs of consecutive requests of one command. Unordered: one batch per command,
// inserts first (crud.md lets unordered writes run in any order).
std::vector<bulk_batch> split_into_batches(const std::vector<write_model>& requests, bool ordered) {
  std::vector<bulk_batch> batches;
  if (ordered) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      auto c = command_of(requests[i].type);
      if (batches.empty() || batches.back().command != c) batches.push_back({c, {}});
      batches.back().requests.push_back(i);
    }
    return batches;
  }
  for (auto c : {bulk_command::insert, bulk_command::update, bulk_command::remove}) {
    bulk_batch b{c, {}};
    for (std::size_t i = 0; i < requests.size(); ++i)
      if (command_of(requests[i].type) == c) b.requests.push_back(i);
    if (!b.requests.empty()) batches.push_back(std::move(b));
  }
  return batches;
}

}  // namespace

asio::awaitable<error_code> collection::bulk_write(std::vector<write_model> requests, bulk_write_options options,
                                                   bulk_write_result& result, diagnostics& diag) {
  result = bulk_write_result{};
  if (requests.empty()) {
    diag.message = "bulkWrite needs at least one request";  // crud.md: "MUST raise an error"
    co_return client_errc::invalid_argument;
  }
  for (auto& r : requests) {
    error_code invalid;
    if (r.type == write_model::kind::replace_one) invalid = check_replacement_document(r.update, diag);
    if ((r.type == write_model::kind::update_one || r.type == write_model::kind::update_many) && !r.update_is_pipeline)
      invalid = check_update_document(r.update, diag);
    if (invalid) co_return invalid;  // before anything is sent
    if (r.type != write_model::kind::insert_one) continue;
    bson::document id, staged;
    if (with_id(r.document, staged, id).data() == staged.data()) r.document = std::move(staged);
  }
  std::vector<write_error> write_errors;
  std::optional<write_concern_error> wc_error;
  label_set labels;
  for (const auto& batch : split_into_batches(requests, options.ordered)) {
    bson::document body;
    bool retryable = true;
    const char* name = "insert";
    if (batch.command == bulk_command::insert) {
      std::vector<bson::view> docs;
      for (auto i : batch.requests) docs.push_back(requests[i].document.get_view());
      detail::build_insert(body, coll_, docs, options.ordered);
    } else if (batch.command == bulk_command::update) {
      name = "update";
      std::vector<detail::update_statement> stmts;
      for (auto i : batch.requests) {
        const auto& r = requests[i];
        detail::update_statement& s = stmts.emplace_back();
        s.q = r.filter;
        s.u = r.update;
        s.u_is_pipeline = r.update_is_pipeline;
        if (r.type == write_model::kind::update_many) s.multi = true;
        if (r.options.upsert) s.upsert = true;
        if (r.options.array_filters) s.array_filters = r.options.array_filters->get_view();
        if (r.options.collation) s.collation = r.options.collation->get_view();
        retryable = retryable && !is_multi(r.type);
      }
      detail::build_update(body, coll_, stmts, options.ordered);
    } else {
      name = "delete";
      std::vector<detail::delete_statement> stmts;
      for (auto i : batch.requests) {
        const auto& r = requests[i];
        detail::delete_statement& s = stmts.emplace_back();
        s.q = r.filter;
        s.limit = is_multi(r.type) ? 0 : 1;
        if (r.collation) s.collation = r.collation->get_view();
        retryable = retryable && !is_multi(r.type);
      }
      detail::build_delete(body, coll_, stmts, options.ordered);
    }
    // retryable-writes.md: a batch with a multi-document write is not retryable.
    auto op = write_op(name, db_, body, retryable ? retry_family::write : retry_family::other, options_);
    bson::document reply;
    diagnostics batch_diag;
    error_code ec = co_await client_->execute(op, session_.get(), reply, batch_diag);
    if (ec && !batch_diag.write_concern) {
      // The command itself failed: report it with what earlier batches did.
      diag = std::move(batch_diag);
      diag.write_errors.insert(diag.write_errors.begin(), write_errors.begin(), write_errors.end());
      co_return ec;
    }
    for (const auto& l : batch_diag.labels.items()) labels.add(l);
    if (batch_diag.write_concern) wc_error = batch_diag.write_concern;
    detail::write_result w;
    diagnostics reply_diag;
    detail::parse_write_reply(reply, w, reply_diag);
    std::vector<bool> failed(batch.requests.size(), false);
    for (auto& e : reply_diag.write_errors) {
      if (e.index < 0 || static_cast<std::size_t>(e.index) >= batch.requests.size()) continue;
      failed[static_cast<std::size_t>(e.index)] = true;
      e.index = static_cast<std::int32_t>(batch.requests[static_cast<std::size_t>(e.index)]);
      write_errors.push_back(std::move(e));
    }
    if (batch.command == bulk_command::insert) {
      result.inserted_count += w.n;
      // Ordered inserts stop at the first error; unordered ones skip only the failed documents.
      for (std::size_t k = 0; k < batch.requests.size(); ++k) {
        if (failed[k]) {
          if (options.ordered) break;
          continue;
        }
        auto i = batch.requests[k];
        result.inserted_ids.append(std::to_string(i), requests[i].document["_id"]);
      }
    } else if (batch.command == bulk_command::update) {
      result.matched_count += w.n - static_cast<std::int64_t>(w.upserted_count);
      result.modified_count += w.n_modified.value_or(0);
      result.upserted_count += static_cast<std::int64_t>(w.upserted_count);
      for (const auto& entry : w.upserted) {
        auto u = detail::upserted_entry_of(entry);
        if (u.index < 0 || static_cast<std::size_t>(u.index) >= batch.requests.size()) continue;
        result.upserted_ids.append(std::to_string(batch.requests[static_cast<std::size_t>(u.index)]), u.id);
      }
    } else {
      result.deleted_count += w.n;
    }
    if (!reply_diag.write_errors.empty() && options.ordered) break;
  }
  if (write_errors.empty() && !wc_error) co_return error_code{};
  // crud.md "BulkWriteException": every write error and the write concern error.
  diag.write_errors = std::move(write_errors);
  diag.write_concern = std::move(wc_error);
  diag.labels = std::move(labels);
  const auto& first = diag.write_errors.empty() ? diag.write_concern->errmsg : diag.write_errors.front().errmsg;
  diag.message = "bulk write error: " + first;
  co_return detail::write_reply_error(diag);
}

// ---- throwing awaitable forms

asio::awaitable<insert_one_result> collection::insert_one(bson::view doc) {
  insert_one_result r;
  diagnostics diag;
  if (auto ec = co_await insert_one(doc, r, diag)) throw mongowire::error(ec, std::move(diag));
  co_return r;
}

asio::awaitable<update_result> collection::update_one(bson::view filter, bson::view update_doc) {
  update_result r;
  diagnostics diag;
  if (auto ec = co_await update(filter, update_doc, false, false, r, diag)) throw mongowire::error(ec, std::move(diag));
  co_return r;
}

asio::awaitable<delete_result> collection::delete_one(bson::view filter) {
  delete_result r;
  diagnostics diag;
  if (auto ec = co_await remove(filter, 1, r, diag)) throw mongowire::error(ec, std::move(diag));
  co_return r;
}

asio::awaitable<std::vector<bson::document>> collection::find(bson::view filter, find_options options) {
  std::vector<bson::document> docs;
  diagnostics diag;
  if (auto ec = co_await find(filter, std::move(options), docs, diag)) throw mongowire::error(ec, std::move(diag));
  co_return docs;
}

}  // namespace mongowire
