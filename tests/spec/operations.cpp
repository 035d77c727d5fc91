#include "operations.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>

namespace mongowire::spec {

namespace asio = boost::asio;
using asio::awaitable;

// ---------------------------------------------------------------- option conversions

bson::document write_concern_from(bson::view spec) {
  bson::document wc;
  for (const auto& e : spec) {
    if (e.key() == "w") wc.append("w", e);
    else if (e.key() == "journal") wc.append("j", e);
    else if (e.key() == "wtimeoutMS") wc.append("wtimeout", e);
    else throw runner_error("unsupported writeConcern field '" + std::string(e.key()) + "'");
  }
  return wc;
}

// The spec tests may spell modes "Secondary" or "PrimaryPreferred"; the API takes the server's
// "secondary", "primaryPreferred". Anything else goes through as given (the engine checks it).
static void append_mode(bson::document& rp, const bson::element& mode) {
  const auto name = mode.as_string();
  if (!name || name->empty()) {
    rp.append("mode", mode);
    return;
  }
  std::string api_name(*name);
  api_name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(api_name[0])));
  rp.append("mode", api_name);
}

bson::document read_preference_from(bson::view spec) {
  bson::document rp;
  for (const auto& e : spec) {
    if (e.key() == "mode") append_mode(rp, e);
    else if (e.key() == "tagSets") rp.append("tags", e);
    else if (e.key() == "maxStalenessSeconds" || e.key() == "hedge") rp.append(e.key(), e);
    else throw runner_error("unsupported readPreference field '" + std::string(e.key()) + "'");
  }
  return rp;
}

collection_options collection_options_from(bson::view spec) {
  collection_options o;
  for (const auto& e : spec) {
    if (e.key() == "timeoutMS") {
      auto ms = e.as_integer();
      if (!ms) throw runner_error("timeoutMS must be a number");
      o.timeout = std::chrono::milliseconds(*ms);
      continue;
    }
    auto d = e.as_document();
    if (!d) throw runner_error("collection/database option '" + std::string(e.key()) + "' must be a document");
    if (e.key() == "readConcern") o.read_concern = bson::document(*d);
    else if (e.key() == "writeConcern") o.write_concern = write_concern_from(*d);
    else if (e.key() == "readPreference") o.read_preference = read_preference_from(*d);
    else throw runner_error("unsupported collection/database option '" + std::string(e.key()) + "'");
  }
  return o;
}

transaction_options transaction_options_from(bson::view spec) {
  transaction_options o;
  for (const auto& e : spec) {
    if (e.key() == "maxCommitTimeMS") {
      auto ms = e.as_integer();
      if (!ms) throw runner_error("maxCommitTimeMS must be a number");
      o.max_commit_time_ms = *ms;
      continue;
    }
    auto d = e.as_document();
    if (!d) throw runner_error("transaction option '" + std::string(e.key()) + "' must be a document");
    if (e.key() == "readConcern") o.read_concern = bson::document(*d);
    else if (e.key() == "writeConcern") o.write_concern = write_concern_from(*d);
    else if (e.key() == "readPreference") o.read_preference = read_preference_from(*d);
    else throw runner_error("unsupported transaction option '" + std::string(e.key()) + "'");
  }
  return o;
}

