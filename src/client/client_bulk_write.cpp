// MongoClient.bulkWrite (bulk-write.md): the models become client_writes, split into
// batches within the server's limits; each batch is a client_bulk_write_op run by the
// executor, its results cursor drained (getMore on the same session and server, killCursors
// after a top-level error), and every batch's counts, results and errors merged into one
// client_bulk_write_result.
#include <fmt/format.h>

#include <algorithm>

#include "client/api_operation.hpp"
#include "client/client_impl.hpp"
#include "client/write_models.hpp"
#include "mongowire/client.hpp"
#include "proto/command/write_batches.hpp"
#include "proto/reply/write_reply.hpp"
#include "proto/txn/transaction_options.hpp"

namespace mongowire {

namespace asio = boost::asio;

namespace {

using detail::client_write;

// What one client bulk write knows so far, across its commands.
struct bulk_run {
  detail::client_impl& client;
  detail::session_impl* session;  // explicit or implicit: the bulkWrites and their getMores share it
  const client_bulk_write_options& options;
  detail::client_bulk_write_fields fields;
  const std::vector<client_write_model>& models;
  client_bulk_write_result& result;
  bool unacknowledged = false;
  std::int64_t operation_id = 0;          // every command of it: bulkWrites, getMores, killCursors
  std::vector<write_error> write_errors;  // index: the model's
  label_set labels;                       // of the write concern errors
};

// bulk-write.md "Write Models": a namespace is "database.collection".
error_code check_namespace(const std::string& ns, std::size_t index, diagnostics& diag) {
  const auto dot = ns.find('.');
  if (dot != std::string::npos && dot > 0 && dot + 1 < ns.size()) return {};
  diag.client_message =
      fmt::format("client bulk write model {}: namespace '{}' is not \"database.collection\"", index, ns);
  return client_errc::invalid_argument;
}

// Validates every model and gives inserted documents their _id, before anything is sent.
error_code prepare_models(std::vector<client_write_model>& models, diagnostics& diag) {
  if (models.empty()) {
    diag.client_message = "client bulk write needs at least one model";  // bulk-write.md: "MUST throw"
    return client_errc::invalid_argument;
  }
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (auto ec = check_namespace(models[i].ns, i, diag)) return ec;
    if (auto ec = detail::prepare_write_model(models[i].model, diag)) {
      diag.client_message = fmt::format("client bulk write model {}: {}", i, diag.client_message);
      return ec;
    }
  }
  return {};
}

client_write write_of(const client_write_model& m) {
  using kind = write_model::kind;
  const write_model& r = m.model;
  client_write w;
  w.ns = m.ns;
  w.hint = detail::hint_of(m.hint);
  if (r.type == kind::insert_one) {
    w.document = r.document;
    return w;
  }
  w.filter = r.filter;
  if (r.type == kind::delete_one || r.type == kind::delete_many) {
    w.type = client_write::kind::remove;
    w.multi = r.type == kind::delete_many;
    if (r.collation) w.collation = r.collation->get_view();
    return w;
  }
  w.type = client_write::kind::update;
  w.update_mods = r.update;
  w.update_is_pipeline = r.update_is_pipeline;
  w.multi = r.type == kind::update_many;
  if (r.options.upsert) w.upsert = true;
  if (r.options.array_filters) w.array_filters = r.options.array_filters->get_view();
  if (r.options.collation) w.collation = r.options.collation->get_view();
  return w;
}

detail::client_bulk_write_fields fields_of(const client_bulk_write_options& o) {
  detail::client_bulk_write_fields f;
  f.errors_only = !o.verbose_results;  // "errorsOnly ... true" unless verbose results are asked
  f.ordered = o.ordered;
  f.bypass_document_validation = o.bypass_document_validation;
  if (o.let) f.let = o.let->get_view();
  if (o.comment) f.comment = o.comment->get();
  return f;
}

// An unacknowledged write tells the client nothing: it could neither stop ordered writes at
// the first error nor report per-write results (the drivers' "Cannot request unacknowledged
// write concern and ordered writes / verbose results").
error_code check_unacknowledged(const client_bulk_write_options& o, diagnostics& diag) {
  if (!o.ordered && !o.verbose_results) return {};
  diag.client_message = o.verbose_results ? "cannot request unacknowledged write concern and verbose results"
                                          : "cannot request unacknowledged write concern and ordered writes";
  return client_errc::invalid_argument;
}

// A top-level error ends the bulk write; what earlier commands did stays in the result and diag.
error_code top_level_error(bulk_run& run, error_code ec, diagnostics&& command_diag, diagnostics& diag) {
  diag = std::move(command_diag);
  diag.write_errors.insert(diag.write_errors.begin(), run.write_errors.begin(), run.write_errors.end());
  if (!diag.write_concern && !run.result.write_concern_errors.empty())
    diag.write_concern = run.result.write_concern_errors.front();
  return ec;
}

// One result of the cursor, for the write at `model_index`.
void record_item(bulk_run& run, const detail::client_bulk_write_item& item, std::size_t model_index) {
  if (!item.ok) {
    write_error e = item.error;
    e.index = static_cast<std::int32_t>(model_index);
    run.write_errors.push_back(std::move(e));
    return;
  }
  client_bulk_write_result& r = run.result;
  if (!r.has_verbose_results) return;
  const write_model& model = run.models[model_index].model;
  using kind = write_model::kind;
  if (model.type == kind::insert_one) {
    // bulk-write.md "Handling Insert Results": the _id only once the insert is confirmed.
    r.insert_results[model_index].inserted_id.append("_id", model.document["_id"]);
  } else if (model.type == kind::delete_one || model.type == kind::delete_many) {
    r.delete_results[model_index].deleted_count = item.n;
  } else {
    update_result& u = r.update_results[model_index];
    u.matched_count = item.n;
    u.modified_count = item.n_modified.value_or(0);
    if (item.upserted_id) {
      u.upserted_id.emplace();
      u.upserted_id->append("_id", *item.upserted_id);
    }
  }
}

// The results of one cursor batch. `stop`: an ordered bulk write met its write error.
error_code take_items(bulk_run& run, const detail::cursor_reply& cursor, std::span<const client_write> writes,
                      std::size_t first, bool& stop, diagnostics& diag) {
  const std::string_view field = cursor.is_first_batch ? "cursor.firstBatch" : "cursor.nextBatch";
  std::size_t position = 0;
  for (const auto& e : cursor.batch) {
    detail::client_bulk_write_item item;
    if (auto ec = detail::parse_client_bulk_write_item(*e.as_document(), field, position++, item, diag)) return ec;
    if (static_cast<std::size_t>(item.idx) >= writes.size()) {
      diag.client_message =
          fmt::format("invalid reply: {}[{}].idx {} is not the index of one of the command's {} writes", field,
                      position - 1, item.idx, writes.size());
      return client_errc::invalid_reply;
    }
    record_item(run, item, first + static_cast<std::size_t>(item.idx));
    if (!item.ok && run.fields.ordered) {
      // bulk-write.md "partialResult": an ordered write failing after the first proves a success.
      if (item.idx > 0) run.result.has_partial_result = true;
      stop = true;  // "record the error in writeErrors and immediately throw"
      break;
    }
  }
  return {};
}

// The results cursor left on the server, copied out of the reply that named it (that reply is
// replaced by each getMore's).
struct open_cursor {
  std::int64_t id = 0;
  std::string coll;  // "$cmd.bulkWrite": the collection part of the cursor's namespace
  const host_address& server;

