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

// Reads {_id: value} of `doc`, adding an ObjectId first when it has none (crud.md:
// drivers generate _id so that the caller learns it).
bson::document with_id(bson::view doc, bson::document& id_out) {
  id_out.clear();
  if (auto id = doc["_id"]) {
    id_out.append("_id", id);
    return bson::document(doc);
  }
  bson::document out;
  auto oid = bson::object_id::generate();
  out.append("_id", oid);
  out.concat(doc);
  id_out.append("_id", oid);
  return out;
}

}  // namespace

asio::awaitable<error_code> collection::insert_one(bson::view doc, insert_one_result& result, diagnostics& diag) {
  bson::document stored = with_id(doc, result.inserted_id);
  bson::view docs[] = {stored.get_view()};
  bson::document body;
  detail::build_insert(body, coll_, docs);
  bson::document reply;
  auto op = make_op("insert", db_, body, retry_family::write, false);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  detail::write_result w;
  co_return detail::parse_write_reply(reply, w, diag);
}

asio::awaitable<error_code> collection::insert_many(std::vector<bson::document> docs, insert_many_result& result,
                                                    diagnostics& diag) {
  std::vector<bson::document> stored;
  std::vector<bson::view> views;
  stored.reserve(docs.size());
  bson::document ignored_id;
  for (auto& d : docs) views.push_back(stored.emplace_back(with_id(d, ignored_id)).get_view());
  bson::document body;
  detail::build_insert(body, coll_, views);
  bson::document reply;
  auto op = make_op("insert", db_, body, retry_family::write, false);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  detail::write_result w;
  auto ec = detail::parse_write_reply(reply, w, diag);
  result.inserted_count = w.n;
  co_return ec;
}

asio::awaitable<error_code> collection::update(bson::view filter, bson::view update_doc, bool multi, bool upsert,
                                               update_result& result, diagnostics& diag) {
  detail::update_statement stmt;
  stmt.q = filter;
  stmt.u = update_doc;
  if (multi) stmt.multi = true;
  if (upsert) stmt.upsert = true;
  bson::document body;
  detail::build_update(body, coll_, std::span(&stmt, 1));
  bson::document reply;
  // retryable-writes.md: multi-document updates are not retryable.
  auto op = make_op("update", db_, body, multi ? retry_family::other : retry_family::write, false);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  detail::write_result w;
  auto ec = detail::parse_write_reply(reply, w, diag);
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
  bson::document body;
  detail::build_delete(body, coll_, std::span(&stmt, 1));
  bson::document reply;
  auto op = make_op("delete", db_, body, limit == 1 ? retry_family::write : retry_family::other, false);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  detail::write_result w;
  auto ec = detail::parse_write_reply(reply, w, diag);
  result.deleted_count = w.n;
  co_return ec;
}

// Runs a cursor-returning command and drains it with getMore.
static asio::awaitable<error_code> drain_cursor(detail::client_impl& client, detail::session_impl* session,
                                                const std::string& db, const std::string& coll,
                                                detail::operation op, std::vector<bson::document>& out,
                                                diagnostics& diag) {
  bson::document reply;
  if (auto ec = co_await client.execute(op, session, reply, diag)) co_return ec;
  for (;;) {
    detail::cursor_reply cursor;
    if (auto ec = detail::parse_cursor_reply(reply, cursor, diag)) co_return ec;
    for (const auto& e : cursor.batch)
      if (auto d = e.as_document()) out.emplace_back(*d);
    if (cursor.id == 0) co_return error_code{};
    bson::document body;
    detail::build_get_more(body, cursor.id, coll);
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
  auto op = make_op("find", db_, body, retry_family::read, true);
  auto ec = co_await drain_cursor(*client_, implicit.get(), db_, coll_, op, out, diag);
  if (!session_) implicit->release();
  co_return ec;
}

asio::awaitable<error_code> collection::find_one(bson::view filter, std::optional<bson::document>& out,
                                                 diagnostics& diag) {
  std::vector<bson::document> docs;
  find_options options;
  options.limit = 1;
  if (auto ec = co_await find(filter, std::move(options), docs, diag)) co_return ec;
  if (docs.empty()) out.reset();
  else out = std::move(docs.front());
  co_return error_code{};
}

asio::awaitable<error_code> collection::count_documents(bson::view filter, std::int64_t& out, diagnostics& diag) {
  bson::document body;
  detail::build_count_documents(body, coll_, filter);
  bson::document reply;
  auto op = make_op("aggregate", db_, body, retry_family::read, true);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  co_return detail::parse_count_documents_reply(reply, out, diag);
}

asio::awaitable<error_code> collection::aggregate(bson::view pipeline, std::vector<bson::document>& out,
                                                  diagnostics& diag) {
  bson::document body;
  detail::build_aggregate(body, coll_, pipeline);
  std::shared_ptr<detail::session_impl> implicit = session_;
  if (!implicit) implicit = client_->make_session({}, false);
  // An aggregate ending in $out/$merge writes: not a retryable read.
  bool writes = false;
  for (const auto& stage : pipeline)
    if (auto s = stage.as_document()) writes = writes || s->first_key() == "$out" || s->first_key() == "$merge";
  auto op = make_op("aggregate", db_, body, writes ? retry_family::other : retry_family::read, !writes);
  auto ec = co_await drain_cursor(*client_, implicit.get(), db_, coll_, op, out, diag);
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
  auto op = make_op("findAndModify", db_, body, retry_family::write, false);
  if (auto ec = co_await client_->execute(op, session_.get(), reply, diag)) co_return ec;
  detail::find_and_modify_result r;
  if (auto ec = detail::parse_find_and_modify_reply(reply, r, diag)) co_return ec;
  if (r.value) out = bson::document(*r.value);
  else out.reset();
  co_return error_code{};
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