namespace {

// ---------------------------------------------------------------- helpers

std::vector<bson::document> documents_of(bson::view array, std::string_view what) {
  std::vector<bson::document> out;
  for (const auto& e : array) {
    auto d = e.as_document();
    if (!d) throw runner_error(std::string(what) + " must contain documents");
    out.emplace_back(*d);
  }
  return out;
}

value array_value(const std::vector<bson::document>& docs) {
  bson::array_builder a;
  for (const auto& d : docs) a.push(d.get_view());
  return value::of_array(a.get_view());
}

value string_array_value(const std::vector<std::string>& strings) {
  bson::array_builder a;
  for (const auto& s : strings) a.push(std::string_view(s));
  return value::of_array(a.get_view());
}

value optional_document_value(const std::optional<bson::document>& d) {
  return d ? value::of_document(*d) : value::null();
}

bool return_document_after(const std::optional<std::string>& return_document) {
  if (!return_document) return false;
  std::string v = *return_document;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  // unified-test-format.md "findOneAndReplace and findOneAndUpdate": any other value is an error.
  if (v != "before" && v != "after") throw runner_error("returnDocument must be Before or After");
  return v == "after";
}

session_entity* session_argument(arguments& args, const entity_map& entities) {
  auto name = args.string("session");
  return name ? &entities.session(*name) : nullptr;
}

mongowire::session& live_session(session_entity& s) {
  if (!s.session) throw runner_error("session entity has no session");
  return *s.session;
}

// client-side-operations-timeout.md: an operation's own timeoutMS argument, through a handle
// for that one operation.
std::optional<std::chrono::milliseconds> timeout_argument(arguments& args) {
  auto ms = args.integer("timeoutMS");
  if (!ms) return std::nullopt;
  return std::chrono::milliseconds(*ms);
}

mongowire::collection collection_for(const collection_entity& c, session_entity* s,
                                     std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
  auto coll =
      s ? live_session(*s).get_collection(c.database, c.name) : c.client->client->get_collection(c.database, c.name);
  auto options = c.options;
  if (timeout) options.timeout = timeout;
  return coll.with_options(std::move(options));
}

mongowire::database database_for(const database_entity& d, session_entity* s,
                                 std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
  auto db = s ? live_session(*s).get_database(d.name) : d.client->client->get_database(d.name);
  auto options = d.options;
  if (timeout) options.timeout = timeout;
  return db.with_options(std::move(options));
}

value update_result_value(const update_result& r) {
  bson::document d;
  d.append("matchedCount", r.matched_count);
  d.append("modifiedCount", r.modified_count);
  d.append("upsertedCount", std::int64_t{r.upserted_id ? 1 : 0});
  if (r.upserted_id) d.append("upsertedId", (*r.upserted_id)["_id"]);
  return value::of_document(d);
}

value bulk_result_value(const bulk_write_result& r) {
  bson::document d;
  d.append("deletedCount", r.deleted_count);
  d.append("insertedCount", r.inserted_count);
  d.append("insertedIds", r.inserted_ids);
  d.append("matchedCount", r.matched_count);
  d.append("modifiedCount", r.modified_count);
  d.append("upsertedCount", r.upserted_count);
  d.append("upsertedIds", r.upserted_ids);
  return value::of_document(d);
}

update_options update_options_from(arguments& args) {
  update_options o;
  o.upsert = args.boolean("upsert").value_or(false);
  if (auto f = args.array("arrayFilters")) o.array_filters = bson::document(*f);
  if (auto c = args.document("collation")) o.collation = bson::document(*c);
  return o;
}

// crud.md "hint": an index name or a key pattern.
index_hint hint_from(const bson::element& h) {
  if (auto name = h.as_string()) return std::string(*name);
  if (auto keys = h.as_document()) return bson::document(*keys);
  throw runner_error("hint must be an index name or a key pattern");
}

// One request of bulkWrite: {insertOne: {document}} and so on (unified-test-format.md
// "bulkWrite"); with `client`, one model of clientBulkWrite, which also names its namespace
// and may have a hint ("clientBulkWrite").
write_model write_model_from(const bson::element& request, client_write_model* client = nullptr) {
  auto wrapper = request.as_document();
  if (!wrapper || wrapper->count() != 1) throw runner_error("bulkWrite request must be a single-key document");
  const auto kind = wrapper->first_key();
  arguments args(*(*wrapper)[kind].as_document(), "bulkWrite " + std::string(kind));
  if (client) {
    client->ns = args.required_string("namespace");
    if (auto h = args.get("hint")) client->hint = hint_from(h);
  }
  write_model m;
  if (kind == "insertOne") {
    m.type = write_model::kind::insert_one;
    m.document = bson::document(args.required_document("document"));
  } else if (kind == "updateOne" || kind == "updateMany") {
    m.type = kind == "updateOne" ? write_model::kind::update_one : write_model::kind::update_many;
    m.filter = bson::document(args.required_document("filter"));
    auto update = args.required("update");
    if (auto pipeline = update.as_array()) {
      m.update = bson::document(*pipeline);
      m.update_is_pipeline = true;
    } else {
      m.update = bson::document(*update.as_document());
    }
    m.options = update_options_from(args);
  } else if (kind == "replaceOne") {
    m.type = write_model::kind::replace_one;
    m.filter = bson::document(args.required_document("filter"));
    m.update = bson::document(args.required_document("replacement"));
    m.options = update_options_from(args);
  } else if (kind == "deleteOne" || kind == "deleteMany") {
    m.type = kind == "deleteOne" ? write_model::kind::delete_one : write_model::kind::delete_many;
    m.filter = bson::document(args.required_document("filter"));
    if (auto c = args.document("collation")) m.collation = bson::document(*c);
  } else {
    throw runner_error("unknown bulkWrite request '" + std::string(kind) + "'");
  }
  args.check_all_used();
  return m;
}

// ---------------------------------------------------------------- collection operations

// crud.md "CursorType" (cursorType: tailable, tailableAwait; absent or nonTailable: neither).
cursor_type cursor_type_from(arguments& args) {
  auto t = args.string("cursorType");
  if (!t || *t == "nonTailable") return cursor_type::non_tailable;
  if (*t == "tailable") return cursor_type::tailable;
  if (*t == "tailableAwait") return cursor_type::tailable_await;
  throw runner_error("unsupported cursorType '" + *t + "'");
}

// client-side-operations-timeout.md "Cursors": timeoutMode cursorLifetime or iteration.
std::optional<timeout_mode> timeout_mode_from(arguments& args) {
  auto m = args.string("timeoutMode");
  if (!m) return std::nullopt;
  if (*m == "cursorLifetime") return timeout_mode::cursor_lifetime;
  if (*m == "iteration") return timeout_mode::iteration;
  throw runner_error("unsupported timeoutMode '" + *m + "'");
}

// crud.md "FindOptions" from the format's arguments (findOne, find and createFindCursor).
find_options find_options_from(arguments& args) {
  find_options o;
  o.type = cursor_type_from(args);
  o.max_await_time_ms = args.integer("maxAwaitTimeMS");
  o.timeout_mode = timeout_mode_from(args);
  if (auto v = args.document("sort")) o.sort = bson::document(*v);
  if (auto v = args.document("projection")) o.projection = bson::document(*v);
  o.skip = args.integer("skip");
  o.limit = args.integer("limit");
  if (auto b = args.integer("batchSize")) o.batch_size = static_cast<std::int32_t>(*b);
  if (auto h = args.get("hint")) o.hint = hint_from(h);
  if (auto v = args.document("min")) o.min = bson::document(*v);
  if (auto v = args.document("max")) o.max = bson::document(*v);
  o.max_time_ms = args.integer("maxTimeMS");
  if (auto c = args.get("comment")) o.comment = bson_value(c);
  o.return_key = args.boolean("returnKey");
  o.show_record_id = args.boolean("showRecordId");
  if (auto v = args.document("collation")) o.collation = bson::document(*v);
  o.allow_disk_use = args.boolean("allowDiskUse");
  if (auto v = args.document("let")) o.let = bson::document(*v);
  return o;
}

// One collection operation: runs `args` on `coll`, filling `out` (error, result, match root).
using collection_handler = awaitable<void> (*)(arguments& args, mongowire::collection& coll, operation_outcome& out);

awaitable<void> insert_one_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  auto doc = args.required_document("document");
  args.check_all_used();
  insert_one_result r;
  const insert_one_options o;
  out.ec = co_await coll.insert_one(doc, o, r, out.diag);
  bson::document d;
  d.append("insertedId", r.inserted_id["_id"]);
  out.result = value::of_document(d);
}