  void update(const detail::cursor_reply& cursor) {
    id = cursor.id;
    coll.assign(cursor.ns.substr(cursor.ns.find('.') + 1));
  }
};

// find_getmore_killcursors.md: closes the results cursor a top-level error leaves open; its
// outcome does not matter ("The result returned from the killCursors command MAY be ignored").
asio::awaitable<void> kill_cursor(bulk_run& run, const open_cursor& cursor) {
  const std::int64_t ids[] = {cursor.id};
  const detail::kill_cursors_op kill{cursor.coll, ids};
  bson::document body, reply;
  kill.build(body);
  detail::operation described = detail::describe(kill.traits(), detail::admin_db, body, collection_options{});
  described.cursor_server = &cursor.server;
  described.operation_id = run.operation_id;
  diagnostics ignored;
  co_await run.client.execute(described, run.session, reply, ignored);
}

// The next batch of the results cursor, on the server and session of the bulkWrite that
// opened it (bulk-write.md: "MUST perform getMore until the cursor has been exhausted").
asio::awaitable<error_code> get_more(bulk_run& run, const open_cursor& cursor, bson::document& next,
                                     diagnostics& diag) {
  const detail::get_more_op more{cursor.id, cursor.coll, std::nullopt};
  bson::document body;
  more.build(body);
  detail::operation described = detail::describe(more.traits(), detail::admin_db, body, collection_options{});
  described.cursor_server = &cursor.server;
  described.operation_id = run.operation_id;
  co_return co_await run.client.execute(described, run.session, next, diag);
}

// Drains the results cursor of a batch whose reply is `reply`.
asio::awaitable<error_code> drain_results(bulk_run& run, bson::document& reply, std::span<const client_write> writes,
                                          std::size_t first, const host_address& server, bool& stop,
                                          diagnostics& diag) {
  detail::cursor_reply cursor;
  open_cursor server_cursor{0, {}, server};
  diagnostics item_diag;
  error_code ec = detail::parse_cursor_reply(reply, cursor, item_diag);
  while (!ec) {
    server_cursor.update(cursor);
    ec = take_items(run, cursor, writes, first, stop, item_diag);
    if (ec || server_cursor.id == 0 || stop) break;
    bson::document next;
    ec = co_await get_more(run, server_cursor, next, item_diag);
    if (ec) break;
    reply = std::move(next);  // `cursor` viewed into the previous reply: read it again
    ec = detail::parse_cursor_reply(reply, cursor, item_diag);
  }
  // "If the results cursor has not been exhausted on the server when a top-level error
  // occurs, drivers MUST send the killCursors command"; so after an ordered write error.
  if (server_cursor.id != 0 && (ec || stop)) co_await kill_cursor(run, server_cursor);
  if (ec) co_return top_level_error(run, ec, std::move(item_diag), diag);
  co_return error_code{};
}

// Adds a batch's summary counts (bulk-write.md "Handling the bulkWrite Server Response").
void add_counts(bulk_run& run, const detail::client_bulk_write_reply& reply, std::size_t writes) {
  client_bulk_write_result& r = run.result;
  r.inserted_count += reply.n_inserted;
  r.upserted_count += reply.n_upserted;
  r.matched_count += reply.n_matched;
  r.modified_count += reply.n_modified;
  r.deleted_count += reply.n_deleted;
  // "at least one write was successful if nErrors is 0" (ordered) / "less than the number of
  // operations" (unordered); an ordered one failing after its first is seen in take_items.
  const auto errors = static_cast<std::size_t>(reply.n_errors);
  if (errors == 0 || (!run.fields.ordered && errors < writes)) r.has_partial_result = true;
}

// One bulkWrite command and its results.
asio::awaitable<error_code> run_batch(bulk_run& run, std::span<const client_write> writes, std::size_t first,
                                      bool& stop, diagnostics& diag) {
  const detail::client_bulk_write_op op{writes, run.fields};
  bson::document body, reply;
  op.build(body);
  detail::operation described = detail::describe(op.traits(), detail::admin_db, body, collection_options{});
  if (run.options.write_concern) described.write_concern = run.options.write_concern->get_view();
  host_address server;  // server-selection.md "Cursors": the getMores go there
  described.sent_to = &server;
  described.operation_id = run.operation_id;
  diagnostics command_diag;
  const error_code ec = co_await run.client.execute(described, run.session, reply, command_diag);
  // A write concern error does not end the bulk write ("Write Concern Errors").
  if (ec && !command_diag.write_concern) co_return top_level_error(run, ec, std::move(command_diag), diag);
  if (run.unacknowledged) {
    run.result.acknowledged = false;
    co_return error_code{};
  }
  detail::client_bulk_write_reply parsed;
  diagnostics parse_diag;
  if (auto bad = op.parse(reply, parsed, parse_diag)) co_return top_level_error(run, bad, std::move(parse_diag), diag);
  if (command_diag.write_concern) {
    run.result.write_concern_errors.push_back(*command_diag.write_concern);
    for (const auto& l : command_diag.labels.items()) run.labels.add(l);
  }
  add_counts(run, parsed, writes.size());
  co_return co_await drain_results(run, reply, writes, first, server, stop, diag);
}

// bulk-write.md "Exception": every write error and write concern error, once all ran.
error_code bulk_write_exception(bulk_run& run, diagnostics& diag) {
  const auto& concern_errors = run.result.write_concern_errors;
  if (run.write_errors.empty() && concern_errors.empty()) return {};
  diag.write_errors = std::move(run.write_errors);
  if (!concern_errors.empty()) diag.write_concern = concern_errors.front();
  diag.labels = std::move(run.labels);
  diag.client_message = fmt::format("client bulk write: {} write error(s), {} write concern error(s)",
                                    diag.write_errors.size(), concern_errors.size());
  diag.server_message = diag.write_errors.empty() ? concern_errors.front().errmsg : diag.write_errors.front().errmsg;
  return detail::write_reply_error(diag);
}

// "Drivers MUST return an error if there is not room to add at least one operation to ops".
error_code no_room_error(std::size_t index, const detail::write_limits& limits, diagnostics& diag) {
  diag.client_message = fmt::format(
      "client bulk write model {} does not fit in one bulkWrite message of maxMessageSizeBytes {} (with its "
      "namespace and {} bytes kept for the command's other fields)",
      index, limits.max_message_size_bytes, detail::client_bulk_write_message_overhead);
  return client_errc::invalid_argument;
}

// bulk-write.md "Size Limits": with an unacknowledged write concern the server cannot report a
// document above maxBsonObjectSize (an inserted document or a replacement) or an ops entry
// above maxBsonObjectSize + 16 KiB, so the client refuses them before sending anything.
error_code check_unacknowledged_sizes(std::span<const client_write> writes, std::span<const std::size_t> entry_sizes,
                                      const detail::write_limits& limits, diagnostics& diag) {
  const auto max_document = static_cast<std::size_t>(std::max(limits.max_bson_object_size, 0));
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const client_write& w = writes[i];
    const bool replacement = w.type == client_write::kind::update && !w.update_is_pipeline &&
                             (w.update_mods.empty() || !w.update_mods.first_key().starts_with('$'));
    const std::size_t stored = w.type == client_write::kind::insert ? w.document.size()
                               : replacement                        ? w.update_mods.size()
                                                                    : 0;
    if (stored <= max_document && entry_sizes[i] <= max_document + detail::command_fields_allowance) continue;
    diag.client_message = fmt::format(
        "client bulk write model {} is too large for an unacknowledged write (maxBsonObjectSize {})", i, max_document);
    return client_errc::invalid_argument;
  }
  return {};
}

