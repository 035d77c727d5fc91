#include "proto/command/command_builder.hpp"

#include <fmt/format.h>

#include <limits>
#include <unordered_map>
#include <vector>

#include "proto/command/bson_writer.hpp"

namespace mongowire::detail {
namespace {

void put_hint(bson_writer& w, const hint_value& hint) {
  if (auto name = std::get_if<std::string_view>(&hint)) w.put("hint", *name);
  if (auto keys = std::get_if<bson::view>(&hint)) w.put("hint", *keys);
}

template <class T>
void put_if(bson_writer& w, std::string_view key, const std::optional<T>& value) {
  if (value) w.put(key, *value);
}

void put_integer_if(bson_writer& w, std::string_view key, const std::optional<std::int64_t>& value) {
  if (value) w.put_integer(key, *value);
}

void put_array_if(bson_writer& w, std::string_view key, const std::optional<bson::view>& value) {
  if (value) w.put_array(key, *value);
}

// A document or, for pipeline-style updates, an array.
void put_update(bson_writer& w, std::string_view key, bson::view update, bool is_pipeline) {
  if (is_pipeline) w.put_array(key, update);
  else w.put(key, update);
}

bson_writer start(bson::document& out) {
  out.clear();  // keeps the heap buffer: no allocation once warm
  return bson_writer(out);
}

void put_read_concern(bson_writer& w, const read_concern_fields& rc) {
  w.document("readConcern", [&](bson_writer& d) {
    if (!rc.level.empty()) d.put("level", rc.level);
    // driver-sessions / causal-consistency.md: afterClusterTime is the session's operationTime.
    if (rc.after_cluster_time) d.put("afterClusterTime", *rc.after_cluster_time);
  });
}

void put_write_concern(bson_writer& w, const write_concern_fields& wc) {
  w.document("writeConcern", [&](bson_writer& d) {
    if (auto n = std::get_if<std::int32_t>(&wc.w)) d.put("w", *n);
    if (auto tag = std::get_if<std::string_view>(&wc.w)) d.put("w", *tag);
    put_if(d, "j", wc.j);
    put_integer_if(d, "wtimeout", wc.wtimeout_ms);
  });
}

}  // namespace

// ---------------------------------------------------------------- session fields

void append_command_fields(bson::document& body, const command_fields& f) {
  bson_writer w(body);
  if (!f.db.empty()) w.put("$db", f.db);  // OP_MSG.md: the database goes in `$db`
  if (f.lsid) {
    // driver-sessions.md: lsid is {id: <UUID>}, binary subtype 4.
    w.document("lsid", [&](bson_writer& l) { l.put("id", bson::binary_ref{BSON_SUBTYPE_UUID, *f.lsid}); });
  }
  // transactions.md, "txnNumber": an Int64 even when the value would fit an int32.
  if (f.txn_number) w.put("txnNumber", std::int64_t{*f.txn_number});
  // transactions.md: startTransaction only on the first command of a transaction;
  // autocommit: false on every command of it, commit and abort included.
  if (f.start_transaction) w.put("startTransaction", true);
  if (f.in_transaction) w.put("autocommit", false);
  if (f.read_concern_document) w.put("readConcern", *f.read_concern_document);
  else if (!f.read_concern.empty()) put_read_concern(w, f.read_concern);
  if (f.write_concern_document) w.put("writeConcern", *f.write_concern_document);
  else if (f.write_concern) put_write_concern(w, *f.write_concern);
  put_integer_if(w, "maxTimeMS", f.max_time_ms);
  // driver-sessions.md, "Gossipping the cluster time": the document is sent unmodified.
  if (f.cluster_time) w.put("$clusterTime", *f.cluster_time);
  // transactions.md, "recoveryToken field": appended to commit/abort, never modified.
  if (f.recovery_token) w.put("recoveryToken", *f.recovery_token);
}

// ---------------------------------------------------------------- OP_MSG kind 1

std::string_view sequence_field_for(std::string_view command_name) noexcept {
  // OP_MSG.md, "Document Sequences": the write commands accept their statement array
  // as a kind-1 section named after the field.
  if (command_name == "insert") return "documents";
  if (command_name == "update") return "updates";
  if (command_name == "delete") return "deletes";
  return {};
}

std::optional<document_sequences> find_document_sequences(bson::view body) noexcept {
  if (body.empty()) return std::nullopt;
  const std::string_view name = body.first_key();
  // bulk-write.md "Building a bulkWrite Command": "Drivers MUST use document sequences ... for
  // the ops and nsInfo fields".
  if (name == "bulkWrite") {
    auto ops = body["ops"].as_array(), ns_info = body["nsInfo"].as_array();
    if (!ops || !ns_info) return std::nullopt;
    document_sequences both(document_sequence_ref{"ops", *ops});
    both.items[1] = {"nsInfo", *ns_info};
    both.count = 2;
    return both;
  }
  const std::string_view field = sequence_field_for(name);
  if (field.empty()) return std::nullopt;
  auto array = body[field].as_array();
  if (!array) return std::nullopt;
  return document_sequences(document_sequence_ref{field, *array});
}

void add_command_sections(wire::op_msg_encoder& enc, bson::view body, const std::optional<document_sequences>& seqs) {
  if (!seqs) {
    enc.body(body);
    return;
  }
  std::array<std::string_view, 2> fields{};
  for (std::size_t i = 0; i < seqs->count; ++i) fields[i] = seqs->items[i].identifier;
  enc.body_without(body, std::span(fields.data(), seqs->count));
  for (const auto& s : seqs->refs()) enc.add_sequence_from_array(s.identifier, s.array);
}

// ---------------------------------------------------------------- generic

void build_user_command(bson::document& out, bson::view command) {
  out.clear();
  out.concat(command);
}

// ---------------------------------------------------------------- writes

void build_insert(bson::document& out, std::string_view coll, std::span<const bson::view> documents, bool ordered) {
  bson_writer w = start(out);
  w.put("insert", coll);
  w.array("documents", [&](bson_array_writer& a) {
    for (const bson::view& d : documents) a.push(d);
  });
  w.put("ordered", ordered);
}

void build_update(bson::document& out, std::string_view coll, std::span<const update_statement> updates, bool ordered) {
  bson_writer w = start(out);
  w.put("update", coll);
  w.array("updates", [&](bson_array_writer& a) {
    for (const update_statement& s : updates) {
      a.push_document([&](bson_writer& d) {
        d.put("q", s.q);
        put_update(d, "u", s.u, s.u_is_pipeline);
        put_if(d, "upsert", s.upsert);
        put_if(d, "multi", s.multi);
        put_array_if(d, "arrayFilters", s.array_filters);
        put_if(d, "collation", s.collation);
        put_hint(d, s.hint);
      });
    }
  });
  w.put("ordered", ordered);
}

void build_delete(bson::document& out, std::string_view coll, std::span<const delete_statement> deletes, bool ordered) {
  bson_writer w = start(out);
  w.put("delete", coll);
  w.array("deletes", [&](bson_array_writer& a) {
    for (const delete_statement& s : deletes) {
      a.push_document([&](bson_writer& d) {
        d.put("q", s.q);
        d.put("limit", s.limit);
        put_if(d, "collation", s.collation);
        put_hint(d, s.hint);
      });
    }
  });
  w.put("ordered", ordered);
}

// ---------------------------------------------------------------- client bulk write

namespace {

// bulk-write.md "Operations": multi is always sent, the other options only when given.
void put_client_write(bson_writer& d, const client_write& w, std::int32_t ns_index) {
  switch (w.type) {
    case client_write::kind::insert:
      d.put("insert", ns_index);
      d.put("document", w.document);
      return;
    case client_write::kind::update:
      d.put("update", ns_index);
      d.put("filter", w.filter);
      put_update(d, "updateMods", w.update_mods, w.update_is_pipeline);
      d.put("multi", w.multi);
      put_if(d, "upsert", w.upsert);
      put_array_if(d, "arrayFilters", w.array_filters);
      put_hint(d, w.hint);
      put_if(d, "collation", w.collation);
      return;
    case client_write::kind::remove:
      d.put("delete", ns_index);
      d.put("filter", w.filter);
      d.put("multi", w.multi);
      put_hint(d, w.hint);
      put_if(d, "collation", w.collation);
      return;
  }
}

}  // namespace

void build_client_bulk_write_head(bson::document& out, const client_bulk_write_fields& f) {
  bson_writer w = start(out);
  w.put("bulkWrite", std::int32_t{1});
  w.put("errorsOnly", f.errors_only);
  w.put("ordered", f.ordered);
  put_if(w, "bypassDocumentValidation", f.bypass_document_validation);
  if (f.comment) w.put_element("comment", *f.comment);
  put_if(w, "let", f.let);
}

void build_client_write_entry(bson::document& out, const client_write& w, std::int32_t ns_index) {
  bson_writer d = start(out);
  put_client_write(d, w, ns_index);
}

void build_client_bulk_write(bson::document& out, std::span<const client_write> writes,
                             const client_bulk_write_fields& fields) {
  build_client_bulk_write_head(out, fields);
  bson_writer w(out);
  std::unordered_map<std::string_view, std::int32_t> index_of;  // "MUST NOT include duplicate namespaces"
  std::vector<std::string_view> namespaces;
  w.array("ops", [&](bson_array_writer& a) {
    for (const client_write& cw : writes) {
      const auto emplaced = index_of.try_emplace(cw.ns, static_cast<std::int32_t>(namespaces.size()));
      if (emplaced.second) namespaces.push_back(cw.ns);
      const std::int32_t ns_index = emplaced.first->second;
      a.push_document([&](bson_writer& d) { put_client_write(d, cw, ns_index); });
    }
  });
  w.array("nsInfo", [&](bson_array_writer& a) {
    for (std::string_view ns : namespaces) a.push_document([&](bson_writer& d) { d.put("ns", ns); });
  });
}

// ---------------------------------------------------------------- reads and cursors

void build_find(bson::document& out, std::string_view coll, bson::view filter, const find_options& o) {
  bson_writer w = start(out);
  w.put("find", coll);
  w.put("filter", filter);
  put_if(w, "sort", o.sort);
  put_if(w, "projection", o.projection);
  put_hint(w, o.hint);
  put_integer_if(w, "skip", o.skip);
  bool single_batch = o.single_batch;
  if (o.limit && *o.limit != 0) {  // limit 0 means "no limit": not sent
    std::int64_t limit = *o.limit;
    if (limit < 0) {
      // find_getmore_killcursors.md: a negative limit asks for one batch of |limit| documents.
      single_batch = true;
      limit = limit == std::numeric_limits<std::int64_t>::min() ? std::numeric_limits<std::int64_t>::max() : -limit;
    }
    w.put_integer("limit", limit);
  }
  put_if(w, "batchSize", o.batch_size);
  if (single_batch) w.put("singleBatch", true);
  put_if(w, "collation", o.collation);
  put_if(w, "min", o.min);
  put_if(w, "max", o.max);
  put_integer_if(w, "maxTimeMS", o.max_time_ms);
  if (o.comment) w.put_element("comment", *o.comment);
  put_if(w, "returnKey", o.return_key);
  put_if(w, "showRecordId", o.show_record_id);
  put_if(w, "allowDiskUse", o.allow_disk_use);
  put_if(w, "let", o.let);
  if (o.tailable) w.put("tailable", true);
  if (o.await_data) w.put("awaitData", true);
}

void build_get_more(bson::document& out, std::int64_t cursor_id, std::string_view coll,
                    std::optional<std::int32_t> batch_size) {
  bson_writer w = start(out);
  w.put("getMore", std::int64_t{cursor_id});  // cursor ids are always int64
  w.put("collection", coll);
  put_if(w, "batchSize", batch_size);
}

void build_kill_cursors(bson::document& out, std::string_view coll, std::span<const std::int64_t> cursor_ids) {
  bson_writer w = start(out);
  w.put("killCursors", coll);
  w.array("cursors", [&](bson_array_writer& a) {
    for (std::int64_t id : cursor_ids) a.push(id);
  });
}

void build_aggregate(bson::document& out, std::string_view coll, bson::view pipeline, const aggregate_options& o) {
  bson_writer w = start(out);
  // crud.md, "Aggregate": a database-level aggregation sends `aggregate: 1`.
  if (coll.empty()) w.put("aggregate", std::int32_t{1});
  else w.put("aggregate", coll);
  w.put_array("pipeline", pipeline);
  w.document("cursor", [&](bson_writer& c) { put_if(c, "batchSize", o.batch_size); });
  put_if(w, "allowDiskUse", o.allow_disk_use);
  put_hint(w, o.hint);
  put_if(w, "collation", o.collation);
  put_if(w, "let", o.let);
  put_integer_if(w, "maxTimeMS", o.max_time_ms);
  if (o.comment) w.put_element("comment", *o.comment);
}

void build_count(bson::document& out, std::string_view coll, bson::view filter, const count_options& o) {
  bson_writer w = start(out);
  w.put("count", coll);
  w.put("query", filter);
  put_integer_if(w, "limit", o.limit);
  put_integer_if(w, "skip", o.skip);
  put_hint(w, o.hint);
  put_if(w, "collation", o.collation);
  put_integer_if(w, "maxTimeMS", o.max_time_ms);
  if (o.comment) w.put_element("comment", *o.comment);
}

void build_count_documents(bson::document& out, std::string_view coll, bson::view filter, const count_options& o) {
  bson_writer w = start(out);
  w.put("aggregate", coll);
  // crud.md, "countDocuments": $match, then $skip and $limit when given, then
  // $group {_id: 1, n: {$sum: 1}}.
  w.array("pipeline", [&](bson_array_writer& p) {
    p.push_document([&](bson_writer& s) { s.put("$match", filter); });
    if (o.skip) p.push_document([&](bson_writer& s) { s.put_integer("$skip", *o.skip); });
    if (o.limit) p.push_document([&](bson_writer& s) { s.put_integer("$limit", *o.limit); });
    p.push_document([&](bson_writer& s) {
      s.document("$group", [](bson_writer& g) {
        g.put("_id", std::int32_t{1});
        g.document("n", [](bson_writer& n) { n.put("$sum", std::int32_t{1}); });
      });
    });
  });
  w.document("cursor", [](bson_writer&) {});
  put_hint(w, o.hint);
  put_if(w, "collation", o.collation);
}

void build_distinct(bson::document& out, std::string_view coll, std::string_view key, bson::view filter,
                    std::optional<bson::view> collation) {
  bson_writer w = start(out);
  w.put("distinct", coll);
  w.put("key", key);
  w.put("query", filter);
  put_if(w, "collation", collation);
}

error_code build_find_and_modify(bson::document& out, std::string_view coll, const find_and_modify_options& o) {
  // crud.md, "Find And Modify": findOneAndDelete sends remove, the others send update.
  if (o.remove == o.update.has_value()) return client_errc::invalid_argument;
  bson_writer w = start(out);
  w.put("findAndModify", coll);
  w.put("query", o.query);
  put_if(w, "sort", o.sort);
  if (o.remove) w.put("remove", true);
  else put_update(w, "update", *o.update, o.update_is_pipeline);
  put_if(w, "new", o.return_new);
  put_if(w, "fields", o.fields);
  put_if(w, "upsert", o.upsert);
  put_array_if(w, "arrayFilters", o.array_filters);
  put_hint(w, o.hint);
  put_if(w, "collation", o.collation);
  put_integer_if(w, "maxTimeMS", o.max_time_ms);
  return {};
}

// ---------------------------------------------------------------- collections and indexes

void build_create(bson::document& out, std::string_view coll, bson::view options) {
  bson_writer w = start(out);
  w.put("create", coll);
  for (const bson::element& e : options) w.put_element(e.key(), e);
}

void build_drop(bson::document& out, std::string_view coll) { start(out).put("drop", coll); }

std::string default_index_name(bson::view keys) {
  std::string name;
  for (const bson::element& e : keys) {
    if (!name.empty()) name += '_';
    name += e.key();
    name += '_';
    if (auto s = e.as_string()) name += *s;  // "text", "2dsphere", "hashed"
    else if (auto i = e.as_int64()) name += fmt::format("{}", *i);
    else if (auto d = e.as_double()) name += fmt::format("{}", *d);  // shortest form: 1.0 -> "1", 1.5 -> "1.5"
    else name += bson::type_name(e.type());
  }
  return name;
}

void build_create_indexes(bson::document& out, std::string_view coll, std::span<const index_model> indexes) {
  bson_writer w = start(out);
  w.put("createIndexes", coll);
  w.array("indexes", [&](bson_array_writer& a) {
    for (const index_model& m : indexes) {
      a.push_document([&](bson_writer& d) {
        d.put("key", m.keys);
        if (m.name.empty()) d.put("name", std::string_view(default_index_name(m.keys)));
        else d.put("name", m.name);
        for (const bson::element& e : m.options) d.put_element(e.key(), e);
      });
    }
  });
}

// ---------------------------------------------------------------- transactions and sessions

void build_commit_transaction(bson::document& out) { start(out).put("commitTransaction", std::int32_t{1}); }

void build_abort_transaction(bson::document& out) { start(out).put("abortTransaction", std::int32_t{1}); }

void build_end_sessions(bson::document& out, std::span<const session_id> ids) {
  bson_writer w = start(out);
  w.array("endSessions", [&](bson_array_writer& a) {
    for (const session_id& id : ids)
      a.push_document([&](bson_writer& d) { d.put("id", bson::binary_ref{BSON_SUBTYPE_UUID, id}); });
  });
}

// ---------------------------------------------------------------- handshake

client_metadata default_client_metadata(std::string_view application_name) {
  client_metadata m;
  m.application_name = application_name;
#if defined(__linux__)
  m.os_type = "Linux";
#elif defined(__APPLE__)
  m.os_type = "Darwin";
#elif defined(_WIN32)
  m.os_type = "Windows";
#else
  m.os_type = "unknown";
#endif
#if defined(__x86_64__) || defined(_M_X64)
  m.os_architecture = "x86_64";
#elif defined(__aarch64__) || defined(_M_ARM64)
  m.os_architecture = "arm64";
#endif
#if defined(__clang__)
  m.platform = "C++20 clang " __clang_version__;
#elif defined(__GNUC__)
  m.platform = "C++20 g++ " __VERSION__;
#endif
  return m;
}

namespace {

// handshake.md, "Limitations": over 512 bytes, first drop the os fields other than
// `type`, then truncate `platform`.
enum class metadata_trim { none, os_type_only, truncate_platform };

void write_client_metadata(bson_writer& w, const client_metadata& m, metadata_trim trim, std::size_t platform_len) {
  if (!m.application_name.empty())
    w.document("application", [&](bson_writer& a) { a.put("name", m.application_name); });
  w.document("driver", [&](bson_writer& d) {
    d.put("name", m.driver_name);
    d.put("version", m.driver_version);
  });
  w.document("os", [&](bson_writer& os) {
    os.put("type", m.os_type.empty() ? std::string_view("unknown") : m.os_type);
    if (trim != metadata_trim::none) return;
    if (!m.os_name.empty()) os.put("name", m.os_name);
    if (!m.os_architecture.empty()) os.put("architecture", m.os_architecture);
  });
  std::string_view platform = m.platform.substr(0, platform_len);
  if (!platform.empty()) w.put("platform", platform);
}

void put_client_metadata(bson_writer& w, const client_metadata& m) {
  bson::document scratch;  // handshakes are rare: a temporary is fine here
  for (auto trim : {metadata_trim::none, metadata_trim::os_type_only, metadata_trim::truncate_platform}) {
    std::size_t platform_len = m.platform.size();
    if (trim == metadata_trim::truncate_platform) {
      std::size_t excess = scratch.size() - max_client_metadata_bytes;
      platform_len = excess < platform_len ? platform_len - excess : 0;
    }
    scratch.clear();
    bson_writer sw(scratch);
    write_client_metadata(sw, m, trim, platform_len);
    if (scratch.size() <= max_client_metadata_bytes) break;
  }
  w.put("client", scratch.get_view());
}

}  // namespace

void build_hello(bson::document& out, const hello_options& o) {
  bson_writer w = start(out);
  w.put(o.legacy_name ? "isMaster" : "hello", std::int32_t{1});
  // server-discovery-and-monitoring.md, "helloOk": lets a legacy handshake upgrade to hello.
  w.put("helloOk", true);
  if (o.client) {
    // Handshake arguments go on the connection handshake only (with the client metadata).
    // handshake.md: "Drivers MUST include `backpressure: "2"`" (the version of
    // client-backpressure.md implemented: 2^attempt backoff with baseBackoffMS).
    w.put("backpressure", client_backpressure_version);
    put_client_metadata(w, *o.client);
  }
  if (o.load_balanced) w.put("loadBalanced", true);
  put_array_if(w, "compression", o.compression);
}

}  // namespace mongowire::detail