awaitable<void> insert_many_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  auto docs = documents_of(*args.array("documents"), "documents");
  insert_many_options o;
  o.ordered = args.boolean("ordered").value_or(true);
  args.check_all_used();
  insert_many_result r;
  out.ec = co_await coll.insert_many(std::move(docs), o, r, out.diag);
  bson::document d;
  d.append("insertedCount", r.inserted_count);
  d.append("insertedIds", r.inserted_ids);
  out.result = value::of_document(d);
}

// updateOne and updateMany differ only in the operation they call.
enum class update_kind { one, many };

awaitable<void> update_op(arguments& args, mongowire::collection& coll, operation_outcome& out, update_kind kind) {
  auto filter = args.required_document("filter");
  auto update = args.required_document("update");
  auto options = update_options_from(args);
  args.check_all_used();
  update_result r;
  if (kind == update_kind::many) out.ec = co_await coll.update_many(filter, update, std::move(options), r, out.diag);
  else out.ec = co_await coll.update_one(filter, update, std::move(options), r, out.diag);
  out.result = update_result_value(r);
}
awaitable<void> update_one_op(arguments& a, mongowire::collection& c, operation_outcome& o) {
  return update_op(a, c, o, update_kind::one);
}
awaitable<void> update_many_op(arguments& a, mongowire::collection& c, operation_outcome& o) {
  return update_op(a, c, o, update_kind::many);
}

awaitable<void> replace_one_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  auto filter = args.required_document("filter");
  auto replacement = args.required_document("replacement");
  replace_options o;
  o.upsert = args.boolean("upsert").value_or(false);
  if (auto c = args.document("collation")) o.collation = bson::document(*c);
  args.check_all_used();
  update_result r;
  out.ec = co_await coll.replace_one(filter, replacement, std::move(o), r, out.diag);
  out.result = update_result_value(r);
}

// deleteOne and deleteMany differ only in the operation they call.
awaitable<void> delete_op(arguments& args, mongowire::collection& coll, operation_outcome& out, update_kind kind) {
  auto filter = args.required_document("filter");
  delete_options o;
  if (auto c = args.document("collation")) o.collation = bson::document(*c);
  args.check_all_used();
  delete_result r;
  if (kind == update_kind::many) out.ec = co_await coll.delete_many(filter, std::move(o), r, out.diag);
  else out.ec = co_await coll.delete_one(filter, std::move(o), r, out.diag);
  bson::document d;
  d.append("deletedCount", r.deleted_count);
  out.result = value::of_document(d);
}
awaitable<void> delete_one_op(arguments& a, mongowire::collection& c, operation_outcome& o) {
  return delete_op(a, c, o, update_kind::one);
}
awaitable<void> delete_many_op(arguments& a, mongowire::collection& c, operation_outcome& o) {
  return delete_op(a, c, o, update_kind::many);
}

awaitable<void> bulk_write_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  std::vector<write_model> requests;
  const bson::view request_list = *args.array("requests");
  for (const auto& r : request_list) requests.push_back(write_model_from(r));
  bulk_write_options o;
  o.ordered = args.boolean("ordered").value_or(true);
  args.check_all_used();
  bulk_write_result r;
  out.ec = co_await coll.bulk_write(std::move(requests), o, r, out.diag);
  out.result = bulk_result_value(r);  // a BulkWriteException carries the partial result
}

awaitable<void> find_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  auto filter = args.document("filter").value_or(bson::view());
  auto o = find_options_from(args);
  args.check_all_used();
  std::vector<bson::document> docs;
  out.ec = co_await coll.find(filter, std::move(o), docs, out.diag);
  out.result = array_value(docs);
  out.root = match_root::array_of_roots;
}

