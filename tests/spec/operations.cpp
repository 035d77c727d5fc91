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

bson::document read_preference_from(bson::view spec) {
  bson::document rp;
  for (const auto& e : spec) {
    if (e.key() == "mode") rp.append("mode", e);
    else if (e.key() == "tagSets") rp.append("tags", e);
    else if (e.key() == "maxStalenessSeconds" || e.key() == "hedge") rp.append(e.key(), e);
    else throw runner_error("unsupported readPreference field '" + std::string(e.key()) + "'");
  }
  return rp;
}

collection_options collection_options_from(bson::view spec) {
  collection_options o;
  for (const auto& e : spec) {
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

mongowire::collection collection_for(const collection_entity& c, session_entity* s) {
  auto coll = s ? live_session(*s).get_collection(c.database, c.name)
                : c.client->client->get_collection(c.database, c.name);
  return coll.with_options(c.options);
}

mongowire::database database_for(const database_entity& d, session_entity* s) {
  auto db = s ? live_session(*s).get_database(d.name) : d.client->client->get_database(d.name);
  return db.with_options(d.options);
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

// One request of bulkWrite: {insertOne: {document}} and so on (unified-test-format.md "bulkWrite").
write_model write_model_from(const bson::element& request) {
  auto wrapper = request.as_document();
  if (!wrapper || wrapper->count() != 1) throw runner_error("bulkWrite request must be a single-key document");
  const auto kind = wrapper->first_key();
  arguments args(*(*wrapper)[kind].as_document(), "bulkWrite " + std::string(kind));
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

awaitable<operation_outcome> collection_operation(std::string_view name, arguments& args, operation_context& ctx,
                                                  const collection_entity& entity) {
  operation_outcome out;
  auto coll = collection_for(entity, session_argument(args, ctx.entities));
  auto& diag = out.diag;
  if (name == "insertOne") {
    auto doc = args.required_document("document");
    args.check_all_used();
    insert_one_result r;
    out.ec = co_await coll.insert_one(doc, r, diag);
    bson::document d;
    d.append("insertedId", r.inserted_id["_id"]);
    if (!out.ec) out.result = value::of_document(d);
  } else if (name == "insertMany") {
    auto docs = documents_of(*args.array("documents"), "documents");
    insert_many_options o;
    o.ordered = args.boolean("ordered").value_or(true);
    args.check_all_used();
    insert_many_result r;
    out.ec = co_await coll.insert_many(std::move(docs), o, r, diag);
    bson::document d;
    d.append("insertedCount", r.inserted_count);
    d.append("insertedIds", r.inserted_ids);
    if (!out.ec) out.result = value::of_document(d);
  } else if (name == "updateOne" || name == "updateMany" || name == "replaceOne") {
    auto filter = args.required_document("filter");
    auto update = name == "replaceOne" ? args.required_document("replacement") : args.required_document("update");
    auto options = update_options_from(args);
    args.check_all_used();
    update_result r;
    if (name == "replaceOne") out.ec = co_await coll.replace_one(filter, update, std::move(options), r, diag);
    else out.ec = co_await coll.update(filter, update, name == "updateMany", std::move(options), r, diag);
    if (!out.ec) out.result = update_result_value(r);
  } else if (name == "deleteOne" || name == "deleteMany") {
    auto filter = args.required_document("filter");
    args.check_all_used();
    delete_result r;
    out.ec = co_await coll.remove(filter, name == "deleteOne" ? 1 : 0, r, diag);
    bson::document d;
    d.append("deletedCount", r.deleted_count);
    if (!out.ec) out.result = value::of_document(d);
  } else if (name == "bulkWrite") {
    std::vector<write_model> requests;
    const bson::view request_list = *args.array("requests");
    for (const auto& r : request_list) requests.push_back(write_model_from(r));
    bulk_write_options o;
    o.ordered = args.boolean("ordered").value_or(true);
    args.check_all_used();
    bulk_write_result r;
    out.ec = co_await coll.bulk_write(std::move(requests), o, r, diag);
    // A BulkWriteException carries the partial result (expectError.expectResult).
    out.result = bulk_result_value(r);
  } else if (name == "find") {
    auto filter = args.document("filter").value_or(bson::view());
    find_options o;
    if (auto v = args.document("sort")) o.sort = bson::document(*v);
    if (auto v = args.document("projection")) o.projection = bson::document(*v);
    o.skip = args.integer("skip");
    o.limit = args.integer("limit");
    if (auto b = args.integer("batchSize")) o.batch_size = static_cast<std::int32_t>(*b);
    args.check_all_used();
    std::vector<bson::document> docs;
    out.ec = co_await coll.find(filter, std::move(o), docs, diag);
    out.result = array_value(docs);
    out.root = match_root::array_of_roots;
  } else if (name == "aggregate") {
    auto pipeline = *args.array("pipeline");
    aggregate_options o;
    if (auto b = args.integer("batchSize")) o.batch_size = static_cast<std::int32_t>(*b);
    o.max_time_ms = args.integer("maxTimeMS");
    args.check_all_used();
    std::vector<bson::document> docs;
    out.ec = co_await coll.aggregate(pipeline, std::move(o), docs, diag);
    out.result = array_value(docs);
    out.root = match_root::array_of_roots;
  } else if (name == "countDocuments" || name == "count") {
    auto filter = args.required_document("filter");
    args.check_all_used();
    std::int64_t n = 0;
    // (Not a conditional expression: g++ 12 evaluates both co_await operands of ?:.)
    if (name == "count") out.ec = co_await coll.count(filter, n, diag);
    else out.ec = co_await coll.count_documents(filter, n, diag);
    out.result = value::of_scalar(n);
  } else if (name == "distinct") {
    auto field = args.required_string("fieldName");
    auto filter = args.required_document("filter");
    args.check_all_used();
    bson::document values;
    out.ec = co_await coll.distinct(field, filter, values, diag);
    out.result = value::of_array(values);
    out.root = match_root::value;
  } else if (name == "findOneAndUpdate" || name == "findOneAndReplace" || name == "findOneAndDelete") {
    auto filter = args.required_document("filter");
    bson::view update;
    if (name == "findOneAndUpdate") update = args.required_document("update");
    if (name == "findOneAndReplace") update = args.required_document("replacement");
    find_one_and_modify_options o;
    if (auto v = args.document("sort")) o.sort = bson::document(*v);
    if (auto v = args.document("projection")) o.projection = bson::document(*v);
    if (name != "findOneAndDelete") {
      o.upsert = args.boolean("upsert").value_or(false);
      o.return_new = return_document_after(args.string("returnDocument"));
    }
    args.check_all_used();
    std::optional<bson::document> doc;
    if (name == "findOneAndUpdate") out.ec = co_await coll.find_one_and_update(filter, update, std::move(o), doc, diag);
    else if (name == "findOneAndReplace") out.ec = co_await coll.find_one_and_replace(filter, update, std::move(o), doc, diag);
    else out.ec = co_await coll.find_and_modify(filter, bson::view(), true, std::move(o), doc, diag);
    out.result = optional_document_value(doc);
  } else if (name == "createIndex") {
    auto keys = args.required_document("keys");
    index_options o;
    o.name = args.string("name").value_or("");
    o.unique = args.boolean("unique").value_or(false);
    args.check_all_used();
    std::string index_name;
    out.ec = co_await coll.create_index(keys, std::move(o), index_name, diag);
    out.result = value::of_scalar(index_name);
  } else if (name == "listIndexes") {
    args.check_all_used();
    std::vector<bson::document> docs;
    out.ec = co_await coll.list_indexes(docs, diag);
    out.result = array_value(docs);
    out.root = match_root::array_of_roots;
  } else if (name == "drop") {
    args.check_all_used();
    out.ec = co_await coll.drop(diag);
  } else {
    throw runner_error("unsupported collection operation '" + std::string(name) + "'");
  }
  if (out.ec && name != "bulkWrite") out.result = value();
  co_return out;
}

// ---------------------------------------------------------------- database operations

awaitable<operation_outcome> database_operation(std::string_view name, arguments& args, operation_context& ctx,
                                                const database_entity& entity) {
  operation_outcome out;
  auto db = database_for(entity, session_argument(args, ctx.entities));
  if (name == "runCommand") {
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
  } else if (name == "createCollection") {
    auto coll = args.required_string("collection");
    args.check_all_used();
    out.ec = co_await db.create_collection(coll, bson::document(), out.diag);
  } else if (name == "dropCollection") {
    auto coll = args.required_string("collection");
    args.check_all_used();
    out.ec = co_await db.drop_collection(coll, out.diag);
  } else if (name == "listCollections") {
    args.check_all_used();
    std::vector<bson::document> docs;
    out.ec = co_await db.list_collections(docs, out.diag);
    out.result = array_value(docs);
    out.root = match_root::array_of_roots;
  } else {
    throw runner_error("unsupported database operation '" + std::string(name) + "'");
  }
  co_return out;
}

// ---------------------------------------------------------------- client operations

awaitable<operation_outcome> client_operation(std::string_view name, arguments& args, operation_context& ctx,
                                              client_entity& entity) {
  operation_outcome out;
  if (name == "listDatabases") {
    auto* s = session_argument(args, ctx.entities);
    args.check_all_used();
    std::vector<bson::document> docs;
    if (s) {
      // With an explicit session: the same command through the session's admin database.
      bson::document command;
      command.append("listDatabases", 1);
      bson::document reply;
      out.ec = co_await live_session(*s).get_database("admin").run_command(command, std::nullopt, reply, out.diag);
      if (auto dbs = reply["databases"].as_array(); dbs && !out.ec) docs = documents_of(*dbs, "databases");
    } else {
      out.ec = co_await entity.client->list_databases(docs, out.diag);
    }
    out.result = array_value(docs);
    out.root = match_root::array_of_roots;
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
    args.check_all_used();
    out.ec = co_await s.commit_transaction(out.diag);
  } else if (name == "abortTransaction") {
    args.check_all_used();
    out.ec = co_await s.abort_transaction(out.diag);
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
    out.ec = co_await s.with_transaction(run_callback, std::move(options), out.diag);
  } else {
    throw runner_error("unsupported session operation '" + std::string(name) + "'");
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
  throw runner_error("entity '" + std::string(*object) + "' has no operations");
}

}  // namespace mongowire::spec
