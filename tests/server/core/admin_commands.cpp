// Handshake, diagnostics, session, failpoint, transaction-control and catalog commands.
#include <algorithm>
#include <unistd.h>

#include "core/core_impl.hpp"
#include "query/query.hpp"

namespace mongowire::testd {
namespace {

// The release whose maxWireVersion the server plays (mongodb-handshake.md wire versions):
// buildInfo and serverStatus report it, so that --max-wire-version 17 is MongoDB 6.0 throughout.
struct release {
  std::int32_t major, minor;
  std::string text() const { return std::to_string(major) + "." + std::to_string(minor) + ".0"; }
};

release release_of(std::int32_t max_wire_version) {
  static constexpr struct {
    std::int32_t wire;
    release r;
  } releases[] = {{6, {3, 6}},  {7, {4, 0}},  {8, {4, 2}},  {9, {4, 4}},  {13, {5, 0}}, {14, {5, 1}},
                  {15, {5, 2}}, {16, {5, 3}}, {17, {6, 0}}, {18, {6, 1}}, {19, {6, 2}}, {20, {6, 3}},
                  {21, {7, 0}}, {22, {7, 1}}, {23, {7, 2}}, {24, {7, 3}}, {25, {8, 0}}};
  release found = releases[0].r;
  for (const auto& e : releases)
    if (e.wire <= max_wire_version) found = e.r;
  return found;
}

// The hello of a standalone (no replica-set fields) and/or of a server without sessions.
void restrict_hello(bson::document& reply, bool standalone, bool sessions_supported) {
  static constexpr std::string_view replica_set_fields[] = {"hosts",   "setName", "setVersion", "secondary",
                                                            "primary", "me",      "electionId", "lastWrite"};
  bson::document kept;
  for (const auto& e : reply.get_view()) {
    const bool rs_field = std::find(std::begin(replica_set_fields), std::end(replica_set_fields), e.key()) !=
                          std::end(replica_set_fields);
    if (standalone && rs_field) continue;
    if (!sessions_supported && e.key() == "logicalSessionTimeoutMinutes") continue;
    kept.append(e.key(), e);
  }
  reply = std::move(kept);
}

std::int64_t millis_since_epoch(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool is_legacy_hello(std::string_view name) { return name == "isMaster" || name == "ismaster"; }

// OP_COMPRESSED.md "MongoDB Handshake Amendment" and mongod's MessageCompressorManager::
// serverNegotiate: the client's compressors that the server has, in the client's order; no
// `compression` field in the reply when none is common. A hello without the field keeps what
// an earlier hello negotiated.
void negotiate_compression(bson::view cmd, const std::vector<std::string>& supported, connection_context& ctx,
                           bson::document& reply) {
  namespace wire = detail::wire;
  if (auto requested = cmd["compression"]; requested) {
    if (!requested.is_array()) throw command_error(code::bad_value, "'compression' is not an array");
    ctx.compressors.clear();
    const bson::view list = *requested.as_array();  // a named view: the optional is a temporary
    for (const auto& e : list) {
      const auto name = e.as_string();
      if (!name) throw command_error(code::bad_value, "'compression' is not an array of strings");
      const auto id = wire::compressor_from_name(*name);
      const bool enabled = std::find(supported.begin(), supported.end(), *name) != supported.end();
      if (id && enabled && std::find(ctx.compressors.begin(), ctx.compressors.end(), *id) == ctx.compressors.end())
        ctx.compressors.push_back(*id);
    }
  }
  if (ctx.compressors.empty()) return;
  reply.append_array_of("compression", [&](bson::array_builder& arr) {
    for (auto id : ctx.compressors) arr.push(wire::compressor_name(id));
  });
}

void append_compression_status(const std::vector<std::string>& enabled,
                               const std::array<std::array<std::int64_t, 4>, 4>& bytes, bson::document& reply) {
  reply.append_document("network", [&](bson::document& network) {
    network.append_document("compression", [&](bson::document& compression) {
      for (const auto& name : enabled) {
        const auto id = detail::wire::compressor_from_name(name);
        if (!id) continue;
        const auto& b = bytes.at(static_cast<std::size_t>(*id));
        compression.append_document(name, [&](bson::document& c) {
          c.append_document("compressor",
                            [&](bson::document& d) { d.append("bytesIn", b[0]).append("bytesOut", b[1]); });
          c.append_document("decompressor",
                            [&](bson::document& d) { d.append("bytesIn", b[2]).append("bytesOut", b[3]); });
        });
      }
    });
  });
}

failpoint parse_failpoint_mode(const op_context& op) {
  failpoint fp;
  auto mode = op.cmd["mode"];
  if (auto s = mode.as_string()) {
    if (*s == "off") return fp;
    if (*s == "alwaysOn") {
      fp.kind = failpoint::mode::always_on;
      return fp;
    }
    throw command_error(code::bad_value, "unrecognized mode: " + std::string(*s));
  }
  if (!mode.is_document()) throw command_error(code::type_mismatch, "'mode' must be a string or JSON object");
  auto doc = *mode.as_document();
  if (auto times = doc["times"]; times) {
    auto n = times.as_integer();
    if (!n || *n < 0) throw command_error(code::bad_value, "'times' option to 'mode' must be positive");
    fp.kind = *n == 0 ? failpoint::mode::off : failpoint::mode::times;
    fp.counter = *n;
  } else if (auto skip = doc["skip"]; skip) {
    auto n = skip.as_integer();
    if (!n || *n < 0) throw command_error(code::bad_value, "'skip' option to 'mode' must be positive");
    fp.kind = failpoint::mode::skip;
    fp.counter = *n;
  } else {
    throw command_error(code::bad_value, "mode must be one of 'off', 'alwaysOn', {times: n} or {skip: n}");
  }
  return fp;
}

void record_client_metadata(bson::view cmd, connection_context& ctx) {
  auto client = cmd["client"];
  if (!client) return;
  // ClientMetadata may only be set once per connection.
  if (ctx.client_metadata_received)
    throw command_error(code::client_metadata_cannot_be_mutated,
                        "The client metadata document may only be sent in the first hello");
  ctx.client_metadata_received = true;
  if (client.is_document())
    ctx.app_name = std::string((*client.as_document()).find_path("application.name").as_string().value_or(""));
}

// mongos load_balancer_support::handleHello: only a connection's first hello is special. Through
// the load balancer it must carry loadBalanced: true, and its reply gets the serviceId. A server
// not behind a load balancer ignores the option (it answers without serviceId, and the driver
// then refuses the server: load-balancers.md "Connection Establishment").
void answer_load_balanced_hello(bson::view cmd, connection_context& ctx, const bson::object_id& service_id,
                                bson::document& reply) {
  if (ctx.load_balanced_hello_done) return;
  if (!cmd["loadBalanced"].as_truthy().value_or(false))
    throw command_error(code::load_balancer_support_mismatch,
                        "The server is being accessed through a load balancer, but this driver does not have load "
                        "balancing enabled");
  reply.append("serviceId", service_id);
  ctx.load_balanced_hello_done = true;
}

}  // namespace

void server_core::impl::cmd_hello(op_context& op, bson::document& reply) {
  auto& ctx = *op.conn;
  record_client_metadata(op.cmd, ctx);
  // replication_coordinator_impl.cpp: in quiesce mode hello fails so that clients route away.
  if (quiesce_mode) throw command_error(91, "The server is in quiesce mode and will shut down");
  // Awaitable hello (streaming protocol): with an up-to-date topologyVersion, the reply is
  // held back for maxAwaitTimeMS, after any failCommand block; the network layer waits.
  if (auto tv = op.cmd["topologyVersion"]; tv.is_document()) {
    auto d = *tv.as_document();
    if (d["processId"].as_oid() == process_id && d["counter"].as_int64() == topology_counter) {
      ctx.await_ms = std::max<std::int64_t>(0, op.cmd["maxAwaitTimeMS"].as_integer().value_or(0));
      ctx.awaiting_topology_change = true;
    }
  }
  bool primary = options.role == member_role::primary;
  if (op.cmd["helloOk"].as_bool().value_or(false)) reply.append("helloOk", true);
  append_topology_version(reply);
  reply.append_array_of("hosts", [&](bson::array_builder& arr) {
    for (auto& h : options.hosts) arr.push(h);
  });
  reply.append("setName", options.set_name);
  reply.append("setVersion", std::int32_t{1});
  reply.append(is_legacy_hello(op.name) ? "ismaster" : "isWritablePrimary", primary);
  reply.append("secondary", !primary);
  if (primary) reply.append("primary", me());
  else if (!options.primary.empty()) reply.append("primary", options.primary);
  reply.append("me", me());
  if (primary) {
    bson::object_id election{};
    election.bytes = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; ++i) election.bytes[11 - i] = static_cast<std::uint8_t>(election_term >> (8 * i));
    reply.append("electionId", election);
  }
  reply.append_document("lastWrite", [&](bson::document& lw) {
    lw.append_document("opTime", [&](bson::document& ot) {
      ot.append("ts", store.last_committed());
      ot.append("t", election_term);
    });
    lw.append_date("lastWriteDate", store.last_write_wall_ms());
  });
  reply.append("maxBsonObjectSize", max_user_bson_size);
  reply.append("maxMessageSizeBytes", max_message_size_bytes);
  reply.append("maxWriteBatchSize", options.max_write_batch_size);
  reply.append_date("localTime", millis_since_epoch(now()));
  reply.append("logicalSessionTimeoutMinutes", std::int32_t{30});
  reply.append("connectionId", ctx.connection_id);
  reply.append("minWireVersion", options.min_wire_version);
  reply.append("maxWireVersion", options.max_wire_version);
  reply.append("readOnly", false);
  negotiate_compression(op.cmd, options.compressors, ctx, reply);
  add_auth_to_hello(op, reply);
  // A mongos has no replica-set fields; "isdbgrid" is how SDAM recognises it (server-
  // discovery-and-monitoring.md "Parsing a hello or legacy hello Response").
  const bool no_replica_set = options.standalone || options.sharded;
  if (no_replica_set || !options.sessions_supported) restrict_hello(reply, no_replica_set, options.sessions_supported);
  if (options.sharded) reply.append("msg", "isdbgrid");
  if (options.load_balanced) {
    const auto& service_id = service_ids.try_emplace(ctx.router, bson::object_id::generate()).first->second;
    answer_load_balanced_hello(op.cmd, ctx, service_id, reply);
  }
}

void server_core::impl::cmd_ping(op_context&, bson::document&) {}

void server_core::impl::cmd_build_info(op_context&, bson::document& reply) {
  const release r = release_of(options.max_wire_version);
  reply.append("version", r.text());
  reply.append("gitVersion", "mongowire-testd");
  reply.append_array_of("versionArray", [&](bson::array_builder& arr) {
    arr.push(r.major).push(r.minor).push(std::int32_t{0}).push(std::int32_t{0});
  });
  reply.append("bits", std::int32_t{64});
  reply.append("debug", false);
  reply.append("maxBsonObjectSize", max_user_bson_size);
  reply.append_array_of("storageEngines", [](bson::array_builder& arr) { arr.push("wiredTiger"); });
}

void server_core::impl::cmd_server_status(op_context&, bson::document& reply) {
  auto t = now();
  auto up = std::chrono::duration_cast<std::chrono::milliseconds>(t - started_at).count();
  std::int64_t open = 0;
  for (auto& [k, s] : sessions) open += s.phase == txn_phase::in_progress;
  reply.append("host", me());
  reply.append("version", release_of(options.max_wire_version).text());
  reply.append("process", "mongod");
  reply.append("pid", static_cast<std::int64_t>(::getpid()));
  reply.append("uptime", static_cast<double>(up) / 1000.0);
  reply.append("uptimeMillis", static_cast<std::int64_t>(up));
  reply.append_date("localTime", millis_since_epoch(t));
  reply.append_document("storageEngine", [](bson::document& se) {
    se.append("name", "wiredTiger");
    se.append("supportsCommittedReads", true);
    se.append("persistent", false);
  });
  reply.append_document("transactions", [&](bson::document& tx) {
    tx.append("retriedCommandsCount", txn_stats.retried_commands);
    tx.append("retriedStatementsCount", txn_stats.retried_statements);
    tx.append("currentOpen", open);
    tx.append("totalStarted", txn_stats.started);
    tx.append("totalCommitted", txn_stats.committed);
    tx.append("totalAborted", txn_stats.aborted);
  });
  append_compression_status(options.compressors, compression_bytes, reply);
  append_memory_status(reply);
}

void server_core::impl::cmd_end_sessions(op_context& op, bson::document&) {
  auto list = op.cmd["endSessions"];
  if (!list.is_array())
    throw command_error(code::type_mismatch, "BSON field 'endSessions' is the wrong type, expected type 'array'");
  for (auto e : bson::view(*list.as_array())) {
    auto id = e.is_document() ? (*e.as_document())["id"].as_binary() : std::nullopt;
    if (!id) continue;
    std::string key;
    static constexpr char digits[] = "0123456789abcdef";
    for (auto b : id->bytes) (key += digits[b >> 4]) += digits[b & 15];
    ending_sessions.insert(std::move(key));  // mongod's session cache ends it at its next refresh
  }
}

void server_core::impl::cmd_kill_all_sessions(op_context&, bson::document&) {
  for (auto& [key, s] : sessions)
    if (s.phase == txn_phase::in_progress) abort_transaction_of(s);
  std::erase_if(cursors, [](auto& entry) { return !entry.second.lsid_key.empty(); });
}

void server_core::impl::cmd_configure_fail_point(op_context& op, bson::document& reply) {
  if (op.db != "admin")
    throw command_error(code::unauthorized, "configureFailPoint may only be run against the admin database.");
  auto name = op.cmd["configureFailPoint"].as_string().value_or("");
  failpoint* target = name == "failCommand"                   ? &fail_command_of(op)
                      : name == "onPrimaryTransactionalWrite" ? &primary_write_failpoint
                                                              : nullptr;
  if (!target) throw command_error(code::bad_value, std::string(name) + " not found");
  failpoint next = parse_failpoint_mode(op);
  if (auto data = op.cmd["data"]; data.is_document()) next.data = bson::document(*data.as_document());
  reply.append("count", target->times_entered);
  next.times_entered = target->times_entered;
  *target = std::move(next);
}

void server_core::impl::cmd_commit_transaction(op_context& op, bson::document&) {
  if (!op.in_txn()) throw command_error(code::invalid_options, "commitTransaction must be run within a transaction");
  auto& s = *op.session;
  if (s.phase == txn_phase::committed) {
    // Committing again is idempotent; the write concern then waits for everything written so
    // far, which includes the commit (mongod sets the client's last op to the system's).
    op.conn->last_op_time = store.last_committed();
    return;
  }
  auto ts = store.allocate_timestamp(now_seconds());
  // The commit's oplog entry carries lsid and txnNumber: its application on a secondary
  // records the committed transaction in config.transactions (not for a read-only one).
  if (store.commit(s.storage_txn, ts)) store.log_session(ts, op.lsid_key, s.txn_number, std::nullopt, nullptr);
  s.phase = txn_phase::committed;
  op.conn->last_op_time = ts;
  ++txn_stats.committed;
  std::erase_if(cursors, [&](auto& entry) { return entry.second.lsid_key == op.lsid_key; });
}

void server_core::impl::cmd_abort_transaction(op_context& op, bson::document&) {
  if (!op.in_txn()) throw command_error(code::invalid_options, "abortTransaction must be run within a transaction");
  abort_transaction_of(*op.session);
}

void server_core::impl::cmd_create(op_context& op, bson::document&) {
  check_known_fields(
      op, {"capped", "size", "max", "validator", "validationLevel", "validationAction", "collation", "storageEngine",
           "indexOptionDefaults", "viewOn", "pipeline", "timeseries", "expireAfterSeconds", "clusteredIndex",
           "changeStreamPreAndPostImages", "idIndex", "encryptedFields", "autoIndexId"});
  auto ns = collection_ns(op);
  auto view = op.in_txn() ? op.view : read_view{store.last_committed(), 0};
  if (store.find_visible(ns, view))
    throw command_error(code::namespace_exists, "Collection " + ns + " already exists.");
  // create.cpp: a capped collection needs its size (the document limit is optional).
  const bool capped = op.cmd["capped"].as_truthy().value_or(false);
  auto size = op.cmd["size"].as_integer();
  if (capped && !size) throw command_error(code::invalid_options, "the 'size' field is required when 'capped' is true");
  std::optional<capped_limits> limits;
  if (capped) limits = capped_limits::from_create(*size, op.cmd["max"].as_integer());
  bool created = false;
  store.get_or_create(ns, write_context_for(op), &created, limits);
  if (!created) throw command_error(code::namespace_exists, "Collection " + ns + " already exists.");
}

void server_core::impl::cmd_drop(op_context& op, bson::document& reply) {
  auto ns = collection_ns(op);
  auto* c = store.find_visible(ns, {store.last_committed(), 0});
  if (!c) return;  // 7.0: dropping a missing collection succeeds
  reply.append("nIndexesWas", static_cast<std::int32_t>(c->indexes.size()));
  reply.append("ns", ns);
  op.conn->last_op_time = store.allocate_timestamp(now_seconds());
  store.drop_collection(ns, op.conn->last_op_time);
  std::erase_if(cursors, [&](auto& entry) { return entry.second.ns == ns; });
}

void server_core::impl::cmd_drop_database(op_context& op, bson::document& reply) {
  op.conn->last_op_time = store.allocate_timestamp(now_seconds());
  store.drop_database(op.db, op.conn->last_op_time);
  reply.append("dropped", op.db);
}

namespace {

// listCollections and listIndexes take {cursor: {batchSize: n}} (list_collections.cpp,
// list_indexes.cpp): the rest is left to getMore. Without it, everything in the first batch.
std::int64_t cursor_batch_size(const op_context& op) {
  const auto cursor = op.cmd["cursor"].as_document();
  const auto batch = cursor ? (*cursor)["batchSize"].as_integer() : std::nullopt;
  if (batch && *batch < 0)
    throw command_error(code::bad_value,
                        "BSON field 'batchSize' value must be >= 0, actual value '" + std::to_string(*batch) + "'");
  return batch.value_or(INT64_MAX);
}

}  // namespace

void server_core::impl::cmd_list_collections(op_context& op, bson::document& reply) {
  bool name_only = op.cmd["nameOnly"].as_truthy().value_or(false);
  auto filter = document_field(op, "filter", false);
  auto m = query::matcher::compile(filter);
  if (auto* e = std::get_if<query::query_error>(&m)) throw command_error(e->code, e->message);
  std::vector<bson::document> entries;
  for (auto& name : store.visible_collection_names(op.db, op.view)) {
    auto* c = store.find_any(op.db + "." + name);
    bson::document entry;
    entry.append("name", name);
    entry.append("type", "collection");
    if (!name_only) {
      entry.append_document("options", [](bson::document&) {});
      entry.append_document("info", [&](bson::document& info) {
        info.append("readOnly", false);
        info.append("uuid", bson::binary_ref{BSON_SUBTYPE_UUID, c->uuid});
      });
      entry.append("idIndex", c->indexes.front().spec);
    }
    if (std::get<query::matcher>(m).matches(entry)) entries.push_back(std::move(entry));
  }
  reply_with_cursor(op, reply, op.db + ".$cmd.listCollections", std::move(entries), cursor_batch_size(op), false);
}

// list_databases.cpp (7.0): admin only; every database with data plus the replica set's own
// admin, config and local, by name; sizeOnDisk/empty and totalSize/totalSizeMb unless
// nameOnly; `filter` applies to each entry as built. authorizedDatabases only matters with
// access control, which this server does not have.
void server_core::impl::cmd_list_databases(op_context& op, bson::document& reply) {
  if (op.db != "admin")
    throw command_error(code::unauthorized, "listDatabases may only be run against the admin database.");
  check_known_fields(op, {"filter", "nameOnly", "authorizedDatabases"});
  const bool name_only = op.cmd["nameOnly"].as_truthy().value_or(false);
  if (auto a = op.cmd["authorizedDatabases"]; a && !a.is_bool())
    throw command_error(code::type_mismatch, "BSON field 'listDatabases.authorizedDatabases' is the wrong type '" +
                                                 std::string(bson::type_name(a.type())) + "', expected type 'bool'");
  auto filter = query::matcher::compile(document_field(op, "filter", false));
  if (auto* e = std::get_if<query::query_error>(&filter)) throw command_error(e->code, e->message);
  auto sizes = store.visible_database_sizes({store.last_committed(), 0});
  for (auto system_db : {"admin", "config", "local"}) sizes.try_emplace(system_db, 0);
  constexpr std::int64_t page = 4096;
  std::int64_t total = 0;
  bson::array_builder databases;
  for (auto& [name, bytes] : sizes) {
    const std::int64_t on_disk = 2 * page + (bytes + page - 1) / page * page;  // collection + _id index files
    bson::document entry;
    entry.append("name", name);
    if (!name_only) {
      entry.append("sizeOnDisk", on_disk);
      entry.append("empty", false);
    }
    if (!std::get<query::matcher>(filter).matches(entry)) continue;
    total += on_disk;
    databases.push(entry.get_view());
  }
  reply.append_array("databases", databases.get_view());
  if (name_only) return;
  reply.append("totalSize", total);
  reply.append("totalSizeMb", total / (1024 * 1024));
}

void server_core::impl::cmd_list_indexes(op_context& op, bson::document& reply) {
  auto ns = collection_ns(op);
  auto* c = store.find_visible(ns, op.view);
  if (!c) throw command_error(code::namespace_not_found, "ns does not exist: " + ns);
  std::vector<bson::document> specs;
  for (auto& ix : c->indexes) specs.push_back(ix.spec);
  reply_with_cursor(op, reply, ns, std::move(specs), cursor_batch_size(op), false);
}

void server_core::impl::cmd_create_indexes(op_context& op, bson::document& reply) {
  check_known_fields(op, {"indexes", "commitQuorum", "ignoreUnknownIndexOptions", "isTimeseriesNamespace"});
  auto ns = collection_ns(op);
  auto list = op.cmd["indexes"];
  if (!list.is_array())
    throw command_error(code::missing_field, "BSON field 'createIndexes.indexes' is missing but a required field");
  auto wc = write_context_for(op);
  auto* existing = store.find_visible(ns, op.view);
  if (op.in_txn() && existing && existing->created_ts)
    throw command_error(code::operation_not_supported_in_transaction,
                        "Cannot create new indexes on existing collection " + ns + " in a multi-document transaction.");
  bool created = false;
  auto& c = store.get_or_create(ns, wc, &created);
  auto before = static_cast<std::int32_t>(c.indexes.size());
  for (auto spec_el : bson::view(*list.as_array())) {
    if (!spec_el.is_document())
      throw command_error(code::type_mismatch, "The 'indexes' field must be an array of index spec objects");
    auto spec = *spec_el.as_document();
    auto key = spec["key"];
    auto name = spec["name"].as_string();
    if (!key.is_document() || key.as_document()->empty())
      throw command_error(code::failed_to_parse, "The 'key' field must be a non-empty object");
    if (!name)
      throw command_error(code::failed_to_parse, "The 'name' field is a required property of an index specification");
    index_spec ix{
        std::string(*name), bson::document(*key.as_document()), spec["unique"].as_truthy().value_or(false), {}};
    ix.spec.append("v", std::int32_t{2});
    ix.spec.append("key", ix.key);
    ix.spec.append("name", ix.name);
    if (ix.unique) ix.spec.append("unique", true);
    auto same_name = std::find_if(c.indexes.begin(), c.indexes.end(), [&](auto& x) { return x.name == ix.name; });
    if (same_name != c.indexes.end()) {
      if (same_name->key.get_view() == ix.key.get_view() && same_name->unique == ix.unique) continue;
      throw command_error(
          same_name->key.get_view() == ix.key.get_view() ? code::index_options_conflict
                                                         : code::index_key_specs_conflict,
          "An existing index has the same name as the requested index. When index names are not specified, "
          "they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: " +
              ix.spec.get_view().to_relaxed_json() +
              ", existing index: " + same_name->spec.get_view().to_relaxed_json());
    }
    c.indexes.push_back(std::move(ix));
    // Building a unique index over existing documents fails on the first duplicate.
    try {
      store.for_each_visible(c, op.view,
                             [&](record_id rid, const bson::document& d) { store.check_unique(c, ns, rid, d, wc); });
    } catch (const command_error&) {
      c.indexes.pop_back();
      throw;
    }
    store.index_created(c, ns, wc);
  }
  reply.append("numIndexesBefore", before);
  reply.append("numIndexesAfter", static_cast<std::int32_t>(c.indexes.size()));
  if (before == static_cast<std::int32_t>(c.indexes.size())) reply.append("note", "all indexes already exist");
  reply.append("createdCollectionAutomatically", created);
}

namespace {

// drop_indexes.cpp: the _id index is never dropped, by name or by key pattern.
const index_spec& droppable(const index_spec& ix) {
  if (ix.name == "_id_") throw command_error(code::invalid_options, "cannot drop _id index");
  return ix;
}

const index_spec& index_named(const collection& c, std::string_view name) {
  auto it = std::find_if(c.indexes.begin(), c.indexes.end(), [&](auto& ix) { return ix.name == name; });
  if (it == c.indexes.end())
    throw command_error(code::index_not_found, "index not found with name [" + std::string(name) + "]");
  return droppable(*it);
}

// dropIndexes' `index`: "*" is every index but _id_, a string one index by name, a document
// one by key pattern, an array several names, all checked before any is dropped.
std::vector<std::string> indexes_to_drop(const collection& c, const bson::element& index) {
  std::vector<std::string> names;
  if (auto name = index.as_string(); name && *name == "*") {
    for (const auto& ix : c.indexes)
      if (ix.name != "_id_") names.push_back(ix.name);
  } else if (name) {
    names.push_back(index_named(c, *name).name);
  } else if (auto key = index.as_document()) {
    auto it = std::find_if(c.indexes.begin(), c.indexes.end(), [&](auto& ix) { return ix.key.get_view() == *key; });
    if (it == c.indexes.end())
      throw command_error(code::index_not_found, "can't find index with key: " + key->to_relaxed_json());
    names.push_back(droppable(*it).name);
  } else if (index.is_array()) {
    const bson::view list = *index.as_array();  // a named view: the optional is a temporary
    for (const auto& e : list) {
      auto item = e.as_string();
      if (!item)
        throw command_error(code::type_mismatch,
                            "BSON field 'dropIndexes.index' is the wrong type: an array of "
                            "index names holds a '" +
                                std::string(bson::type_name(e.type())) + "'");
      names.push_back(index_named(c, *item).name);
    }
  } else {
    throw command_error(code::type_mismatch, "BSON field 'dropIndexes.index' is the wrong type '" +
                                                 std::string(bson::type_name(index.type())) +
                                                 "', expected types '[string, object, array]'");
  }
  return names;
}

}  // namespace

// {dropIndexes: coll, index: "*" | name | key pattern | [names]} -> {nIndexesWas, msg?}
// (mongod 7.0 drop_indexes.cpp; not allowed in a transaction).
void server_core::impl::cmd_drop_indexes(op_context& op, bson::document& reply) {
  check_known_fields(op, {"index"});
  auto index = op.cmd["index"];
  if (!index)
    throw command_error(code::missing_field, "BSON field 'dropIndexes.index' is missing but a required field");
  auto ns = collection_ns(op);
  auto* c = store.find_visible(ns, {store.last_committed(), 0});
  if (!c) throw command_error(code::namespace_not_found, "ns not found " + ns);
  const auto names = indexes_to_drop(*c, index);
  reply.append("nIndexesWas", static_cast<std::int32_t>(c->indexes.size()));
  if (index.as_string() == std::optional<std::string_view>("*"))
    reply.append("msg", "non-_id indexes dropped for collection");
  op.conn->last_op_time = store.allocate_timestamp(now_seconds());
  store.drop_indexes(*c, ns, names, op.conn->last_op_time);
}

}  // namespace mongowire::testd