// unified-test-format.md "createFindCursor": the cursor is saved as an entity.
awaitable<void> create_find_cursor_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  auto filter = args.document("filter").value_or(bson::view());
  auto o = find_options_from(args);
  args.check_all_used();
  auto entity = std::make_unique<cursor_entity>();
  out.ec = co_await coll.find_cursor(filter, std::move(o), entity->cursor, out.diag);
  if (!out.ec) out.cursor = std::move(entity);
}

awaitable<void> find_one_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  auto filter = args.document("filter").value_or(bson::view());
  auto o = find_options_from(args);
  args.check_all_used();
  std::optional<bson::document> doc;
  out.ec = co_await coll.find_one(filter, std::move(o), doc, out.diag);
  out.result = optional_document_value(doc);
}

// collection.aggregate and database.aggregate (crud.md "Database-level aggregation").
template <class Target>
awaitable<void> aggregate_op(arguments& args, Target& target, operation_outcome& out) {
  auto pipeline = *args.array("pipeline");
  aggregate_options o;
  if (auto b = args.integer("batchSize")) o.batch_size = static_cast<std::int32_t>(*b);
  o.max_time_ms = args.integer("maxTimeMS");
  o.max_await_time_ms = args.integer("maxAwaitTimeMS");
  o.timeout_mode = timeout_mode_from(args);
  args.check_all_used();
  std::vector<bson::document> docs;
  out.ec = co_await target.aggregate(pipeline, std::move(o), docs, out.diag);
  out.result = array_value(docs);
  out.root = match_root::array_of_roots;
}

awaitable<void> count_op(arguments& args, mongowire::collection& coll, operation_outcome& out, bool legacy) {
  auto filter = args.required_document("filter");
  count_options o;
  if (legacy) o.max_time_ms = args.integer("maxTimeMS");
  args.check_all_used();
  std::int64_t n = 0;
  // (Not a conditional expression: g++ 12 evaluates both co_await operands of ?:.)
  if (legacy) out.ec = co_await coll.count(filter, o, n, out.diag);
  else out.ec = co_await coll.count_documents(filter, o, n, out.diag);
  out.result = value::of_scalar(n);
}
awaitable<void> count_documents_op(arguments& a, mongowire::collection& c, operation_outcome& o) {
  return count_op(a, c, o, false);
}
awaitable<void> legacy_count_op(arguments& a, mongowire::collection& c, operation_outcome& o) {
  return count_op(a, c, o, true);
}

awaitable<void> estimated_document_count_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  estimated_document_count_options o;
  o.max_time_ms = args.integer("maxTimeMS");
  if (auto c = args.get("comment")) o.comment = bson_value(c);
  args.check_all_used();
  std::int64_t n = 0;
  out.ec = co_await coll.estimated_document_count(std::move(o), n, out.diag);
  out.result = value::of_scalar(n);
}

awaitable<void> distinct_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  auto field = args.required_string("fieldName");
  auto filter = args.required_document("filter");
  distinct_options o;
  o.max_time_ms = args.integer("maxTimeMS");
  if (auto c = args.get("comment")) o.comment = bson_value(c);
  args.check_all_used();
  bson::document values;
  out.ec = co_await coll.distinct(field, filter, std::move(o), values, out.diag);
  out.result = value::of_array(values);
  out.root = match_root::value;
}

// The options findOneAndUpdate, findOneAndReplace and findOneAndDelete share; the first two
// also take upsert and returnDocument.
template <class Options>
Options find_one_and_options_from(arguments& args) {
  Options o;
  if (auto v = args.document("sort")) o.sort = bson::document(*v);
  if (auto v = args.document("projection")) o.projection = bson::document(*v);
  o.max_time_ms = args.integer("maxTimeMS");
  if constexpr (requires { o.return_new; }) {
    o.upsert = args.boolean("upsert").value_or(false);
    o.return_new = return_document_after(args.string("returnDocument"));
  }
  return o;
}

// findOneAndUpdate, findOneAndReplace and findOneAndDelete: `argument` names the new document.
awaitable<void> find_one_and_op(arguments& args, mongowire::collection& coll, operation_outcome& out,
                                std::string_view argument) {
  auto filter = args.required_document("filter");
  std::optional<bson::document> doc;
  if (argument == "update") {
    auto update = args.required_document(argument);
    auto o = find_one_and_options_from<find_one_and_update_options>(args);
    args.check_all_used();
    out.ec = co_await coll.find_one_and_update(filter, update, std::move(o), doc, out.diag);
  } else if (argument == "replacement") {
    auto replacement = args.required_document(argument);
    auto o = find_one_and_options_from<find_one_and_replace_options>(args);
    args.check_all_used();
    out.ec = co_await coll.find_one_and_replace(filter, replacement, std::move(o), doc, out.diag);
  } else {
    auto o = find_one_and_options_from<find_one_and_delete_options>(args);
    args.check_all_used();
    out.ec = co_await coll.find_one_and_delete(filter, std::move(o), doc, out.diag);
  }
  out.result = optional_document_value(doc);
}
awaitable<void> find_one_and_update_op(arguments& a, mongowire::collection& c, operation_outcome& o) {
  return find_one_and_op(a, c, o, "update");
}
awaitable<void> find_one_and_replace_op(arguments& a, mongowire::collection& c, operation_outcome& o) {
  return find_one_and_op(a, c, o, "replacement");
}
awaitable<void> find_one_and_delete_op(arguments& a, mongowire::collection& c, operation_outcome& o) {
  return find_one_and_op(a, c, o, "");
}

