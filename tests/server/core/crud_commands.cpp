// CRUD commands: insert, update, delete, findAndModify, find, getMore, killCursors,
// aggregate, count, distinct (write_commands.cpp, write_ops_exec.cpp, find_cmd.cpp ...).
#include <algorithm>

#include "core/core_impl.hpp"
#include "core/query_plan.hpp"
#include "query/detail.hpp"
#include "query/query.hpp"

namespace mongowire::testd {
namespace {

template <class T>
T compiled(std::variant<T, query::query_error> v) {
  if (auto* e = std::get_if<query::query_error>(&v)) throw command_error(e->code, e->message);
  return std::get<T>(std::move(v));
}

// The filter of a command where mongod allows $where (find, count, distinct, update, delete,
// findAndModify); `fx` collects what its JavaScript did.
query::matcher compiled_filter(bson::view filter, query::javascript_effects& fx) {
  return compiled(query::matcher::compile(filter, {.javascript = &fx}));
}

// mongod runs $where while it scans: its sleep(ms) calls delay the reply (the network layer
// waits block_ms), up to maxTimeMS, which then fails the command; a JavaScript error fails it.
void apply_javascript_effects(op_context& op, const query::javascript_effects& fx) {
  if (fx.error) throw command_error(fx.error->code, fx.error->message);
  auto max = op.cmd["maxTimeMS"].as_integer();
  if (max && *max > 0 && fx.sleep_ms > *max) {
    op.conn->block_ms += *max;
    throw command_error(code::max_time_ms_expired, "operation exceeded time limit");
  }
  op.conn->block_ms += fx.sleep_ms;
}

// insert.cpp fixDocumentForInsert: a document above BSONObjMaxUserSize is a write error.
void check_insert_size(bson::view doc) {
  if (doc.size() <= static_cast<std::size_t>(max_user_bson_size)) return;
  throw command_error(code::bad_value, "object to insert too large. size in bytes: " + std::to_string(doc.size()) +
                                           ", max size: " + std::to_string(max_user_bson_size));
}

// mongod stores a generated _id (or the given one) as the first field.
bson::document with_id_first(bson::view doc) {
  bson::document out;
  if (auto id = doc["_id"]) {
    if (id.is_array()) throw command_error(53, "can't use an array for _id");
    if (doc.first_key() == "_id") return bson::document(doc);
    out.append("_id", id);
  } else {
    out.append("_id", bson::object_id::generate());
  }
  for (auto e : doc)
    if (e.key() != "_id") out.append(e.key(), e);
  return out;
}

void append_write_error(bson::array_builder& errors, std::int32_t index, const command_error& e) {
  bson::document we;
  we.append("index", index);
  we.append("code", e.code());
  we.concat(e.extra());
  we.append("errmsg", e.message());
  errors.push(we.get_view());
}

struct write_batch_result {
  std::int64_t n = 0, n_modified = 0;
  bson::array_builder upserted, errors;
};

// $merge (mongod's document_source_merge.cpp) for the default `on: "_id"`: the stage is taken
// off the pipeline, which runs as usual, and its output is merged into the target here.
std::string merge_string_option(bson::view spec, std::string_view field, std::string fallback,
                                std::initializer_list<std::string_view> allowed) {
  auto e = spec[field];
  if (!e) return fallback;
  auto s = e.as_string();
  if (!s || std::find(allowed.begin(), allowed.end(), *s) == allowed.end())
    throw command_error(code::bad_value, "Enumeration value '" + (s ? std::string(*s) : std::string("?")) +
                                             "' for field '$merge." + std::string(field) + "' is not a valid value.");
  return std::string(*s);
}

// The spec of the source stage `name` (e.g. $listLocalSessions) that starts `pipeline`, with
// `rest` = the stages after it; nullopt (and `rest` unspecified) when it does not start with it.
std::optional<bson::view> take_source_stage(bson::view pipeline, std::string_view name, bson::array_builder& rest) {
  std::optional<bson::view> spec;
  bool first = true;
  for (auto stage : pipeline) {
    auto d = stage.as_document();
    if (first && d && d->first_key() == name) {
      spec = (*d)[name].as_document();
      if (!spec) throw command_error(code::type_mismatch, std::string(name) + " must take an object");
    } else {
      rest.push(stage);
    }
    first = false;
  }
  return spec;
}

// Returns the $merge stage ending `pipeline` (with `rest` = the stages before it), or nullopt.
std::optional<merge_stage> take_merge_stage(bson::view pipeline, const std::string& db, bson::array_builder& rest) {
  std::optional<merge_stage> merge;
  for (auto stage : pipeline) {
    auto d = stage.as_document();
    if (merge) throw command_error(40601, "$merge can only be the final stage in the pipeline");
    if (d && d->first_key() == "$merge") {
      merge.emplace();
      auto spec = (*d)["$merge"];
      bson::element into = spec;
      if (auto s = spec.as_document()) {
        for (auto f : *s) {
          static constexpr std::string_view known[] = {"into", "on", "whenMatched", "whenNotMatched", "let"};
          if (std::find(std::begin(known), std::end(known), f.key()) == std::end(known))
            throw command_error(code::unknown_field,
                                "BSON field '$merge." + std::string(f.key()) + "' is an unknown field.");
        }
        into = (*s)["into"];
        if (auto on = (*s)["on"]; on && on.as_string() != std::optional<std::string_view>("_id"))
          throw command_error(code::bad_value, "$merge 'on' other than \"_id\" is not supported by this server");
        merge->when_matched =
            merge_string_option(*s, "whenMatched", "merge", {"merge", "replace", "keepExisting", "fail"});
        merge->when_not_matched = merge_string_option(*s, "whenNotMatched", "insert", {"insert", "discard", "fail"});
      }
      if (auto name = into.as_string()) {
        merge->ns = db + "." + std::string(*name);
      } else if (auto target = into.as_document()) {
        merge->ns = std::string((*target)["db"].as_string().value_or(db)) + "." +
                    std::string((*target)["coll"].as_string().value_or(""));
      } else {
        throw command_error(code::type_mismatch, "$merge 'into' must be a string or an object");
      }
      continue;
    }
    rest.push(stage);
  }
  return merge;
}

}  // namespace

bson::view array_field(const op_context& op, std::string_view field) {
  auto e = op.cmd[field];
  if (!e)
    throw command_error(code::missing_field,
                        "BSON field '" + op.name + "." + std::string(field) + "' is missing but a required field");
  if (!e.is_array())
    throw command_error(code::type_mismatch, "BSON field '" + op.name + "." + std::string(field) +
                                                 "' is the wrong type '" + std::string(bson::type_name(e.type())) +
                                                 "', expected type 'array'");
  return *e.as_array();
}

// The statements of insert/update/delete: write_ops.cpp checkOpCountForCommand refuses an
// empty batch and one above kMaxWriteBatchSize before anything runs.
bson::view write_statements(const op_context& op, std::string_view field, std::int32_t max_batch) {
  auto statements = array_field(op, field);
  const auto n = statements.count();
  if (n == 0 || n > static_cast<std::size_t>(max_batch))
    throw command_error(code::invalid_length, "Write batch sizes must be between 1 and " + std::to_string(max_batch) +
                                                  ". Got " + std::to_string(n) + " operations.");
  return statements;
}

std::int32_t statement_id(const op_context& op, std::int32_t index) {
  if (auto ids = op.cmd["stmtIds"]; ids.is_array()) {
    std::int32_t i = 0;
    for (auto e : bson::view(*ids.as_array()))
      if (i++ == index) return e.as_int32().value_or(index);
  }
  return static_cast<std::int32_t>(op.cmd["stmtId"].as_integer().value_or(0)) + index;
}

// One statement of insert/update/delete/bulkWrite failed (called inside its catch handler). As
// mongod: a transient error inside a transaction, or a write conflict outside one, fails the
// whole command (rethrown); anything else becomes a write error (the caller records it),
// aborts the transaction it belongs to, and stops an ordered batch. Returns whether the batch
// stops.
bool server_core::impl::statement_failed(op_context& op, const command_error& e, bool ordered) {
  if (op.in_txn() && is_transient_transaction_error(e.code(), false, false)) throw;
  if (!op.in_txn() && e.code() == code::write_conflict) throw;
  if (op.in_txn()) {
    abort_transaction_of(*op.session);
    return true;
  }
  return ordered;
}

std::vector<bson::document> server_core::impl::visible_documents(op_context& op, std::string_view ns) {
  std::vector<bson::document> docs;
  if (auto* c = store.find_visible(ns, op.view))
    store.for_each_visible(*c, op.view, [&](record_id, const bson::document& d) { docs.push_back(d); });
  return docs;
}

std::vector<bson::document> server_core::impl::matching_documents(op_context& op, std::string_view ns,
                                                                  bson::view filter, const query::matcher& m) {
  std::vector<bson::document> docs;
  if (auto* c = store.find_visible(ns, op.view))
    store.for_each_candidate(*c, op.view, filter, [&](record_id, const bson::document& d) {
      if (m.matches(d)) docs.push_back(d);
    });
  return docs;
}

namespace {

// How many of docs[from..] the next batch holds: at most `batch_size`, and no more than 16 MB
// of documents once it holds one (mongod's FindCommon::haveSpaceForNext).
std::size_t batch_count(const std::vector<bson::document>& docs, std::size_t from, std::int64_t batch_size) {
  std::size_t n = 0, bytes = 0;
  while (from + n < docs.size() && static_cast<std::int64_t>(n) < batch_size) {
    bytes += docs[from + n].size();
    if (n > 0 && bytes > static_cast<std::size_t>(max_user_bson_size)) break;
    ++n;
  }
  return n;
}

}  // namespace

void server_core::impl::reply_with_cursor(op_context& op, bson::document& reply, std::string ns,
                                          std::vector<bson::document> docs, std::int64_t batch_size, bool single_batch,
                                          std::optional<tailing_state> tailing) {
  const std::size_t first = batch_count(docs, 0, batch_size);
  std::int64_t id = 0;
  if ((first < docs.size() || tailing) && !single_batch) {
    id = next_cursor_id++;
    cursor_state cs{ns,
                    {},
                    op.in_txn() ? op.lsid_key : std::string{},
                    op.in_txn() ? op.txn_number : std::nullopt,
                    std::move(tailing)};
    for (auto it = docs.begin() + static_cast<std::ptrdiff_t>(first); it != docs.end(); ++it)
      cs.remaining.push_back(std::move(*it));
    cursors.emplace(id, std::move(cs));
  }
  reply.append_document("cursor", [&](bson::document& c) {
    c.append_array_of("firstBatch", [&](bson::array_builder& arr) {
      for (std::size_t i = 0; i < first; ++i) arr.push(docs[i].get_view());
    });
    c.append("id", id);
    c.append("ns", ns);
    if (op.at_cluster_time) c.append("atClusterTime", *op.at_cluster_time);
  });
}

// ---------------------------------------------------------------- writes

update_outcome update_outcome_of(const bson::document& record) {
  update_outcome out;
  out.n = record["n"].as_integer().value_or(0);
  out.modified = record["nModified"].as_integer().value_or(0);
  if (auto id = record["upserted"]) out.upserted_id.emplace().append("_id", id);
  return out;
}

bson::document update_record(const update_outcome& u) {
  bson::document rec;
  rec.append("n", u.n);
  rec.append("nModified", u.modified);
  if (u.upserted_id) rec.append("upserted", (*u.upserted_id)["_id"]);
  return rec;
}

// The record goes with the statement's writes, at their timestamp (the client's last op):
// mongod's oplog entries of a retryable write carry lsid, txnNumber and stmtId. A statement
// that wrote nothing is recorded too, so that no member runs it a second time.
void server_core::impl::record_statement(op_context& op, std::int32_t stmt, bson::document result) {
  store.log_session(op.conn->last_op_time, op.lsid_key, *op.txn_number, stmt, &result);
  op.session->statements[stmt] = std::move(result);
}

const bson::document* server_core::impl::retried_statement(op_context& op, std::int32_t stmt) {
  if (!op.retryable_write()) return nullptr;
  auto it = op.session->statements.find(stmt);
  if (it == op.session->statements.end()) return nullptr;
  op.retried_stmt_ids.push_back(stmt);
  return &it->second;
}

void server_core::impl::insert_statement(op_context& op, const std::string& ns, bson::view doc, std::int32_t stmt) {
  check_insert_size(doc);
  auto wc = write_context_for(op);
  auto& c = store.get_or_create(ns, wc);
  store.insert(c, ns, with_id_first(doc), wc);
  if (op.retryable_write()) record_statement(op, stmt, bson::document::from_json(R"({"n": 1})"));
}

update_outcome server_core::impl::update_statement(op_context& op, const std::string& ns, bson::view q, bson::element u,
                                                   bool multi, bool upsert, std::int32_t stmt) {
  if (multi && op.retryable_write())
    throw command_error(code::invalid_options, "Cannot use (or request) retryable writes with multi=true");
  query::javascript_effects js;
  auto m = compiled_filter(q, js);
  auto upd = compiled(query::update_spec::compile(u.is_document() ? *u.as_document() : *u.as_array()));
  if (multi && upd.is_replacement())
    throw command_error(code::failed_to_parse, "multi update is not supported for replacement-style update");
  on_primary_transactional_write(op);
  auto wc = write_context_for(op);
  update_outcome out;
  if (auto* c = store.find_visible(ns, op.in_txn() ? op.view : wc.view)) {
    std::vector<std::pair<record_id, bson::document>> targets;
    store.for_each_candidate(*c, wc.view, q, [&](record_id rid, const bson::document& d) {
      if ((multi || targets.empty()) && m.matches(d)) targets.emplace_back(rid, d);
    });
    apply_javascript_effects(op, js);
    for (auto& [rid, old] : targets) {
      bson::document next;
      if (auto err = upd.apply(old, next)) throw command_error(err->code, err->message);
      ++out.n;
      if (next.get_view() == old.get_view()) continue;
      store.update(*c, ns, rid, std::move(next), wc);
      ++out.modified;
    }
  }
  if (out.n == 0 && upsert) {
    bson::document fresh;
    if (auto err = upd.apply_for_upsert(q, fresh)) throw command_error(err->code, err->message);
    auto doc = with_id_first(fresh);
    out.upserted_id.emplace().append("_id", doc["_id"]);
    auto& c = store.get_or_create(ns, wc);
    store.insert(c, ns, std::move(doc), wc);
    out.n = 1;
  }
  if (op.retryable_write()) record_statement(op, stmt, update_record(out));
  return out;
}

std::int64_t server_core::impl::delete_statement(op_context& op, const std::string& ns, bson::view q, bool multi,
                                                 std::int32_t stmt) {
  if (multi && op.retryable_write())
    throw command_error(code::invalid_options, "Cannot use (or request) retryable writes with limit=0");
  query::javascript_effects js;
  auto m = compiled_filter(q, js);
  on_primary_transactional_write(op);
  auto wc = write_context_for(op);
  std::int64_t n = 0;
  if (auto* c = store.find_visible(ns, op.in_txn() ? op.view : wc.view)) {
    std::vector<record_id> targets;
    store.for_each_candidate(*c, wc.view, q, [&](record_id rid, const bson::document& d) {
      if ((multi || targets.empty()) && m.matches(d)) targets.push_back(rid);
    });
    apply_javascript_effects(op, js);
    for (auto rid : targets) {
      store.remove(*c, ns, rid, wc);
      ++n;
    }
  }
  if (op.retryable_write()) {
    bson::document rec;
    rec.append("n", n);
    record_statement(op, stmt, std::move(rec));
  }
  return n;
}

void server_core::impl::cmd_insert(op_context& op, bson::document& reply) {
  check_known_fields(op, {"documents", "ordered", "bypassDocumentValidation", "stmtId", "stmtIds", "let"});
  auto ns = collection_ns(op);
  auto docs = write_statements(op, "documents", options.max_write_batch_size);
  bool ordered = op.cmd["ordered"].as_truthy().value_or(true);
  write_batch_result r;
  std::int32_t index = 0;
  bool failpoint_checked = false;
  for (auto d : docs) {
    std::int32_t i = index++;
    auto stmt = statement_id(op, i);
    if (retried_statement(op, stmt)) {
      ++r.n;
      continue;
    }
    try {
      if (!d.is_document())
        throw command_error(code::type_mismatch, "BSON field 'insert.documents." + std::to_string(i) +
                                                     "' is the wrong type, expected type 'object'");
      if (!failpoint_checked) {  // all documents of one insert commit together
        failpoint_checked = true;
        on_primary_transactional_write(op);
      }
      insert_statement(op, ns, *d.as_document(), stmt);
      ++r.n;
    } catch (const command_error& e) {
      const bool stop = statement_failed(op, e, ordered);
      append_write_error(r.errors, i, e);
      if (stop) break;
    }
  }
  reply.append("n", static_cast<std::int32_t>(r.n));
  if (r.errors.size()) reply.append_array("writeErrors", r.errors.get_view());
}

// The update statement {q, u, multi?, upsert?} at `i` of an update command.
update_outcome server_core::impl::run_update_spec(op_context& op, const std::string& ns, const bson::element& u_el,
                                                  std::int32_t i, std::int32_t stmt) {
  if (!u_el.is_document())
    throw command_error(code::type_mismatch, "BSON field 'update.updates." + std::to_string(i) +
                                                 "' is the wrong type, expected type 'object'");
  auto spec = *u_el.as_document();
  auto q = spec["q"], u = spec["u"];
  if (!q.is_document())
    throw command_error(code::missing_field, "BSON field 'update.updates.q' is missing but a required field");
  if (!u.is_document() && !u.is_array())
    throw command_error(code::missing_field, "BSON field 'update.updates.u' is missing but a required field");
  bool multi = spec["multi"].as_truthy().value_or(false), upsert = spec["upsert"].as_truthy().value_or(false);
  return update_statement(op, ns, *q.as_document(), u, multi, upsert, stmt);
}

void server_core::impl::cmd_update(op_context& op, bson::document& reply) {
  check_known_fields(op, {"updates", "ordered", "bypassDocumentValidation", "stmtId", "stmtIds", "let"});
  auto ns = collection_ns(op);
  auto updates = write_statements(op, "updates", options.max_write_batch_size);
  bool ordered = op.cmd["ordered"].as_truthy().value_or(true);
  write_batch_result r;
  std::int32_t index = 0;
  for (auto u_el : updates) {
    std::int32_t i = index++;
    auto stmt = statement_id(op, i);
    try {
      const bson::document* retried = retried_statement(op, stmt);
      const update_outcome u = retried ? update_outcome_of(*retried) : run_update_spec(op, ns, u_el, i, stmt);
      r.n += u.n;
      r.n_modified += u.modified;
      if (u.upserted_id) {
        bson::document up;
        up.append("index", i);
        up.append("_id", (*u.upserted_id)["_id"]);
        r.upserted.push(up.get_view());
      }
    } catch (const command_error& e) {
      const bool stop = statement_failed(op, e, ordered);
      append_write_error(r.errors, i, e);
      if (stop) break;
    }
  }
  reply.append("n", static_cast<std::int32_t>(r.n));
  reply.append("nModified", static_cast<std::int32_t>(r.n_modified));
  if (r.upserted.size()) reply.append_array("upserted", r.upserted.get_view());
  if (r.errors.size()) reply.append_array("writeErrors", r.errors.get_view());
}

// The delete statement {q, limit} at `i` of a delete command.
std::int64_t server_core::impl::run_delete_spec(op_context& op, const std::string& ns, const bson::element& d_el,
                                                std::int32_t i, std::int32_t stmt) {
  if (!d_el.is_document())
    throw command_error(code::type_mismatch, "BSON field 'delete.deletes." + std::to_string(i) +
                                                 "' is the wrong type, expected type 'object'");
  auto spec = *d_el.as_document();
  auto q = spec["q"];
  if (!q.is_document())
    throw command_error(code::missing_field, "BSON field 'delete.deletes.q' is missing but a required field");
  auto limit = spec["limit"].as_integer();
  if (!limit)
    throw command_error(code::missing_field, "BSON field 'delete.deletes.limit' is missing but a required field");
  if (*limit != 0 && *limit != 1)
    throw command_error(code::failed_to_parse,
                        "The limit field in delete objects must be 0 or 1. Got " + std::to_string(*limit));
  return delete_statement(op, ns, *q.as_document(), *limit == 0, stmt);
}

void server_core::impl::cmd_delete(op_context& op, bson::document& reply) {
  check_known_fields(op, {"deletes", "ordered", "stmtId", "stmtIds", "let"});
  auto ns = collection_ns(op);
  auto deletes = write_statements(op, "deletes", options.max_write_batch_size);
  bool ordered = op.cmd["ordered"].as_truthy().value_or(true);
  write_batch_result r;
  std::int32_t index = 0;
  for (auto d_el : deletes) {
    std::int32_t i = index++;
    auto stmt = statement_id(op, i);
    try {
      const bson::document* retried = retried_statement(op, stmt);
      r.n += retried ? (*retried)["n"].as_integer().value_or(0) : run_delete_spec(op, ns, d_el, i, stmt);
    } catch (const command_error& e) {
      const bool stop = statement_failed(op, e, ordered);
      append_write_error(r.errors, i, e);
      if (stop) break;
    }
  }
  reply.append("n", static_cast<std::int32_t>(r.n));
  if (r.errors.size()) reply.append_array("writeErrors", r.errors.get_view());
}

void server_core::impl::cmd_find_and_modify(op_context& op, bson::document& reply) {
  check_known_fields(op, {"query", "sort", "remove", "update", "new", "fields", "upsert", "bypassDocumentValidation",
                          "arrayFilters", "collation", "hint", "let", "stmtId"});
  auto ns = collection_ns(op);
  auto stmt = statement_id(op, 0);
  if (op.retryable_write()) {
    if (auto it = op.session->statements.find(stmt); it != op.session->statements.end()) {
      op.retried_stmt_ids.push_back(stmt);
      reply.concat(it->second);  // the recorded pre/post image
      return;
    }
  }
  bool remove = op.cmd["remove"].as_truthy().value_or(false), upsert = op.cmd["upsert"].as_truthy().value_or(false);
  bool return_new = op.cmd["new"].as_truthy().value_or(false);
  auto update = op.cmd["update"];
  if (remove && update) throw command_error(code::failed_to_parse, "Cannot specify both an update and remove=true");
  if (!remove && !update)
    throw command_error(code::failed_to_parse, "Either an update or remove=true must be specified");
  if (remove && upsert) throw command_error(code::failed_to_parse, "Cannot specify both upsert=true and remove=true ");
  if (remove && return_new)
    throw command_error(code::failed_to_parse,
                        "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
  auto query = document_field(op, "query", false);
  query::javascript_effects js;
  auto m = compiled_filter(query, js);
  std::optional<query::sort_spec> sort;
  if (auto s = document_field(op, "sort", false); !s.empty()) sort = compiled(query::sort_spec::compile(s));
  std::optional<query::projection> fields;
  if (auto f = op.cmd["fields"]; f.is_document()) fields = compiled(query::projection::compile(*f.as_document()));
  std::optional<query::update_spec> upd;
  if (update)
    upd = compiled(query::update_spec::compile(update.is_document() ? *update.as_document() : *update.as_array()));

  on_primary_transactional_write(op);
  auto wc = write_context_for(op);
  std::optional<std::pair<record_id, bson::document>> target;
  auto* c = store.find_visible(ns, op.in_txn() ? op.view : wc.view);
  if (c) {
    store.for_each_candidate(*c, wc.view, query, [&](record_id rid, const bson::document& d) {
      if (!m.matches(d)) return;
      if (!target || (sort && sort->less(d, target->second))) target.emplace(rid, d);
      else if (!sort) return;
    });
  }
  apply_javascript_effects(op, js);
  bson::document last_error;
  std::optional<bson::document> value;
  if (remove) {
    last_error.append("n", std::int32_t{target ? 1 : 0});
    if (target) {
      store.remove(*c, ns, target->first, wc);
      value = target->second;
    }
  } else if (target) {
    bson::document next;
    if (auto err = upd->apply(target->second, next)) throw command_error(err->code, err->message);
    if (next.get_view() != target->second.get_view()) store.update(*c, ns, target->first, next, wc);
    last_error.append("n", std::int32_t{1});
    last_error.append("updatedExisting", true);
    value = return_new ? next : target->second;
  } else if (upsert) {
    bson::document fresh;
    if (auto err = upd->apply_for_upsert(query, fresh)) throw command_error(err->code, err->message);
    auto doc = with_id_first(fresh);
    last_error.append("n", std::int32_t{1});
    last_error.append("updatedExisting", false);
    last_error.append("upserted", doc["_id"]);
    auto& coll = store.get_or_create(ns, wc);
    if (return_new) value = doc;
    store.insert(coll, ns, std::move(doc), wc);
  } else {
    last_error.append("n", std::int32_t{0});
    last_error.append("updatedExisting", false);
  }
  bson::document result;
  result.append("lastErrorObject", last_error);
  if (value && fields) {
    bson::document projected;
    fields->apply(*value, projected);
    value = std::move(projected);
  }
  if (value) result.append("value", *value);
  else result.append_null("value");
  if (op.retryable_write()) record_statement(op, stmt, result);
  reply.concat(result);
}

// ---------------------------------------------------------------- reads

void server_core::impl::cmd_find(op_context& op, bson::document& reply) {
  check_known_fields(op, {"filter",       "projection",
                          "sort",         "hint",
                          "skip",         "limit",
                          "batchSize",    "singleBatch",
                          "collation",    "min",
                          "max",          "returnKey",
                          "showRecordId", "tailable",
                          "oplogReplay",  "noCursorTimeout",
                          "awaitData",    "allowPartialResults",
                          "allowDiskUse", "let",
                          "readOnce",     "term"});
  auto skip = integer_field(op, "skip", 0), limit = integer_field(op, "limit", 0),
       batch = integer_field(op, "batchSize", 101);
  if (skip < 0)
    throw command_error(51024, "BSON field 'skip' value must be >= 0, actual value '" + std::to_string(skip) + "'");
  if (limit < 0)
    throw command_error(51024, "BSON field 'limit' value must be >= 0, actual value '" + std::to_string(limit) + "'");
  if (batch < 0)
    throw command_error(51024,
                        "BSON field 'batchSize' value must be >= 0, actual value '" + std::to_string(batch) + "'");
  // query_request.cpp: awaitData only with tailable; a tailable cursor needs a capped collection.
  const bool tailable = op.cmd["tailable"].as_truthy().value_or(false);
  const bool await_data = op.cmd["awaitData"].as_truthy().value_or(false);
  if (await_data && !tailable)
    throw command_error(code::failed_to_parse, "Cannot set 'awaitData' without also setting 'tailable'");
  auto ns = collection_ns(op);
  std::optional<tailing_state> tailing;
  if (tailable) tailing = tailing_of(op, ns, await_data);
  const index_spec* plan = nullptr;
  auto rows = find_rows(op, ns, plan);
  if (auto s = document_field(op, "sort", false); !s.empty()) {
    auto sort = compiled(query::sort_spec::compile(s));
    // Not std::stable_sort: its buffer ignores bson_t's 128-byte alignment.
    query::detail::stable_sort_aligned(rows, [&](auto& a, auto& b) { return sort.less(a.doc, b.doc); });
  }
  const auto first = std::min<std::size_t>(static_cast<std::size_t>(skip), rows.size());
  auto count = rows.size() - first;
  if (limit > 0) count = std::min(count, static_cast<std::size_t>(limit));
  std::optional<query::projection> proj;
  if (auto p = document_field(op, "projection", false); !p.empty()) proj = compiled(query::projection::compile(p));
  std::vector<bson::document> docs;
  docs.reserve(count);
  for (std::size_t i = first; i < first + count; ++i)
    docs.push_back(shape_found_document(op, plan, proj ? &*proj : nullptr, rows[i]));
  bool single = op.cmd["singleBatch"].as_truthy().value_or(false);
  // A tailable cursor whose query matched nothing is dead at once (mongod's "Tailable Cursors").
  if (docs.empty()) tailing.reset();
  reply_with_cursor(op, reply, ns, std::move(docs), batch, single, std::move(tailing));
}

tailing_state server_core::impl::tailing_of(op_context& op, const std::string& ns, bool await_data) {
  tailing_state t;
  t.await_data = await_data;
  t.filter = bson::document(document_field(op, "filter", false));
  t.projection = bson::document(document_field(op, "projection", false));
  if (auto* c = store.find_visible(ns, op.view)) {
    if (!c->capped)
      throw command_error(code::bad_value,
                          "error processing query: ns=" + ns + " tailable cursor requested on non capped collection");
    t.last_record = c->next_record_id - 1;  // the find itself reads everything up to now
  }
  return t;
}

bool server_core::impl::capped_position_lost(const op_context& op, const cursor_state& cursor) {
  const auto last = cursor.tailing->last_record;
  auto* c = last == 0 ? nullptr : store.find_visible(cursor.ns, op.view);
  if (!c) return false;
  auto r = c->records.find(last);
  return r == c->records.end() || !store.visible(r->second, op.view);
}

bool server_core::impl::tail_cursor(op_context& op, cursor_state& cursor) {
  auto& t = *cursor.tailing;
  if (auto* c = store.find_visible(cursor.ns, op.view)) {
    query::javascript_effects js;
    auto m = compiled_filter(t.filter, js);
    std::optional<query::projection> proj;
    if (!t.projection.get_view().empty()) proj = compiled(query::projection::compile(t.projection));
    for (auto it = c->records.upper_bound(t.last_record); it != c->records.end(); ++it) {
      const bson::document* d = store.visible(it->second, op.view);
      if (!d) continue;
      t.last_record = it->first;
      if (!m.matches(*d)) continue;
      bson::document shaped;
      if (proj) proj->apply(*d, shaped);
      else shaped = *d;
      cursor.remaining.push_back(std::move(shaped));
    }
  }
  auto& ctx = *op.conn;
  if (!cursor.remaining.empty() || !t.await_data) return false;
  // getmore_cmd.cpp: an awaitData getMore waits up to its maxTimeMS (1 s without one) for
  // documents, then returns an empty batch; polled here, 10 ms at a time.
  const std::int64_t now = now_ms();
  if (ctx.await_data_deadline_ms == 0) {
    auto max = op.cmd["maxTimeMS"].as_integer().value_or(0);
    // From the end of a failCommand block, which mongod sleeps before it runs the command.
    ctx.await_data_deadline_ms = now + ctx.block_ms + (max > 0 ? max : 1000);
  }
  if (now >= ctx.await_data_deadline_ms) return false;
  ctx.run_again = true;
  ctx.block_ms += std::min<std::int64_t>(10, ctx.await_data_deadline_ms - now);
  return true;
}

// The documents a find matches, with the index its plan uses (`plan`, nullptr for a
// collection scan) when hint, min/max or returnKey need one.
std::vector<server_core::impl::found_row> server_core::impl::find_rows(op_context& op, const std::string& ns,
                                                                       const index_spec*& plan) {
  auto filter = document_field(op, "filter", false);
  query::javascript_effects js;
  auto m = compiled_filter(filter, js);
  auto min = document_field(op, "min", false), max = document_field(op, "max", false);
  std::vector<found_row> rows;
  auto* c = store.find_visible(ns, op.view);
  if (!c) return rows;  // EOF plan: nothing is checked against indexes
  const bool ranged = !min.empty() || !max.empty();
  if (op.cmd["hint"] || ranged || op.cmd["returnKey"].as_truthy().value_or(false))
    plan = plan_index(*c, op.cmd["hint"], filter, document_field(op, "sort", false));
  check_min_max(plan, min, max);
  store.for_each_candidate(*c, op.view, filter, [&](record_id rid, const bson::document& d) {
    if (!m.matches(d) || (ranged && !in_min_max_range(*plan, d, min, max))) return;
    rows.push_back({d, rid});
  });
  apply_javascript_effects(op, js);
  return rows;
}

// What a find returns for one document: the projection, or with returnKey the key of the
// plan's index ({} without one); showRecordId appends $recordId (find_cmd.cpp,
// ReturnKeyStage, the {$meta: "recordId"} projection).
bson::document server_core::impl::shape_found_document(op_context& op, const index_spec* plan,
                                                       const query::projection* proj, found_row& row) {
  if (op.cmd["returnKey"].as_truthy().value_or(false)) return plan ? index_key(*plan, row.doc) : bson::document();
  bson::document out;
  if (proj) proj->apply(row.doc, out);
  else out = std::move(row.doc);
  if (op.cmd["showRecordId"].as_truthy().value_or(false)) out.append("$recordId", static_cast<std::int64_t>(row.rid));
  return out;
}

void server_core::impl::cmd_get_more(op_context& op, bson::document& reply) {
  check_known_fields(
      op, {"collection", "batchSize", "maxTimeMS", "term", "lastKnownCommittedOpTime", "includeQueryStatsMetrics"});
  auto id = op.cmd["getMore"].as_int64();
  if (!id)
    throw command_error(code::type_mismatch, "BSON field 'getMore.getMore' is the wrong type, expected type 'long'");
  auto coll = op.cmd["collection"].as_string();
  if (!coll)
    throw command_error(code::missing_field, "BSON field 'getMore.collection' is missing but a required field");
  auto ns = op.db + "." + std::string(*coll);
  auto it = cursors.find(*id);
  if (it == cursors.end())
    throw command_error(code::cursor_not_found, "cursor id " + std::to_string(*id) + " not found");
  if (it->second.ns != ns)
    throw command_error(code::unauthorized, "Requested getMore on namespace '" + ns +
                                                "', but cursor belongs to a different namespace " + it->second.ns);
  auto& cursor = it->second;
  if (op.cmd.contains("maxTimeMS") && !(cursor.tailing && cursor.tailing->await_data))
    throw command_error(code::bad_value, "cannot set maxTimeMS on getMore command for a non-awaitData cursor");
  if (cursor.tailing && cursor.remaining.empty() && capped_position_lost(op, cursor)) {
    const auto last = cursor.tailing->last_record;
    cursors.erase(it);  // the error kills the cursor
    throw command_error(code::capped_position_lost,
                        "CollectionScan died due to position in capped collection being deleted. Last seen record id: "
                        "RecordId(" +
                            std::to_string(last) + ")");
  }
  if (cursor.tailing && cursor.remaining.empty() && tail_cursor(op, cursor)) return;  // waits, runs again
  auto batch = integer_field(op, "batchSize", INT64_MAX);
  if (batch <= 0) batch = INT64_MAX;
  auto& remaining = cursor.remaining;
  reply.append_document("cursor", [&](bson::document& c) {
    c.append_array_of("nextBatch", [&](bson::array_builder& arr) {
      std::size_t bytes = 0;  // at most 16 MB once the batch holds a document, as the first batch
      for (std::int64_t i = 0; i < batch && !remaining.empty(); ++i) {
        bytes += remaining.front().size();
        if (i > 0 && bytes > static_cast<std::size_t>(max_user_bson_size)) break;
        arr.push(remaining.front().get_view());
        remaining.pop_front();
      }
    });
    const bool open = !remaining.empty() || cursor.tailing;  // a tailable cursor stays at the end
    c.append("id", open ? *id : std::int64_t{0});
    c.append("ns", ns);
  });
  if (remaining.empty() && !cursor.tailing) cursors.erase(it);
}

void server_core::impl::cmd_kill_cursors(op_context& op, bson::document& reply) {
  check_known_fields(op, {"cursors"});
  auto ids = array_field(op, "cursors");
  bson::array_builder killed, not_found;
  for (auto e : ids) {
    auto id = e.as_int64().value_or(0);
    if (cursors.erase(id)) killed.push(id);
    else not_found.push(id);
  }
  reply.append_array("cursorsKilled", killed.get_view());
  reply.append_array("cursorsNotFound", not_found.get_view());
  reply.append_array("cursorsAlive", bson::array_builder{}.get_view());
  reply.append_array("cursorsUnknown", bson::array_builder{}.get_view());
}

void server_core::impl::cmd_aggregate(op_context& op, bson::document& reply) {
  check_known_fields(
      op, {"pipeline", "cursor", "explain", "allowDiskUse", "bypassDocumentValidation", "collation", "hint", "let",
           "fromMongos", "needsMerge", "exchange", "isMapReduceCommand", "collectionUUID"});
  auto pipeline = array_field(op, "pipeline");
  auto cursor = op.cmd["cursor"];
  if (!cursor.is_document())
    throw command_error(code::failed_to_parse,
                        "The 'cursor' option is required, except for aggregate with the explain argument");
  auto target = op.cmd["aggregate"];
  std::string ns = target.is_string() ? collection_ns(op) : op.db + ".$cmd.aggregate";
  std::vector<bson::document> input = target.is_string() ? visible_documents(op, ns) : std::vector<bson::document>{};
  bson::array_builder after_source;
  if (auto spec = take_source_stage(pipeline, "$listLocalSessions", after_source)) {
    if (target.is_string())
      throw command_error(code::invalid_namespace,
                          "$listLocalSessions must be run against the database with {aggregate: 1}, not a collection");
    input = list_local_sessions(op, *spec);
    pipeline = after_source.get_view();
  }
  bson::array_builder stages;
  auto merge = take_merge_stage(pipeline, op.db, stages);
  auto result = compiled(query::run_pipeline(std::move(input), merge ? stages.get_view() : pipeline));
  if (merge) {
    if (op.in_txn())
      throw command_error(code::operation_not_supported_in_transaction, "$merge cannot be used in a transaction");
    merge_into(op, *merge, result.docs);
    result.docs.clear();
  }
  if (result.out_collection) {
    if (op.in_txn())
      throw command_error(code::operation_not_supported_in_transaction, "$out cannot be used in a transaction");
    auto out_ns = op.db + "." + *result.out_collection;
    auto wc = write_context_for(op);
    store.drop_collection(out_ns, wc.commit_ts);
    auto& c = store.get_or_create(out_ns, wc);
    for (auto& d : result.docs) store.insert(c, out_ns, with_id_first(d), wc);
    result.docs.clear();
  }
  auto batch = (*cursor.as_document())["batchSize"].as_integer().value_or(101);
  reply_with_cursor(op, reply, ns, std::move(result.docs), batch, false);
}

void server_core::impl::merge_into(op_context& op, const merge_stage& merge, std::vector<bson::document>& docs) {
  auto wc = write_context_for(op);
  auto& c = store.get_or_create(merge.ns, wc);
  for (auto& produced : docs) {
    auto doc = with_id_first(produced);
    std::optional<record_id> match;
    bson::document existing;
    store.for_each_visible(c, wc.view, [&](record_id rid, const bson::document& d) {
      if (!match && query::compare_values(d["_id"], doc["_id"]) == 0) {
        match = rid;
        existing = d;
      }
    });
    if (!match) {
      if (merge.when_not_matched == "fail")
        throw command_error(13113,
                            "$merge could not find a matching document in the target collection for at least one "
                            "document in the source collection");
      if (merge.when_not_matched == "insert") store.insert(c, merge.ns, std::move(doc), wc);
      continue;
    }
    if (merge.when_matched == "keepExisting") continue;
    if (merge.when_matched == "fail")
      throw command_error(code::duplicate_key,
                          "$merge failed due to a DuplicateKey error: E11000 duplicate key error collection: " +
                              merge.ns + " index: _id_");
    if (merge.when_matched == "replace") {
      store.update(c, merge.ns, *match, std::move(doc), wc);
      continue;
    }
    // whenMatched "merge": the produced fields overwrite or extend the existing document.
    bson::document merged;
    for (auto f : existing.get_view()) merged.append(f.key(), doc.get_view().contains(f.key()) ? doc[f.key()] : f);
    for (auto f : doc.get_view())
      if (!existing.get_view().contains(f.key())) merged.append(f.key(), f);
    store.update(c, merge.ns, *match, std::move(merged), wc);
  }
}

void server_core::impl::cmd_count(op_context& op, bson::document& reply) {
  check_known_fields(op, {"query", "limit", "skip", "hint", "collation", "fields"});
  auto filter = document_field(op, "query", false);
  query::javascript_effects js;
  auto m = compiled_filter(filter, js);
  auto skip = integer_field(op, "skip", 0), limit = integer_field(op, "limit", 0);
  auto n = static_cast<std::int64_t>(matching_documents(op, collection_ns(op), filter, m).size());
  apply_javascript_effects(op, js);
  n = std::max<std::int64_t>(0, n - skip);
  if (limit != 0) n = std::min(n, limit < 0 ? -limit : limit);
  reply.append("n", static_cast<std::int32_t>(n));
}

void server_core::impl::cmd_distinct(op_context& op, bson::document& reply) {
  check_known_fields(op, {"key", "query", "collation", "hint"});
  auto key = op.cmd["key"].as_string();
  if (!key) throw command_error(code::missing_field, "BSON field 'distinct.key' is missing but a required field");
  query::javascript_effects js;
  auto m = compiled_filter(document_field(op, "query", false), js);
  std::vector<bson::document> values;  // each {"v": value}
  auto add = [&](const bson::element& v) {
    for (auto& seen : values)
      if (query::compare_values(seen["v"], v) == 0) return;
    bson::document box;
    box.append("v", v);
    values.push_back(std::move(box));
  };
  for (auto& d : visible_documents(op, collection_ns(op))) {
    if (!m.matches(d)) continue;
    auto v = d.get_view().find_path(*key);
    if (!v) continue;
    if (v.is_array()) {
      for (auto e : bson::view(*v.as_array())) add(e);
    } else {
      add(v);
    }
  }
  apply_javascript_effects(op, js);
  reply.append_array_of("values", [&](bson::array_builder& arr) {
    for (auto& v : values) arr.push(v["v"]);
  });
  if (op.at_cluster_time) reply.append("atClusterTime", *op.at_cluster_time);
}

}  // namespace mongowire::testd