// The batches, one after the other, until all ran, a top-level error or an ordered write error.
asio::awaitable<error_code> run_batches(bulk_run& run, std::span<const client_write> writes, diagnostics& diag) {
  const std::vector<std::size_t> sizes = detail::client_write_entry_sizes(writes);
  bson::document head;
  detail::build_client_bulk_write_head(head, run.fields);
  const detail::write_limits limits = detail::write_limits_of(run.client);
  if (run.unacknowledged)
    if (auto ec = check_unacknowledged_sizes(writes, sizes, limits, diag)) co_return ec;
  bool stop = false;
  for (std::size_t first = 0; first < writes.size() && !stop;) {
    const auto rest = writes.subspan(first);
    const auto rest_sizes = std::span(sizes).subspan(first);
    const std::size_t count = detail::next_client_bulk_write_count(rest, rest_sizes, head.size(), limits);
    if (count == 0) co_return no_room_error(first, limits, diag);
    const auto batch = rest.first(count);
    if (auto ec = co_await run_batch(run, batch, first, stop, diag)) co_return ec;
    first += count;
  }
  co_return bulk_write_exception(run, diag);
}

asio::awaitable<error_code> run_client_bulk_write(detail::client_impl& client,
                                                  std::shared_ptr<detail::session_impl> given,
                                                  std::vector<client_write_model> models,
                                                  client_bulk_write_options options, client_bulk_write_result& result,
                                                  diagnostics& diag) {
  result = client_bulk_write_result{};
  if (auto ec = prepare_models(models, diag)) co_return ec;
  // Inside a transaction the writes are acknowledged by its commit, whatever the client's w.
  std::optional<bson::view> concern =
      options.write_concern ? options.write_concern->get_view() : client.default_write_concern();
  const bool unacknowledged = !(given && given->txn.in_transaction()) && concern && detail::is_unacknowledged(*concern);
  if (unacknowledged)
    if (auto ec = check_unacknowledged(options, diag)) co_return ec;
  std::vector<client_write> writes;
  writes.reserve(models.size());
  for (const auto& m : models) writes.push_back(write_of(m));
  // driver-sessions.md: the bulkWrites and their getMores share one session, implicit if need be.
  const std::shared_ptr<detail::session_impl> session = given ? given : client.make_implicit_session();
  const std::int64_t operation_id = client.new_operation_id();  // one for all its commands
  bulk_run run{client, session.get(), options, fields_of(options), models, result, unacknowledged, operation_id, {},
               {}};
  result.has_verbose_results = options.verbose_results && !unacknowledged;
  const std::span<const client_write> all(writes);  // no temporaries in co_await (g++ 12)
  const error_code ec = co_await run_batches(run, all, diag);
  if (!given) session->release();
  co_return ec;
}

}  // namespace

asio::awaitable<error_code> client::bulk_write(std::vector<client_write_model> models,
                                               client_bulk_write_options options, client_bulk_write_result& result,
                                               diagnostics& diag) {
  const std::shared_ptr<detail::session_impl> implicit;
  auto pending = run_client_bulk_write(*impl_, implicit, std::move(models), std::move(options), result, diag);
  co_return co_await std::move(pending);  // no temporaries in co_await (g++ 12)
}

asio::awaitable<error_code> session::bulk_write(std::vector<client_write_model> models,
                                                client_bulk_write_options options, client_bulk_write_result& result,
                                                diagnostics& diag) {
  auto pending = run_client_bulk_write(*impl_->client, impl_, std::move(models), std::move(options), result, diag);
  co_return co_await std::move(pending);
}

}  // namespace mongowire