awaitable<void> create_index_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  auto keys = args.required_document("keys");
  index_options o;
  o.name = args.string("name").value_or("");
  o.unique = args.boolean("unique").value_or(false);
  o.max_time_ms = args.integer("maxTimeMS");
  if (auto c = args.get("comment")) o.comment = bson_value(c);
  args.check_all_used();
  std::string index_name;
  out.ec = co_await coll.create_index(keys, std::move(o), index_name, out.diag);
  out.result = value::of_scalar(index_name);
}

awaitable<void> list_indexes_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  list_indexes_options o;
  if (auto b = args.integer("batchSize")) o.batch_size = static_cast<std::int32_t>(*b);
  o.timeout_mode = timeout_mode_from(args);
  args.check_all_used();
  std::vector<bson::document> docs;
  out.ec = co_await coll.list_indexes(std::move(o), docs, out.diag);
  out.result = array_value(docs);
  out.root = match_root::array_of_roots;
}

awaitable<void> list_index_names_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  args.check_all_used();
  std::vector<std::string> names;
  out.ec = co_await coll.list_index_names(names, out.diag);
  out.result = string_array_value(names);
  out.root = match_root::value;
}

// index-management.md "DropIndexOptions", the options of dropIndex and dropIndexes.
drop_index_options drop_index_options_from(arguments& args) {
  drop_index_options o;
  o.max_time_ms = args.integer("maxTimeMS");
  if (auto c = args.get("comment")) o.comment = bson_value(c);
  return o;
}

awaitable<void> drop_index_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  auto name = args.required_string("name");
  auto o = drop_index_options_from(args);
  args.check_all_used();
  out.ec = co_await coll.drop_index(name, std::move(o), out.diag);
}

awaitable<void> drop_indexes_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  auto o = drop_index_options_from(args);
  args.check_all_used();
  out.ec = co_await coll.drop_indexes(std::move(o), out.diag);
}

awaitable<void> drop_op(arguments& args, mongowire::collection& coll, operation_outcome& out) {
  args.check_all_used();
  out.ec = co_await coll.drop(out.diag);
}

struct collection_op {
  std::string_view name;
  collection_handler run;
};

// unified-test-format.md "Collection Operations" that the engine implements.
constexpr collection_op collection_ops[] = {
    {"insertOne", insert_one_op},
    {"insertMany", insert_many_op},
    {"updateOne", update_one_op},
    {"updateMany", update_many_op},
    {"replaceOne", replace_one_op},
    {"deleteOne", delete_one_op},
    {"deleteMany", delete_many_op},
    {"bulkWrite", bulk_write_op},
    {"find", find_op},
    {"createFindCursor", create_find_cursor_op},
    {"findOne", find_one_op},
    {"aggregate", aggregate_op<mongowire::collection>},
    {"countDocuments", count_documents_op},
    {"count", legacy_count_op},
    {"estimatedDocumentCount", estimated_document_count_op},
    {"distinct", distinct_op},
    {"findOneAndUpdate", find_one_and_update_op},
    {"findOneAndReplace", find_one_and_replace_op},
    {"findOneAndDelete", find_one_and_delete_op},
    {"createIndex", create_index_op},
    {"listIndexes", list_indexes_op},
    {"listIndexNames", list_index_names_op},
    {"dropIndex", drop_index_op},
    {"dropIndexes", drop_indexes_op},
    {"drop", drop_op},
};

awaitable<operation_outcome> collection_operation(std::string_view name, arguments& args, operation_context& ctx,
                                                  const collection_entity& entity) {
  auto op = std::find_if(std::begin(collection_ops), std::end(collection_ops),
                         [&](const collection_op& o) { return o.name == name; });
  if (op == std::end(collection_ops))
    throw runner_error("unsupported collection operation '" + std::string(name) + "'");
  operation_outcome out;
  auto* session = session_argument(args, ctx.entities);
  auto coll = collection_for(entity, session, timeout_argument(args));
  co_await op->run(args, coll, out);
  if (out.ec && name != "bulkWrite") out.result = value();  // only a BulkWriteException has a result
  co_return out;
}

// ---------------------------------------------------------------- database operations

// enumerate-collections.md options of listCollections / listCollectionNames.
list_collections_options list_collections_options_from(arguments& args) {
  list_collections_options o;
  if (auto f = args.document("filter")) o.filter = bson::document(*f);
  if (auto b = args.integer("batchSize")) o.batch_size = static_cast<std::int32_t>(*b);
  o.authorized_collections = args.boolean("authorizedCollections");
  if (auto c = args.get("comment")) o.comment = bson_value(c);
  o.timeout_mode = timeout_mode_from(args);
  return o;
}

// run-command.md "runCursorCommand" (and createCommandCursor, which keeps the cursor as an
// entity instead of iterating it to the end).
awaitable<void> run_cursor_command_op(arguments& args, mongowire::database& db, operation_outcome& out,
                                      bool keep_cursor) {
  auto command = args.required_document("command");
  if (auto name = args.string("commandName"); name && command.first_key() != *name)
    throw runner_error("runCursorCommand: commandName '" + *name + "' is not the command's first key");
  run_cursor_command_options o;
  if (auto v = args.document("readPreference")) o.read_preference = read_preference_from(*v);
  if (auto b = args.integer("batchSize")) o.batch_size = static_cast<std::int32_t>(*b);
  o.type = cursor_type_from(args);
  o.max_await_time_ms = args.integer("maxAwaitTimeMS");
  o.timeout_mode = timeout_mode_from(args);
  args.check_all_used();
  auto entity = std::make_unique<cursor_entity>();
  bson::document body(command);
  out.ec = co_await db.run_cursor_command(std::move(body), std::move(o), entity->cursor, out.diag);
  if (out.ec) co_return;
  if (keep_cursor) {
    out.cursor = std::move(entity);
    co_return;
  }
  std::vector<bson::document> docs;
  for (std::optional<bson::document> doc; !out.ec;) {
    out.ec = co_await entity->cursor.next(doc, out.diag);
    if (!doc) break;
    docs.push_back(std::move(*doc));
  }
  out.result = array_value(docs);
  out.root = match_root::array_of_roots;
}

awaitable<void> run_command_op(arguments& args, mongowire::database& db, operation_outcome& out) {
  auto command = args.required_document("command");
  auto command_name = args.required_string("commandName");
  if (command.first_key() != command_name)
    throw runner_error("runCommand: commandName '" + command_name + "' is not the command's first key");
  std::optional<bson::document> rp;
  if (auto v = args.document("readPreference")) rp = read_preference_from(*v);
  args.check_all_used();
  bson::document reply;
  out.ec = co_await db.run_command(bson::document(command), std::move(rp), reply, out.diag);
  if (!out.ec) out.result = value::of_document(reply);
}

awaitable<void> list_collections_op(arguments& args, mongowire::database& db, operation_outcome& out) {
  auto o = list_collections_options_from(args);
  args.check_all_used();
  std::vector<bson::document> docs;
  out.ec = co_await db.list_collections(std::move(o), docs, out.diag);
  out.result = array_value(docs);
  out.root = match_root::array_of_roots;
}

awaitable<void> list_collection_names_op(arguments& args, mongowire::database& db, operation_outcome& out) {
  auto o = list_collections_options_from(args);
  args.check_all_used();
  std::vector<std::string> names;
  out.ec = co_await db.list_collection_names(std::move(o), names, out.diag);
  out.result = string_array_value(names);
  out.root = match_root::value;
}

awaitable<operation_outcome> database_operation(std::string_view name, arguments& args, operation_context& ctx,
                                                const database_entity& entity) {
  operation_outcome out;
  auto* session = session_argument(args, ctx.entities);
  auto db = database_for(entity, session, timeout_argument(args));
  if (name == "runCommand") {
    co_await run_command_op(args, db, out);
  } else if (name == "createCollection") {
    auto coll = args.required_string("collection");
    bson::document options;  // the create command's options the tests use
    if (auto capped = args.boolean("capped")) options.append("capped", *capped);
    if (auto size = args.integer("size")) options.append("size", *size);
    if (auto max = args.integer("max")) options.append("max", *max);
    args.check_all_used();
    out.ec = co_await db.create_collection(coll, std::move(options), out.diag);
    // unified-test-format.md "createCollection": the result is the new collection.
    if (!out.ec) out.collection = collection_entity{entity.client, entity.name, coll, entity.options};
  } else if (name == "dropCollection") {
    auto coll = args.required_string("collection");
    args.check_all_used();
    out.ec = co_await db.drop_collection(coll, out.diag);
  } else if (name == "listCollections" || name == "listCollectionObjects") {
    co_await list_collections_op(args, db, out);
  } else if (name == "listCollectionNames") {
    co_await list_collection_names_op(args, db, out);
  } else if (name == "aggregate") {
    co_await aggregate_op(args, db, out);
  } else if (name == "runCursorCommand" || name == "createCommandCursor") {
    co_await run_cursor_command_op(args, db, out, name == "createCommandCursor");
  } else {
    throw runner_error("unsupported database operation '" + std::string(name) + "'");
  }
  co_return out;
}

// ---------------------------------------------------------------- client operations

// enumerate-databases.md "listDatabases" / "listDatabaseNames". With an explicit session the
// same command runs through the session's admin database.
awaitable<void> list_databases_op(arguments& args, operation_context& ctx, client_entity& entity, bool names_only,
                                  operation_outcome& out) {
  auto* s = session_argument(args, ctx.entities);
  list_databases_options o;
  o.timeout = timeout_argument(args);
  if (auto f = args.document("filter")) o.filter = bson::document(*f);
  o.authorized_databases = args.boolean("authorizedDatabases");
  if (auto c = args.get("comment")) o.comment = bson_value(c);
  args.check_all_used();
  std::vector<bson::document> docs;
  std::vector<std::string> names;
  if (s) {
    bson::document command;
    command.append("listDatabases", 1);
    if (names_only) command.append("nameOnly", true);
    if (o.filter) command.append("filter", *o.filter);
    bson::document reply;
    collection_options timeout_only;
    timeout_only.timeout = o.timeout;
    auto admin = live_session(*s).get_database("admin").with_options(std::move(timeout_only));
    out.ec = co_await admin.run_command(command, std::nullopt, reply, out.diag);
    if (auto dbs = reply["databases"].as_array(); dbs && !out.ec) docs = documents_of(*dbs, "databases");
    for (const auto& d : docs) names.emplace_back(d["name"].as_string().value_or(""));
  } else if (names_only) {
    out.ec = co_await entity.client->list_database_names(std::move(o), names, out.diag);
  } else {
    out.ec = co_await entity.client->list_databases(std::move(o), docs, out.diag);
  }
  out.result = names_only ? string_array_value(names) : array_value(docs);
  out.root = names_only ? match_root::value : match_root::array_of_roots;
}

// bulk-write.md "BulkWriteResult" as the format matches it: verbose maps keyed by the model's
// index, only when verbose results were asked; {acknowledged: false} for w: 0.
value client_bulk_result_value(const client_bulk_write_result& r) {
  bson::document d;
  if (!r.acknowledged) {
    d.append("acknowledged", false);
    return value::of_document(d);
  }
  d.append("insertedCount", r.inserted_count);
  d.append("upsertedCount", r.upserted_count);
  d.append("matchedCount", r.matched_count);
  d.append("modifiedCount", r.modified_count);
  d.append("deletedCount", r.deleted_count);
  if (!r.has_verbose_results) return value::of_document(d);
  // (Pairs, not structured bindings: clang before 16 cannot capture those in a lambda.)
  d.append_document("insertResults", [&](bson::document& m) {
    for (const auto& entry : r.insert_results)
      m.append_document(std::to_string(entry.first),
                        [&](bson::document& e) { e.append("insertedId", entry.second.inserted_id["_id"]); });
  });
  d.append_document("updateResults", [&](bson::document& m) {  // bulk-write.md "UpdateResult": no upsertedCount
    for (const auto& entry : r.update_results)
      m.append_document(std::to_string(entry.first), [&](bson::document& e) {
        const update_result& u = entry.second;
        e.append("matchedCount", u.matched_count);
        e.append("modifiedCount", u.modified_count);
        if (u.upserted_id) e.append("upsertedId", (*u.upserted_id)["_id"]);
      });
  });
  d.append_document("deleteResults", [&](bson::document& m) {
    for (const auto& entry : r.delete_results)
      m.append_document(std::to_string(entry.first),
                        [&](bson::document& e) { e.append("deletedCount", entry.second.deleted_count); });
  });
  return value::of_document(d);
}

client_bulk_write_options client_bulk_options_from(arguments& args) {
  client_bulk_write_options o;
  o.ordered = args.boolean("ordered").value_or(true);
  o.bypass_document_validation = args.boolean("bypassDocumentValidation");
  if (auto v = args.document("let")) o.let = bson::document(*v);
  if (auto v = args.document("writeConcern")) o.write_concern = write_concern_from(*v);
  if (auto c = args.get("comment")) o.comment = bson_value(c);
  o.verbose_results = args.boolean("verboseResults").value_or(false);
  return o;
}

// unified-test-format.md "clientBulkWrite": with a session argument, session::bulk_write.
awaitable<void> client_bulk_write_op(arguments& args, operation_context& ctx, client_entity& entity,
                                     operation_outcome& out) {
  auto* s = session_argument(args, ctx.entities);
  std::vector<client_write_model> models;
  const bson::view model_list = *args.array("models");
  for (const auto& m : model_list) {
    client_write_model& model = models.emplace_back();
    model.model = write_model_from(m, &model);
  }
  auto o = client_bulk_options_from(args);
  args.check_all_used();
  client_bulk_write_result r;
  if (s) out.ec = co_await live_session(*s).bulk_write(std::move(models), std::move(o), r, out.diag);
  else out.ec = co_await entity.client->bulk_write(std::move(models), std::move(o), r, out.diag);
  // "BulkWriteException ... partialResult": a result on error only when a write succeeded.
  if (!out.ec || r.has_partial_result) out.result = client_bulk_result_value(r);
  out.write_concern_errors = std::move(r.write_concern_errors);
}

awaitable<operation_outcome> client_operation(std::string_view name, arguments& args, operation_context& ctx,
                                              client_entity& entity) {
  operation_outcome out;
  if (name == "listDatabases" || name == "listDatabaseObjects") {
    co_await list_databases_op(args, ctx, entity, false, out);
  } else if (name == "listDatabaseNames") {
    co_await list_databases_op(args, ctx, entity, true, out);
  } else if (name == "clientBulkWrite") {
    co_await client_bulk_write_op(args, ctx, entity, out);
  } else if (name == "close") {
    // unified-test-format.md "close": the entity stays in the map; no result or error is checked.
    args.check_all_used();
    out.ec = co_await entity.client->close();
  } else {
    throw runner_error("unsupported client operation '" + std::string(name) + "'");
  }
  co_return out;
}

// ---------------------------------------------------------------- session operations

awaitable<operation_outcome> session_operation(std::string_view name, arguments& args, operation_context& ctx,
                                               session_entity& entity) {
  operation_outcome out;
  auto& s = live_session(entity);
  if (name == "startTransaction") {
    ctx.started_transaction = true;
    std::optional<transaction_options> options;
    bson::document given;
    for (auto key : {"readConcern", "writeConcern", "readPreference", "maxCommitTimeMS"})
      if (auto e = args.get(key)) given.append(key, e);
    args.check_all_used();
    if (!given.get_view().empty()) options = transaction_options_from(given);
    out.ec = s.start_transaction(options, out.diag);
  } else if (name == "commitTransaction") {
    const auto timeout = timeout_argument(args);
    args.check_all_used();
    if (timeout) out.ec = co_await s.commit_transaction(*timeout, out.diag);
    else out.ec = co_await s.commit_transaction(out.diag);
  } else if (name == "abortTransaction") {
    const auto timeout = timeout_argument(args);
    args.check_all_used();
    if (timeout) out.ec = co_await s.abort_transaction(*timeout, out.diag);
    else out.ec = co_await s.abort_transaction(out.diag);
  } else if (name == "endSession") {
    args.check_all_used();
    co_await s.end();
  } else if (name == "getSnapshotTime") {
    args.check_all_used();
    auto t = s.snapshot_time();
    if (!t) throw runner_error("getSnapshotTime: the session has no snapshot time yet");
    out.result = value::of_scalar(*t);
  } else if (name == "withTransaction") {
    ctx.started_transaction = true;
    auto callback = *args.array("callback");
    bson::document given;
    for (auto key : {"readConcern", "writeConcern", "readPreference", "maxCommitTimeMS"})
      if (auto e = args.get(key)) given.append(key, e);
    const auto timeout = timeout_argument(args);
    args.check_all_used();
    std::optional<transaction_options> options;
    if (!given.get_view().empty()) options = transaction_options_from(given);
    auto run_callback = [&ctx, callback](mongowire::session&, diagnostics& d) -> awaitable<error_code> {
      for (const auto& op : callback) {
        auto nested = op.as_document();
        if (!nested) throw runner_error("withTransaction callback entries must be operations");
        auto [ec, nested_diag] = co_await ctx.run_nested(*nested);
        if (ec) {
          d = std::move(nested_diag);
          co_return ec;
        }
      }
      co_return error_code{};
    };
    if (timeout) out.ec = co_await s.with_transaction(run_callback, std::move(options), *timeout, out.diag);
    else out.ec = co_await s.with_transaction(run_callback, std::move(options), out.diag);
  } else {
    throw runner_error("unsupported session operation '" + std::string(name) + "'");
  }
  co_return out;
}

// ---------------------------------------------------------------- cursor operations

// unified-test-format.md "Cursor Operations": iterateUntilDocumentOrError (next: a tailable
// cursor waits for a document), iterateOnce (at most one getMore) and close.
awaitable<operation_outcome> cursor_operation(std::string_view name, arguments& args, cursor_entity& entity) {
  operation_outcome out;
  if (name == "iterateUntilDocumentOrError" || name == "iterateOnce") {
    args.check_all_used();
    std::optional<bson::document> doc;
    if (name == "iterateOnce") {
      out.ec = co_await entity.cursor.try_next(doc, out.diag);
    } else {
      out.ec = co_await entity.cursor.next(doc, out.diag);
      if (!out.ec && !doc) throw runner_error("iterateUntilDocumentOrError: the cursor is exhausted");
    }
    if (doc) out.result = value::of_document(*doc);
  } else if (name == "close") {
    const auto timeout = timeout_argument(args);
    args.check_all_used();
    out.ec = co_await entity.cursor.close(timeout, out.diag);
  } else {
    throw runner_error("unsupported cursor operation '" + std::string(name) + "'");
  }
  co_return out;
}

}  // namespace

awaitable<operation_outcome> run_entity_operation(bson::view operation, operation_context& ctx) {
  auto name = operation["name"].as_string();
  auto object = operation["object"].as_string();
  if (!name || !object) throw runner_error("an operation needs a string name and object");
  auto args_doc = operation["arguments"].as_document().value_or(bson::view());
  arguments args(args_doc, std::string(*name));
  const auto kind = ctx.entities.kind_of(*object);
  if (kind == "collection") co_return co_await collection_operation(*name, args, ctx, ctx.entities.collection(*object));
  if (kind == "database") co_return co_await database_operation(*name, args, ctx, ctx.entities.database(*object));
  if (kind == "client") co_return co_await client_operation(*name, args, ctx, ctx.entities.client(*object));
  if (kind == "session") co_return co_await session_operation(*name, args, ctx, ctx.entities.session(*object));
  if (kind == "cursor") co_return co_await cursor_operation(*name, args, ctx.entities.cursor(*object));
  throw runner_error("entity '" + std::string(*object) + "' has no operations");
}

}  // namespace mongowire::spec
